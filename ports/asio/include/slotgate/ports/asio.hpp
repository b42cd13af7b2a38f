// The `asio` port: slotgate on a Boost.Asio event loop.
//
//   slotgate::asio::Limiter<Slots, Waiters[, Lanes]>
//                                             a limiter that waits on an executor: the core's
//                                             Limiter (every call of it) plus its port, with an
//                                             optional usage source for the gate
//   slotgate::asio::BasicLimiter<Slots, Waiters[, Lanes]>
//                                             the same without a usage source: for an upstream
//                                             with no usage endpoint; the gate, the learned lags
//                                             and headroom's foreign part are compiled out
//   async_acquire(limiter, timeout, token)    an asynchronous acquire with any completion token
//                                             (a callback, use_future, use_awaitable, ...);
//                                             completes with (error_code, PermitGuard)
//   async_acquire(limiter, token)             the same without a timeout
//   async_acquire(limiter, [timeout,] [Lane(i),] [when_queued(f),] token)
//                                             the same, queued in lane i (slotgate/lanes.hpp),
//                                             calling f() once, at once, in the initiating
//                                             thread, if the operation is queued instead of
//                                             granted ("you are queued")
//   make_error_code(slotgate::Status)         statuses as boost::system::error_code
//
// No thread per waiter and no busy polling. A waiting operation sits in the waiter table of the
// limiter's strand; the grant, timeout or close of its ticket (Port::notify_waiter, from
// whatever thread released) posts one check of that operation to the strand. One steady_timer
// per limiter drives poll() at the limiter's next deadline while operations wait.
//
// Cancellation: per operation, through the completion handler's cancellation slot (terminal,
// partial and total all supported: a cancelled wait has no effect). It completes with
// boost::asio::error::operation_aborted; a grant that won the race goes back to the limiter
// (Limiter::cancel gives it back at once). Emit cancellations from the thread running the
// limiter's executor, as Asio's own operations require.
//
// Errors: slotgate::Status as an error_code (category "slotgate"): timed_out for a timeout,
// closed, queue_full (every ticket record in use); with a zero timeout the try's own refusal
// (no_slot, waiters_ahead, paused, gated).
//
// Clock: std::chrono::steady_clock in nanoseconds (the ticks the core sees). The limiter's
// non-blocking calls (try_acquire, release, ...) may be made from any thread; release and close
// post to the strand when a waiter is affected. Destroy the limiter from a thread running its
// executor or after the executor's context has stopped; pending operations then complete with
// operation_aborted.
//
// Needs Boost 1.80 or later (Debian 12's libboost1.81-dev): per-operation cancellation slots
// came with Boost 1.77, asio::append with 1.80.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "slotgate/acquire.hpp"
#include "slotgate/atomics.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/limiter.hpp"
#include "slotgate/status.hpp"
#include "slotgate/usage_source.hpp"

namespace slotgate {

// The "slotgate" error category: an error_code's value is a Status.
inline const boost::system::error_category& status_category() noexcept {
  class Category final : public boost::system::error_category {
   public:
    const char* name() const noexcept override { return "slotgate"; }
    std::string message(int v) const override { return to_string(static_cast<Status>(v)); }
  };
  static const Category category;
  return category;
}

inline boost::system::error_code make_error_code(Status s) noexcept {
  return {static_cast<int>(s), status_category()};
}

}  // namespace slotgate

template <>
struct boost::system::is_error_code_enum<slotgate::Status> : std::true_type {};

namespace slotgate::asio {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

template <size_t Slots, size_t Waiters, size_t Lanes = 1>
class Port;
template <size_t Slots, size_t Waiters, size_t Lanes = 1>
class BasicPort;
template <size_t Slots, size_t Waiters, size_t Lanes = 1>
class Limiter;
template <size_t Slots, size_t Waiters, size_t Lanes = 1>
class BasicLimiter;

namespace detail {

// An operation's time limit in ticks: none, or a duration (zero or less: the fast path only).
struct Timeout {
  bool timed = false;
  uint64_t ticks = 0;
  static Timeout none() { return {}; }
  template <class Rep, class Period>
  static Timeout of(std::chrono::duration<Rep, Period> d) {
    return {true, d.count() <= 0
                      ? 0
                      : static_cast<uint64_t>(
                            std::chrono::duration_cast<std::chrono::nanoseconds>(d).count())};
  }
};

// A queued async_acquire, type-erased over its handler.
template <class Guard>
class WaitOp {
 public:
  explicit WaitOp(Ticket t) noexcept : ticket_(t) {}
  virtual ~WaitOp() = default;
  WaitOp(const WaitOp&) = delete;
  WaitOp& operator=(const WaitOp&) = delete;
  // Hands the result to the handler's executor; called once, on the limiter's strand.
  virtual void complete(boost::system::error_code ec, Guard guard) = 0;
  Ticket ticket() const noexcept { return ticket_; }

