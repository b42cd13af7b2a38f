// A duration learned from evidence: samples that are each a lower bound on the true value seen
// at some moment (a session still counted this long after it ended, a session not yet counted
// this long after it began). The estimate is the largest sample within `memory`, clamped to a
// ceiling: samples fall short of the truth by a random amount, so their maximum over a long
// window is a high quantile of the truth, and letting old ones go lets a lag that shrank be
// unlearned.
//
// Bounded memory: the window is kept as kBuckets buckets of memory / kBuckets each, holding
// their largest sample, so it forgets in steps of one bucket. memory 0 keeps everything.
//
// One writer (the grant-token holder); readers anywhere read the published estimate and the
// counters. No allocation; every call is wait-free.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/detail/heartbeat.hpp"
#include "slotgate/ticks.hpp"

namespace slotgate::detail {

template <class Atomics, class Tick, class Counter>
class LearnedDuration {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  using Tk = Ticks<Tick>;

 public:
  static constexpr uint32_t kBuckets = 8;

  LearnedDuration() noexcept {
    for (uint32_t i = 0; i < kBuckets; ++i) {
      max_[i].store(0, std::memory_order_relaxed);
      start_[i].store(0, std::memory_order_relaxed);
      count_[i].store(0, std::memory_order_relaxed);
    }
  }

  // Writer only: a sample `value` observed at `now`. Values above `ceiling` are clamped to it
  // (evidence of "at least this much" past the ceiling is the ceiling).
  void add(Tick value, Tick now, Tick ceiling, Tick memory) noexcept {
    if (ceiling < value) value = ceiling;
    // relaxed throughout: one writer; readers take the published estimate on its own.
    const uint32_t used = used_.load(std::memory_order_relaxed);
    uint32_t cur = current_.load(std::memory_order_relaxed);
    const Tick span = memory / kBuckets;
    if (used == 0 || (memory != 0 &&
                      Tk::reached(Tick(start_[cur].load(std::memory_order_relaxed) + span), now))) {
      cur = used == 0 ? 0 : (cur + 1) % kBuckets;
      start_[cur].store(now, std::memory_order_relaxed);
      max_[cur].store(value, std::memory_order_relaxed);
      count_[cur].store(0, std::memory_order_relaxed);
      current_.store(cur, std::memory_order_relaxed);
      if (used < kBuckets) used_.store(used + 1, std::memory_order_relaxed);
    } else if (max_[cur].load(std::memory_order_relaxed) < value) {
      max_[cur].store(value, std::memory_order_relaxed);
    }
    count_[cur].store(count_[cur].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    samples_.store(samples_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    refresh(now, memory);
  }

  // Writer only: forget buckets wholly older than `memory` and republish the estimate.
  void refresh(Tick now, Tick memory) noexcept {
    Tick best = 0;
    uint32_t n = 0;
    const Tick span = memory / kBuckets;
    // relaxed throughout: one writer.
    const uint32_t used = used_.load(std::memory_order_relaxed);
    for (uint32_t i = 0; i < used; ++i) {
      const Tick newest = Tick(start_[i].load(std::memory_order_relaxed) + span);
      if (memory != 0 && Tk::before(Tick(newest + memory), now)) continue;
      const Tick v = max_[i].load(std::memory_order_relaxed);
      if (best < v) best = v;
      n += count_[i].load(std::memory_order_relaxed);
    }
    estimate_.store(best, std::memory_order_relaxed);
    remembered_.store(n, std::memory_order_relaxed);
  }

  // Writer only: the heartbeat's pass over the buckets' starts (detail/heartbeat.hpp).
  void keep_in_range(Tick now) noexcept {
    for (auto& t : start_) Heartbeat<Tick>::keep(t, now);
  }

  // The published estimate (0 without evidence). Wait-free; any thread.
  Tick estimate() const noexcept {
    return estimate_.load(std::memory_order_relaxed);  // relaxed: a value read on its own
  }
  // Samples within memory at the last refresh. Wait-free; any thread.
  uint32_t remembered() const noexcept { return remembered_.load(std::memory_order_relaxed); }
  // Samples taken so far. Wait-free; any thread; a statistic.
  Counter samples() const noexcept { return samples_.load(std::memory_order_relaxed); }

 private:
  atomic<Tick> max_[kBuckets];
  atomic<Tick> start_[kBuckets];
  atomic<uint32_t> count_[kBuckets];
  atomic<uint32_t> remembered_{0};
  atomic<uint32_t> current_{0}, used_{0};
  atomic<Tick> estimate_{0};
  atomic<Counter> samples_{0};
};

}  // namespace slotgate::detail
