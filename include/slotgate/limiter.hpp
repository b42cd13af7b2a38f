// slotgate::Limiter — admits callers to at most L concurrent upstream sessions.
//
// Semantics (the full contract is in README.md, "Guarantees"):
//   - try_acquire grants a slot at once or says why not; it never barges past queued waiters.
//   - enqueue takes a ticket in a FIFO wait queue (MaxWaiters records); claim turns a granted
//     ticket into a permit; cancel withdraws it, and if a grant won the race the slot is given
//     back (kGrantReturned): a cancel never loses a slot.
//   - release ends a permit. Its slot keeps counting for `cooldown` (the upstream's counter
//     lags), then frees. A permit is honoured once; every other release is reported.
//   - poll(now) is the one progress function: it ends cooldowns and overdue leases, times out
//     tickets, grants waiters in order and returns the next deadline. Waiting is a port's job.
//     On a tick narrower than 64 bits it must also run at least once per Ticks::kHeartbeat,
//     which its next deadline never exceeds (detail/heartbeat.hpp).
//   - A rejected release (a 429) starts an episode: a pause that backs off, then one half-open
//     probe (detail/episodes.hpp). With a usage source, every grant is gated on the upstream's
//     own count (detail/usage_gate.hpp); headroom holds slots back for usage the limiter
//     cannot see (detail/headroom.hpp); lags are learned from readings and rejections
//     (detail/learned_lag.hpp).
//
// This class is the facade: the rules live in parts (detail/), each owning its state and the
// memory orders on it — admission (every change of the control word: the grant token, the
// pause and episode flags), the granter (queued waiters in order), the upstream view
// (readings, learned lags, headroom, the gate's budget), slot and ticket records, episodes,
// statistics — held together in detail/parts.hpp. Each operation is written once over them,
// one file per path: grant_path (taking a slot), release_path (ending a permit, rejections),
// queue_path (enqueue, claim, cancel), progress (poll, close, deadlines, the snapshot).
//
// Progress: every call is lock-free and never waits for another thread; none allocates, throws
// or reads a clock (`now` comes from the caller, in the port's wrapping ticks). Granting queued
// waiters is done by whichever thread holds the grant token; a thread that finds it taken
// leaves a request that the holder serves before letting go, so no wake-up is lost, and a
// preempted holder delays queued grants only, never the fast path or any call's return.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <type_traits>

#include "slotgate/detail/grant_path.hpp"
#include "slotgate/detail/parts.hpp"
#include "slotgate/detail/progress.hpp"
#include "slotgate/detail/queue_path.hpp"
#include "slotgate/detail/release_path.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/lanes.hpp"
#include "slotgate/limiter_config.hpp"
#include "slotgate/port.hpp"
#include "slotgate/snapshot.hpp"
#include "slotgate/status.hpp"
#include "slotgate/ticks.hpp"
#include "slotgate/usage.hpp"

namespace slotgate {

template <class Tick>
struct PollResult {
  Status status = Status::kOk;  // kOk, or kClockWentBackwards (the work was still done)
  Deadline<Tick> next;          // when something changes next with no outside event
};

template <class Port, size_t MaxSlots, size_t MaxWaiters, size_t Lanes = 1>
class Limiter {
  static_assert(PortCheck<Port>::value, "see port.hpp");
  static_assert(MaxSlots >= 1 && MaxSlots <= 0xFFFF, "MaxSlots must be in 1..65535");
  static_assert(MaxWaiters >= 1 && MaxWaiters <= 16383, "MaxWaiters must be in 1..16383");
  static_assert(Lanes >= 1 && Lanes <= 32, "Lanes must be in 1..32");
  using Parts = detail::Parts<Port, MaxSlots, MaxWaiters, Lanes>;

