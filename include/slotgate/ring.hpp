// A bounded multi-producer multi-consumer FIFO ring (Dmitry Vyukov's algorithm).
//
// Each cell carries a sequence number that says whose turn it is: a producer at position p may
// fill the cell when its sequence is p, a consumer at p may empty it when its sequence is p + 1,
// and emptying it sets p + Capacity (the producer one lap later). Producers claim positions with
// a CAS on `tail_`, consumers with a CAS on `head_`; the two never write the same line, and
// each sits on its own cache line, apart from the cells.
//
// Guarantees
//   - try_push / try_pop never block, never allocate and never throw: they return false when the
//     ring is full / empty. Lock-free with respect to other producers (or consumers): a CAS
//     fails only because another thread claimed the position.
//   - A thread preempted between claiming a position and publishing (or freeing) its cell makes
//     that one cell look not-yet-ready to the thread one lap behind it, which then reports
//     full / empty rather than wait. Nothing ever spins on another thread, so the ring is safe
//     to use from interrupt handlers.
//   - FIFO per producer; a consumer sees elements in the order their positions were claimed.
//   - T must be trivially copyable; storage is inside the object (Capacity cells).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <type_traits>

#include "slotgate/atomics.hpp"
#include "slotgate/config.hpp"

namespace slotgate {

template <class T, size_t Capacity, class Atomics = StdAtomics>
class Ring {
  static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0,
                "Ring capacity must be a power of two, at least 2");
  static_assert(std::is_trivially_copyable<T>::value, "Ring elements must be trivially copyable");
  using Seq = uintptr_t;
  static_assert(Atomics::template always_lock_free<Seq>, "ring sequence must be lock-free");

 public:
  static constexpr size_t kCapacity = Capacity;

  Ring() noexcept {
    for (size_t i = 0; i < Capacity; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
    head_.store(0, std::memory_order_relaxed);
    tail_.store(0, std::memory_order_relaxed);
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // Append v. False when full. Lock-free, interrupt-safe, no clock.
  bool try_push(const T& v) noexcept {
    // relaxed: the position is only a claim ticket; the cell's sequence orders the data.
    Seq pos = tail_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & kMask];
      // acquire: pairs with the release in try_pop that handed this cell to our lap, so the
      // consumer's read of the old value happens before our write of the new one.
      const Seq seq = cell->seq.load(std::memory_order_acquire);
      const intptr_t dif = static_cast<intptr_t>(seq - pos);
      if (dif == 0) {
        // relaxed: winning the position is all this CAS decides; no data rides on it.
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed,
                                        std::memory_order_relaxed))
          break;
      } else if (dif < 0) {
        return false;  // the cell still holds last lap's element: full
      } else {
        pos = tail_.load(std::memory_order_relaxed);  // relaxed: as above, a fresh claim ticket
      }
    }
    cell->value.store(v);
    // release: pairs with the acquire in try_pop; publishes the value written above.
    cell->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  // Remove the oldest element into out. False when empty. Lock-free, interrupt-safe, no clock.
  bool try_pop(T& out) noexcept {
    // relaxed: the position is only a claim ticket; the cell's sequence orders the data.
    Seq pos = head_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & kMask];
      // acquire: pairs with the release in try_push that published this cell's value.
      const Seq seq = cell->seq.load(std::memory_order_acquire);
      const intptr_t dif = static_cast<intptr_t>(seq - (pos + 1));
      if (dif == 0) {
        // relaxed: winning the position is all this CAS decides; no data rides on it.
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed,
                                        std::memory_order_relaxed))
          break;
      } else if (dif < 0) {
        return false;  // not yet published: empty
      } else {
        pos = head_.load(std::memory_order_relaxed);  // relaxed: a fresh claim ticket
      }
    }
    out = cell->value.load();
    // release: pairs with the acquire in try_push one lap later; our read is done.
    cell->seq.store(pos + Capacity, std::memory_order_release);
    return true;
  }

  // Elements present at some instant during the call; exact when no push or pop runs
  // concurrently. Wait-free, interrupt-safe.
  size_t size_approx() const noexcept {
    // relaxed: an estimate; no data is read through it.
    const Seq tail = tail_.load(std::memory_order_relaxed);
    const Seq head = head_.load(std::memory_order_relaxed);
    const intptr_t n = static_cast<intptr_t>(tail - head);
    return n < 0 ? 0 : (static_cast<size_t>(n) > Capacity ? Capacity : static_cast<size_t>(n));
  }

  static constexpr size_t capacity() noexcept { return Capacity; }

 private:
  static constexpr Seq kMask = Capacity - 1;
  struct Cell {
    typename Atomics::template atomic<Seq> seq;
    typename Atomics::template var<T> value;
  };

  alignas(kCacheLine) typename Atomics::template atomic<Seq> head_;
  alignas(kCacheLine) typename Atomics::template atomic<Seq> tail_;
  alignas(kCacheLine) Cell cells_[Capacity];
};

}  // namespace slotgate
