// The MaxWaiters ticket records behind tickets.
//
// A record's state word packs a phase, a generation and a `timed` flag:
//
//   Free --allocate--> Preparing --publish--> Waiting --granter--> Granted --claim--> Free
//                          |                     |
//                          +--abandon--> Free    +--cancel--> Free
//                                                +--poll----> TimedOut --claim/cancel--> Free
//                                                +--close---> Closed   --claim/cancel--> Free
//
// Waiting is left by exactly one CAS, so a cancel, a timeout, a close and a grant racing for
// the same ticket have one winner. A cancelled record is free at once: the wait queue holds
// (index, generation) entries, and the granter skips any entry whose record has moved on.
// Only the thread holding the grant token grants, so the permit fields are written by one
// thread, before the CAS that publishes them.
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
  kTimedOut = 4,
  kClosed = 5
};

struct TicketWord {
  static constexpr uint32_t kPhaseMask = 0x7;
  static constexpr uint32_t kTimed = 1u << 3;
  static constexpr unsigned kGenShift = 4;
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
  static constexpr uint32_t free(uint32_t w) noexcept {
    return make(gen(w), TicketPhase::kFree, 0);
  }
  static constexpr uint32_t next_gen(uint32_t g) noexcept {
    const uint32_t n = (g + 1) & kGenMask;
    return n == 0 ? 1 : n;  // 0 is never issued
  }
};

// A wait-queue entry: the record index and the low 16 bits of the ticket's generation. An
// entry can only be mistaken for a newer ticket of the same record after 65536 newer entries of
// that record, more than the queue holds (see the capacity check in the limiter).
struct QueueEntry {
  static constexpr uint32_t make(uint32_t idx, uint32_t gen) noexcept {
    return ((gen & 0xFFFFu) << 16) | idx;
  }
  static constexpr uint32_t index(uint32_t e) noexcept { return e & 0xFFFFu; }
  static constexpr bool matches(uint32_t e, uint32_t word) noexcept {
    return (e >> 16) == (TicketWord::gen(word) & 0xFFFFu);
  }
};

template <class Atomics, class Tick, size_t MaxWaiters>
class TicketTable {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  using Tk = Ticks<Tick>;
  using W = TicketWord;
  static_assert(MaxWaiters < 0xFFFF, "record indices must fit a queue entry");

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
      const uint32_t flags = deadline.set ? W::kTimed : 0u;
      // acquire: pairs with the release that freed the record (retire, abandon), ordering its
      // last use before ours: our deadline write after the last owner's (write order: Relacy
      // cannot show it, its modification order being the order of execution; tests/genmc does).
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

  // Preparing -> Waiting: the ticket is queued and may be granted, timed out or closed.
  void publish(uint32_t idx) noexcept {
    Record& r = records_[idx];
    const uint32_t w = r.word.load(std::memory_order_relaxed);  // relaxed: ours while Preparing
    // release: pairs with acquire loads in the granter, poll and close: publishes the deadline.
    r.word.store(W::with_phase(w, TicketPhase::kWaiting), std::memory_order_release);
  }

  // Give back a Preparing record that never entered the queue. Its generation goes back too,
  // so only queued tickets advance it (which is what bounds QueueEntry's 16-bit tag).
  void abandon(uint32_t idx) noexcept {
    Record& r = records_[idx];
    const uint32_t w = r.word.load(std::memory_order_relaxed);  // relaxed: ours while Preparing
    uint32_t g = (W::gen(w) - 1) & W::kGenMask;
    // release: pairs with the acquire of the next allocate (write order: Relacy cannot
    // show it; tests/genmc does).
    r.word.store(W::make(g, TicketPhase::kFree, 0), std::memory_order_release);
  }

  // The granter's look at a queued record: it reads nothing else of the record, and its grant
  // CAS re-checks the word.
  uint32_t word(uint32_t idx) const noexcept {
    return records_[idx].word.load(std::memory_order_relaxed);  // relaxed: as above
  }

