// The limiter's parts, held together, and the few moves every operation shares: run the
// granter (kick), look for waiters after a record frees, wake a waiter or the poller, the
// freshest time a poll has seen, a new limit.
//
// Each part owns its state and the memory orders on it (admission, slot and ticket tables,
// the upstream view, episodes, statistics, the granter); the operations are written over
// this struct, one file per path: detail/grant_path.hpp (taking a slot), release_path.hpp
// (ending a permit, rejections, the probe), queue_path.hpp (enqueue, claim, cancel),
// progress.hpp (poll, close, deadlines, the snapshot). slotgate/limiter.hpp is the facade.
// It is also the granter's host (detail/granter.hpp names what a host supplies).
//
// Every function here is lock-free and reads no clock; the notes at the Limiter's methods
// say which may run in an interrupt handler (all of them, when the port's notify may).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/detail/admission.hpp"
#include "slotgate/detail/control_word.hpp"
#include "slotgate/detail/episodes.hpp"
#include "slotgate/detail/grant_path.hpp"
#include "slotgate/detail/granter.hpp"
#include "slotgate/detail/heartbeat.hpp"
#include "slotgate/detail/lane_book.hpp"
#include "slotgate/detail/slot_table.hpp"
#include "slotgate/detail/statistics.hpp"
#include "slotgate/detail/ticket_table.hpp"
#include "slotgate/detail/upstream_view.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/limiter_config.hpp"
#include "slotgate/port.hpp"
#include "slotgate/status.hpp"
#include "slotgate/ticks.hpp"

namespace slotgate::detail {

// The wait queue's ring: a power of two above twice the ticket records, so up to MaxWaiters
// entries of cancelled tickets can wait behind a blocked front while every record is in use
// again, and a push never meets the one cell its single consumer may be emptying.
constexpr size_t queue_capacity(size_t waiters) noexcept {
  size_t c = 2;
  while (c <= 2 * waiters) c <<= 1;
  return c;
}

template <class Port, size_t MaxSlots, size_t MaxWaiters, size_t Lanes = 1>
struct Parts {
  static constexpr size_t kMaxSlots = MaxSlots;
  static constexpr size_t kMaxWaiters = MaxWaiters;
  static constexpr size_t kLanes = Lanes;
  // Each lane's ring can hold every waiter; the word counts the entries of all of them.
  static constexpr size_t kQueueCapacity = queue_capacity(MaxWaiters);
  static_assert(kQueueCapacity * Lanes <= 65536,
                "queue entries carry a 16-bit generation tag: fewer MaxWaiters or fewer Lanes "
                "(each lane's ring holds more than 2 * MaxWaiters entries)");
  static constexpr bool kHasUsageSource = HasUsageSource<Port>::value;

  using tick_type = typename Port::tick_type;
  using word_type = typename Port::word_type;
  using counter_type = typename Port::counter_type;
  using atomics = typename Port::atomics;
  using outcome_type = Outcome<tick_type>;
  template <class T>
  using atomic = typename atomics::template atomic<T>;
  using CW = ControlWord<word_type, MaxSlots, kQueueCapacity * Lanes, kHasUsageSource>;
  using Tk = Ticks<tick_type>;
  using View = UpstreamView<Port, MaxSlots>;
  using Episodes = RejectionEpisodes<atomics, tick_type, counter_type>;
  using Slots = SlotTable<atomics, tick_type, counter_type, MaxSlots>;
  using Tickets = TicketTable<atomics, tick_type, MaxWaiters>;
  using Stats = Statistics<atomics, counter_type>;
  using LaneBook = detail::LaneBook<atomics, tick_type, counter_type, MaxWaiters, Lanes>;
  using Admission = detail::Admission<atomics, word_type, tick_type, CW>;
  static_assert(atomics::template always_lock_free<word_type> || !atomics::kLockFree,
                "the control word must be lock-free on this target");
  static_assert(atomics::template always_lock_free<tick_type> || !atomics::kLockFree,
                "the tick type must be lock-free on this target");
  static_assert(atomics::template always_lock_free<uint32_t> || !atomics::kLockFree,
                "32-bit atomics must be lock-free on this target");

  explicit Parts(Port& p) noexcept : port(p), adm(MaxSlots) {
    max_hold_.store(0, std::memory_order_relaxed);
    last_poll_.store(0, std::memory_order_relaxed);
    polled_.store(false, std::memory_order_relaxed);
  }
  Parts(const Parts&) = delete;
  Parts& operator=(const Parts&) = delete;

  // relaxed: an independent setting.
  tick_type max_hold() const noexcept { return max_hold_.load(std::memory_order_relaxed); }

  // The ticket at `idx` was granted, timed out or closed: its owner must look at it.
  void wake_waiter(uint32_t idx) noexcept {
    stats.count(Event::kWakeups);
    if constexpr (PortTraits<Port>::targeted_wakeups)
      port.notify_waiter(idx);
    else
      port.notify();
  }
  // Something a poll should see changed: a waiter must poll again.
  void wake_poller() noexcept {
    stats.count(Event::kPollWakeups);
    port.notify();
  }

