// The granter: grants queued waiters in order, the wait queues' one consumer (one queue per
// lane; with lanes, the host's lane book says which lane's front goes next: detail/lane_book.hpp).
//
// It runs only while holding the grant token (a flag in the control word, detail/admission.hpp).
// A thread that frees a slot or queues a waiter takes the token and runs it, or, finding it
// taken, leaves a pending request that the holder serves before letting go: no wake-up is
// lost, and a preempted holder delays queued grants only, never the fast path or any call's
// return. Before each decision it has its host take a fresh look at the upstream (govern), so
// the gate's budget and the effective limit are current.
//
// A queue entry names a ticket record and its generation. The front entry stays put while the
// front waiter cannot be granted; one whose ticket was cancelled, timed out or closed is
// dropped. Waiters granted are woken once the token is let go: a wake-up can be a system call
// (or get the granter preempted), and while it holds the token no other release can grant.
//
// The host (the limiter) supplies: govern(now); take_for_queue(now, probe, permit) (a slot for
// the front waiter, if admission allows); give_back of a slot record; the ticket
// table; wake_waiter(idx); after_grants(); its Admission; and its lane book.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/detail/ticket_table.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/ring.hpp"
#include "slotgate/status.hpp"

namespace slotgate::detail {

template <class Atomics, size_t QueueCapacity, size_t Lanes = 1>
class Granter {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  static constexpr uint32_t kNoFront = 0xFFFFFFFFu;

 public:
  Granter() noexcept {
    for (auto& f : front_) f.store(kNoFront, std::memory_order_relaxed);
  }

  // Queue an entry (QueueEntry::make) in a lane. False when the lane's ring is full of entries
  // of cancelled tickets behind a blocked front. Lock-free, any thread.
  bool push(uint32_t entry, uint32_t lane = 0) noexcept {
    return fifo_[Lanes == 1 ? 0 : lane].try_push(entry);
  }

  // The entry at the front of a lane (kNoFront: none taken off its ring yet). relaxed: a
  // statistic's look; the caller checks the record it names.
  uint32_t front(uint32_t lane) const noexcept {
    return front_[lane].load(std::memory_order_relaxed);
  }
  static constexpr uint32_t no_front() noexcept { return kNoFront; }
  // Entries of a lane not yet taken off its queue: in its ring, and its front. Exact when
  // nothing runs meanwhile; a statistic otherwise. Wait-free.
  uint32_t waiting(uint32_t lane) const noexcept {
    return static_cast<uint32_t>(fifo_[lane].size_approx()) + (front(lane) != kNoFront ? 1 : 0);
  }

  // One run, by the token holder: grant the front waiter the host's lane book picks (with one
  // lane, the front) while admission allows, then let the token go (or run again if asked
  // meanwhile).
  template <class Host, class Tick>
  void run(Host& host, Tick now) noexcept {
    host.govern(now);
    WakeList woken;
    for (;;) {
      uint32_t idx[Lanes];
      uint32_t word[Lanes];
      const uint32_t live = fronts(host, idx, word);
      // With lanes, a run that lasts while others keep asking for more ages its waiters at the
      // freshest time a poll has seen, read after the fronts were taken: a waiter granted
      // here is judged no earlier than any poll made before it queued. (One lane has no age.)
      if constexpr (Lanes > 1) now = host.newest(now);
      if (live == 0) {  // no waiter, or the front ones not yet arrived (their enqueue kicks us)
        if (host.admission().finish()) break;
        host.govern(now);
        continue;
      }
      const uint32_t lane = host.lanes().pick(live, idx, now);
      bool probe = false;
      Permit p;
      if (host.take_for_queue(now, probe, p) != Status::kOk) {
        if (host.admission().finish()) break;
        host.govern(now);
        continue;
      }
      if (host.grant(idx[lane], word[lane], p)) {
        drop_front(host, lane);
        host.lanes().granted(lane);
        if (!woken.add(idx[lane])) host.wake_waiter(idx[lane]);  // full: wake this one now
        continue;
      }
      // The waiter left between our look and our grant: give the slot straight back. The next
      // pass drops the entry.
      host.give_back(p, probe);
    }
    for (uint32_t i = 0; i < woken.n; ++i) host.wake_waiter(woken.idx[i]);
    // (The list is empty exactly when nothing was granted: a full one keeps its eight.)
    if (woken.n != 0) host.after_grants();
  }

 private:
  // Bring each lane's front up to a live waiter: take an entry off the lane's ring when it has
  // none, drop one whose ticket was cancelled, timed out or closed. Returns the lanes whose
  // front waiter can be granted (bit l), with its record and word in idx[l] and word[l]. A
  // front still Preparing is not counted: its enqueue kicks us once it is published.
  template <class Host>
  __attribute__((always_inline)) uint32_t fronts(Host& host, uint32_t* idx,
                                                 uint32_t* word) noexcept {
    uint32_t live = 0;
    for (uint32_t lane = 0; lane < Lanes; ++lane) {
      for (;;) {
        // relaxed: front_ is only written by the token holder; the token's acq_rel orders it.
        uint32_t entry = front_[lane].load(std::memory_order_relaxed);
        if (entry == kNoFront) {
          if (!fifo_[lane].try_pop(entry)) break;
          front_[lane].store(entry, std::memory_order_relaxed);
        }
        idx[lane] = QueueEntry::index(entry);
        word[lane] = host.ticket_table().word(idx[lane]);
        const TicketPhase phase = TicketWord::phase(word[lane]);
        const bool ours = QueueEntry::matches(entry, word[lane]);
        if (ours && phase == TicketPhase::kPreparing) break;
        if (ours && phase == TicketPhase::kWaiting) {
          live |= 1u << lane;
          break;
        }
        drop_front(host, lane);  // cancelled, timed out or closed
      }
    }
    return live;
  }

  template <class Host>
  void drop_front(Host& host, uint32_t lane) noexcept {
    front_[lane].store(kNoFront, std::memory_order_relaxed);  // relaxed: as in fronts()
    host.admission().dequeued();
  }

  // Tickets granted by one run, woken after it lets the token go. A late wake-up is harmless:
  // an owner that already claimed, or a later ticket of the same record, looks at its ticket
  // again and sleeps on.
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

  atomic<uint32_t> front_[Lanes];
  Ring<uint32_t, QueueCapacity, Atomics> fifo_[Lanes];
};

}  // namespace slotgate::detail