 private:
  Ticket ticket_;
};

// The port's state, shared with the work it posts (which may outlive the port). `P`: the port
// (Port or BasicPort).
template <class P, size_t Slots, size_t Waiters, size_t Lanes>
class WaiterTable {
 public:
  using core_type = slotgate::Limiter<P, Slots, Waiters, Lanes>;
  using guard_type = PermitGuard<core_type>;
  using op_type = WaitOp<guard_type>;
  using tick_type = uint64_t;

  explicit WaiterTable(const net::any_io_executor& ex)
      : strand_(net::make_strand(ex)), timer_(strand_) {}

  static tick_type now() noexcept {
    return static_cast<tick_type>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
            .count());
  }

  const net::strand<net::any_io_executor>& strand() const noexcept { return strand_; }
  void bind(core_type& limiter) noexcept { limiter_ = &limiter; }

  // ---- from any thread --------------------------------------------------------------------

  // The ticket at `waiter` changed: check its operation on the strand. Posts only if the
  // operation is armed (it looked at its ticket and found it pending).
  void notify_waiter(const std::shared_ptr<WaiterTable>& self, uint32_t waiter) {
    const uint32_t i = waiter % Waiters;
    // seq_cst RMW: pairs with check()'s arming RMW. If this reads "armed", check() looked
    // before the change and we post; if it reads the disarmed value, this RMW precedes the
    // arming in the flag's order, so the arming (an acquire) sees what the core did before
    // this call, and check()'s look at the ticket finds the change.
    if (armed_[i].exchange(false, std::memory_order_seq_cst))
      net::post(strand_, [self, i] { self->check(i); });
  }

  // A deadline may have moved: poll and re-arm the timer on the strand (merged while one is
  // pending).
  void notify(const std::shared_ptr<WaiterTable>& self) {
    // acq_rel: pairs with the store in the posted repoll: a notify after that store posts
    // again.
    if (kick_.exchange(true, std::memory_order_acq_rel)) return;
    net::post(strand_, [self] {
      self->kick_.store(false, std::memory_order_release);
      self->repoll();
    });
  }

  // ---- on the strand ----------------------------------------------------------------------

  void add(std::unique_ptr<op_type> op) {
    if (limiter_ == nullptr) {
      op->complete(net::error::operation_aborted, guard_type{});
      return;
    }
    const uint32_t i = op->ticket().index % Waiters;
    ops_[i] = std::move(op);
    ++waiting_;
    check(i);
    repoll();  // the new ticket's deadline, and a poll for whatever is due
  }

  void check(uint32_t i) {
    if (limiter_ == nullptr || !ops_[i]) return;
    // seq_cst RMW: see notify_waiter.
    armed_[i].exchange(true, std::memory_order_seq_cst);
    Permit p;
    const Status s = limiter_->claim(ops_[i]->ticket(), p);
    if (s == Status::kPending) return;
    armed_[i].store(false, std::memory_order_relaxed);  // relaxed: only this strand arms it
    finish(i, s == Status::kOk ? boost::system::error_code{} : make_error_code(s),
           s == Status::kOk ? guard_type(*limiter_, p) : guard_type{});
  }

  void cancel(Ticket t) {
    const uint32_t i = t.index % Waiters;
    if (limiter_ == nullptr || !ops_[i] || ops_[i]->ticket().generation != t.generation ||
        ops_[i]->ticket().index != t.index)
      return;  // it completed first
    // Waiting: gone. Granted: the slot goes back at once. Timed out or closed: resolved.
    (void)limiter_->cancel(t, now());
    armed_[i].store(false, std::memory_order_relaxed);  // relaxed: as in check
    finish(i, net::error::operation_aborted, guard_type{});
  }

  // Pending operations complete with operation_aborted and the limiter is let go. Not
  // concurrently with the strand's handlers.
  void shutdown() {
    if (limiter_ == nullptr) return;
    for (uint32_t i = 0; i < Waiters; ++i)
      if (ops_[i]) cancel(ops_[i]->ticket());
    limiter_ = nullptr;
    timer_.cancel();
  }

