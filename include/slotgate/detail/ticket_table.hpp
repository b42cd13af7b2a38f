// The MaxWaiters ticket records behind tickets.
//
// A record's state word packs a phase, a generation and three flags:
//   owned    the caller still holds the ticket (cleared by claim or cancel)
//   in_fifo  the wait queue still holds the record's index (cleared by the granter)
//   timed    the ticket has a deadline
// The record returns to Free when both owned and in_fifo are clear, whoever clears the second.
//
//   Free --allocate--> Preparing --publish--> Waiting --granter--> Granted --claim--> Free
//                                                |
//                                                +--cancel--> Cancelled  (owner gone)
//                                                +--poll----> TimedOut   (owner must resolve)
//                                                +--close---> Closed     (owner must resolve)
//
// Waiting is left by exactly one CAS, so a cancel, a timeout, a close and a grant racing for
// the same ticket have one winner. Only the thread holding the grant token grants, so the
// permit fields are written by one thread, before the CAS that publishes them.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/status.hpp"
#include "slotgate/ticks.hpp"

namespace slotgate::detail {

enum class TicketPhase : uint32_t {
  kFree = 0,
  kPreparing = 1,
  kWaiting = 2,
  kGranted = 3,
  kCancelled = 4,
  kTimedOut = 5,
  kClosed = 6
};

struct TicketWord {
  static constexpr uint32_t kPhaseMask = 0x7;
  static constexpr uint32_t kTimed = 1u << 3;
  static constexpr uint32_t kOwned = 1u << 4;
  static constexpr uint32_t kInFifo = 1u << 5;
  static constexpr unsigned kGenShift = 6;
  static constexpr uint32_t kGenMask = 0xFFFFFFFFu >> kGenShift;

  static constexpr uint32_t gen(uint32_t w) noexcept { return w >> kGenShift; }
  static constexpr TicketPhase phase(uint32_t w) noexcept {
    return static_cast<TicketPhase>(w & kPhaseMask);
  }
  static constexpr uint32_t with_phase(uint32_t w, TicketPhase p) noexcept {
    return (w & ~kPhaseMask) | static_cast<uint32_t>(p);
  }
  static constexpr uint32_t make(uint32_t gen, TicketPhase p, uint32_t flags) noexcept {
    return (gen << kGenShift) | flags | static_cast<uint32_t>(p);
  }
  static constexpr uint32_t next_gen(uint32_t g) noexcept {
    const uint32_t n = (g + 1) & kGenMask;
    return n == 0 ? 1 : n;
  }
  // A record with neither owner nor queue entry is Free (its generation kept for the next one).
  static constexpr uint32_t settle(uint32_t w) noexcept {
    return (w & (kOwned | kInFifo)) == 0 ? make(gen(w), TicketPhase::kFree, 0) : w;
  }
};

template <class Atomics, class Tick, size_t MaxWaiters>
class TicketTable {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  using Tk = Ticks<Tick>;
  using W = TicketWord;

 public:
  TicketTable() noexcept {
    for (size_t i = 0; i < MaxWaiters; ++i) {
      records_[i].word.store(W::make(0, TicketPhase::kFree, 0), std::memory_order_relaxed);
      records_[i].deadline.store(0, std::memory_order_relaxed);
      records_[i].permit_slot.store(Permit::kNone, std::memory_order_relaxed);
      records_[i].permit_gen.store(0, std::memory_order_relaxed);
    }
    hint_.store(0, std::memory_order_relaxed);
  }

  // Take a Free record into Preparing. False when every record is in use. Lock-free.
  bool allocate(Deadline<Tick> deadline, Ticket& out) noexcept {
    // relaxed: a starting point for the scan.
    size_t i = hint_.load(std::memory_order_relaxed);
    for (size_t n = 0; n < MaxWaiters; ++n, ++i) {
      if (i >= MaxWaiters) i = 0;
      Record& r = records_[i];
      uint32_t w = r.word.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
      if (W::phase(w) != TicketPhase::kFree) continue;
      const uint32_t gen = W::next_gen(W::gen(w));
      const uint32_t flags = W::kOwned | (deadline.set ? W::kTimed : 0u);
      // acquire: pairs with the release that freed the record, ordering its last use before ours.
      if (!r.word.compare_exchange_strong(w, W::make(gen, TicketPhase::kPreparing, flags),
                                          std::memory_order_acquire, std::memory_order_relaxed))
        continue;
      r.deadline.store(deadline.at, std::memory_order_relaxed);  // relaxed: ours while Preparing
      hint_.store(i + 1, std::memory_order_relaxed);             // relaxed: a hint
      out = Ticket{static_cast<uint32_t>(i), gen};
      return true;
    }
    return false;
  }

  // Preparing -> Waiting, about to enter the queue.
  void publish(uint32_t idx) noexcept {
    Record& r = records_[idx];
    const uint32_t w = r.word.load(std::memory_order_relaxed);  // relaxed: ours while Preparing
    // release: pairs with acquire loads in the granter, poll and close: publishes the deadline.
    r.word.store(W::with_phase(w, TicketPhase::kWaiting) | W::kInFifo, std::memory_order_release);
  }

  // Give a Preparing record back (the enqueue failed before it was queued).
  void abandon(uint32_t idx) noexcept {
    Record& r = records_[idx];
    const uint32_t w = r.word.load(std::memory_order_relaxed);  // relaxed: ours while Preparing
    // release: pairs with the acquire of the next allocate.
    r.word.store(W::make(W::gen(w), TicketPhase::kFree, 0), std::memory_order_release);
  }

