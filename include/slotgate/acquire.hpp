// The blocking acquire, written once over a port's wait contract (port.hpp):
//
//   acquire_until(limiter, deadline, permit)   granted (kOk), kTimedOut, kClosed, kQueueFull
//   acquire_for(limiter, timeout, permit)      the same with a timeout in the port's ticks
//   acquire(limiter, permit)                   no deadline
//   PermitGuard                                releases its permit when it goes out of scope
//   acquire_or_enqueue(limiter, now, deadline, permit, ticket[, lane])
//                                              their first step, nonblocking: a permit now, or
//                                              a ticket that waits (kPending: queued)
//
// Each blocking acquire may name the Lane its caller queues in (slotgate/lanes.hpp) after the
// permit or guard: acquire_until(limiter, deadline, permit, Lane(1)); without one, lane 0.
//
// Each blocking acquire takes an optional last argument, `on_queued`: a callable run once, at once,
// in the calling thread, when the caller is queued instead of granted (a gateway's "you are queued"
// to its client). It runs after the ticket is taken and found waiting, before the caller
// spins or sleeps; never when the fast path grants, a refusal returns at once, or the ticket
// is granted as it is taken. It must not block or throw, and must not wait for this acquire.
//
// A caller first tries the fast path, and while every slot is taken and nobody is queued,
// looks for a freed one a few times (the port's kAcquireSpins); otherwise it takes a ticket,
// looks at it as many times, then sleeps on the port. Whoever grants, times out or closes its
// ticket wakes it alone (Port::notify_waiter); one waiter at a time also sleeps towards the
// limiter's next deadline and polls for everyone (the port chooses it), so no thread runs in
// the background and a release with 64 waiters asleep wakes one of them.
//
// Every function here blocks the calling thread: never from an interrupt handler. Clock: the
// port's now(), wrapping ticks; a deadline more than half the tick range ahead reads as past.
#pragma once

#include <stdint.h>

#include <type_traits>

#include "slotgate/handles.hpp"
#include "slotgate/lanes.hpp"
#include "slotgate/port.hpp"
#include "slotgate/status.hpp"
#include "slotgate/ticks.hpp"

namespace slotgate {

namespace detail {
// The default `on_queued`: nobody to tell.
struct NobodyToTell {
  void operator()() const noexcept {}
};
// An `on_queued` argument that is not a Lane (which selects the overloads that take one).
template <class F>
using NotLane = std::enable_if_t<!std::is_same<std::decay_t<F>, Lane>::value>;

// acquire_or_enqueue once its try_acquire has refused with `s` (the refusal is counted once).
template <class Limiter>
Status enqueue_after(Limiter& limiter, Status s, typename Limiter::tick_type now,
                     typename Limiter::deadline_type deadline, Permit& out, Ticket& ticket,
                     Lane lane) noexcept {
  if (!is_transient(s)) return s;
  if (deadline.set && Ticks<typename Limiter::tick_type>::reached(deadline.at, now))
    return Status::kTimedOut;
  Ticket t;
  s = limiter.enqueue(now, t, deadline, lane);
  if (s != Status::kOk) return s;
  s = limiter.claim(t, out);
  if (s == Status::kPending) ticket = t;
  return s;
}

// begin_wait / end_wait around the sleeping part of one acquire. A waiter that leaves holding
// the poller role lets it go, then hands it on if the limiter still has a deadline someone
// must poll for (the port orders that look after letting go: see posix.hpp's end_wait). The
// heartbeat alone (a narrow tick's, detail/heartbeat.hpp) wakes nobody: it is days away, the
// next waiter to sleep polls, and the contract asks the application to poll on it anyway.
template <class Limiter>
class WaitScope {
  using Port = typename Limiter::port_type;

 public:
  WaitScope(Limiter& limiter, uint32_t waiter) noexcept : limiter_(limiter), waiter_(waiter) {
    limiter_.port().begin_wait(waiter_);
  }
  ~WaitScope() {
    Port& port = limiter_.port();
    if (!port.end_wait(waiter_)) return;
    using Tick = typename Limiter::tick_type;
    using Tk = Ticks<Tick>;
    const Tick now = Port::now();
    const auto next = limiter_.next_deadline(now);
    if (next.set && (!Tk::kWrapsInService || Tk::before(next.at, Tick(now + Tk::kHeartbeat))))
      port.hand_off(waiter_);
  }
  WaitScope(const WaitScope&) = delete;
  WaitScope& operator=(const WaitScope&) = delete;