 public:
  using port_type = Port;
  using tick_type = typename Port::tick_type;
  using word_type = typename Port::word_type;
  using counter_type = typename Port::counter_type;
  using atomics = typename Port::atomics;
  using config_type = Config<tick_type>;
  using outcome_type = Outcome<tick_type>;
  using deadline_type = Deadline<tick_type>;
  using snapshot_type = Snapshot<tick_type>;
  using poll_result = PollResult<tick_type>;
  using lane_config_type = LaneConfig<tick_type, Lanes>;
  using lane_snapshot_type = LaneSnapshot<tick_type>;
  static constexpr size_t kMaxSlots = MaxSlots;
  static constexpr size_t kMaxWaiters = MaxWaiters;
  static constexpr size_t kLanes = Lanes;
  // The usage gate is compiled in when the port has a usage source (see port.hpp).
  static constexpr bool kHasUsageSource = HasUsageSource<Port>::value;
  // What "interrupt-safe" and "lock-free" in the notes below rest on: every call may run in an
  // interrupt handler when the port's notify may (PortTraits), and takes no lock when the
  // atomics are lock-free and notify takes none.
  static constexpr bool kInterruptSafe = PortTraits<Port>::notify_interrupt_safe;
  static constexpr bool kLockFree = atomics::kLockFree && PortTraits<Port>::notify_lock_free;

 private:
  using CW = typename Parts::CW;
  using Tk = Ticks<tick_type>;

 public:
  // A limiter with limit MaxSlots, no cooldown, no lease limit and no default pause.
  explicit Limiter(Port& port) noexcept : s_(port) {}
  Limiter(const Limiter&) = delete;
  Limiter& operator=(const Limiter&) = delete;

  // ---- configuration ---------------------------------------------------------------------

  // Apply every setting, or none: every one is checked before any is stored (kInvalidArgument
  // if the limit is outside 1..MaxSlots or a duration is longer than half the tick range).
  // They are stored one after another, not as one: an operation running meanwhile may see
  // some new settings beside some old ones, each valid on its own; call it before sharing the
  // limiter, or accept that mix for the moment it takes.
  // Clears any headroom, like set_limit; keeps what was learned. Waiters let in by a higher
  // limit are granted by the next poll (the port is notified). Lock-free, interrupt-safe, no
  // clock.
  Status configure(const config_type& cfg) noexcept { return s_.configure(cfg); }

  // Config::recommended for this port's clock, when the port names its rate
  // (Port::kTicksPerSecond). Wait-free.
  template <class P = Port, class = decltype(P::kTicksPerSecond)>
  static constexpr config_type recommended_config(uint32_t limit) noexcept {
    return config_type::recommended(limit, P::kTicksPerSecond);
  }

  // Set L (0..MaxSlots). Raising it grants waiters at once; lowering it retires slots as they
  // free up (permits already out stay valid); 0 admits nobody until it is raised (a fleet
  // member without a share): callers queue, or time out. An operator's change
  // (LimitChange::kClearHeadroom, the default) clears any headroom and what it says; a share
  // handed down by a fleet (kKeepHeadroom) keeps it, at most L - 1. Lock-free, interrupt-safe;
  // `now` stamps the grants it makes.
  Status set_limit(uint32_t limit, tick_type now,
                   LimitChange how = LimitChange::kClearHeadroom) noexcept {
    if (limit > MaxSlots) return Status::kInvalidArgument;
    s_.apply_limit(limit, how, s_.newest(now));
    s_.kick(now);
    return Status::kOk;
  }

  // Cooldown floor for releases made from now on (0..half the tick range). Wait-free, ISR-safe.
  Status set_cooldown(tick_type cooldown) noexcept {
    if (!Tk::valid_duration(cooldown)) return Status::kInvalidArgument;
    s_.view.set_cooldown(cooldown);
    s_.wake_poller();  // a waiter's next deadline may move
    return Status::kOk;
  }

  // Lease limit (0 = none), checked by poll. Wait-free, interrupt-safe.
  Status set_max_hold(tick_type max_hold) noexcept {
    if (!Tk::valid_duration(max_hold)) return Status::kInvalidArgument;
    s_.max_hold_.store(max_hold, std::memory_order_relaxed);  // relaxed: an independent setting
    s_.wake_poller();
    return Status::kOk;
  }

  // ---- acquiring -------------------------------------------------------------------------

