// UsageCell: one optional usage reading, written by one thread, read by any without waiting.
//
// A seqlock without fences: the version is odd while a write is under way. Readers retry only
// while a write is under way (a few stores), so read() is lock-free; write() is wait-free.
// Ports use it to cache the latest reading of their usage source.
#pragma once

#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/usage.hpp"

namespace slotgate {

template <class Tick, class Atomics = StdAtomics>
class UsageCell {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;

 public:
  // Publish a reading (valid) or "no reading". One writer at a time. Wait-free.
  void write(bool valid, uint32_t sessions, Tick at) noexcept {
    const uint32_t v = version_.load(std::memory_order_relaxed);  // one writer
    version_.store(v + 1, std::memory_order_relaxed);  // ordered by the release stores below
    // release x3: pair with read()'s acquire loads.
    valid_.store(valid, std::memory_order_release);
    sessions_.store(sessions, std::memory_order_release);
    at_.store(at, std::memory_order_release);
    version_.store(v + 2, std::memory_order_release);  // pairs with read()'s first load
  }

  // Changes with every write; odd while one is under way. Wait-free, interrupt-safe.
  uint32_t version() const noexcept {
    // acquire: pairs with write's last store. Not shown weakened: callers compare the number,
    // and the reading itself comes through read()'s own acquires.
    return version_.load(std::memory_order_acquire);
  }

  // The latest reading, or false for none. Lock-free, interrupt-safe if the writer is not
  // interrupted by the reader (an ISR reading a cell its own thread writes would spin).
  bool read(UsageReading<Tick>& out) const noexcept {
    for (;;) {
      const uint32_t v1 = version_.load(std::memory_order_acquire);  // pairs with write's last
      if (v1 & 1u) continue;
      // acquire x3: a value from the next write carries its odd version with it, so the
      // re-check below sees that version and we retry.
      const bool valid = valid_.load(std::memory_order_acquire);
      UsageReading<Tick> r;
      r.sessions = sessions_.load(std::memory_order_acquire);
      r.sampled_at = at_.load(std::memory_order_acquire);
      if (version_.load(std::memory_order_relaxed) != v1) continue;  // ordered by the acquires
      if (valid) out = r;
      return valid;
    }
  }

 private:
  atomic<uint32_t> version_{0};
  atomic<bool> valid_{false};
  atomic<uint32_t> sessions_{0};
  atomic<Tick> at_{0};
};

}  // namespace slotgate
