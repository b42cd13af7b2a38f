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
// This class is the facade: the rules live in parts (detail/), each owning its state and the
// memory orders on it — admission (every change of the control word: the fast path, the grant
// token, the pause and episode flags), the granter (queued waiters in order), the upstream
// view (readings, learned lags, headroom, the gate's budget), slot and ticket records,
// episodes, statistics. Here they are wired together in the order each operation needs.
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
#include "slotgate/detail/admission.hpp"
#include "slotgate/detail/control_word.hpp"
#include "slotgate/detail/episodes.hpp"
#include "slotgate/detail/granter.hpp"
#include "slotgate/detail/slot_table.hpp"
#include "slotgate/detail/statistics.hpp"
#include "slotgate/detail/ticket_table.hpp"
#include "slotgate/detail/upstream_view.hpp"
#include "slotgate/handles.hpp"
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
  using View = detail::UpstreamView<Port, MaxSlots>;
  using Gate = typename View::Gate;
  using Headroom = typename View::Room;
  using Lag = typename View::Lag;
  using Episodes = detail::RejectionEpisodes<atomics, tick_type, counter_type>;
  using Slots = detail::SlotTable<atomics, tick_type, counter_type, MaxSlots>;
  using Stats = detail::Statistics<atomics, counter_type>;
  using Admission = detail::Admission<atomics, word_type, tick_type, CW>;
  using Refusal = detail::Refusal;
  using Event = detail::Event;
  static_assert(atomics::template always_lock_free<word_type> || !atomics::kLockFree,
                "the control word must be lock-free on this target");
  static_assert(atomics::template always_lock_free<tick_type> || !atomics::kLockFree,
                "the tick type must be lock-free on this target");
  static_assert(atomics::template always_lock_free<uint32_t> || !atomics::kLockFree,
                "32-bit atomics must be lock-free on this target");

 public:
  // A limiter with limit MaxSlots, no cooldown, no lease limit and no default pause.
  explicit Limiter(Port& port) noexcept : port_(port), adm_(MaxSlots) {
    max_hold_.store(0, std::memory_order_relaxed);
    last_poll_.store(0, std::memory_order_relaxed);
    polled_.store(false, std::memory_order_relaxed);
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
    if (cfg.limit < 1 || cfg.limit > MaxSlots || !Tk::valid_duration(cfg.max_hold) ||
        !Episodes::valid(cfg.default_pause, cfg.max_pause) || !View::valid(cfg))
      return Status::kInvalidArgument;
    // relaxed: settings are independent values read afresh by each operation.
    max_hold_.store(cfg.max_hold, std::memory_order_relaxed);
    episodes_.configure(cfg.default_pause, cfg.max_pause);
    view_.configure(cfg);
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
    view_.set_cooldown(cooldown);
    wake_poller();  // a waiter's next deadline may move
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
    bool probe = false;
    const Status s = take_slot(now, false, probe, out);
    if (s == Status::kOk && probe) episodes_.set_probe(out, now);
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
    if (CW::closed(adm_.word())) return Status::kClosed;
    Ticket t;
    if (!tickets_.allocate(deadline, t)) {
      stats_.count(Event::kQueueFull);
      return Status::kQueueFull;
    }
    // Announce first: from here on try_acquire will not barge, and the granter may look for us.
    if (!adm_.announce()) {
      tickets_.abandon(t.index);
      return Status::kClosed;
    }
    // Queue the record while it is still Preparing: a granter that pops it early treats it as
    // not yet arrived and stops; our kick below starts it again. The push fails only when the
    // ring is full of entries of cancelled tickets behind a blocked front; we then undo the
    // announcement and say so rather than lose the ticket.
    if (!granter_.push(detail::QueueEntry::make(t.index, t.generation))) {
      adm_.unannounce();
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
    const tick_type cooldown = view_.effective_cooldown();
    tick_type cooling = cooldown;
    if constexpr (kHasUsageSource)
      if (view_.gate().usable_until(now, tick_type(now + cooldown))) cooling = 0;
    // We hold p's only honoured release, so if p is the probe, nobody else ends it.
    const bool probe = episodes_.is_probe(p);
    tick_type granted = 0;
    const detail::SlotRelease r =
        slots_.release(p, now, cooling, view_.counted_for(cooldown), why, &granted);
    if (r == detail::SlotRelease::kRejected) {
      stats_.count(Event::kBadReleases);
      return why;
    }
    // A rejection first, so that no grant made for the freed slot slips in before the pause;
    // a probe that ended well opens only once its slot is free, so the budget judged then
    // counts it as ended, not as a grant in flight.
    const bool rejected = outcome.kind == outcome_type::Kind::kRejected;
    if (rejected) on_upstream_rejection(now, outcome, probe, granted);
    if constexpr (kHasUsageSource) view_.request_refresh_if_held(now, true, port_, adm_, slots_);
    if (r == detail::SlotRelease::kFreed)
      after_free(now);
    else if (CW::queued(adm_.word()) != 0)
      wake_poller();  // waiters must learn the new, possibly earlier, deadline
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
    const word_type c = adm_.word();
    if (CW::paused(c)) adm_.clear_pause_if_over(c, now);

    uint32_t freed = slots_.reclaim_cooled(now, view_.covered(now));
    uint32_t lease_freed = 0;
    bool probe_reclaimed = false;
    const tick_type cooldown = view_.effective_cooldown();
    const uint32_t reclaimed =
        slots_.reclaim_leases(now, max_hold(), cooldown, view_.counted_for(cooldown), lease_freed,
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

    // Run the granter once (or have its holder run again): it grants into what was freed, takes
    // in readings and adjusts headroom.
    (void)freed;
    kick(now);
    if (reclaimed != 0) wake_poller();  // the lease's holder may wait on other deadlines
    r.next = next_deadline(now);
    return r;
  }

  // No grants until `until` (an existing later pause is kept). A time not after `now` — or
  // more than half the tick range ahead, which reads the same — pauses nothing. Lock-free,
  // interrupt-safe.
  Status pause_until(tick_type until, tick_type now) noexcept {
    if (!Tk::before(now, until)) return Status::kOk;
    adm_.pause_until(until, now);
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
    if (CW::half_open(adm_.resume())) episodes_.opened(newest(0));
    wake_poller();
  }

  // Fail every waiter with kClosed and refuse every later try_acquire / enqueue. Permits out
  // stay valid and are released as usual; tickets granted before the close can still be
  // claimed. Idempotent. Lock-free, interrupt-safe.
  void close() noexcept {
    adm_.close();  // every ticket published before it is seen Waiting below
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
    const word_type c = adm_.word();
    const auto census = slots_.census();
    s.limit = adm_.limit();
    view_.fill(s, s.limit);
    episodes_.fill(s);
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
    s.paused_until = adm_.pause_end();
    s.cooldown = view_.cooldown_floor();
    s.max_hold = max_hold();
    stats_.fill(s.counters, census);
    return s;
  }

  // The earliest time something changes with no outside event: a cooldown ends, a lease
  // expires, a ticket times out, a pause ends, a reading ages out of a closed gate, a repoll
  // is due, headroom may step down — whichever comes first strictly after `now`. Wait-free.
  deadline_type next_deadline(tick_type now) const noexcept {
    deadline_type d = slots_.next_deadline(max_hold(), now);
    d.merge(tickets_.next_deadline(now));
    const word_type c = adm_.word_acquire();  // the pause's end read below belongs to it
    if (CW::paused(c)) d.merge_after(adm_.pause_end(), now);
    const bool gate_closed = !CW::gate_open(c) && CW::credit(c) == 0;
    const bool waiters = CW::queued(c) != 0;
    const auto& gate = view_.gate();
    const auto& room = view_.headroom();
    d.merge(gate.next_deadline(now, waiters, gate_closed || room.foreign() != 0));
    if constexpr (kHasUsageSource)
      if (waiters && gate_closed && gate.usable(now)) d.merge(view_.next_news(now, slots_));
    d.merge(room.next_deadline(now, waiters || slots_.taken() >= CW::lim(c), view_.usable(now)));
    return d;
  }

  Port& port() noexcept { return port_; }

 private:
  template <class, size_t>
  friend class detail::Granter;

  struct Admit {
    Status status;
    bool retry;
  };

  // relaxed: an independent setting.
  tick_type max_hold() const noexcept { return max_hold_.load(std::memory_order_relaxed); }

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
    bool retry = false;
    const Refusal r = adm_.judge(c, now, from_queue, retry);
    switch (r) {
      case Refusal::kClosed:
        return {Status::kClosed, false};
      case Refusal::kWaitersAhead:
        stats_.count(Event::kWaitersAhead);
        return {Status::kWaitersAhead, false};
      case Refusal::kPaused:
        if (retry) return {Status::kOk, true};
        stats_.count(Event::kHeldBackPause);
        return {Status::kPaused, false};
      case Refusal::kProbeOut:
        stats_.count(Event::kHeldBackProbe);
        return {Status::kPaused, false};
      case Refusal::kNone:
        // Under a lowered limit a free record below it does not mean a free slot: with every
        // slot taken, say so now rather than take a record and give it back (whose look would
        // run the granter for nothing).
        if (CW::shrinking(c) && full(c, now, from_queue, retry))
          return {retry ? Status::kOk : Status::kNoSlot, retry};
        return {Status::kOk, false};
      case Refusal::kGated:
        // Every slot taken as well: kNoSlot first (a full limiter waits for a release, not for
        // a reading), as when the word held the occupancy. A cold path.
        if (full(c, now, from_queue, retry)) return {retry ? Status::kOk : Status::kNoSlot, retry};
        stats_.count(Event::kHeldBackGate);
        return {Status::kGated, false};
      case Refusal::kFull:
        break;
    }
    return {Status::kNoSlot, false};
  }

  // Whether every slot is taken (the records are the occupancy): then `retry` says cooldowns
  // that ended were freed on the way (decide again), else the refusal has been counted.
  bool full(word_type c, tick_type now, bool from_queue, bool& retry) noexcept {
    retry = false;
    if (slots_.taken() < CW::lim(c)) return false;
    retry = no_record(c, now, from_queue);
    return true;
  }

  // No record below the word's limit was free. Frees cooldowns that ended (true: try again),
  // else counts why.
  bool no_record(word_type c, tick_type now, bool from_queue) noexcept {
    if (slots_.reclaim_cooled(now, view_.covered(now)) != 0) {
      // Someone else may want what we do not take: the freeing half of the pair with an
      // enqueue is the reclaim's CAS; this is the look after it.
      if (!from_queue) after_free(now);
      return true;
    }
    if (slots_.census().cooling != 0)
      stats_.count(Event::kHeldBackCooldown);
    else if (CW::lim(c) < adm_.limit())  // attribution only
      stats_.count(Event::kHeldBackHeadroom);
    else if (!from_queue)
      stats_.count(Event::kNoSlot);
    return false;
  }

  // A rejection: it starts an episode if the limiter was open, or if it is the half-open
  // probe's; otherwise it belongs to the episode under way, whose pause only a longer
  // Retry-After extends. Starting one sets half-open with the probe marked out, which holds
  // every grant at once; then the pause is written, then the probe mark cleared, so one probe
  // goes when the pause ends.
  void on_upstream_rejection(tick_type now, outcome_type outcome, bool probe,
                             tick_type granted) noexcept {
    stats_.count(Event::kRejectedByUpstream);
    tick_type retry = outcome.retry_after;
    if (!Tk::valid_duration(retry)) retry = Tk::kMaxDuration;
    bool was_open = false;
    if (!adm_.start_episode(probe, was_open)) {  // part of the episode under way
      if (outcome.has_retry_after && retry != 0) adm_.pause_until(tick_type(now + retry), now);
      wake_poller();
      return;
    }
    const tick_type d = episodes_.settle(episodes_.begin(now), outcome.has_retry_after, retry);
    if (d != 0) adm_.pause_until(tick_type(now + d), now);
    adm_.clear_probe_mark();  // the pause now holds grants; its end lets one probe go
    if (view_.headroom().step_up_for_rejection(now, adm_.limit()))
      view_.sync_limit(now, adm_, slots_);
    if (was_open) view_.lag().note_rejection(now, granted);
    wake_poller();
  }

  // The half-open probe ended well: open to the full effective limit.
  void end_probe(tick_type now) noexcept {
    if (!adm_.clear_if_probe_out(CW::kHalfOpen | CW::kProbeOut)) return;
    episodes_.opened(now);
    kick(now);
    wake_poller();
  }

  // The probe never reached the upstream (its grant was returned, its lease reclaimed): let
  // another go.
  void probe_lost() noexcept {
    if (adm_.clear_if_probe_out(CW::kProbeOut)) wake_poller();
  }

  void apply_limit(uint32_t limit, LimitChange how) noexcept {
    adm_.set_limit(limit);
    if (how == LimitChange::kClearHeadroom) view_.headroom().clear();
    view_.sync_limit(newest(0), adm_, slots_);
  }

  // The freshest time any poll has seen: a granter woken by someone else judges with it.
  tick_type newest(tick_type now) const noexcept {
    // relaxed x2: bookkeeping; a slightly old value only delays a decision to the next poll.
    if (!polled_.load(std::memory_order_relaxed)) return now;
    const tick_type seen = last_poll_.load(std::memory_order_relaxed);
    return Tk::before(now, seen) ? seen : now;
  }

  // A record was freed: if anyone is queued, run the granter (or have its holder run again);
  // if a lowered limit waits for records above it to free, have it settled. seq_cst look: the
  // reading half of the store-buffering pair with an enqueue (the freeing CAS was the other).
  void after_free(tick_type now) noexcept {
    const word_type c = adm_.word_sc();
    if (CW::queued(c) != 0 || CW::shrinking(c)) kick(now);
  }

  // Run the granter, or ask its current holder to run again. Returns the word it replaced.
  word_type kick(tick_type now) noexcept {
    word_type replaced = 0;
    if (adm_.kick(replaced)) granter_.run(*this, newest(now));
    return replaced;
  }

  // ---- for the granter (token holder) --------------------------------------------------------

  Admission& admission() noexcept { return adm_; }
  const detail::TicketTable<atomics, tick_type, MaxWaiters>& tickets() const noexcept {
    return tickets_;
  }
  void govern(tick_type now) noexcept { view_.govern(now, port_, adm_, slots_, episodes_); }
  // A slot for the front waiter, if admission allows: its permit in `p`.
  Status take_for_queue(tick_type now, bool& probe, Permit& p) noexcept {
    const Status s = take_slot(now, true, probe, p);
    if (s == Status::kOk && probe) episodes_.set_probe(p, now);
    return s;
  }
  // A grant whose waiter left first: its slot straight back.
  void give_back(Permit p, bool probe) noexcept {
    slots_.unclaim(p);
    if (probe) probe_lost();
  }
  // A grant can bring a deadline the poller does not sleep towards: a lease's end, or (with
  // the gate spending credit) the time a reading is due. Without either there is none, and
  // the grant's own wake-up is the only one: one release, one wake-up.
  void after_grants() noexcept {
    if (max_hold() != 0 || (kHasUsageSource && !CW::gate_open(adm_.word()))) wake_poller();
  }
  bool grant(uint32_t idx, uint32_t w, Permit p) noexcept { return tickets_.grant(idx, w, p); }

  // Take a slot if admission allows: for the fast path, or (from the granter) for the front
  // waiter. `probe` says the grant is the half-open probe.
  //
  // The fast path: the word allows a grant with no change to it (fast()), a record below its
  // limit is taken with one CAS, and the word read again allows it still, with the record
  // below its limit: the grant is made at that second look. Any change between the looks (a
  // waiter queued, a pause, a lowered limit, a closed gate) gives the record back.
  Status take_slot(tick_type now, bool from_queue, bool& probe, Permit& out) noexcept {
    out = Permit{};
    const word_type c = adm_.word_sc();
    if (!from_queue && CW::fast(c) && !unjudged_reading(false)) {
      uint32_t i = slots_.try_claim(CW::lim(c));
      // Cooldowns that ended free their records here (their CAS is the freeing half of the
      // pair with an enqueue; the look below is the reading half).
      if (i == Slots::kNone && slots_.reclaim_cooled(now, view_.covered(now)) != 0)
        i = slots_.try_claim(CW::lim(c));
      if (i != Slots::kNone) {
        const word_type now_c = adm_.word_sc();
        if (CW::fast(now_c) && i < CW::lim(now_c)) {
          out = slots_.finish_claim(i, now, false);
          return Status::kOk;
        }
        give_back_claim(i, now, false);
      }
    }
    return take_slot_slow(now, from_queue, probe, out);
  }

  // A record taken by try_claim that the word no longer allows: back, and the look after. The
  // granter (from_queue: it holds the token) does not look: it decides again before letting
  // the token go, and a kick of its own would have it run again, forever, while a lowered limit
  // keeps refusing its front waiter.
  void give_back_claim(uint32_t i, tick_type now, bool from_queue) noexcept {
    slots_.abort_claim(i);
    if (!from_queue) after_free(now);
  }

  // For the fast path: the port holds a reading no granter has judged (the gate being on).
  bool unjudged_reading(bool from_queue) noexcept {
    if constexpr (kHasUsageSource)
      return !from_queue && view_.gate().enabled() && view_.reading_pending(port_);
    return false;
  }

  // Everything else: reclaiming, pauses, the gate, a lowered limit, retries. A record is taken
  // first, then the word confirms the grant with a CAS (spending a gate credit, marking the
  // probe); under a lowered limit the taken records are counted between the two. Out of line,
  // to keep the fast path small enough to inline.
  __attribute__((noinline)) Status take_slot_slow(tick_type now, bool from_queue, bool& probe,
                                                  Permit& out) noexcept {
    word_type c = adm_.word_sc();
    bool governed = from_queue;  // the granter has just judged the gate itself
    for (;;) {
      const Admit a = admit(c, now, from_queue);
      if (a.retry) {
        c = adm_.word_sc();
        continue;
      }
      if (a.status == Status::kGated && !governed) {
        // The budget may be out of date (a new reading, or the old one aged out): let the
        // granter judge it again once, then decide again.
        governed = true;
        kick(now);
        c = adm_.word_sc();
        continue;
      }
      if (a.status != Status::kOk) return a.status;
      // The port may hold a reading no granter has judged: have it judged first (by us, or by
      // the holder of the token, and then the budget in the word may not reflect it yet).
      if (!governed && unjudged_reading(false)) {
        // A full limiter says kNoSlot without having the reading judged first.
        bool retry = false;
        if (full(c, now, from_queue, retry)) {
          if (!retry) return Status::kNoSlot;
          c = adm_.word_sc();
          continue;
        }
        governed = true;
        kick(now);
        if (view_.reading_pending(port_)) {
          stats_.count(Event::kHeldBackGate);
          return Status::kGated;
        }
        c = adm_.word_sc();
        continue;
      }
      const uint32_t i = slots_.try_claim(CW::lim(c));
      if (i == Slots::kNone) {
        if (no_record(c, now, from_queue)) {
          c = adm_.word_sc();
          continue;
        }
        return Status::kNoSlot;
      }
      switch (confirm(i, c, now, from_queue)) {
        case Confirmed::kYes:
          probe = CW::half_open(c);
          out = slots_.finish_claim(i, now, from_queue);
          return Status::kOk;
        case Confirmed::kOverLimit:
          give_back_claim(i, now, from_queue);
          if (!from_queue) stats_.count(Event::kHeldBackHeadroom);
          return Status::kNoSlot;
        case Confirmed::kJudgeAgain:
          give_back_claim(i, now, from_queue);
          break;
      }
    }
  }

  enum class Confirmed : uint8_t { kYes, kOverLimit, kJudgeAgain };

  // Confirm the grant of record i on word c (judged to admit it); on kYes, c is the word as it
  // was just before the grant. A word that changed meanwhile but admits the grant as well is
  // confirmed on; anything else is judged again from scratch.
  Confirmed confirm(uint32_t i, word_type& c, tick_type now, bool from_queue) noexcept {
    for (;;) {
      if (i >= CW::lim(c)) return Confirmed::kJudgeAgain;
      // A lowered limit with records still out above it: the taken records (ours included)
      // must fit under it. seq_cst scan after our seq_cst CAS: of two grants counting at once,
      // at least one sees the other.
      if (CW::shrinking(c) && slots_.taken() > CW::lim(c)) {
        // Cooldowns that ended count no more: free them and decide again from the start (the
        // give-back's look at the word is the one after their freeing CASes).
        if (slots_.reclaim_cooled(now, view_.covered(now)) == 0) return Confirmed::kOverLimit;
        return Confirmed::kJudgeAgain;
      }
      const word_type judged = c;
      bool probe = false;
      if (adm_.confirm(c, probe)) {
        c = judged;
        return Confirmed::kYes;
      }
      if (!CW::admits(c, from_queue)) return Confirmed::kJudgeAgain;
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
            if (r == detail::SlotRelease::kFreed) after_free(now);
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
  Admission adm_;
  atomic<tick_type> max_hold_;
  atomic<tick_type> last_poll_;
  atomic<bool> polled_;
  Stats stats_;
  View view_;
  Episodes episodes_;
  Slots slots_;
  detail::TicketTable<atomics, tick_type, MaxWaiters> tickets_;
  detail::Granter<atomics, kQueueCapacity> granter_;
};

}  // namespace slotgate
