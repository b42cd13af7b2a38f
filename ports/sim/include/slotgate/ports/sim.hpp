// The `sim` port: a virtual clock for tests and the simulator.
//
// Time moves only when the owner says so, so every scenario is exact and repeatable; the tick
// width is a template parameter, so tests can run a 32-bit clock that starts just below its
// wraparound and crosses it. notify() only counts (nobody sleeps on a virtual clock).
#pragma once

#include <stdint.h>

#include <atomic>

#include "slotgate/atomics.hpp"

namespace slotgate::sim {

template <class Tick = uint64_t, class Word = uint64_t, class Atomics = StdAtomics>
class Port {
 public:
  using tick_type = Tick;
  using word_type = Word;
  using counter_type = Word;
  using atomics = Atomics;

  explicit Port(Tick start = 0) noexcept : now_(start) {}

  // The virtual time. Wait-free, interrupt-safe.
  Tick now() const noexcept { return now_.load(std::memory_order_acquire); }
  // Move time on by d ticks (wrapping like the real counter). Wait-free.
  void advance(Tick d) noexcept { now_.fetch_add(d, std::memory_order_acq_rel); }
  // Set the time (it may go backwards, to test how the core copes). Wait-free.
  void set(Tick t) noexcept { now_.store(t, std::memory_order_release); }

  // Counts the wake-ups the core asked for. Wait-free, interrupt-safe.
  void notify() noexcept { notifications_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t notifications() const noexcept { return notifications_.load(std::memory_order_relaxed); }

 private:
  // acquire/release on now_: a thread that reads a time sees what was done before it was set.
  std::atomic<Tick> now_;
  std::atomic<uint64_t> notifications_{0};  // relaxed: a statistic
};

}  // namespace slotgate::sim
