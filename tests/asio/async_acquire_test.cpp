// The asio port: async_acquire on a real io_context — grants, waiting, timeouts, cancellation
// (racing a grant too), close, destruction, many waiters on one thread, use_future — on
// asio::Limiter and asio::BasicLimiter alike.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "slotgate/ports/asio.hpp"

namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using slotgate::Status;

// What one async_acquire completed with.
template <class Guard>
struct ResultOf {
  bool done = false;
  boost::system::error_code ec;
  Guard guard;
};

template <class Guard>
auto into(ResultOf<Guard>& r) {
  return [&r](boost::system::error_code ec, Guard g) {
    r.done = true;
    r.ec = ec;
    r.guard = std::move(g);
  };
}

// Every test below runs on both asio limiters: Limiter (which can take a usage source) and
// BasicLimiter (which has none); they share the waiter table and async_acquire. Each test
// names what it uses of its fixture at its top.
template <class Limiter>
class AsyncAcquire : public ::testing::Test {
 protected:
  using GuardT = typename Limiter::guard_type;
  using ResultT = ResultOf<GuardT>;

  void SetUp() override { configure(1); }
  void configure(uint32_t limit, std::chrono::nanoseconds cooldown = 0ns) {
    typename Limiter::config_type c;
    c.limit = limit;
    c.cooldown = slotgate::asio::Port<8, 64>::from(cooldown);  // ns on every asio port
    ASSERT_EQ(lim_->configure(c), Status::kOk);
  }
  // Runs what is ready now, without waiting for timers.
  void settle() {
    io_.restart();
    io_.poll();
  }
  slotgate::Snapshot<uint64_t> snap() { return lim_->snapshot(); }

  net::io_context io_;
  std::unique_ptr<Limiter> lim_ = std::make_unique<Limiter>(io_.get_executor());
};
using Limiters =
    ::testing::Types<slotgate::asio::Limiter<8, 64>, slotgate::asio::BasicLimiter<8, 64>>;
TYPED_TEST_SUITE(AsyncAcquire, Limiters);

// BasicLimiter's port has no usage source, so the core leaves the gate's state out.
static_assert(!slotgate::HasUsageSource<slotgate::asio::BasicPort<8, 64>>::value);
static_assert(slotgate::HasUsageSource<slotgate::asio::Port<8, 64>>::value);
static_assert(sizeof(slotgate::asio::BasicLimiter<8, 64>) < sizeof(slotgate::asio::Limiter<8, 64>));

TYPED_TEST(AsyncAcquire, GrantsAtOnceWhenASlotIsFree) {
  using Result = typename TestFixture::ResultT;
  auto& lim = this->lim_;
  Result r;
  slotgate::asio::async_acquire(*lim, 1s, into(r));
  EXPECT_FALSE(r.done) << "never completes inside the initiating call";
  this->settle();
  ASSERT_TRUE(r.done);
  EXPECT_FALSE(r.ec);
  EXPECT_TRUE(r.guard.holds());
  EXPECT_EQ(this->snap().held, 1u);
  r.guard.release();
  EXPECT_EQ(this->snap().held, 0u);
}

TYPED_TEST(AsyncAcquire, WaitsWithoutPollingAndIsGrantedOnRelease) {
  using Result = typename TestFixture::ResultT;
  auto& io = this->io_;
  auto& lim = this->lim_;
  Result first, second;
  slotgate::asio::async_acquire(*lim, into(first));
  slotgate::asio::async_acquire(*lim, into(second));
  this->settle();
  ASSERT_TRUE(first.done);
  EXPECT_FALSE(second.done);
  EXPECT_EQ(this->snap().queued, 1u);
  // Nothing is scheduled while it waits without a deadline: no busy polling.
  io.restart();
  EXPECT_EQ(io.poll(), 0u);
  first.guard.release();  // from the test's thread: posts one check to the strand
  this->settle();
  ASSERT_TRUE(second.done);
  EXPECT_FALSE(second.ec);
  EXPECT_TRUE(second.guard.holds());
  EXPECT_EQ(this->snap().held, 1u);
  EXPECT_EQ(this->snap().counters.wakeups, 1u);
}