  // Take a slot now, or say why not: kNoSlot, kWaitersAhead (no barging), kPaused (also while
  // the half-open probe is out), kGated (also while the port holds a reading another thread is
  // judging), kClosed. Reclaims cooldowns that ended by `now` on its way. Lock-free,
  // interrupt-safe.
  Status try_acquire(tick_type now, Permit& out) noexcept {
    bool probe = false;
    const Status s = Grants::take(s_, now, false, probe, out);
    if (s == Status::kOk && probe) s_.episodes.set_probe(out, now);
    return s;
  }

  // Whether try_acquire at `now` would find a slot as things stand: no waiter queued, no pause,
  // probe or gate budget holding grants, and a slot record free (or its cooldown over). A hint
  // for a caller choosing between spinning and queuing: it changes and counts nothing, and
  // another caller may take the slot first. Wait-free, interrupt-safe.
  bool would_admit(tick_type now) const noexcept { return Grants::would_admit(s_, now); }

  // Join the wait queue, in `lane` (slotgate/lanes.hpp; 0 with one lane). kOk gives a ticket
  // (it may already be granted: claim it), else kQueueFull (every ticket record in use),
  // kClosed, or kInvalidArgument for a lane >= Lanes. A deadline in the past — or more than
  // half the tick range ahead, which reads the same — times out at the next poll.
  // Lock-free, interrupt-safe (though an interrupt handler cannot usefully wait).
  Status enqueue(tick_type now, Ticket& out, deadline_type deadline = deadline_type::none(),
                 Lane lane = Lane{}) noexcept {
    if (lane.index >= Lanes) {
      out = Ticket{};
      return Status::kInvalidArgument;
    }
    return Queue::enqueue(s_, now, out, deadline, lane.index);
  }

  // Where a ticket is. Wait-free, interrupt-safe, changes nothing.
  TicketState state(Ticket t) const noexcept { return Queue::state(s_, t); }

  // Resolve a ticket: kOk and the permit if granted; kPending while it waits (nothing changes);
  // kTimedOut / kClosed (the ticket is then resolved); kReclaimed if the grant sat unclaimed
  // past max_hold; kStaleTicket / kInvalidTicket otherwise. Lock-free, interrupt-safe.
  Status claim(Ticket t, Permit& out) noexcept { return Queue::resolve(s_, t, 0, false, out); }

  // Withdraw a ticket. kOk: it was waiting and is gone (its record is free at once).
  // kGrantReturned: a grant won the race; its slot was given back at once (no cooldown: the
  // upstream never saw it). kTimedOut / kClosed: it had already failed; now it is resolved.
  // Either way the caller holds nothing. Lock-free, interrupt-safe; `now` stamps the grants
  // this makes to the next waiters.
  Status cancel(Ticket t, tick_type now) noexcept {
    Permit unused;
    return Queue::resolve(s_, t, now, true, unused);
  }

  // ---- releasing -------------------------------------------------------------------------

  // End a permit. kOk, or — changing no count — kInvalidPermit (never issued), kStalePermit
  // (released already, or an earlier holder's), kReclaimed (it outlived max_hold). The slot
  // cools for the effective cooldown, or is free at once while a usable reading will still be
  // usable when that cooldown would end (the gate then counts the session for as long as the
  // upstream may). With Outcome::rejected*() the upstream refused the session: a rejection
  // episode starts, or the one under way takes it in (detail/episodes.hpp); the retry-after is
  // clamped to half the tick range. Releasing the half-open probe well opens the limiter.
  // Lock-free, interrupt-safe.
  Status release(Permit p, tick_type now, outcome_type outcome = outcome_type::ok()) noexcept {
    return Releases::release(s_, p, now, outcome);
  }

  // Lanes' aging and minimum shares (slotgate/lanes.hpp); kInvalidArgument, changing nothing,
  // for an age longer than half the tick range, a window over 65535 or shares that add up to
  // more than it. Applies from the granter's next pass. Lock-free, interrupt-safe, no clock.
  template <size_t N = Lanes, class = std::enable_if_t<(N > 1)>>
  Status configure_lanes(const lane_config_type& cfg) noexcept {
    if (!Parts::LaneBook::valid(cfg)) return Status::kInvalidArgument;
    s_.lane_book.configure(cfg);
    s_.kick(s_.last_polled());
    return Status::kOk;
  }