  uint32_t waiting() const noexcept { return waiting_; }
  uint64_t completed() const noexcept { return completed_.load(std::memory_order_relaxed); }

 private:
  void finish(uint32_t i, boost::system::error_code ec, guard_type guard) {
    std::unique_ptr<op_type> op = std::move(ops_[i]);
    --waiting_;
    completed_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
    if (waiting_ == 0) stop_timer();  // nobody to poll for: let the context run out of work
    op->complete(ec, std::move(guard));
  }

  void stop_timer() {
    if (timer_at_.set) timer_.cancel();
    timer_at_ = Deadline<tick_type>::none();
  }

  void repoll() {
    if (limiter_ == nullptr) return;
    if (waiting_ == 0) return stop_timer();
    const auto r = limiter_->poll(now());  // grants and timeouts post their checks
    if (!r.next.set) return stop_timer();
    if (timer_at_.set && timer_at_.at == r.next.at) return;
    timer_at_ = r.next;
    timer_.expires_at(Clock::time_point(std::chrono::nanoseconds(r.next.at)));
    timer_.async_wait([this, self = self_.lock()](boost::system::error_code ec) {
      if (ec == net::error::operation_aborted || !self) return;
      timer_at_ = Deadline<tick_type>::none();
      repoll();
    });
  }

  net::strand<net::any_io_executor> strand_;
  net::steady_timer timer_;  // on the strand
  core_type* limiter_ = nullptr;
  std::unique_ptr<op_type> ops_[Waiters];
  std::atomic<bool> armed_[Waiters] = {};
  std::atomic<bool> kick_{false};
  uint32_t waiting_ = 0;
  Deadline<tick_type> timer_at_;
  std::atomic<uint64_t> completed_{0};

 public:
  std::weak_ptr<WaiterTable> self_;  // set by the port after construction
};

// One async_acquire's handler, its work guard and its cancellation.
template <class Handler, class Shared, class Guard>
class WaitOpFor final : public WaitOp<Guard> {
 public:
  WaitOpFor(Handler&& h, Ticket t, const net::any_io_executor& fallback)
      : WaitOp<Guard>(t),
        handler_(std::move(h)),
        work_(net::make_work_guard(net::get_associated_executor(handler_, fallback))) {}

  // After the op is in place: a cancellation from now on withdraws the ticket on the strand.
  void connect(const std::shared_ptr<Shared>& shared) {
    slot_ = net::get_associated_cancellation_slot(handler_);
    if (!slot_.is_connected()) return;
    slot_.template emplace<Canceller>(std::weak_ptr<Shared>(shared), this->ticket());
  }

  void complete(boost::system::error_code ec, Guard guard) override {
    if (slot_.is_connected()) slot_.clear();
    auto ex = work_.get_executor();
    net::post(ex, net::append(std::move(handler_), ec, std::move(guard)));
    work_.reset();
  }

 private:
  struct Canceller {
    Canceller(std::weak_ptr<Shared> s, Ticket t) noexcept : shared(std::move(s)), ticket(t) {}
    std::weak_ptr<Shared> shared;
    Ticket ticket;
    void operator()(net::cancellation_type type) {
      if ((type & (net::cancellation_type::terminal | net::cancellation_type::partial |
                   net::cancellation_type::total)) == net::cancellation_type::none)
        return;
      if (auto s = shared.lock()) {
        const Ticket t = ticket;
        net::post(s->strand(), [s, t] { s->cancel(t); });
      }
    }
  };

  Handler handler_;
  net::executor_work_guard<net::associated_executor_t<Handler, net::any_io_executor>> work_;
  net::associated_cancellation_slot_t<Handler> slot_;
};

}  // namespace detail

namespace detail {
template <class P, size_t Slots, size_t Waiters, size_t Lanes>
class LimiterOn;

// What both ports share: the clock, the wake-ups and async_acquire's initiation over a waiter
// table. `Self`: the port deriving from it.
template <class Self, size_t Slots, size_t Waiters, size_t Lanes>
class PortBase {
  using Shared = WaiterTable<Self, Slots, Waiters, Lanes>;

 public:
  using tick_type = uint64_t;  // steady_clock nanoseconds
  using word_type = uint64_t;
  using counter_type = uint64_t;
  using atomics = StdAtomics;
  using core_type = typename Shared::core_type;
  using guard_type = typename Shared::guard_type;
  static constexpr uint64_t kTicksPerSecond = 1000000000u;
  // notify*() post to an executor (which may take a lock): neither interrupt-safe nor
  // lock-free, so neither is the limiter on this port.
  static constexpr bool kNotifyInterruptSafe = false;
  static constexpr bool kNotifyLockFree = false;