// "You are queued": when_queued(f) runs f once, inside the initiating call, for an operation
// queued instead of granted; never for one granted at once.
TYPED_TEST(AsyncAcquire, WhenQueuedTellsAtOnceAndOnlyTheQueued) {
  using Result = typename TestFixture::ResultT;
  auto& lim = this->lim_;
  Result first, second;
  int first_told = 0, second_told = 0;
  slotgate::asio::async_acquire(*lim, slotgate::asio::when_queued([&] { ++first_told; }),
                                into(first));
  EXPECT_EQ(first_told, 0) << "granted by the fast path: never queued";
  slotgate::asio::async_acquire(*lim, 1s, slotgate::asio::when_queued([&] { ++second_told; }),
                                into(second));
  EXPECT_EQ(second_told, 1) << "told inside the initiating call";
  EXPECT_FALSE(second.done);
  this->settle();
  ASSERT_TRUE(first.done);
  EXPECT_FALSE(second.done);
  first.guard.release();
  this->settle();
  ASSERT_TRUE(second.done);
  EXPECT_FALSE(second.ec);
  EXPECT_EQ(second_told, 1);
  EXPECT_EQ(first_told, 0);
}

// Two lanes on a real io_context: the higher lane's operation is granted first, though it
// started last; a lane the limiter does not have completes with invalid_argument.
TEST(AsyncLanes, TheHigherLaneIsGrantedFirst) {
  using L2 = slotgate::asio::Limiter<2, 8, 2>;
  using G2 = L2::guard_type;
  net::io_context io;
  L2 lim(io.get_executor());
  L2::config_type c;
  c.limit = 1;
  ASSERT_EQ(lim.configure(c), Status::kOk);
  std::vector<int> order;
  G2 held, low, high;
  auto into2 = [&order](int who, G2& g) {
    return [&order, who, &g](boost::system::error_code ec, G2 granted) {
      EXPECT_FALSE(ec);
      order.push_back(who);
      g = std::move(granted);
    };
  };
  slotgate::asio::async_acquire(lim, into2(0, held));
  int told = 0;
  slotgate::asio::async_acquire(lim, 10s, slotgate::Lane(0),
                                slotgate::asio::when_queued([&] { ++told; }), into2(1, low));
  slotgate::asio::async_acquire(lim, slotgate::Lane(1), into2(2, high));
  EXPECT_EQ(told, 1);
  io.restart();
  io.poll();
  ASSERT_EQ(order, std::vector<int>({0}));
  held.release();
  io.restart();
  io.poll();
  ASSERT_EQ(order, std::vector<int>({0, 2}));
  high.release();
  io.restart();
  io.poll();
  ASSERT_EQ(order, std::vector<int>({0, 2, 1}));
  low.release();
  boost::system::error_code bad;
  slotgate::asio::async_acquire(lim, slotgate::Lane(2),
                                [&](boost::system::error_code ec, G2) { bad = ec; });
  io.restart();
  io.poll();
  EXPECT_EQ(bad, slotgate::make_error_code(Status::kInvalidArgument));
  EXPECT_EQ(lim.snapshot().tickets_outstanding, 0u);
}

TYPED_TEST(AsyncAcquire, TimesOutAndLeavesNothingBehind) {
  using Result = typename TestFixture::ResultT;
  auto& io = this->io_;
  auto& lim = this->lim_;
  Result held, late;
  slotgate::asio::async_acquire(*lim, into(held));
  slotgate::asio::async_acquire(*lim, 20ms, into(late));
  io.run_for(2s);  // the limiter's timer fires at the deadline; then nothing is left to run
  ASSERT_TRUE(late.done);
  EXPECT_EQ(late.ec, slotgate::make_error_code(Status::kTimedOut));
  EXPECT_EQ(late.ec.category().name(), std::string("slotgate"));
  EXPECT_FALSE(late.guard.holds());
  const auto s = this->snap();
  EXPECT_EQ(s.held, 1u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.tickets_outstanding, 0u);
}

TYPED_TEST(AsyncAcquire, AZeroTimeoutOnlyTries) {
  using Result = typename TestFixture::ResultT;
  auto& lim = this->lim_;
  Result held, tried;
  slotgate::asio::async_acquire(*lim, into(held));
  slotgate::asio::async_acquire(*lim, 0s, into(tried));
  this->settle();
  ASSERT_TRUE(tried.done);
  EXPECT_EQ(tried.ec, slotgate::make_error_code(Status::kNoSlot));
  EXPECT_EQ(this->snap().tickets_outstanding, 0u);
}

TYPED_TEST(AsyncAcquire, CancelledWhileWaitingItIsGone) {
  using Result = typename TestFixture::ResultT;
  auto& lim = this->lim_;
  Result held, waiting;
  net::cancellation_signal signal;
  slotgate::asio::async_acquire(*lim, into(held));
  slotgate::asio::async_acquire(*lim, net::bind_cancellation_slot(signal.slot(), into(waiting)));
  this->settle();
  ASSERT_FALSE(waiting.done);
  signal.emit(net::cancellation_type::total);
  this->settle();
  ASSERT_TRUE(waiting.done);
  EXPECT_EQ(waiting.ec, net::error::operation_aborted);
  EXPECT_EQ(this->snap().tickets_outstanding, 0u);
  EXPECT_EQ(this->snap().counters.cancelled, 1u);
}

