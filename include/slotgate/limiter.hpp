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
//   - A rejected release (a 429) starts an episode: a pause that backs off, then one half-open
//     probe (detail/episodes.hpp). With a usage source, every grant is gated on the upstream's
//     own count (detail/usage_gate.hpp); headroom holds slots back for usage the limiter
//     cannot see (detail/headroom.hpp); lags are learned from readings and rejections
//     (detail/learned_lag.hpp).
//
// Progress: every call is lock-free and never waits for another thread; none allocates, throws
// or reads a clock (`now` comes from the caller, in the port's wrapping ticks). Granting queued
// waiters is done by whichever thread holds the grant token; a thread that finds it taken
// leaves a request that the holder serves before letting go, so no wake-up is lost, and a
// preempted holder delays queued grants only, never the fast path or any call's return.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/config.hpp"
#include "slotgate/detail/control_word.hpp"
#include "slotgate/detail/episodes.hpp"
#include "slotgate/detail/headroom.hpp"
#include "slotgate/detail/learned_lag.hpp"
#include "slotgate/detail/pause.hpp"
#include "slotgate/detail/slot_table.hpp"
#include "slotgate/detail/statistics.hpp"
#include "slotgate/detail/ticket_table.hpp"
#include "slotgate/detail/usage_gate.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/limiter_config.hpp"
#include "slotgate/port.hpp"
#include "slotgate/ring.hpp"
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

namespace detail {
// The wait queue's ring: a power of two above twice the ticket records, so up to MaxWaiters
// entries of cancelled tickets can wait behind a blocked front while every record is in use
// again, and a push never meets the one cell its single consumer may be emptying.
constexpr size_t queue_capacity(size_t waiters) noexcept {
  size_t c = 2;
  while (c <= 2 * waiters) c <<= 1;
  return c;
}
}  // namespace detail

template <class Port, size_t MaxSlots, size_t MaxWaiters>
class Limiter {
  static_assert(PortCheck<Port>::value, "see port.hpp");
  static_assert(MaxSlots >= 1 && MaxSlots <= 0xFFFF, "MaxSlots must be in 1..65535");
  static_assert(MaxWaiters >= 1 && MaxWaiters <= 16383, "MaxWaiters must be in 1..16383");
  static constexpr size_t kQueueCapacity = detail::queue_capacity(MaxWaiters);
  static_assert(kQueueCapacity <= 65536, "queue entries carry a 16-bit generation tag");

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
  static constexpr size_t kMaxSlots = MaxSlots;
  static constexpr size_t kMaxWaiters = MaxWaiters;
  // The usage gate is compiled in when the port has a usage source (see port.hpp).
  static constexpr bool kHasUsageSource = HasUsageSource<Port>::value;
  // What "interrupt-safe" and "lock-free" in the notes below rest on: every call may run in an
  // interrupt handler when the port's notify may (PortTraits), and takes no lock when the
  // atomics are lock-free and notify takes none.
  static constexpr bool kInterruptSafe = PortTraits<Port>::notify_interrupt_safe;
  static constexpr bool kLockFree = atomics::kLockFree && PortTraits<Port>::notify_lock_free;

 private:
  template <class T>
  using atomic = typename atomics::template atomic<T>;
  using CW = detail::ControlWord<word_type, MaxSlots, kQueueCapacity>;
  using Tk = Ticks<tick_type>;
  using Phase = detail::TicketPhase;
  using Gate = detail::UsageGate<atomics, tick_type, counter_type>;
  using Headroom = detail::Headroom<atomics, tick_type, counter_type>;
  using Lag = detail::LearnedLag<atomics, tick_type, counter_type>;
  using Episodes = detail::RejectionEpisodes<atomics, tick_type, counter_type>;
  using Slots = detail::SlotTable<atomics, tick_type, counter_type, MaxSlots>;
  using Stats = detail::Statistics<atomics, counter_type>;
  using Pause = detail::Pause<atomics, word_type, tick_type, CW>;
  using Event = detail::Event;
  static_assert(atomics::template always_lock_free<word_type> || !atomics::kLockFree,
                "the control word must be lock-free on this target");
  static_assert(atomics::template always_lock_free<tick_type> || !atomics::kLockFree,
                "the tick type must be lock-free on this target");
  static_assert(atomics::template always_lock_free<uint32_t> || !atomics::kLockFree,
                "32-bit atomics must be lock-free on this target");