  explicit PortBase(const net::any_io_executor& ex) : shared_(std::make_shared<Shared>(ex)) {
    shared_->self_ = shared_;
  }
  PortBase(const PortBase&) = delete;
  PortBase& operator=(const PortBase&) = delete;

  static tick_type now() noexcept { return Shared::now(); }
  template <class Rep, class Period>
  static constexpr tick_type from(std::chrono::duration<Rep, Period> d) noexcept {
    return static_cast<tick_type>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  }

  // The core's wake-ups; from any thread.
  void notify_waiter(uint32_t waiter) noexcept { shared_->notify_waiter(shared_, waiter); }
  void notify() noexcept { shared_->notify(shared_); }

  // async_acquire's initiation: the fast path in the caller's thread, else a ticket and an
  // operation in the waiter table.
  template <class Handler, class OnQueued>
  void start(core_type& limiter, Handler&& handler, detail::Timeout limit, Lane lane,
             OnQueued&& on_queued) {
    const bool timed = limit.timed;
    const tick_type timeout = limit.ticks;
    using Op = detail::WaitOpFor<std::decay_t<Handler>, Shared, guard_type>;
    const net::any_io_executor fallback = shared_->strand();
    auto ex = net::get_associated_executor(handler, fallback);
    const tick_type t = now();
    Permit p;
    Status s = lane.index < Lanes ? limiter.try_acquire(t, p) : Status::kInvalidArgument;
    if (s == Status::kOk || !is_transient(s) || (timed && timeout == 0)) {
      guard_type g = s == Status::kOk ? guard_type(limiter, p) : guard_type{};
      const auto ec = s == Status::kOk ? boost::system::error_code{} : make_error_code(s);
      net::post(ex, net::append(std::forward<Handler>(handler), ec, std::move(g)));
      return;
    }
    Ticket ticket;
    if (timed && !Ticks<tick_type>::valid_duration(timeout))
      s = Status::kInvalidArgument;
    else
      s = limiter.enqueue(
          t, ticket,
          timed ? Deadline<tick_type>::at_tick(t + timeout) : Deadline<tick_type>::none(), lane);
    if (s != Status::kOk) {
      net::post(ex, net::append(std::forward<Handler>(handler), make_error_code(s), guard_type{}));
      return;
    }
    // Queued instead of granted: say so now (a ticket granted as it was taken is not).
    if (limiter.state(ticket) == TicketState::kWaiting) on_queued();
    auto op = std::make_unique<Op>(std::forward<Handler>(handler), ticket, fallback);
    op->connect(shared_);
    net::post(shared_->strand(),
              [s = shared_, op = std::move(op)]() mutable { s->add(std::move(op)); });
  }

  // Operations waiting now (strand state: read it on the strand, or when nothing runs).
  uint32_t waiting() const noexcept { return shared_->waiting(); }
  // Operations completed from the waiter table (granted, timed out, closed, cancelled).
  uint64_t completed() const noexcept { return shared_->completed(); }
  const net::strand<net::any_io_executor>& strand() const noexcept { return shared_->strand(); }

 private:
  friend class LimiterOn<Self, Slots, Waiters, Lanes>;
  void bind(core_type& limiter) noexcept { shared_->bind(limiter); }
  void shutdown() { shared_->shutdown(); }

  std::shared_ptr<Shared> shared_;
};
}  // namespace detail

// The port without a usage source: what the core sees of an asio::BasicLimiter.
template <size_t Slots, size_t Waiters, size_t Lanes>
class BasicPort : public detail::PortBase<BasicPort<Slots, Waiters, Lanes>, Slots, Waiters, Lanes> {
 public:
  explicit BasicPort(const net::any_io_executor& ex)
      : detail::PortBase<BasicPort, Slots, Waiters, Lanes>(ex) {}
};

// The port: what the core sees of an asio::Limiter. Owned by it; not used on its own.
template <size_t Slots, size_t Waiters, size_t Lanes>
class Port : public detail::PortBase<Port<Slots, Waiters, Lanes>, Slots, Waiters, Lanes> {
 public:
  using tick_type = uint64_t;