// The release grants the waiter before the strand sees the cancellation: the grant goes back.
TYPED_TEST(AsyncAcquire, ACancellationThatLosesToAGrantGivesTheSlotBack) {
  using Result = typename TestFixture::ResultT;
  auto& lim = this->lim_;
  Result held, waiting;
  net::cancellation_signal signal;
  slotgate::asio::async_acquire(*lim, into(held));
  slotgate::asio::async_acquire(*lim, net::bind_cancellation_slot(signal.slot(), into(waiting)));
  this->settle();
  signal.emit(net::cancellation_type::terminal);  // posts the withdrawal first
  held.guard.release();                           // the core grants the ticket right now
  this->settle();
  ASSERT_TRUE(waiting.done);
  EXPECT_EQ(waiting.ec, net::error::operation_aborted);
  EXPECT_FALSE(waiting.guard.holds());
  EXPECT_EQ(this->snap().held, 0u) << "the grant that won the race went back";
  EXPECT_EQ(this->snap().counters.grants_returned, 1u);
}

// The other order: the grant's check reaches the strand first and completes the operation;
// the cancellation then finds nothing to do.
TYPED_TEST(AsyncAcquire, ACancellationAfterTheGrantCompletedChangesNothing) {
  using Result = typename TestFixture::ResultT;
  auto& lim = this->lim_;
  Result held, waiting;
  net::cancellation_signal signal;
  slotgate::asio::async_acquire(*lim, into(held));
  slotgate::asio::async_acquire(*lim, net::bind_cancellation_slot(signal.slot(), into(waiting)));
  this->settle();
  held.guard.release();
  this->settle();
  ASSERT_TRUE(waiting.done);
  EXPECT_FALSE(waiting.ec);
  signal.emit(net::cancellation_type::terminal);  // the slot was cleared: no effect
  this->settle();
  EXPECT_TRUE(waiting.guard.holds());
  EXPECT_EQ(this->snap().held, 1u);
}

// Cancellations racing releases on two threads, many times: every operation completes once,
// and the count always returns to zero.
TYPED_TEST(AsyncAcquire, CancellationsRacingGrantsLeakNothing) {
  using Guard = typename TestFixture::GuardT;
  auto& io = this->io_;
  auto& lim = this->lim_;
  this->configure(2);
  constexpr int kRounds = 400;
  std::atomic<int> completed{0}, granted{0};
  auto work = net::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  for (int round = 0; round < kRounds; ++round) {
    // Two holders, then two waiters with cancellation; release the holders from this thread
    // while the strand emits the cancellations.
    std::vector<std::promise<Guard>> holders(2);
    for (auto& h : holders)
      slotgate::asio::async_acquire(*lim, [&h](boost::system::error_code ec, Guard g) {
        EXPECT_FALSE(ec);
        h.set_value(std::move(g));
      });
    std::vector<Guard> held;
    for (auto& h : holders) held.push_back(h.get_future().get());
    auto signals = std::make_shared<std::vector<net::cancellation_signal>>(2);
    std::promise<void> queued;
    net::post(lim->get_executor(), [&, signals] {
      for (auto& s : *signals)
        slotgate::asio::async_acquire(
            *lim, 5s,
            net::bind_cancellation_slot(s.slot(), [&](boost::system::error_code ec, Guard) {
              completed.fetch_add(1);
              if (!ec) granted.fetch_add(1);
            }));
      queued.set_value();
    });
    queued.get_future().get();
    net::post(lim->get_executor(), [signals] {
      for (auto& s : *signals) s.emit(net::cancellation_type::terminal);
    });
    for (auto& g : held) g.release();
    // Both waiters complete, one way or the other.
    while (completed.load() < 2 * (round + 1)) std::this_thread::yield();
  }
  std::promise<slotgate::Snapshot<uint64_t>> last;
  net::post(lim->get_executor(), [&] { last.set_value(lim->snapshot()); });
  const auto s = last.get_future().get();
  work.reset();
  runner.join();
  EXPECT_EQ(completed.load(), 2 * kRounds);
  EXPECT_EQ(s.held, 0u);
  EXPECT_EQ(s.tickets_outstanding, 0u);
  EXPECT_EQ(s.counters.granted,
            2u * kRounds + static_cast<uint64_t>(granted.load()) + s.counters.grants_returned);
}

TYPED_TEST(AsyncAcquire, CloseFailsEveryWaiter) {
  using Result = typename TestFixture::ResultT;
  auto& lim = this->lim_;
  Result held;
  std::vector<Result> waiting(5);
  slotgate::asio::async_acquire(*lim, into(held));
  for (auto& w : waiting) slotgate::asio::async_acquire(*lim, into(w));
  this->settle();
  lim->close();
  this->settle();
  for (auto& w : waiting) {
    ASSERT_TRUE(w.done);
    EXPECT_EQ(w.ec, slotgate::make_error_code(Status::kClosed));
  }
  EXPECT_EQ(this->snap().tickets_outstanding, 0u);
}

