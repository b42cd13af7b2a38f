// The granter: grants queued waiters in FIFO order, the wait queue's one consumer.
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
// table; wake_waiter(idx); after_grants(); and its Admission.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/detail/ticket_table.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/ring.hpp"
#include "slotgate/status.hpp"

namespace slotgate::detail {

template <class Atomics, size_t QueueCapacity>
class Granter {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  static constexpr uint32_t kNoFront = 0xFFFFFFFFu;

 public:
  Granter() noexcept { front_.store(kNoFront, std::memory_order_relaxed); }

  // Queue an entry (QueueEntry::make). False when the ring is full of entries of cancelled
  // tickets behind a blocked front. Lock-free, any thread.
  bool push(uint32_t entry) noexcept { return fifo_.try_push(entry); }

  // One run, by the token holder: grant from the front while admission allows, then let the
  // token go (or run again if asked meanwhile).
  template <class Host, class Tick>
  void run(Host& host, Tick now) noexcept {
    host.govern(now);
    WakeList woken;
    for (;;) {
      // relaxed: front_ is only touched by the token holder; the token's acq_rel orders it.
      uint32_t entry = front_.load(std::memory_order_relaxed);
      if (entry == kNoFront) {
        if (!fifo_.try_pop(entry)) {
          if (host.admission().finish()) break;
          host.govern(now);
          continue;
        }
        front_.store(entry, std::memory_order_relaxed);
      }
      const uint32_t idx = QueueEntry::index(entry);
      const uint32_t w = host.ticket_table().word(idx);
      const TicketPhase phase = TicketWord::phase(w);
      const bool ours = QueueEntry::matches(entry, w);
      if (ours && phase == TicketPhase::kPreparing) {  // its enqueue kicks us once published
        if (host.admission().finish()) break;
        host.govern(now);
        continue;
      }
      if (!ours || phase != TicketPhase::kWaiting) {  // cancelled, timed out or closed
        front_.store(kNoFront, std::memory_order_relaxed);
        host.admission().dequeued();
        continue;
      }
      bool probe = false;
      Permit p;
      if (host.take_for_queue(now, probe, p) != Status::kOk) {
        if (host.admission().finish()) break;
        host.govern(now);
        continue;
      }
      if (host.grant(idx, w, p)) {
        front_.store(kNoFront, std::memory_order_relaxed);
        host.admission().dequeued();
        if (!woken.add(idx)) host.wake_waiter(idx);  // the list is full: wake this one now
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

  atomic<uint32_t> front_;
  Ring<uint32_t, QueueCapacity, Atomics> fifo_;
};

}  // namespace slotgate::detail