  // `usage`: the usage source (nullptr: none; the limiter then runs on cooldown alone). The
  // port holds it for as long as it lives, so the limiter can never read a source that is
  // gone; a source with its own thread is subscribed to wake the waiters after each reading.
  explicit Port(const net::any_io_executor& ex, std::shared_ptr<UsageSource<uint64_t>> usage = {})
      : detail::PortBase<Port, Slots, Waiters, Lanes>(ex), usage_(std::move(usage)) {
    if (usage_) usage_->on_reading(&Port::wake, this);
  }
  // Unsubscribes first; the source is let go next, the waiter table (the base's) last.
  ~Port() {
    if (usage_) usage_->on_reading(nullptr, nullptr);
  }

  // The port contract's usage source: nonblocking, from any thread.
  bool read_usage(UsageReading<tick_type>& out) noexcept { return usage_ && usage_->read(out); }
  uint32_t usage_version() const noexcept { return usage_ ? usage_->version() : 0; }
  void request_usage_refresh() noexcept {
    if (usage_) usage_->request_refresh();
  }

 private:
  static void wake(void* self) noexcept { static_cast<Port*>(self)->notify(); }

  std::shared_ptr<UsageSource<uint64_t>> usage_;
};

namespace detail {
// Base-from-member: the port is built before the core limiter that refers to it.
template <class P>
struct PortMember {
  template <class... Args>
  explicit PortMember(Args&&... args) : port_member(std::forward<Args>(args)...) {}
  P port_member;
};

// What both limiters share: the core's Limiter on port P, the port built first and bound to
// it. Not copyable or movable (operations refer to it).
template <class P, size_t Slots, size_t Waiters, size_t Lanes>
class LimiterOn : private PortMember<P>, public slotgate::Limiter<P, Slots, Waiters, Lanes> {
  using Member = PortMember<P>;
  using Core = slotgate::Limiter<P, Slots, Waiters, Lanes>;

 public:
  using executor_type = net::any_io_executor;
  using guard_type = PermitGuard<Core>;

  ~LimiterOn() { this->port_member.shutdown(); }
  LimiterOn(const LimiterOn&) = delete;
  LimiterOn& operator=(const LimiterOn&) = delete;

  executor_type get_executor() const noexcept { return this->port_member.strand(); }

 protected:
  template <class... PortArgs>
  explicit LimiterOn(PortArgs&&... port_args)
      : Member(std::forward<PortArgs>(port_args)...), Core(this->port_member) {
    this->port_member.bind(*this);
  }
};
}  // namespace detail

// A limiter that waits on an Asio executor: every call of the core's Limiter, plus
// async_acquire, and an optional usage source for the gate.
template <size_t Slots, size_t Waiters, size_t Lanes>
class Limiter : public detail::LimiterOn<Port<Slots, Waiters, Lanes>, Slots, Waiters, Lanes> {
 public:
  using executor_type = net::any_io_executor;

  // `usage`: an optional usage source (slotgate::http::UsageSource, ...), held by the port.
  explicit Limiter(const executor_type& ex, std::shared_ptr<UsageSource<uint64_t>> usage = {})
      : detail::LimiterOn<Port<Slots, Waiters, Lanes>, Slots, Waiters, Lanes>(ex,
                                                                              std::move(usage)) {}
};

// The same for an upstream with no usage endpoint: a limiter on BasicPort, which has no usage
// source, so the core compiles the gate, the learned lags and headroom's foreign part out (as
// posix::BasicPort does). Everything else, async_acquire included, is as for Limiter.
template <size_t Slots, size_t Waiters, size_t Lanes>
class BasicLimiter
    : public detail::LimiterOn<BasicPort<Slots, Waiters, Lanes>, Slots, Waiters, Lanes> {
 public:
  using executor_type = net::any_io_executor;

  explicit BasicLimiter(const executor_type& ex)
      : detail::LimiterOn<BasicPort<Slots, Waiters, Lanes>, Slots, Waiters, Lanes>(ex) {}
};

// "You are queued": f() is called once, at once, in the thread that initiates async_acquire,
// when the operation is queued instead of granted (never when the fast path grants or a
// refusal completes it at once). It must not block or throw.
template <class F>
struct WhenQueued {
  F f;
  void operator()() { f(); }
};
template <class F>
WhenQueued<std::decay_t<F>> when_queued(F&& f) {
  return {std::forward<F>(f)};
}

namespace detail {
inline WhenQueued<slotgate::detail::NobodyToTell> nobody_to_tell() {
  return {{}};
}
}  // namespace detail