TYPED_TEST(AsyncAcquire, DestroyingTheLimiterAbortsWhatWaits) {
  using Result = typename TestFixture::ResultT;
  auto& lim = this->lim_;
  Result held, waiting;
  slotgate::asio::async_acquire(*lim, into(held));
  slotgate::asio::async_acquire(*lim, into(waiting));
  this->settle();
  held.guard.detach();  // the limiter goes away first
  lim.reset();
  this->settle();
  ASSERT_TRUE(waiting.done);
  EXPECT_EQ(waiting.ec, net::error::operation_aborted);
}

TYPED_TEST(AsyncAcquire, QueueFullIsAnError) {
  auto& io = this->io_;
  using Tiny = slotgate::asio::Limiter<1, 2>;
  Tiny tiny(io.get_executor());
  Tiny::config_type c;
  c.limit = 1;
  ASSERT_EQ(tiny.configure(c), Status::kOk);
  std::vector<boost::system::error_code> ecs;
  std::vector<Tiny::guard_type> guards;
  for (int i = 0; i < 4; ++i)
    slotgate::asio::async_acquire(tiny, [&](boost::system::error_code ec, Tiny::guard_type g) {
      ecs.push_back(ec);
      guards.push_back(std::move(g));
    });
  this->settle();
  ASSERT_EQ(ecs.size(), 2u);  // the holder, then the one refused; two wait
  EXPECT_FALSE(ecs[0]);
  EXPECT_EQ(ecs[1], slotgate::make_error_code(Status::kQueueFull));
  tiny.close();
  this->settle();
}

// 64 operations on one io_context thread, four slots: each holds its permit for a timer's
// while; the timer of the limiter drives nothing here (no deadlines), grants come from releases.
TYPED_TEST(AsyncAcquire, ManyWaitersOnOneThread) {
  using Guard = typename TestFixture::GuardT;
  auto& io = this->io_;
  auto& lim = this->lim_;
  this->configure(4);
  constexpr int kOps = 64;
  int done = 0, holding = 0, most = 0;
  std::vector<std::unique_ptr<net::steady_timer>> timers;
  for (int i = 0; i < kOps; ++i) {
    timers.push_back(std::make_unique<net::steady_timer>(io));
    net::steady_timer* t = timers.back().get();
    slotgate::asio::async_acquire(*lim, 10s, [&, t](boost::system::error_code ec, Guard g) {
      ASSERT_FALSE(ec);
      most = std::max(most, ++holding);
      t->expires_after(1ms);
      t->async_wait([&, g = std::move(g)](boost::system::error_code) mutable {
        --holding;
        ++done;
        g.release();
      });
    });
  }
  io.run_for(20s);
  EXPECT_EQ(done, kOps);
  EXPECT_EQ(most, 4);
  EXPECT_EQ(this->snap().held, 0u);
  EXPECT_EQ(this->snap().counters.granted, static_cast<uint64_t>(kOps));
}

TYPED_TEST(AsyncAcquire, WorksWithUseFuture) {
  using Guard = typename TestFixture::GuardT;
  auto& io = this->io_;
  auto& lim = this->lim_;
  auto work = net::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  std::future<Guard> f = slotgate::asio::async_acquire(*lim, 1s, net::use_future);
  Guard g = f.get();
  EXPECT_TRUE(g.holds());
  std::future<Guard> late = slotgate::asio::async_acquire(*lim, 10ms, net::use_future);
  EXPECT_THROW(late.get(), boost::system::system_error);
  g.release();
  work.reset();
  runner.join();
}

// With a cooldown the freed slot comes back at the cooldown's end: the limiter's timer polls
// then and grants the waiter, with nobody else calling into the limiter.
TYPED_TEST(AsyncAcquire, TheTimerGrantsWhenACooldownEnds) {
  using Result = typename TestFixture::ResultT;
  auto& io = this->io_;
  auto& lim = this->lim_;
  this->configure(1, 30ms);
  Result first, second;
  slotgate::asio::async_acquire(*lim, into(first));
  slotgate::asio::async_acquire(*lim, 5s, into(second));
  this->settle();
  first.guard.release();
  this->settle();
  EXPECT_FALSE(second.done) << "the slot cools first";
  io.restart();
  while (!second.done && io.run_one_for(5s) != 0) {
  }
  ASSERT_TRUE(second.done);
  EXPECT_FALSE(second.ec);
}

}  // namespace