  // Granter only. Waiting(w) -> Granted with permit p. False if the waiter left first.
  bool grant(uint32_t idx, uint32_t w, Permit p) noexcept {
    Record& r = records_[idx];
    // relaxed x2: only the token holder writes these, and only before the release CAS below.
    r.permit_slot.store(p.slot, std::memory_order_relaxed);
    r.permit_gen.store(p.generation, std::memory_order_relaxed);
    // release: pairs with the owner's acquire in check(), publishing the permit fields.
    return r.word.compare_exchange_strong(w, W::with_phase(w, TicketPhase::kGranted),
                                          std::memory_order_release, std::memory_order_relaxed);
  }

  // Waiting -> TimedOut if the deadline has passed. Lock-free.
  bool expire(uint32_t idx, Tick now) noexcept {
    Record& r = records_[idx];
    // acquire: pairs with publish's release, so the deadline read below is this ticket's.
    uint32_t w = r.word.load(std::memory_order_acquire);
    if (W::phase(w) != TicketPhase::kWaiting || (w & W::kTimed) == 0) return false;
    if (!Tk::reached(r.deadline.load(std::memory_order_relaxed), now)) return false;
    // relaxed: TimedOut publishes nothing (we wrote nothing to the record), and the owner who
    // reads it reads nothing else.
    return r.word.compare_exchange_strong(w, W::with_phase(w, TicketPhase::kTimedOut),
                                          std::memory_order_relaxed, std::memory_order_relaxed);
  }

  // Waiting -> Closed. Lock-free.
  bool close(uint32_t idx) noexcept {
    Record& r = records_[idx];
    uint32_t w = r.word.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    while (W::phase(w) == TicketPhase::kWaiting) {
      // relaxed: as for expire, Closed publishes nothing.
      if (r.word.compare_exchange_weak(w, W::with_phase(w, TicketPhase::kClosed),
                                       std::memory_order_relaxed, std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  // The earliest deadline after `now` of a waiting ticket. Wait-free.
  Deadline<Tick> next_deadline(Tick now) const noexcept {
    Deadline<Tick> d;
    for (size_t i = 0; i < MaxWaiters; ++i) {
      // acquire: pairs with publish's release, so the deadline belongs to this ticket.
      const uint32_t w = records_[i].word.load(std::memory_order_acquire);
      if (W::phase(w) == TicketPhase::kWaiting && (w & W::kTimed) != 0)
        d.merge_after(records_[i].deadline.load(std::memory_order_relaxed), now);
    }
    return d;
  }

  // Records in use. Wait-free; a statistic.
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
  Status check(Ticket t, uint32_t& w) const noexcept {
    if (!t.valid() || t.index >= MaxWaiters) return Status::kInvalidTicket;
    // acquire: pairs with the release of whoever set the phase we are about to act on.
    w = records_[t.index].word.load(std::memory_order_acquire);
    if (W::gen(w) != t.generation || W::phase(w) == TicketPhase::kFree) return Status::kStaleTicket;
    return Status::kOk;
  }

  // The owner ends the ticket in state `w` (expected): the record is Free again. False if the
  // word changed first (w is then reloaded).
  bool retire(uint32_t idx, uint32_t& w) noexcept {
    // acq_rel: release ends our use of the record (our reads of its permit) before its next
    // owner's (pairs with allocate's acquire; without it a read could see a later write: load
    // buffering: Relacy cannot show it, never producing it; tests/genmc does). The acquire
    // half does nothing on success (check() acquired the word this replaces) but is needed for
    // the failure order: a failure order may be no stronger than the success order, and the
    // reloaded w is acted on like check()'s (a Granted one makes us read the permit; pairs
    // with grant's release: tests/genmc/cancel_meets_grant breaks without the acquire).
    return records_[idx].word.compare_exchange_strong(w, W::free(w), std::memory_order_acq_rel,
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