// Acquire a permit asynchronously:
//
//   async_acquire(limiter, [timeout,] [Lane(i),] [when_queued(f),] token)
//
// within `timeout` (zero: the fast path only; none: until granted, closed or cancelled),
// queued in lane i (slotgate/lanes.hpp; lane 0 if not named). Completes with (error_code,
// PermitGuard): an empty error and a guard holding the permit, or an error and an empty guard
// (invalid_argument for a lane the limiter does not have). Thread-safe; the handler runs on its
// associated executor (by default the limiter's strand).
template <class P, size_t Slots, size_t Waiters, size_t Lanes, class F, class Token>
auto async_acquire(detail::LimiterOn<P, Slots, Waiters, Lanes>& limiter, detail::Timeout timeout,
                   Lane lane, WhenQueued<F> on_queued, Token&& token) {
  using Guard = typename detail::LimiterOn<P, Slots, Waiters, Lanes>::guard_type;
  return net::async_initiate<Token, void(boost::system::error_code, Guard)>(
      [&limiter, timeout, lane, q = std::move(on_queued)](auto handler) mutable {
        limiter.port().start(limiter, std::move(handler), timeout, lane, q);
      },
      token);
}

// The shorter forms: each fills in what it leaves out.
template <class P, size_t Slots, size_t Waiters, size_t Lanes, class Rep, class Period, class F,
          class Token>
auto async_acquire(detail::LimiterOn<P, Slots, Waiters, Lanes>& limiter,
                   std::chrono::duration<Rep, Period> timeout, Lane lane, WhenQueued<F> on_queued,
                   Token&& token) {
  return async_acquire(limiter, detail::Timeout::of(timeout), lane, std::move(on_queued),
                       std::forward<Token>(token));
}
template <class P, size_t Slots, size_t Waiters, size_t Lanes, class Rep, class Period, class F,
          class Token>
auto async_acquire(detail::LimiterOn<P, Slots, Waiters, Lanes>& limiter,
                   std::chrono::duration<Rep, Period> timeout, WhenQueued<F> on_queued,
                   Token&& token) {
  return async_acquire(limiter, timeout, Lane{}, std::move(on_queued), std::forward<Token>(token));
}
template <class P, size_t Slots, size_t Waiters, size_t Lanes, class Rep, class Period, class Token>
auto async_acquire(detail::LimiterOn<P, Slots, Waiters, Lanes>& limiter,
                   std::chrono::duration<Rep, Period> timeout, Lane lane, Token&& token) {
  return async_acquire(limiter, timeout, lane, detail::nobody_to_tell(),
                       std::forward<Token>(token));
}
template <class P, size_t Slots, size_t Waiters, size_t Lanes, class Rep, class Period, class Token>
auto async_acquire(detail::LimiterOn<P, Slots, Waiters, Lanes>& limiter,
                   std::chrono::duration<Rep, Period> timeout, Token&& token) {
  return async_acquire(limiter, timeout, Lane{}, detail::nobody_to_tell(),
                       std::forward<Token>(token));
}
template <class P, size_t Slots, size_t Waiters, size_t Lanes, class F, class Token>
auto async_acquire(detail::LimiterOn<P, Slots, Waiters, Lanes>& limiter, Lane lane,
                   WhenQueued<F> on_queued, Token&& token) {
  return async_acquire(limiter, detail::Timeout::none(), lane, std::move(on_queued),
                       std::forward<Token>(token));
}
template <class P, size_t Slots, size_t Waiters, size_t Lanes, class F, class Token>
auto async_acquire(detail::LimiterOn<P, Slots, Waiters, Lanes>& limiter, WhenQueued<F> on_queued,
                   Token&& token) {
  return async_acquire(limiter, Lane{}, std::move(on_queued), std::forward<Token>(token));
}
template <class P, size_t Slots, size_t Waiters, size_t Lanes, class Token>
auto async_acquire(detail::LimiterOn<P, Slots, Waiters, Lanes>& limiter, Lane lane, Token&& token) {
  return async_acquire(limiter, lane, detail::nobody_to_tell(), std::forward<Token>(token));
}
template <class P, size_t Slots, size_t Waiters, size_t Lanes, class Token>
auto async_acquire(detail::LimiterOn<P, Slots, Waiters, Lanes>& limiter, Token&& token) {
  return async_acquire(limiter, Lane{}, detail::nobody_to_tell(), std::forward<Token>(token));
}

}  // namespace slotgate::asio