  TicketPhase phase(uint32_t idx) const noexcept {
    // acquire: pairs with whichever release set the phase (publish, grant, cancel, expire).
    return W::phase(records_[idx].word.load(std::memory_order_acquire));
  }

  // Granter only. Waiting -> Granted with permit p, leaving the queue. False if the waiter left.
  bool grant(uint32_t idx, Permit p) noexcept {
    Record& r = records_[idx];
    // relaxed x2: only the token holder writes these, and only before the release CAS below.
    r.permit_slot.store(p.slot, std::memory_order_relaxed);
    r.permit_gen.store(p.generation, std::memory_order_relaxed);
    uint32_t w = r.word.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    while (W::phase(w) == TicketPhase::kWaiting) {
      const uint32_t next = W::with_phase(w, TicketPhase::kGranted) & ~W::kInFifo;
      // release: pairs with claim's acquire, publishing the permit fields.
      if (r.word.compare_exchange_weak(w, next, std::memory_order_release,
                                       std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  // Granter only. The record left the queue without a grant (cancelled, timed out, closed).
  void drop_from_fifo(uint32_t idx) noexcept {
    Record& r = records_[idx];
    uint32_t w = r.word.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    // acq_rel: may free the record, so release our last use of it; acquire pairs with the
    // owner's release when it cleared `owned` first.
    while (!r.word.compare_exchange_weak(w, W::settle(w & ~W::kInFifo), std::memory_order_acq_rel,
                                         std::memory_order_relaxed)) {
    }
  }

  // Waiting -> TimedOut if the deadline has passed. Lock-free.
  bool expire(uint32_t idx, Tick now) noexcept {
    Record& r = records_[idx];
    // acquire: pairs with publish's release, so the deadline read below is this ticket's.
    uint32_t w = r.word.load(std::memory_order_acquire);
    if (W::phase(w) != TicketPhase::kWaiting || (w & W::kTimed) == 0) return false;
    if (!Tk::reached(r.deadline.load(std::memory_order_relaxed), now)) return false;
    // release: pairs with the owner's acquire in claim / state.
    return r.word.compare_exchange_strong(w, W::with_phase(w, TicketPhase::kTimedOut),
                                          std::memory_order_release, std::memory_order_relaxed);
  }

  // Waiting -> Closed. Lock-free.
  bool close(uint32_t idx) noexcept {
    Record& r = records_[idx];
    uint32_t w = r.word.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    while (W::phase(w) == TicketPhase::kWaiting) {
      // release: pairs with the owner's acquire in claim / state.
      if (r.word.compare_exchange_weak(w, W::with_phase(w, TicketPhase::kClosed),
                                       std::memory_order_release, std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  // The earliest deadline of a waiting ticket. Wait-free.
  Deadline<Tick> next_deadline() const noexcept {
    Deadline<Tick> d;
    for (size_t i = 0; i < MaxWaiters; ++i) {
      // acquire: pairs with publish's release, so the deadline belongs to this ticket.
      const uint32_t w = records_[i].word.load(std::memory_order_acquire);
      if (W::phase(w) == TicketPhase::kWaiting && (w & W::kTimed) != 0)
        d.merge(records_[i].deadline.load(std::memory_order_relaxed));
    }
    return d;
  }

  uint32_t outstanding() const noexcept {
    uint32_t n = 0;
    for (size_t i = 0; i < MaxWaiters; ++i) {
      // relaxed: a statistic.
      if (W::phase(records_[i].word.load(std::memory_order_relaxed)) != TicketPhase::kFree) ++n;
    }
    return n;
  }

  // ---- owner side ----------------------------------------------------------------------------

  // Validate a ticket: kOk with its current word, or why not.
  Status check(Ticket t, uint32_t& word) const noexcept {
    if (!t.valid() || t.index >= MaxWaiters) return Status::kInvalidTicket;
    // acquire: pairs with the release of whoever set the phase we are about to act on.
    word = records_[t.index].word.load(std::memory_order_acquire);
    if (W::gen(word) != t.generation || (word & W::kOwned) == 0 ||
        W::phase(word) == TicketPhase::kFree)
      return Status::kStaleTicket;
    return Status::kOk;
  }

  // The owner lets go of the record in state `w` (expected); false if the word changed first.
  bool disown(uint32_t idx, uint32_t& w) noexcept {
    // acq_rel: release ends our use of the record; acquire pairs with the granter's release
    // when it left the queue first.
    return records_[idx].word.compare_exchange_strong(
        w, W::settle(w & ~W::kOwned), std::memory_order_acq_rel, std::memory_order_acquire);
  }

  // Waiting -> Cancelled, the owner letting go. False if the word changed first.
  bool cancel(uint32_t idx, uint32_t& w) noexcept {
    const uint32_t next = W::with_phase(w, TicketPhase::kCancelled) & ~W::kOwned;
    // release: pairs with the granter's acquire, which then drops the record from the queue.
    return records_[idx].word.compare_exchange_strong(w, next, std::memory_order_release,
                                                      std::memory_order_acquire);
  }

  // The permit of a Granted record; valid once check() returned a Granted word (its acquire
  // pairs with grant's release).
  Permit permit(uint32_t idx) const noexcept {
    // relaxed x2: ordered by the acquire in check().
    return Permit{records_[idx].permit_slot.load(std::memory_order_relaxed),
                  records_[idx].permit_gen.load(std::memory_order_relaxed)};
  }

 private:
  struct Record {
    atomic<uint32_t> word;
    atomic<Tick> deadline;
    atomic<uint32_t> permit_slot;
    atomic<uint32_t> permit_gen;
  };

  Record records_[MaxWaiters];
  atomic<size_t> hint_;
};

}  // namespace slotgate::detail
