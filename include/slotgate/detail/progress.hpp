// Progress and observation: poll (cooldowns and leases ended, tickets timed out, the granter
// run), close (every waiter failed), the next deadline, and the snapshot.
//
// Written over the limiter's parts (detail/parts.hpp: P). Lock-free, no clock (`now` is the
// caller's); poll and close are interrupt-safe when the port's notify is, next_deadline and
// snapshot are wait-free and change nothing.
#pragma once

#include <stdint.h>

#include "slotgate/detail/statistics.hpp"
#include "slotgate/detail/ticket_table.hpp"
#include "slotgate/status.hpp"
#include "slotgate/ticks.hpp"

namespace slotgate::detail {

template <class P>
struct Progress {
  using tick_type = typename P::tick_type;
  using word_type = typename P::word_type;
  using CW = typename P::CW;
  using Tk = typename P::Tk;

  // The work of poll(now), which returns its status and then next_deadline(now).
  static Status poll(P& s, tick_type now) noexcept {
    const Status st = note_poll_time(s, now);
    const word_type c = s.adm.word();
    if (CW::paused(c)) s.adm.clear_pause_if_over(c, now);

    (void)s.slots.reclaim_cooled(now, s.view.covered(now));
    if (s.beat.due(now)) {  // a narrow tick's heartbeat (detail/heartbeat.hpp)
      s.slots.keep_in_range(now);
      s.lane_book.keep_in_range(now);
      s.episodes.keep_in_range(now);
    }
    uint32_t lease_freed = 0;
    bool probe_reclaimed = false;
    const tick_type cooldown = s.view.effective_cooldown();
    const uint32_t reclaimed =
        s.slots.reclaim_leases(now, s.max_hold(), cooldown, s.view.counted_for(cooldown),
                               lease_freed, s.episodes.probe(), probe_reclaimed);
    if (reclaimed != 0) s.stats.count(Event::kReclaimed, reclaimed);
    if (probe_reclaimed) s.probe_lost();

    uint32_t expired = 0;
    for (uint32_t i = 0; i < P::kMaxWaiters; ++i) {
      if (!s.tickets.expire(i, now)) continue;
      ++expired;
      s.lane_book.timed_out(i);
      s.wake_waiter(i);
    }
    if (expired != 0) s.stats.count(Event::kTimedOut, expired);

    // Run the granter once (or have its holder run again): it grants into what was freed,
    // takes in readings and adjusts headroom.
    s.kick(now);
    if (reclaimed != 0) s.wake_poller();  // the lease's holder may wait on other deadlines
    return st;
  }

  static void close(P& s) noexcept {
    s.adm.close();  // every ticket published before it is seen Waiting below
    uint32_t n = 0;
    for (uint32_t i = 0; i < P::kMaxWaiters; ++i) {
      if (!s.tickets.close(i)) continue;
      ++n;
      s.wake_waiter(i);
    }
    if (n != 0) s.stats.count(Event::kClosedWaiters, n);
    s.kick(0);  // drop the failed tickets from the queue; no grant is made once closed
    s.wake_poller();
  }

  static Deadline<tick_type> next_deadline(const P& s, tick_type now) noexcept {
    Deadline<tick_type> d = s.slots.next_deadline(s.max_hold(), now);
    d.merge(s.tickets.next_deadline(now));
    const word_type c = s.adm.word_acquire();  // the pause's end read below belongs to it
    if (CW::paused(c)) d.merge_after(s.adm.pause_end(), now);
    const bool gate_closed = !CW::gate_open(c) && CW::credit(c) == 0;
    const bool waiters = CW::queued(c) != 0;
    const auto& room = s.view.headroom();
    if constexpr (P::kHasUsageSource) {
      const auto& gate = s.view.gate();
      d.merge(gate.next_deadline(now, waiters, gate_closed || room.foreign() != 0));
      if (waiters && gate_closed && gate.usable(now)) d.merge(s.view.next_news(now, s.slots));
    }
    d.merge(room.next_deadline(now, waiters || s.slots.taken() >= CW::lim(c), s.view.usable(now)));
    // A tick that wraps in service: a poll at least every heartbeat retires what has come due
    // before it is half the range old (see poll).
    if constexpr (Tk::kWrapsInService) d.merge(tick_type(now + Tk::kHeartbeat));
    return d;
  }

  // One lane's figures (lanes > 1): the lane book's counters, the entries the granter has
  // not yet taken off the lane's queue, and the wait of the lane's front waiter, which is its
  // oldest (FIFO within a lane) once the granter has taken it off the ring, as every run does.
  template <class Snap>
  static void fill_lane(const P& s, uint32_t lane, tick_type now, Snap& out) noexcept {
    s.lane_book.fill(lane, out);
    out.waiting = s.granter.waiting(lane);
    const uint32_t entry = s.granter.front(lane);
    if (entry == s.granter.no_front()) return;
    const uint32_t idx = QueueEntry::index(entry);
    const uint32_t w = s.tickets.word(idx);
    if (!QueueEntry::matches(entry, w) || TicketWord::phase(w) != TicketPhase::kWaiting) return;
    const tick_type at = s.lane_book.queued_at(idx);
    if (Tk::before(at, now)) out.longest_wait = tick_type(now - at);
  }

  template <class Snap>
  static void fill(const P& s, Snap& out) noexcept {
    // relaxed: a snapshot promises each field on its own (snapshot.hpp), not agreement
    // between the word and the census, so nothing read below needs ordering after this.
    const word_type c = s.adm.word();
    const auto census = s.slots.census();
    out.limit = s.adm.limit();
    s.view.fill(out, out.limit);
    s.episodes.fill(out);
    out.half_open = CW::half_open(c);
    out.probe_out = CW::probe_out(c);
    out.gate_open = CW::gate_open(c);
    out.gate_budget = out.gate_open ? 0u : static_cast<uint32_t>(CW::credit(c));
    out.effective_limit = static_cast<uint32_t>(CW::lim(c));
    out.held = census.held;
    out.cooling = census.cooling;
    out.queued = static_cast<uint32_t>(CW::queued(c));
    out.tickets_outstanding = s.tickets.outstanding();
    out.closed = CW::closed(c);
    out.paused = CW::paused(c);
    out.paused_until = s.adm.pause_end();
    out.cooldown = s.view.cooldown_floor();
    out.max_hold = s.max_hold();
    s.stats.fill(out.counters, census);
  }

 private:
  // A clock seen going backwards is counted and said; the poll's work is done all the same.
  static Status note_poll_time(P& s, tick_type now) noexcept {
    // relaxed x3: only this bookkeeping reads them.
    tick_type prev = s.last_poll_.load(std::memory_order_relaxed);
    const bool seen = s.polled_.load(std::memory_order_relaxed);
    for (;;) {
      if (seen && Tk::before(now, prev)) {
        s.stats.count(Event::kClockRegressions);
        return Status::kClockWentBackwards;
      }
      if (s.last_poll_.compare_exchange_weak(prev, now, std::memory_order_relaxed,
                                             std::memory_order_relaxed))
        break;
    }
    s.polled_.store(true, std::memory_order_relaxed);
    return Status::kOk;
  }
};

}  // namespace slotgate::detail