  // ---- time and control ------------------------------------------------------------------

  // The progress function: ends cooldowns and overdue leases, times out tickets, takes in the
  // port's latest usage reading, steps headroom, grants queued waiters in order, and returns
  // the next deadline (strictly after `now`, or none). Safe to call from any number of
  // threads and interrupt handlers at once, as often as wanted. Lock-free. Clock: on a tick
  // narrower than 64 bits, call it at least every Ticks<tick_type>::kHeartbeat (a sixteenth
  // of the range; the next deadline is never later), waiters or not: each such poll keeps the
  // times the limiter stored from getting half the range old, when they would read as the
  // future (cooled slots, a pause, an old reading coming back for as long again).
  poll_result poll(tick_type now) noexcept {
    poll_result r;
    r.status = Progress::poll(s_, now);
    r.next = next_deadline(now);
    return r;
  }

  // No grants until `until` (an existing later pause is kept). A time not after `now` — or
  // more than half the tick range ahead, which reads the same — pauses nothing. Lock-free,
  // interrupt-safe.
  Status pause_until(tick_type until, tick_type now) noexcept {
    if (!Tk::before(now, until)) return Status::kOk;
    s_.adm.pause_until(until, now);
    s_.wake_poller();  // waiters' next deadline may move
    return Status::kOk;
  }

  // No grants for `duration` from `now` (an existing later pause is kept). kInvalidArgument
  // for a duration longer than half the tick range. Lock-free, interrupt-safe.
  Status pause_for(tick_type duration, tick_type now) noexcept {
    if (!Tk::valid_duration(duration)) return Status::kInvalidArgument;
    return pause_until(tick_type(now + duration), now);
  }

  // End a pause early, and any rejection episode with it (no half-open probe: the caller
  // knows better). Waiters are granted by the next poll (the port is notified). Lock-free.
  void resume() noexcept {
    if (CW::half_open(s_.adm.resume())) s_.episodes.opened(s_.last_polled());
    s_.wake_poller();
  }

  // Fail every waiter with kClosed and refuse every later try_acquire / enqueue. Permits out
  // stay valid and are released as usual; tickets granted before the close can still be
  // claimed. Idempotent. Lock-free, interrupt-safe.
  void close() noexcept { Progress::close(s_); }

  // ---- observing -------------------------------------------------------------------------

  // A consistent-enough snapshot (see snapshot.hpp). Wait-free, interrupt-safe, no clock.
  snapshot_type snapshot() const noexcept {
    snapshot_type s;
    Progress::fill(s_, s);
    return s;
  }

  // One lane's figures at `now` (its longest wait is measured to it); kInvalidArgument for a
  // lane >= Lanes. Wait-free, interrupt-safe, no clock.
  template <size_t N = Lanes, class = std::enable_if_t<(N > 1)>>
  Status lane_snapshot(Lane lane, tick_type now, lane_snapshot_type& out) const noexcept {
    out = lane_snapshot_type{};
    if (lane.index >= Lanes) return Status::kInvalidArgument;
    Progress::fill_lane(s_, lane.index, now, out);
    return Status::kOk;
  }

  // The earliest time something changes with no outside event: a cooldown ends, a lease
  // expires, a ticket times out, a pause ends, a reading ages out of a closed gate, a repoll
  // is due, headroom may step down — whichever comes first strictly after `now`; on a tick
  // narrower than 64 bits, never later than now + Ticks::kHeartbeat. Wait-free.
  deadline_type next_deadline(tick_type now) const noexcept {
    return Progress::next_deadline(s_, now);
  }

  Port& port() noexcept { return s_.port; }

 private:
  using Grants = detail::GrantPath<Parts>;
  using Releases = detail::ReleasePath<Parts>;
  using Queue = detail::QueuePath<Parts>;
  using Progress = detail::Progress<Parts>;

  Parts s_;
};

}  // namespace slotgate
