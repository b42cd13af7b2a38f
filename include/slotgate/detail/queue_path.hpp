// The queue path: a caller that could not be granted at once joins the wait queue (enqueue),
// and its ticket is resolved by its owner: claimed once granted, or cancelled, which gives a
// grant that won the race straight back. The granter (detail/granter.hpp) grants in between.
//
// Written over the limiter's parts (detail/parts.hpp: P). Lock-free, no clock (`now` is the
// caller's), interrupt-safe when the port's notify is.
#pragma once

#include <stdint.h>

#include "slotgate/detail/granter.hpp"
#include "slotgate/detail/slot_table.hpp"
#include "slotgate/detail/statistics.hpp"
#include "slotgate/detail/ticket_table.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/status.hpp"
#include "slotgate/ticks.hpp"

namespace slotgate::detail {

template <class P>
struct QueuePath {
  using tick_type = typename P::tick_type;
  using CW = typename P::CW;

  // `lane` < P::kLanes (the facade checks it).
  static Status enqueue(P& s, tick_type now, Ticket& out, Deadline<tick_type> deadline,
                        uint32_t lane) noexcept {
    out = Ticket{};
    // relaxed: a cheap early refusal that reads nothing after it; the announcement CAS below
    // is the check that counts (close() publishes no data with the flag).
    if (CW::closed(s.adm.word())) return Status::kClosed;
    Ticket t;
    if (!s.tickets.allocate(deadline, t)) {
      s.stats.count(Event::kQueueFull);
      return Status::kQueueFull;
    }
    s.lane_book.note_queued(t.index, lane, now);  // before the push publishes the record
    // Announce first: from here on try_acquire will not barge, and the granter may look for us.
    // The word counts the waiters of every lane, so a fast-path caller of any lane stays out
    // while anyone waits: one of a higher lane queues in it and is served first.
    if (!s.adm.announce()) {
      s.tickets.abandon(t.index);
      return Status::kClosed;
    }
    // Queue the record while it is still Preparing: a granter that pops it early treats it as
    // not yet arrived and stops; our kick below starts it again. The push fails only when the
    // ring is full of entries of cancelled tickets behind a blocked front; we then undo the
    // announcement and say so rather than lose the ticket.
    if (!s.granter.push(QueueEntry::make(t.index, t.generation), lane)) {
      s.adm.unannounce();
      s.tickets.abandon(t.index);
      s.stats.count(Event::kQueueFull);
      return Status::kQueueFull;
    }
    s.lane_book.queued(lane);
    s.tickets.publish(t.index);
    if (CW::closed(s.kick(now))) {
      // close() may have scanned before we published: fail the ticket ourselves.
      if (s.tickets.close(t.index)) {
        s.stats.count(Event::kClosedWaiters);
        s.kick(now);
      }
    }
    out = t;
    return Status::kOk;
  }

  // Where a ticket is, as its owner sees it. Wait-free; changes nothing.
  static TicketState state(const P& s, Ticket t) noexcept {
    uint32_t w = 0;
    if (s.tickets.check(t, w) != Status::kOk) return TicketState::kInvalid;
    switch (TicketWord::phase(w)) {
      case TicketPhase::kPreparing:
      case TicketPhase::kWaiting:
        return TicketState::kWaiting;
      case TicketPhase::kGranted:
        return TicketState::kGranted;
      case TicketPhase::kTimedOut:
        return TicketState::kTimedOut;
      case TicketPhase::kClosed:
        return TicketState::kClosed;
      default:
        return TicketState::kInvalid;
    }
  }

  // Claim (cancel false) or cancel (true) a ticket on behalf of its owner.
  static Status resolve(P& s, Ticket t, tick_type now, bool cancel, Permit& out) noexcept {
    out = Permit{};
    uint32_t w = 0;
    const Status st = s.tickets.check(t, w);
    if (st != Status::kOk) return st;
    for (;;) {
      const TicketPhase phase = TicketWord::phase(w);
      // Preparing is never seen by an owner: enqueue returns the ticket after publishing it.
      if (phase == TicketPhase::kPreparing || (phase == TicketPhase::kWaiting && !cancel))
        return Status::kPending;
      const Permit p = phase == TicketPhase::kGranted ? s.tickets.permit(t.index) : Permit{};
      if (!s.tickets.retire(t.index, w)) continue;  // a grant, timeout or close came first
      switch (phase) {
        case TicketPhase::kWaiting:
          s.stats.count(Event::kCancelled);
          s.kick(now);  // let the granter drop the entry, reopening the fast path if it was last
          return Status::kOk;
        case TicketPhase::kGranted:
          if (cancel) return give_back_grant(s, p, now);
          if (!s.slots.is_held(p)) return Status::kReclaimed;
          out = p;
          return Status::kOk;
        case TicketPhase::kTimedOut:
          return Status::kTimedOut;
        case TicketPhase::kClosed:
          return Status::kClosed;
        default:
          return Status::kStaleTicket;
      }
    }
  }

 private:
  // A grant its waiter cancelled: no cooldown, and nothing for the gate to count: the upstream
  // never saw it. A returned probe lets the next one go, so the grant made after it may be it.
  static Status give_back_grant(P& s, Permit p, tick_type now) noexcept {
    s.stats.count(Event::kGrantsReturned);
    Status why = Status::kOk;
    const bool probe = s.episodes.is_probe(p);
    const SlotRelease r = s.slots.release(p, now, 0, 0, why);
    if (probe) s.probe_lost();
    if (r == SlotRelease::kFreed) s.after_free(now);
    return Status::kGrantReturned;
  }
};

}  // namespace slotgate::detail
