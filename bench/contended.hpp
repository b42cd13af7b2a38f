// Shared drivers for the multi-threaded benchmarks.
//
// contended: every thread loops acquire -> release on a limit smaller than the thread count
//   (threads / 2), reporting throughput and the p99 latency of an acquire+release pair (every
//   16th pair is timed, so the clock does not dominate).
// handoff: one thread is blocked in acquire; another releases; the time from the release to
//   the waiter running again is the iteration's (manual) time.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace bench {

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline int contended_limit(const benchmark::State& state) {
  return std::max(1, state.threads() / 2);
}

template <class Acquire, class Release>
void run_contended(benchmark::State& state, Acquire acquire, Release release) {
  std::vector<int64_t> samples;
  samples.reserve(1 << 16);
  uint64_t n = 0;
  for (auto _ : state) {
    const bool timed = (n++ & 15) == 0 && samples.size() < samples.capacity();
    const int64_t t0 = timed ? now_ns() : 0;
    acquire();
    release();
    if (timed) samples.push_back(now_ns() - t0);
  }
  double p99 = 0;
  if (!samples.empty()) {
    const size_t k = samples.size() * 99 / 100;
    std::nth_element(samples.begin(), samples.begin() + long(k), samples.end());
    p99 = double(samples[k]);
  }
  state.counters["p99_ns"] = benchmark::Counter(p99, benchmark::Counter::kAvgThreads);
  state.SetItemsProcessed(int64_t(state.iterations()));
}

// `acquire` blocks the waiter thread; `release` (from the benchmark thread) wakes it.
// `prepare` runs on the benchmark thread before each round (to take the slot it will release).
template <class Acquire, class Release, class Prepare>
void run_handoff(benchmark::State& state, Acquire acquire, Release release, Prepare prepare) {
  std::atomic<int> go{0}, blocking{0}, done{0};
  std::atomic<bool> stop{false};
  std::atomic<int64_t> woke_at{0};
  std::thread waiter([&] {
    for (;;) {
      while (go.load(std::memory_order_acquire) == 0) std::this_thread::yield();
      go.store(0, std::memory_order_relaxed);
      if (stop.load(std::memory_order_acquire)) return;
      blocking.store(1, std::memory_order_release);
      acquire();
      woke_at.store(now_ns(), std::memory_order_relaxed);
      done.store(1, std::memory_order_release);
    }
  });
  for (auto _ : state) {
    prepare();
    go.store(1, std::memory_order_release);
    while (blocking.load(std::memory_order_acquire) == 0) std::this_thread::yield();
    blocking.store(0, std::memory_order_relaxed);
    // Let the waiter get all the way into its blocking wait before we release.
    const int64_t settle = now_ns() + 200000;
    while (now_ns() < settle) {
    }
    const int64_t t0 = now_ns();
    release();
    while (done.load(std::memory_order_acquire) == 0) std::this_thread::yield();
    done.store(0, std::memory_order_relaxed);
    state.SetIterationTime(double(woke_at.load(std::memory_order_relaxed) - t0) * 1e-9);
  }
  stop.store(true, std::memory_order_release);
  go.store(1, std::memory_order_release);
  waiter.join();
}

}  // namespace bench

namespace bench {
template <class Acquire, class Release>
void run_handoff(benchmark::State& state, Acquire acquire, Release release) {
  run_handoff(state, acquire, release, [] {});
}
}  // namespace bench