  // The freshest time any poll has seen: a granter woken by someone else judges with it.
  tick_type newest(tick_type now) const noexcept {
    // relaxed x2: bookkeeping; a slightly old value only delays a decision to the next poll.
    if (!polled_.load(std::memory_order_relaxed)) return now;
    const tick_type seen = last_poll_.load(std::memory_order_relaxed);
    return Tk::before(now, seen) ? seen : now;
  }

  // The latest time a poll has seen (0 before the first), for an operation given no clock. Not
  // newest(0): on a tick that wraps, 0 is a time like any other, and half the range later than
  // what a poll saw (a granter judging at 0 then, or an episode opened at 0).
  tick_type last_polled() const noexcept {
    // relaxed x2: as in newest().
    return polled_.load(std::memory_order_relaxed) ? last_poll_.load(std::memory_order_relaxed)
                                                   : tick_type(0);
  }

  // A record was freed: if anyone is queued, run the granter (or have its holder run again);
  // if a lowered limit waits for records above it to free, have it settled. seq_cst look: the
  // reading half of the store-buffering pair with an enqueue (the freeing CAS was the other).
  void after_free(tick_type now) noexcept {
    const word_type c = adm.word_sc();
    if (CW::queued(c) != 0 || CW::shrinking(c)) kick(now);
  }

  // Run the granter, or ask its current holder to run again. Returns the word it replaced.
  word_type kick(tick_type now) noexcept {
    word_type replaced = 0;
    if (adm.kick(replaced)) granter.run(*this, newest(now));
    return replaced;
  }

  // Every setting checked, then stored one after another (see Limiter::configure).
  Status configure(const Config<tick_type>& cfg) noexcept {
    if (cfg.limit < 1 || cfg.limit > MaxSlots || !Tk::valid_duration(cfg.max_hold) ||
        !Episodes::valid(cfg.default_pause, cfg.max_pause) || !View::valid(cfg))
      return Status::kInvalidArgument;
    // relaxed: settings are independent values read afresh by each operation.
    max_hold_.store(cfg.max_hold, std::memory_order_relaxed);
    episodes.configure(cfg.default_pause, cfg.max_pause);
    view.configure(cfg);
    apply_limit(cfg.limit, LimitChange::kClearHeadroom, last_polled());
    wake_poller();
    return Status::kOk;
  }

  void apply_limit(uint32_t limit, LimitChange how, tick_type now) noexcept {
    adm.set_limit(limit);
    if (how == LimitChange::kClearHeadroom) view.headroom().clear();
    view.sync_limit(now, adm, slots);
  }

  // The half-open probe ended well: open to the full effective limit.
  void end_probe(tick_type now) noexcept {
    if (!adm.clear_if_probe_out(CW::kHalfOpen | CW::kProbeOut)) return;
    episodes.opened(now);
    kick(now);
    wake_poller();
  }
  // The probe never reached the upstream (its grant was returned, its lease reclaimed): let
  // another go.
  void probe_lost() noexcept {
    if (adm.clear_if_probe_out(CW::kProbeOut)) wake_poller();
  }

  // ---- the granter's host (token holder) -------------------------------------------------

  Admission& admission() noexcept { return adm; }
  LaneBook& lanes() noexcept { return lane_book; }
  const Tickets& ticket_table() const noexcept { return tickets; }
  void govern(tick_type now) noexcept { view.govern(now, port, adm, slots, episodes); }
  // A slot for the front waiter, if admission allows: its permit in `p`.
  Status take_for_queue(tick_type now, bool& probe, Permit& p) noexcept {
    const Status s = GrantPath<Parts>::take(*this, now, true, probe, p);
    if (s == Status::kOk && probe) episodes.set_probe(p, now);
    return s;
  }
  // A grant whose waiter left first: its slot straight back.
  void give_back(Permit p, bool probe) noexcept {
    slots.unclaim(p);
    if (probe) probe_lost();
  }
  // A grant can bring a deadline the poller does not sleep towards: a lease's end, or (with
  // the gate spending credit) the time a reading is due. Without either there is none, and
  // the grant's own wake-up is the only one: one release, one wake-up.
  void after_grants() noexcept {
    if (max_hold() != 0 || (kHasUsageSource && !CW::gate_open(adm.word()))) wake_poller();
  }
  bool grant(uint32_t idx, uint32_t w, Permit p) noexcept { return tickets.grant(idx, w, p); }

  Port& port;
  Admission adm;
  atomic<tick_type> max_hold_;
  atomic<tick_type> last_poll_;
  atomic<bool> polled_;
  HeartbeatClock<atomics, tick_type> beat;  // the pass of the parts any thread may write
  Stats stats;
  View view;
  Episodes episodes;
  Slots slots;
  Tickets tickets;
  LaneBook lane_book;
  Granter<atomics, kQueueCapacity, Lanes> granter;
};

}  // namespace slotgate::detail