 private:
  Limiter& limiter_;
  uint32_t waiter_;
};
}  // namespace detail

// Take a slot now, else join the queue: kOk with `out` (granted at once, or as its ticket was
// taken, which is never "queued"); kPending with `ticket`, queued instead of granted (claim it
// once granted, or cancel it); else the refusal, with neither: one of try_acquire's that waiting
// cannot cure, kTimedOut for a deadline already reached, kQueueFull or kClosed,
// kInvalidArgument for a lane the limiter does not have. The first step
// of every acquire here, and of the C API's slotgate_acquire_or_enqueue. Lock-free, never
// blocks; interrupt-safe when the limiter is; clock: `now` in the port's wrapping ticks.
template <class Limiter>
Status acquire_or_enqueue(Limiter& limiter, typename Limiter::tick_type now,
                          typename Limiter::deadline_type deadline, Permit& out, Ticket& ticket,
                          Lane lane = Lane{}) noexcept {
  ticket = Ticket{};
  if (lane.index >= Limiter::kLanes) {  // even with a slot free
    out = Permit{};
    return Status::kInvalidArgument;
  }
  const Status s = limiter.try_acquire(now, out);
  if (s == Status::kOk) return s;
  return detail::enqueue_after(limiter, s, now, deadline, out, ticket, lane);
}

// Block until a permit is granted, `deadline` passes (kTimedOut) or the limiter closes
// (kClosed); kQueueFull if every ticket record is in use; kInvalidArgument for a lane the
// limiter does not have; any other refusal of try_acquire that waiting cannot cure is returned
// as it is. Blocking.
template <class Limiter, class OnQueued = detail::NobodyToTell>
Status acquire_until(Limiter& limiter, typename Limiter::deadline_type deadline, Permit& out,
                     Lane lane, OnQueued&& on_queued = OnQueued{}) noexcept {
  using Port = typename Limiter::port_type;
  static_assert(PortTraits<Port>::blocking, "this port has no wait contract (see port.hpp)");
  Port& port = limiter.port();
  Ticket ticket;
  if (lane.index >= Limiter::kLanes)
    return acquire_or_enqueue(limiter, Port::now(), deadline, out, ticket, lane);
  Status s = limiter.try_acquire(Port::now(), out);
  // Every slot taken and nobody queued: a slot freed within a few turns is taken without
  // queuing, as a waiter looking at its ticket would have had it handed over. Nobody is passed
  // over: once anyone queues, would_admit says no and the refusal below is kWaitersAhead. The
  // looks between tries change and count nothing, so the refusal is counted once.
  for (int spin = 0; s == Status::kNoSlot && spin < PortTraits<Port>::acquire_spins; ++spin) {
    if constexpr (PortTraits<Port>::acquire_spins > 0) Port::relax();
    const auto now = Port::now();
    if (limiter.would_admit(now)) s = limiter.try_acquire(now, out);
  }
  if (s == Status::kOk) return s;
  s = detail::enqueue_after(limiter, s, Port::now(), deadline, out, ticket, lane);
  if (s != Status::kPending) return s;
  on_queued();
  // A hand-off usually comes within microseconds; sleeping and being woken costs tens.
  for (int spin = 0; spin < PortTraits<Port>::acquire_spins; ++spin) {
    s = limiter.claim(ticket, out);
    if (s != Status::kPending) return s;
    if constexpr (PortTraits<Port>::acquire_spins > 0) Port::relax();
  }
  const detail::WaitScope<Limiter> scope(limiter, ticket.index);
  for (;;) {
    // The token first: a wake-up after it and before the sleep makes the sleep return at once.
    const uint32_t token = port.wait_token(ticket.index);
    s = limiter.claim(ticket, out);
    if (s != Status::kPending) return s;
    // Poll for the deadlines nobody else may be awake for (our own timeout among them).
    const auto polled = limiter.poll(Port::now());
    s = limiter.claim(ticket, out);
    if (s != Status::kPending) return s;
    port.wait(ticket.index, token, polled.next, deadline);
  }
}

// In lane 0.
template <class Limiter, class OnQueued = detail::NobodyToTell, class = detail::NotLane<OnQueued>>
Status acquire_until(Limiter& limiter, typename Limiter::deadline_type deadline, Permit& out,
                     OnQueued&& on_queued = OnQueued{}) noexcept {
  return acquire_until(limiter, deadline, out, Lane{}, static_cast<OnQueued&&>(on_queued));
}

// acquire_until with a timeout in ticks from now; kInvalidArgument for one longer than half
// the tick range. Blocking.
template <class Limiter, class OnQueued = detail::NobodyToTell>
Status acquire_for(Limiter& limiter, typename Limiter::tick_type timeout, Permit& out, Lane lane,
                   OnQueued&& on_queued = OnQueued{}) noexcept {
  using Tick = typename Limiter::tick_type;
  out = Permit{};
  if (!Ticks<Tick>::valid_duration(timeout)) return Status::kInvalidArgument;
  return acquire_until(limiter,
                       Limiter::deadline_type::at_tick(Tick(Limiter::port_type::now() + timeout)),
                       out, lane, static_cast<OnQueued&&>(on_queued));
}
template <class Limiter, class OnQueued = detail::NobodyToTell, class = detail::NotLane<OnQueued>>
Status acquire_for(Limiter& limiter, typename Limiter::tick_type timeout, Permit& out,
                   OnQueued&& on_queued = OnQueued{}) noexcept {
  return acquire_for(limiter, timeout, out, Lane{}, static_cast<OnQueued&&>(on_queued));
}

// acquire_until with no deadline: granted or closed. Blocking.
template <class Limiter, class OnQueued = detail::NobodyToTell>
Status acquire(Limiter& limiter, Permit& out, Lane lane,
               OnQueued&& on_queued = OnQueued{}) noexcept {
  return acquire_until(limiter, Limiter::deadline_type::none(), out, lane,
                       static_cast<OnQueued&&>(on_queued));
}
template <class Limiter, class OnQueued = detail::NobodyToTell, class = detail::NotLane<OnQueued>>
Status acquire(Limiter& limiter, Permit& out, OnQueued&& on_queued = OnQueued{}) noexcept {
  return acquire(limiter, out, Lane{}, static_cast<OnQueued&&>(on_queued));
}

// Owns one permit and releases it (outcome ok, at the port's now()) when destroyed, unless
// released first with an outcome. Move-only. Not shared between threads.
template <class Limiter>
class PermitGuard {
 public:
  using outcome_type = typename Limiter::outcome_type;