 public:
  // A limiter with limit MaxSlots, no cooldown, no lease limit and no default pause.
  explicit Limiter(Port& port) noexcept : port_(port) {
    ctl_.store(CW::initial(MaxSlots), std::memory_order_relaxed);
    limit_.store(MaxSlots, std::memory_order_relaxed);
    cooldown_.store(0, std::memory_order_relaxed);
    max_hold_.store(0, std::memory_order_relaxed);
    last_poll_.store(0, std::memory_order_relaxed);
    polled_.store(false, std::memory_order_relaxed);
    front_.store(kNoFront, std::memory_order_relaxed);
  }
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
  Status configure(const config_type& cfg) noexcept {
    if (cfg.limit < 1 || cfg.limit > MaxSlots || !Tk::valid_duration(cfg.cooldown) ||
        !Tk::valid_duration(cfg.max_hold) || !Episodes::valid(cfg.default_pause, cfg.max_pause) ||
        !Gate::valid(cfg.gate) || !Headroom::valid(cfg.headroom) || !Lag::valid(cfg.learn))
      return Status::kInvalidArgument;
    // relaxed x2: settings are independent values read afresh by each operation.
    cooldown_.store(cfg.cooldown, std::memory_order_relaxed);
    max_hold_.store(cfg.max_hold, std::memory_order_relaxed);
    episodes_.configure(cfg.default_pause, cfg.max_pause);
    gate_.configure(cfg.gate);
    headroom_.configure(cfg.headroom);
    lag_.configure(cfg.learn);
    apply_limit(cfg.limit, LimitChange::kClearHeadroom);
    wake_poller();
    return Status::kOk;
  }

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
    apply_limit(limit, how);
    kick(now);
    return Status::kOk;
  }

  // Cooldown floor for releases made from now on (0..half the tick range). Wait-free, ISR-safe.
  Status set_cooldown(tick_type cooldown) noexcept {
    if (!Tk::valid_duration(cooldown)) return Status::kInvalidArgument;
    cooldown_.store(cooldown, std::memory_order_relaxed);  // relaxed: an independent setting
    wake_poller();                                         // a waiter's next deadline may move
    return Status::kOk;
  }

  // Lease limit (0 = none), checked by poll. Wait-free, interrupt-safe.
  Status set_max_hold(tick_type max_hold) noexcept {
    if (!Tk::valid_duration(max_hold)) return Status::kInvalidArgument;
    max_hold_.store(max_hold, std::memory_order_relaxed);  // relaxed: an independent setting
    wake_poller();
    return Status::kOk;
  }

  // ---- acquiring -------------------------------------------------------------------------

  // Take a slot now, or say why not: kNoSlot, kWaitersAhead (no barging), kPaused (also while
  // the half-open probe is out), kGated (also while the port holds a reading another thread is
  // judging), kClosed. Reclaims cooldowns that ended by `now` on its way. Lock-free,
  // interrupt-safe.
  Status try_acquire(tick_type now, Permit& out) noexcept {
    out = Permit{};
    bool probe = false;
    const Status s = take_slot(now, false, probe);
    if (s == Status::kOk) {
      out = slots_.claim(now, false);
      if (probe) episodes_.set_probe(out, now);
    }
    return s;
  }

  // Join the wait queue. kOk gives a ticket (it may already be granted: claim it), else
  // kQueueFull (every ticket record in use) or kClosed. A deadline in the past — or more than
  // half the tick range ahead, which reads the same — times out at the next poll.
  // Lock-free, interrupt-safe (though an interrupt handler cannot usefully wait).
  Status enqueue(tick_type now, Ticket& out,
                 deadline_type deadline = deadline_type::none()) noexcept {
    out = Ticket{};
    // relaxed: a cheap early refusal that reads nothing after it; the announcement CAS below
    // is the check that counts (close() publishes no data with the flag).
    if (CW::closed(ctl_.load(std::memory_order_relaxed))) return Status::kClosed;
    Ticket t;
    if (!tickets_.allocate(deadline, t)) {
      stats_.count(Event::kQueueFull);
      return Status::kQueueFull;
    }
    // Announce first: from here on try_acquire will not barge, and the granter may look for us.
    // relaxed: the announcement publishes nothing; the push and the kick below do.
    word_type c = ctl_.load(std::memory_order_relaxed);
    do {
      if (CW::closed(c)) {
        tickets_.abandon(t.index);
        return Status::kClosed;
      }
    } while (!ctl_.compare_exchange_weak(c, c + CW::kQueuedOne, std::memory_order_relaxed,
                                         std::memory_order_relaxed));
    // Queue the record while it is still Preparing: a granter that pops it early treats it as
    // not yet arrived and stops; our kick below starts it again. The push fails only when the
    // ring is full of entries of cancelled tickets behind a blocked front; we then undo the
    // announcement and say so rather than lose the ticket.
    if (!fifo_.try_push(detail::QueueEntry::make(t.index, t.generation))) {
      ctl_.fetch_sub(CW::kQueuedOne, std::memory_order_relaxed);  // relaxed: undoes ours
      tickets_.abandon(t.index);
      stats_.count(Event::kQueueFull);
      return Status::kQueueFull;
    }
    tickets_.publish(t.index);
    if (CW::closed(kick(now))) {
      // close() may have scanned before we published: fail the ticket ourselves.
      if (tickets_.close(t.index)) {
        stats_.count(Event::kClosedWaiters);
        kick(now);
      }
    }
    out = t;
    return Status::kOk;
  }

  // Where a ticket is. Wait-free, interrupt-safe, changes nothing.
  TicketState state(Ticket t) const noexcept {
    uint32_t w = 0;
    if (tickets_.check(t, w) != Status::kOk) return TicketState::kInvalid;
    switch (detail::TicketWord::phase(w)) {
      case Phase::kPreparing:
      case Phase::kWaiting:
        return TicketState::kWaiting;
      case Phase::kGranted:
        return TicketState::kGranted;
      case Phase::kTimedOut:
        return TicketState::kTimedOut;
      case Phase::kClosed:
        return TicketState::kClosed;
      default:
        return TicketState::kInvalid;
    }
  }

  // Resolve a ticket: kOk and the permit if granted; kPending while it waits (nothing changes);
  // kTimedOut / kClosed (the ticket is then resolved); kReclaimed if the grant sat unclaimed
  // past max_hold; kStaleTicket / kInvalidTicket otherwise. Lock-free, interrupt-safe.
  Status claim(Ticket t, Permit& out) noexcept { return resolve(t, 0, false, out); }

  // Withdraw a ticket. kOk: it was waiting and is gone (its record is free at once).
  // kGrantReturned: a grant won the race; its slot was given back at once (no cooldown: the
  // upstream never saw it). kTimedOut / kClosed: it had already failed; now it is resolved.
  // Either way the caller holds nothing. Lock-free, interrupt-safe; `now` stamps the grants
  // this makes to the next waiters.
  Status cancel(Ticket t, tick_type now) noexcept {
    Permit unused;
    return resolve(t, now, true, unused);
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
    if (!p.valid() || p.slot >= MaxSlots) {
      stats_.count(Event::kBadReleases);
      return Status::kInvalidPermit;
    }
    Status why = Status::kOk;
    const tick_type cooldown = effective_cooldown();
    tick_type cooling = cooldown;
    if constexpr (kHasUsageSource)
      if (gate_.usable_until(now, tick_type(now + cooldown))) cooling = 0;
    // We hold p's only honoured release, so if p is the probe, nobody else ends it.
    const bool probe = episodes_.is_probe(p);
    tick_type granted = 0;
    const detail::SlotRelease r =
        slots_.release(p, now, cooling, counted_for(cooldown), why, &granted);
    if (r == detail::SlotRelease::kRejected) {
      stats_.count(Event::kBadReleases);
      return why;
    }
    // A rejection first, so that no grant made for the freed slot slips in before the pause;
    // a probe that ended well opens only once its slot is free, so the budget judged then
    // counts it as ended, not as a grant in flight.
    const bool rejected = outcome.kind == outcome_type::Kind::kRejected;
    if (rejected) on_upstream_rejection(now, outcome, probe, granted);
    if constexpr (kHasUsageSource) request_refresh_if_held(now, true);
    if (r == detail::SlotRelease::kFreed) {
      lower_occupancy(1, now);
    } else if (CW::queued(ctl_.load(std::memory_order_relaxed)) != 0) {
      // relaxed: a hint. Waiters must learn the new, possibly earlier, deadline.
      wake_poller();
    }
    if (!rejected && probe) end_probe(now);
    return Status::kOk;
  }

  // ---- time and control ------------------------------------------------------------------

  // The progress function: ends cooldowns and overdue leases, times out tickets, takes in the
  // port's latest usage reading, steps headroom, grants queued waiters in order, and returns
  // the next deadline (strictly after `now`, or none). Safe to call from any number of
  // threads and interrupt handlers at once, as often as wanted. Lock-free.
  poll_result poll(tick_type now) noexcept {
    poll_result r;
    r.status = note_poll_time(now);
    // relaxed: pause_.clear_if_over makes its own acquire look before it reads the end.
    const word_type c = ctl_.load(std::memory_order_relaxed);
    if (CW::paused(c)) pause_.clear_if_over(ctl_, c, now);

    uint32_t freed = slots_.reclaim_cooled(now, covered(now));
    uint32_t lease_freed = 0;
    bool probe_reclaimed = false;
    const tick_type cooldown = effective_cooldown();
    // relaxed: an independent setting.
    const uint32_t reclaimed = slots_.reclaim_leases(now, max_hold_.load(std::memory_order_relaxed),
                                                     cooldown, counted_for(cooldown), lease_freed,
                                                     episodes_.probe(), probe_reclaimed);
    freed += lease_freed;
    if (reclaimed != 0) stats_.count(Event::kReclaimed, reclaimed);
    if (probe_reclaimed) probe_lost();

    uint32_t expired = 0;
    for (uint32_t i = 0; i < MaxWaiters; ++i) {
      if (!tickets_.expire(i, now)) continue;
      ++expired;
      wake_waiter(i);
    }
    if (expired != 0) stats_.count(Event::kTimedOut, expired);

    // Run the granter once: lowering occ runs (or requests) it when anyone is queued; else kick
    // it, to take in readings and adjust headroom.
    if (freed == 0 || !lower_occupancy(freed, now)) kick(now);
    if (reclaimed != 0) wake_poller();  // the lease's holder may wait on other deadlines
    r.next = next_deadline(now);
    return r;
  }

  // No grants until `until` (an existing later pause is kept). A time not after `now` — or
  // more than half the tick range ahead, which reads the same — pauses nothing. Lock-free,
  // interrupt-safe.
  Status pause_until(tick_type until, tick_type now) noexcept {
    if (!Tk::before(now, until)) return Status::kOk;
    pause_.extend(ctl_, until, now);
    wake_poller();  // waiters' next deadline may move
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
    constexpr word_type kEpisode = CW::kPaused | CW::kHalfOpen | CW::kProbeOut;
    // relaxed: re-checked by the CAS.
    word_type c = ctl_.load(std::memory_order_relaxed);
    // relaxed: clearing the flags publishes nothing; a reader that sees the pause flag clear
    // reads no pause data (the pause's end is read only under a set flag).
    while ((c & kEpisode) != 0 &&
           !ctl_.compare_exchange_weak(c, c & ~kEpisode, std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {
    }
    if (CW::half_open(c)) episodes_.opened(newest(0));
    wake_poller();
  }

  // Fail every waiter with kClosed and refuse every later try_acquire / enqueue. Permits out
  // stay valid and are released as usual; tickets granted before the close can still be
  // claimed. Idempotent. Lock-free, interrupt-safe.
  void close() noexcept {
    // acquire: pairs with each enqueue's kick (acq_rel), so every ticket published before
    // this sees its Waiting phase in the scan below; an enqueue kicking after us sees the
    // flag and fails its ticket itself. No release: nothing is written before the flag, and
    // readers of the flag read nothing else.
    word_type c = ctl_.load(std::memory_order_relaxed);
    while (!ctl_.compare_exchange_weak(c, c | CW::kClosed, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < MaxWaiters; ++i) {
      if (!tickets_.close(i)) continue;
      ++n;
      wake_waiter(i);
    }
    if (n != 0) stats_.count(Event::kClosedWaiters, n);
    kick(0);  // drop the failed tickets from the queue; no grant is made once closed
    wake_poller();
  }

  // ---- observing -------------------------------------------------------------------------

  // A consistent-enough snapshot (see snapshot.hpp). Wait-free, interrupt-safe, no clock.
  snapshot_type snapshot() const noexcept {
    snapshot_type s;
    // relaxed: a snapshot promises each field on its own (snapshot.hpp), not agreement
    // between the word and the census, so nothing read below needs ordering after this.
    const word_type c = ctl_.load(std::memory_order_relaxed);
    const auto census = slots_.census();
    // relaxed throughout: a statistic.
    s.limit = limit_.load(std::memory_order_relaxed);
    headroom_.fill(s, s.limit);
    gate_.fill(s);
    episodes_.fill(s);
    lag_.fill(s, cooldown_.load(std::memory_order_relaxed), gate_.visibility_floor());
    s.half_open = CW::half_open(c);
    s.probe_out = CW::probe_out(c);
    s.gate_open = CW::gate_open(c);
    s.gate_budget = s.gate_open ? 0u : static_cast<uint32_t>(CW::credit(c));
    s.effective_limit = static_cast<uint32_t>(CW::lim(c));
    s.held = census.held;
    s.cooling = census.cooling;
    s.queued = static_cast<uint32_t>(CW::queued(c));
    s.tickets_outstanding = tickets_.outstanding();
    s.closed = CW::closed(c);
    s.paused = CW::paused(c);
    s.paused_until = pause_.end();
    s.cooldown = cooldown_.load(std::memory_order_relaxed);
    s.max_hold = max_hold_.load(std::memory_order_relaxed);
    stats_.fill(s.counters, census);
    return s;
  }

  // The earliest time something changes with no outside event: a cooldown ends, a lease
  // expires, a ticket times out, a pause ends, a reading ages out of a closed gate, a repoll
  // is due, headroom may step down — whichever comes first strictly after `now`. Wait-free.
  deadline_type next_deadline(tick_type now) const noexcept {
    // relaxed: an independent setting.
    deadline_type d = slots_.next_deadline(max_hold_.load(std::memory_order_relaxed), now);
    d.merge(tickets_.next_deadline(now));
    // acquire: pairs with the pause's flag CAS (detail/pause.hpp), so its end belongs to it.
    const word_type c = ctl_.load(std::memory_order_acquire);
    if (CW::paused(c)) d.merge_after(pause_.end(), now);
    const bool gate_closed = !CW::gate_open(c) && CW::credit(c) == 0;
    const bool waiters = CW::queued(c) != 0;
    d.merge(gate_.next_deadline(now, waiters, gate_closed || headroom_.foreign() != 0));
    if constexpr (kHasUsageSource)
      if (waiters && gate_closed && gate_.usable(now)) d.merge(next_news(now));
    d.merge(headroom_.next_deadline(now, waiters || CW::occ(c) >= CW::lim(c), usable(now)));
    return d;
  }

  Port& port() noexcept { return port_; }

 private:
  static constexpr uint32_t kNoFront = 0xFFFFFFFFu;

  struct Admit {
    Status status;
    bool retry;
  };

  // Tickets granted by one run of the granter, woken after it lets the token go. A late
  // wake-up is harmless: an owner that already claimed, or a later ticket of the same record,
  // looks at its ticket again and sleeps on.
  struct WakeList {
    static constexpr uint32_t kCapacity = 8;
    uint32_t idx[kCapacity];
    uint32_t n = 0;
    bool add(uint32_t i) noexcept {
      if (n == kCapacity) return false;
      idx[n++] = i;
      return true;
    }
  };

  // The ticket at `idx` was granted, timed out or closed: its owner must look at it.
  void wake_waiter(uint32_t idx) noexcept {
    stats_.count(Event::kWakeups);
    if constexpr (PortTraits<Port>::targeted_wakeups)
      port_.notify_waiter(idx);
    else
      port_.notify();
  }
  // Something a poll should see changed: a waiter must poll again.
  void wake_poller() noexcept {
    stats_.count(Event::kPollWakeups);
    port_.notify();
  }

  // May a grant be made on control word c at `now`? For the fast path (from_queue false) queued
  // waiters also refuse. `retry` asks the caller to reload the word (something was reclaimed).
  __attribute__((always_inline)) Admit admit(word_type c, tick_type now, bool from_queue) noexcept {
    if (CW::closed(c)) return {Status::kClosed, false};
    if (!from_queue && CW::queued(c) != 0) {
      stats_.count(Event::kWaitersAhead);
      return {Status::kWaitersAhead, false};
    }
    if (CW::paused(c)) {
      if (pause_.clear_if_over(ctl_, c, now)) return {Status::kOk, true};
      stats_.count(Event::kHeldBackPause);
      return {Status::kPaused, false};
    }
    if (CW::half_open(c) && CW::probe_out(c)) {  // one probe at a time
      stats_.count(Event::kHeldBackProbe);
      return {Status::kPaused, false};
    }
    if (CW::occ(c) >= CW::lim(c)) {
      const uint32_t freed = slots_.reclaim_cooled(now, covered(now));
      if (freed != 0) {
        if (from_queue)
          // release: the token holder frees the records it reclaimed before it lowers occ.
          ctl_.fetch_sub(freed * CW::kOccOne, std::memory_order_release);
        else
          lower_occupancy(freed, now);
        return {Status::kOk, true};
      }
      const auto census = slots_.census();
      if (census.cooling != 0)
        stats_.count(Event::kHeldBackCooldown);
      else if (CW::occ(c) < limit_.load(std::memory_order_relaxed))  // relaxed: attribution only
        stats_.count(Event::kHeldBackHeadroom);
      else if (!from_queue)
        stats_.count(Event::kNoSlot);
      return {Status::kNoSlot, false};
    }
    if (CW::credit(c) == 0) {
      stats_.count(Event::kHeldBackGate);
      return {Status::kGated, false};
    }
    return {Status::kOk, false};
  }

  // A rejection: it starts an episode if the limiter was open, or if it is the half-open
  // probe's; otherwise it belongs to the episode under way, whose pause only a longer
  // Retry-After extends. Starting one is a CAS that sets half-open with the probe marked out,
  // which holds every grant at once; then the pause is written, then the probe mark cleared, so
  // one probe goes when the pause ends.
  void on_upstream_rejection(tick_type now, outcome_type outcome, bool probe,
                             tick_type granted) noexcept {
    stats_.count(Event::kRejectedByUpstream);
    tick_type retry = outcome.retry_after;
    if (!Tk::valid_duration(retry)) retry = Tk::kMaxDuration;
    word_type c = ctl_.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    for (;;) {
      const bool ends_probe = probe && CW::half_open(c) && CW::probe_out(c);
      if (CW::half_open(c) && !ends_probe) {  // part of the episode under way
        if (outcome.has_retry_after && retry != 0) pause_.extend(ctl_, tick_type(now + retry), now);
        wake_poller();
        return;
      }
      // acq_rel: release orders our slot release before grants resume; acquire pairs with the
      // CAS that ended the last episode (end_probe). Not shown by the model suite (weakening
      // either half is not caught), and the acquire does less than it seems: end_probe calls
      // episodes_.opened() after its CAS, so that bookkeeping is not published by it (it is
      // relaxed atomics; a stale read costs one backoff step, not a race). Open work.
      if (ctl_.compare_exchange_weak(c, c | CW::kHalfOpen | CW::kProbeOut,
                                     std::memory_order_acq_rel, std::memory_order_relaxed))
        break;
    }
    const bool was_open = !CW::half_open(c);
    const tick_type d = episodes_.settle(episodes_.begin(now), outcome.has_retry_after, retry);
    if (d != 0) pause_.extend(ctl_, tick_type(now + d), now);
    clear_flags(CW::kProbeOut);  // the pause now holds grants; its end lets one probe go
    if (headroom_.step_up_for_rejection(now, limit_.load(std::memory_order_relaxed)))
      sync_effective_limit(now);
    if (was_open) lag_.note_rejection(now, granted);
    wake_poller();
  }

  // The half-open probe ended well: open to the full effective limit.
  void end_probe(tick_type now) noexcept {
    if (!clear_flags_if_probe_out(CW::kHalfOpen | CW::kProbeOut)) return;
    episodes_.opened(now);
    kick(now);
    wake_poller();
  }

  // The probe never reached the upstream (its grant was returned, its lease reclaimed): let
  // another go.
  void probe_lost() noexcept {
    if (clear_flags_if_probe_out(CW::kProbeOut)) wake_poller();
  }

  // Clear `flags` while half-open with the probe out; true if this call did.
  bool clear_flags_if_probe_out(word_type flags) noexcept {
    word_type c = ctl_.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    while (CW::half_open(c) && CW::probe_out(c)) {
      // acq_rel: release publishes the episode's end (episodes_.opened after us is ordered by
      // our own program order for our own reads; a new episode's CAS acquires this). Not shown
      // by the model suite either (see on_upstream_rejection). Open work.
      if (ctl_.compare_exchange_weak(c, c & ~flags, std::memory_order_acq_rel,
                                     std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  void clear_flags(word_type flags) noexcept {
    word_type c = ctl_.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    // relaxed: clearing the probe mark publishes nothing; the pause flag already holds grants.
    while ((c & flags) != 0 && !ctl_.compare_exchange_weak(c, c & ~flags, std::memory_order_relaxed,
                                                           std::memory_order_relaxed)) {
    }
  }

  void apply_limit(uint32_t limit, LimitChange how) noexcept {
    // relaxed: sync_effective_limit publishes the effective limit that grants act on.
    limit_.store(limit, std::memory_order_relaxed);
    if (how == LimitChange::kClearHeadroom) headroom_.clear();
    sync_effective_limit(newest(0));
  }

  // The cooldown releases get: the floor or the learned release lag, whichever is longer.
  tick_type effective_cooldown() const noexcept {
    // relaxed: an independent setting; a concurrent change applies to this release or not.
    return lag_.release(cooldown_.load(std::memory_order_relaxed));
  }
  // How long the gate counts a session after its release, unless a reading dated after the
  // release covers it: the cooldown plus the tail, or, until the release lag is established
  // by evidence, the longest lag the limiter would believe. Nothing while the gate is off
  // (only the gate reads it).
  tick_type counted_for(tick_type cooldown) const noexcept {
    if (!kHasUsageSource || !gate_.enabled()) return 0;
    const tick_type t = gate_.tail();
    tick_type d =
        Tk::valid_duration(tick_type(cooldown + t)) ? tick_type(cooldown + t) : Tk::kMaxDuration;
    if (!lag_.release_established() && d < lag_.max_lag()) d = lag_.max_lag();
    return d;
  }
  bool usable(tick_type now) const noexcept {
    if constexpr (kHasUsageSource) return gate_.usable(now);
    return false;
  }
  // Cooling slots a usable reading accounts for: those whose cooldown ends while it is usable.
  deadline_type covered(tick_type now) const noexcept {
    if constexpr (kHasUsageSource)
      if (gate_.usable(now)) return deadline_type::at_tick(gate_.usable_through());
    return deadline_type::none();
  }

  // Make the control word's limit L minus the slots held back now. Lock-free: it repeats only
  // while other threads change L, H or the word meanwhile.
  void sync_effective_limit(tick_type now) noexcept {
    const bool fresh = usable(now);
    for (;;) {
      // relaxed x2: the limit field carries no data; the loop re-reads until it settles.
      const uint32_t limit = limit_.load(std::memory_order_relaxed);
      const word_type target = limit - headroom_.held_back(fresh, limit);
      word_type c = ctl_.load(std::memory_order_relaxed);
      if (CW::lim(c) == target) return;
      word_type next = CW::with_lim(c, target);
      // A lower limit may leave the gate's budget too large (it was computed against the old
      // one): spend it all, so the next grant has the granter judge the reading again.
      if (target < CW::lim(c) && !CW::gate_open(c)) next = CW::with_credit(next, 0);
      ctl_.compare_exchange_weak(c, next, std::memory_order_relaxed, std::memory_order_relaxed);
    }
  }

  // The granter's look at the upstream: take in the latest reading and what it tells of lags
  // and foreign usage, take in a noted rejection, step headroom down where it has recovered,
  // free cooling slots a usable reading accounts for, and recompute the gate budget. Token
  // holder only.
  void govern(tick_type now) noexcept {
    const uint32_t limit = limit_.load(std::memory_order_relaxed);  // relaxed: a setting
    uint32_t version = 0;
    UsageReading<tick_type> r;
    bool has = false;
    if constexpr (kHasUsageSource) {
      // The version first: a reading written after it is judged again at the next look.
      if constexpr (HasUsageVersion<Port>::value) version = port_.usage_version();
      has = port_.read_usage(r);
      if (gate_.take(has, r, now) == Gate::Take::kInstalled && gate_.usable(now))
        learn_from_reading(now, limit);
      // A rejection is lag evidence only without a usable reading (with one, the gate would
      // have seen the lag: another client is the likelier cause) and no foreign usage in sight.
      tick_type rejected_at = 0, refused_granted = 0;
      if (lag_.take_rejection(rejected_at, refused_granted) && !gate_.usable(now) &&
          headroom_.foreign() == 0 && headroom_.beyond() == 0) {
        const tick_type before = tick_type(rejected_at - 1);
        lag_.from_rejection(slots_.evidence(before, before, tick_type(before - lag_.max_lag())),
                            limit, before, refused_granted, headroom_.confirm(), now);
      }
      lag_.refresh(now);
    }
    // relaxed: demand is a heuristic for recovery.
    const word_type c = ctl_.load(std::memory_order_relaxed);
    headroom_.maybe_recover(now, CW::queued(c) != 0 || CW::occ(c) >= CW::lim(c), usable(now));
    sync_effective_limit(now);  // a reading, its age or a recovery may have moved H
    if constexpr (kHasUsageSource) {
      const uint32_t freed = slots_.reclaim_cooled(now, covered(now));
      // release: the token holder frees the records before it lowers occ (as in admit).
      if (freed != 0) ctl_.fetch_sub(freed * CW::kOccOne, std::memory_order_release);
      update_credit(now);
      gate_.publish_judged(version, has, r);
      request_refresh_if_held(now, false);
    }
  }

  // A usable reading was installed: compare it with our sessions when it was true (between its
  // date and when it was asked for). Sessions beyond ours (and beyond our releases the
  // upstream may still count, by the effective cooldown) are foreign; ours it does not count
  // yet, and a release of ours followed until it leaves the count, are lag evidence.
  void learn_from_reading(tick_type now, uint32_t limit) noexcept {
    const tick_type at = gate_.sampled_at();
    const uint32_t sessions = gate_.sessions();
    const auto ev = slots_.evidence(at, gate_.asked_at(), tick_type(at - lag_.max_lag()));
    const tick_type lag = effective_cooldown();
    uint32_t lagging = 0;  // our releases the upstream may still count
    for (uint32_t i = 0; i < ev.releases.n; ++i)
      lagging += Tk::before(tick_type(at - lag), ev.releases.v[i]) ? 1u : 0u;
    const uint32_t ours = ev.live_max + lagging;
    headroom_.observe(sessions > ours ? sessions - ours : 0, now, limit);
    gate_.set_missing(lag_.from_reading(ev, sessions, at, headroom_.confirm(), now));
    // Half-open, probe out: a reading that has had time to count the probe (by the lag this
    // reading itself may just have shown to be longer) and is still below the cap says the
    // upstream took it.
    const word_type c = ctl_.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    const tick_type counted_from =
        tick_type(episodes_.probe_granted_at() + lag_.visibility(gate_.visibility_floor()));
    if (CW::half_open(c) && CW::probe_out(c) && !CW::paused(c) &&
        sessions < headroom_.gate_limit(limit) && !Tk::before(at, counted_from) &&
        clear_flags_if_probe_out(CW::kHalfOpen | CW::kProbeOut))
      episodes_.opened(now);
  }

  // Set the gate budget from the installed reading (open without a usable one).
  void update_credit(tick_type now) noexcept {
    const uint32_t limit = limit_.load(std::memory_order_relaxed);  // relaxed: a setting
    const tick_type at = gate_.sampled_at();
    const tick_type since = tick_type(at - lag_.visibility(gate_.visibility_floor()));
    for (;;) {
      // acquire: pairs with release RMWs on the word, so the census below is at least as new
      // (a record freed before occ was lowered is not seen in its old session).
      word_type c = ctl_.load(std::memory_order_acquire);
      word_type target = CW::kCreditOpen;
      if (gate_.usable(now)) {
        const uint32_t gate_limit = headroom_.gate_limit(limit);
        const uint32_t b = gate_.budget(gate_limit, static_cast<uint32_t>(CW::occ(c)),
                                        slots_.gate_census(since, at, at, now),
                                        headroom_.reserve(now, gate_limit));
        target = b > MaxSlots ? word_type(MaxSlots) : word_type(b);
      }
      if (CW::credit(c) == target) return;
      // A grant or release between our census and here changes the word and fails the CAS,
      // so the budget is never set from a census that missed a grant; we then look again.
      // relaxed: the credit is read only from the word, and on success we read nothing after.
      if (ctl_.compare_exchange_weak(c, CW::with_credit(c, target), std::memory_order_relaxed,
                                     std::memory_order_relaxed))
        return;
    }
  }

  // True if the port holds a reading the granter has not judged yet.
  bool reading_pending() noexcept {
    if constexpr (HasUsageVersion<Port>::value) {
      return gate_.pending(port_.usage_version());
    } else {
      UsageReading<tick_type> r;
      const bool has = port_.read_usage(r);
      return gate_.pending(has, r);
    }
  }

  // Ask the port for a fresh reading if waiters are held for want of one: by the gate, or by a
  // half-open probe a reading may show the upstream took.
  void request_refresh_if_held(tick_type now, bool after_release) noexcept {
    const word_type c = ctl_.load(std::memory_order_relaxed);  // relaxed: a heuristic
    if (CW::queued(c) == 0 || !gate_.enabled()) return;        // nobody to hold, or no gate
    const bool held = (!CW::gate_open(c) && CW::credit(c) == 0) ||
                      (CW::half_open(c) && CW::probe_out(c) && !CW::paused(c));
    const bool waiters = CW::queued(c) != 0;
    const Deadline<tick_type> news = waiters && held && gate_.usable(now)
                                         ? next_news(gate_.refresh_asked_at(now))
                                         : Deadline<tick_type>{};
    if (gate_.should_refresh(now, waiters, held, after_release, news))
      port_.request_usage_refresh();
  }

  // The next moment after `after` a fresh reading would tell the gate more than the one it has
  // (see SlotTable::next_news), by the effective lags; or when a cached one may have been
  // replaced.
  Deadline<tick_type> next_news(tick_type after) const noexcept {
    Deadline<tick_type> d = slots_.next_news(
        gate_.sampled_at(), lag_.visibility(gate_.visibility_floor()), effective_cooldown(), after);
    d.merge(gate_.cache_expiry(after));
    return d;
  }

  // The freshest time any poll has seen: a granter woken by someone else judges with it.
  tick_type newest(tick_type now) const noexcept {
    // relaxed x2: bookkeeping; a slightly old value only delays a decision to the next poll.
    if (!polled_.load(std::memory_order_relaxed)) return now;
    const tick_type seen = last_poll_.load(std::memory_order_relaxed);
    return Tk::before(now, seen) ? seen : now;
  }

  // Lower occ by n (records already freed) and, if anyone is queued, run or request a grant.
  // True if it did run or request one.
  bool lower_occupancy(uint32_t n, tick_type now) noexcept {
    word_type c = ctl_.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    bool run = false;
    for (;;) {
      word_type next = c - n * CW::kOccOne;
      run = false;
      if (CW::queued(next) != 0) {
        if (CW::token(next)) {
          next |= CW::kPending;
        } else {
          next |= CW::kToken;
          run = true;
        }
      }
      // acq_rel: release publishes the freed records (pairs with the acquire of whoever takes
      // the slot); acquire takes over the grant token from its last holder's release.
      if (ctl_.compare_exchange_weak(c, next, std::memory_order_acq_rel, std::memory_order_relaxed))
        break;
    }
    if (run) run_grants(now);
    return CW::queued(c) != 0;
  }

  // Run the granter, or ask its current holder to run again. Returns the word it replaced.
  word_type kick(tick_type now) noexcept {
    word_type c = ctl_.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    bool run = false;
    for (;;) {
      run = !CW::token(c);
      const word_type next = c | (run ? CW::kToken : CW::kPending);
      // acq_rel: release publishes what we did before (a push, a cancel) to the token holder
      // who sees `pending`; acquire takes over the token from its last holder's release. The
      // CAS is made even when the bits are already set, to join that release sequence.
      if (ctl_.compare_exchange_weak(c, next, std::memory_order_acq_rel, std::memory_order_relaxed))
        break;
    }
    if (run) run_grants(now);
    return c;
  }

  // The granter. Runs only while holding the token, so it is the wait queue's one consumer.
  void run_grants(tick_type now) noexcept {
    now = newest(now);
    govern(now);
    // Waiters granted are woken once the token is let go: a wake-up can be a system call (or
    // get us preempted), and while we hold the token no other release can grant anyone.
    WakeList woken;
    for (;;) {
      // relaxed: front_ is only touched by the token holder; the token's acq_rel orders it.
      uint32_t entry = front_.load(std::memory_order_relaxed);
      if (entry == kNoFront) {
        if (!fifo_.try_pop(entry)) {
          if (finish_grants()) break;
          govern(now);
          continue;
        }
        front_.store(entry, std::memory_order_relaxed);
      }
      const uint32_t idx = detail::QueueEntry::index(entry);
      const uint32_t w = tickets_.word(idx);
      const Phase phase = detail::TicketWord::phase(w);
      const bool ours = detail::QueueEntry::matches(entry, w);
      if (ours && phase == Phase::kPreparing) {  // its enqueue will kick us once it is published
        if (finish_grants()) break;
        govern(now);
        continue;
      }
      if (!ours || phase != Phase::kWaiting) {  // cancelled, timed out or closed while queued
        front_.store(kNoFront, std::memory_order_relaxed);
        // relaxed: the fast path this may reopen reads only the word. Records the granter
        // freed were published by the release that lowered occ (admit), and this RMW carries
        // that release sequence on to whoever reads it.
        ctl_.fetch_sub(CW::kQueuedOne, std::memory_order_relaxed);
        continue;
      }
      bool probe = false;
      if (take_slot(now, true, probe) != Status::kOk) {
        if (finish_grants()) break;
        govern(now);
        continue;
      }
      const Permit p = slots_.claim(now, true);
      if (probe) episodes_.set_probe(p, now);
      if (tickets_.grant(idx, w, p)) {
        front_.store(kNoFront, std::memory_order_relaxed);
        // relaxed: as for a dropped record above; the grant itself is published by the
        // ticket's own release (tickets_.grant).
        ctl_.fetch_sub(CW::kQueuedOne, std::memory_order_relaxed);
        if (!woken.add(idx)) wake_waiter(idx);  // the list is full: wake this one now
        continue;
      }
      // The waiter left between our look and our grant: give the slot straight back. The next
      // pass drops the entry. release: pairs with the acquire of the next claimant.
      slots_.unclaim(p);
      ctl_.fetch_sub(CW::kOccOne, std::memory_order_release);
      if (probe) probe_lost();
    }
    for (uint32_t i = 0; i < woken.n; ++i) wake_waiter(woken.idx[i]);
    // A grant can bring a deadline the poller does not sleep towards: a lease's end, or (with
    // the gate spending credit) the time a reading is due. Without either there is none, and
    // the grant's own wake-up is the only one: one release, one wake-up.
    // (The list is empty exactly when nothing was granted: a full one keeps its eight.)
    // relaxed x2: hints, as for every wake-up.
    if (woken.n != 0 && (max_hold_.load(std::memory_order_relaxed) != 0 ||
                         (kHasUsageSource && !CW::gate_open(ctl_.load(std::memory_order_relaxed)))))
      wake_poller();
  }

  // Count one slot (and spend a gate credit) if admission allows: for the fast path, or (from
  // the granter) for the front waiter. The caller then claims a slot record; `probe` says the
  // grant is the half-open probe.
  Status take_slot(tick_type now, bool from_queue, bool& probe) noexcept {
    // The common case inline: the word admits a grant as it stands, and no reading waits to
    // be judged. relaxed: admission reads only the word; the CAS orders what follows.
    word_type c = ctl_.load(std::memory_order_relaxed);
    if (CW::admits(c, from_queue) && !unjudged_reading(from_queue)) {
      // acquire on success: as in take_slot_slow. relaxed on failure: the slow path rejudges.
      if (ctl_.compare_exchange_weak(c, CW::take_one(c), std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
        probe = CW::half_open(c);
        return Status::kOk;
      }
    }
    return take_slot_slow(now, from_queue, probe);
  }

  // For the fast path: the port holds a reading no granter has judged (the gate being on).
  bool unjudged_reading(bool from_queue) noexcept {
    if constexpr (kHasUsageSource) return !from_queue && gate_.enabled() && reading_pending();
    return false;
  }

  // Everything else: reclaiming, pauses, the gate, retries. Out of line, to keep the fast path
  // small enough to inline.
  __attribute__((noinline)) Status take_slot_slow(tick_type now, bool from_queue,
                                                  bool& probe) noexcept {
    // relaxed (this and the reloads): admission reads only the word (a pause's end is read
    // under pause_.clear_if_over's own acquire); the CAS below orders what follows.
    word_type c = ctl_.load(std::memory_order_relaxed);
    bool governed = from_queue;  // the granter has just judged the gate itself
    for (;;) {
      const Admit a = admit(c, now, from_queue);
      if (a.retry) {
        c = ctl_.load(std::memory_order_relaxed);
        continue;
      }
      if (a.status == Status::kGated && !governed) {
        // The budget may be out of date (a new reading, or the old one aged out): let the
        // granter judge it again once, then decide again.
        governed = true;
        kick(now);
        c = ctl_.load(std::memory_order_relaxed);
        continue;
      }
      if (a.status != Status::kOk) return a.status;
      if constexpr (kHasUsageSource) {
        // The port may hold a reading no granter has judged: have it judged first (by us, or
        // by the holder of the token, and then the budget in the word may not reflect it yet).
        if (!governed && gate_.enabled() && reading_pending()) {
          governed = true;
          kick(now);
          if (reading_pending()) {
            stats_.count(Event::kHeldBackGate);
            return Status::kGated;
          }
          c = ctl_.load(std::memory_order_relaxed);
          continue;
        }
      }
      // acquire on success: pairs with the release RMW that lowered occ after freeing a slot
      // record (lower_occupancy, admit, run_grants' unclaim), so the claim's first pass sees
      // that record Free. relaxed on failure: c is judged again from scratch.
      if (ctl_.compare_exchange_weak(c, CW::take_one(c), std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
        probe = CW::half_open(c);
        return Status::kOk;
      }
    }
  }

  // Let go of the token unless someone asked for another run. True when released.
  bool finish_grants() noexcept {
    word_type c = ctl_.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    for (;;) {
      const word_type next = CW::pending(c) ? (c & ~CW::kPending) : (c & ~CW::kToken);
      // acq_rel: release hands front_ and the queue to the next holder; acquire pairs with the
      // release of whoever set `pending`, so we see what they published before we run again.
      if (ctl_.compare_exchange_weak(c, next, std::memory_order_acq_rel, std::memory_order_relaxed))
        return !CW::pending(c);
    }
  }

  // Claim (cancel false) or cancel (true) a ticket on behalf of its owner.
  Status resolve(Ticket t, tick_type now, bool cancel, Permit& out) noexcept {
    out = Permit{};
    uint32_t w = 0;
    const Status s = tickets_.check(t, w);
    if (s != Status::kOk) return s;
    for (;;) {
      const Phase phase = detail::TicketWord::phase(w);
      // Preparing is never seen by an owner: enqueue returns the ticket after publishing it.
      if (phase == Phase::kPreparing || (phase == Phase::kWaiting && !cancel))
        return Status::kPending;
      const Permit p = phase == Phase::kGranted ? tickets_.permit(t.index) : Permit{};
      if (!tickets_.retire(t.index, w)) continue;  // a grant, timeout or close came first
      switch (phase) {
        case Phase::kWaiting:
          stats_.count(Event::kCancelled);
          kick(now);  // let the granter drop the entry, reopening the fast path if it was last
          return Status::kOk;
        case Phase::kGranted:
          if (cancel) {
            stats_.count(Event::kGrantsReturned);
            Status why = Status::kOk;
            const bool probe = episodes_.is_probe(p);
            // No cooldown, and nothing for the gate to count: the upstream never saw it. A
            // returned probe lets the next one go, so the grant below may be it.
            const detail::SlotRelease r = slots_.release(p, now, 0, 0, why);
            if (probe) probe_lost();
            if (r == detail::SlotRelease::kFreed) lower_occupancy(1, now);
            return Status::kGrantReturned;
          }
          if (!slots_.is_held(p)) return Status::kReclaimed;
          out = p;
          return Status::kOk;
        case Phase::kTimedOut:
          return Status::kTimedOut;
        case Phase::kClosed:
          return Status::kClosed;
        default:
          return Status::kStaleTicket;
      }
    }
  }

  Status note_poll_time(tick_type now) noexcept {
    // relaxed x3: only this bookkeeping reads them.
    tick_type prev = last_poll_.load(std::memory_order_relaxed);
    const bool seen = polled_.load(std::memory_order_relaxed);
    for (;;) {
      if (seen && Tk::before(now, prev)) {
        stats_.count(Event::kClockRegressions);
        return Status::kClockWentBackwards;
      }
      if (last_poll_.compare_exchange_weak(prev, now, std::memory_order_relaxed,
                                           std::memory_order_relaxed))
        break;
    }
    polled_.store(true, std::memory_order_relaxed);
    return Status::kOk;
  }

  Port& port_;
  alignas(kCacheLine) atomic<word_type> ctl_;
  alignas(kCacheLine) atomic<uint32_t> limit_;
  atomic<tick_type> cooldown_;
  atomic<tick_type> max_hold_;
  atomic<tick_type> last_poll_;
  atomic<bool> polled_;
  atomic<uint32_t> front_;
  Stats stats_;
  Pause pause_;
  Gate gate_;
  Headroom headroom_;
  Lag lag_;
  Episodes episodes_;
  Slots slots_;
  detail::TicketTable<atomics, tick_type, MaxWaiters> tickets_;
  Ring<uint32_t, kQueueCapacity, atomics> fifo_;
};

}  // namespace slotgate