  PermitGuard() noexcept = default;
  PermitGuard(Limiter& limiter, Permit permit) noexcept : limiter_(&limiter), permit_(permit) {}
  PermitGuard(PermitGuard&& o) noexcept : limiter_(o.limiter_), permit_(o.permit_) {
    o.permit_ = Permit{};
  }
  PermitGuard& operator=(PermitGuard&& o) noexcept {
    if (this != &o) {
      release();
      limiter_ = o.limiter_;
      permit_ = o.permit_;
      o.permit_ = Permit{};
    }
    return *this;
  }
  PermitGuard(const PermitGuard&) = delete;
  PermitGuard& operator=(const PermitGuard&) = delete;
  ~PermitGuard() { release(); }

  // Release now with an outcome (e.g. outcome_type::rejected() after a 429): the limiter's
  // status, or kInvalidPermit if the guard holds nothing. Lock-free when the limiter is.
  Status release(outcome_type outcome = outcome_type::ok()) noexcept {
    if (limiter_ == nullptr || !permit_.valid()) return Status::kInvalidPermit;
    const Permit p = permit_;
    permit_ = Permit{};
    return limiter_->release(p, Limiter::port_type::now(), outcome);
  }

  // Give the permit up without releasing it: the caller releases it itself.
  Permit detach() noexcept {
    const Permit p = permit_;
    permit_ = Permit{};
    return p;
  }

  bool holds() const noexcept { return permit_.valid(); }
  explicit operator bool() const noexcept { return holds(); }
  Permit permit() const noexcept { return permit_; }

 private:
  Limiter* limiter_ = nullptr;
  Permit permit_{};
};

// The acquires, handing back a guard.
namespace detail {
// A permit the acquire in `s` filled goes into the guard.
template <class Limiter>
Status into_guard(Limiter& limiter, Status s, const Permit& p,
                  PermitGuard<Limiter>& guard) noexcept {
  if (s == Status::kOk) guard = PermitGuard<Limiter>(limiter, p);
  return s;
}
}  // namespace detail

// The guard forms take the same arguments after the guard: [Lane,] [on_queued].
template <class Limiter, class... Args>
Status acquire_until(Limiter& limiter, typename Limiter::deadline_type deadline,
                     PermitGuard<Limiter>& guard, Args&&... args) noexcept {
  Permit p;
  const Status s = acquire_until(limiter, deadline, p, static_cast<Args&&>(args)...);
  return detail::into_guard(limiter, s, p, guard);
}

template <class Limiter, class... Args>
Status acquire_for(Limiter& limiter, typename Limiter::tick_type timeout,
                   PermitGuard<Limiter>& guard, Args&&... args) noexcept {
  Permit p;
  const Status s = acquire_for(limiter, timeout, p, static_cast<Args&&>(args)...);
  return detail::into_guard(limiter, s, p, guard);
}

template <class Limiter, class... Args>
Status acquire(Limiter& limiter, PermitGuard<Limiter>& guard, Args&&... args) noexcept {
  Permit p;
  const Status s = acquire(limiter, p, static_cast<Args&&>(args)...);
  return detail::into_guard(limiter, s, p, guard);
}

}  // namespace slotgate
