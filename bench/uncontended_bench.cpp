// One thread, nobody else: the fast path of every subject, and the physical floor under it
// (two read-modify-writes on one cache line, as an acquire and a release need at least).
#include <benchmark/benchmark.h>
#include <semaphore.h>

#include <atomic>

#include "allocation_probe.hpp"
#include "protocol_floor.hpp"
#include "subjects.hpp"
#include "uncontended_pair_bench.hpp"

namespace bench {
namespace {

using slotgate::Permit;
using slotgate::Status;

void floor_fetch_add_pair(benchmark::State& state) {
  alignas(64) std::atomic<uint64_t> word{0};
  for (auto _ : state) {
    word.fetch_add(1, std::memory_order_acq_rel);
    word.fetch_sub(1, std::memory_order_acq_rel);
  }
  benchmark::DoNotOptimize(word.load());
}
BENCHMARK(floor_fetch_add_pair)->Name("floor/fetch_add_pair");

void floor_cas_pair(benchmark::State& state) {
  alignas(64) std::atomic<uint64_t> word{0};
  for (auto _ : state) {
    uint64_t v = word.load(std::memory_order_relaxed);
    while (!word.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) {
    }
    v = word.load(std::memory_order_relaxed);
    while (!word.compare_exchange_weak(v, v - 1, std::memory_order_acq_rel)) {
    }
  }
  benchmark::DoNotOptimize(word.load());
}
BENCHMARK(floor_cas_pair)->Name("floor/cas_pair");

// The least a semaphore that refuses a stale release can do: the acquire reads the word and
// takes it with a CAS (as std::counting_semaphore's does); the release is a CAS too, from the
// value its handle names (no read first), because a blind fetch_add, which is all
// std::counting_semaphore's release is, cannot refuse a handle that is no longer current.
// Stamped: the permit also remembers when it was granted (what a lease limit and the learned
// lags read): one store between the two CASes, which the release's CAS must wait for.
template <bool Stamped>
void floor_checked(benchmark::State& state) {
  alignas(64) std::atomic<uint64_t> word{0};
  std::atomic<uint64_t> granted_at{0};
  uint64_t now = 0;
  for (auto _ : state) {
    uint64_t v = word.load(std::memory_order_relaxed);
    while (!word.compare_exchange_weak(v, v + 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
    }
    if (Stamped) granted_at.store(++now, std::memory_order_relaxed);
    uint64_t held = v + 1;
    if (!word.compare_exchange_strong(held, v + 2, std::memory_order_release,
                                      std::memory_order_relaxed))
      state.SkipWithError("stale");
  }
  benchmark::DoNotOptimize(word.load());
  benchmark::DoNotOptimize(granted_at.load());
}
BENCHMARK_TEMPLATE(floor_checked, false)->Name("floor/checked_pair");
BENCHMARK_TEMPLATE(floor_checked, true)->Name("floor/stamped_pair");

// Every step slotgate's fast path takes for what its permits promise, and nothing else
// (protocol_floor.hpp): what slotgate/try_acquire_release would cost with no policy on the
// path at all.
void floor_protocol_pair(benchmark::State& state) {
  ProtocolFloor f;
  uint64_t now = 0;
  for (auto _ : state) {
    ProtocolFloor::Permit p;
    if (!f.acquire(++now, p) || !f.release(p, now)) state.SkipWithError("refused");
  }
  benchmark::DoNotOptimize(f.kicks());
}
BENCHMARK(floor_protocol_pair)->Name("floor/protocol_pair");

// On the posix port, which can take a usage source: the gate's checks are on the path even
// with no source attached.
BENCHMARK(posix_try_acquire_release<slotgate::posix::Port>)->Name("slotgate/try_acquire_release");

// With a cooldown the released slot cools; time moves one tick per operation and the cooldown
// is as long as the limit, so every acquire also frees the slot that cooled longest ago: the
// whole cycle is paid inside the loop.
void slotgate_try_acquire_release_cooldown(benchmark::State& state) {
  SimPort port(0);
  SimLimiter lim(port);
  SimLimiter::config_type c;
  c.limit = 8;
  c.cooldown = 8;
  lim.configure(c);
  uint64_t now = 0;
  AllocationProbe probe(state);
  for (auto _ : state) {
    Permit p;
    if (lim.try_acquire(now, p) != Status::kOk) state.SkipWithError("refused");
    lim.release(p, now);
    ++now;
  }
}
BENCHMARK(slotgate_try_acquire_release_cooldown)->Name("slotgate/try_acquire_release_cooldown");

// With a fresh usage reading every grant also spends the gate's budget; the budget is
// recomputed (a governor run) whenever it runs out, every few grants.
void slotgate_try_acquire_release_gated(benchmark::State& state) {
  SimPort port(0);
  SimLimiter lim(port);
  SimLimiter::config_type c;
  c.limit = 8;
  c.gate.max_age = ~uint64_t(0) >> 2;
  lim.configure(c);
  port.set_usage(0, 0);
  uint64_t now = 1;
  lim.poll(now);
  if (lim.snapshot().gate_open) state.SkipWithError("gate not engaged");
  AllocationProbe probe(state);
  for (auto _ : state) {
    Permit p;
    if (lim.try_acquire(now, p) != Status::kOk) state.SkipWithError("refused");
    lim.release(p, now);
    ++now;
  }
}
BENCHMARK(slotgate_try_acquire_release_gated)->Name("slotgate/try_acquire_release_gated");

void mutex_condvar_try_acquire_release(benchmark::State& state) {
  MutexCondvarSemaphore sem(4);
  for (auto _ : state) {
    if (!sem.try_acquire()) state.SkipWithError("refused");
    sem.release();
  }
}
BENCHMARK(mutex_condvar_try_acquire_release)->Name("mutex_condvar_semaphore/try_acquire_release");

void posix_sem_try_acquire_release(benchmark::State& state) {
  sem_t sem;
  sem_init(&sem, 0, 4);
  for (auto _ : state) {
    if (sem_trywait(&sem) != 0) state.SkipWithError("refused");
    sem_post(&sem);
  }
  sem_destroy(&sem);
}
BENCHMARK(posix_sem_try_acquire_release)->Name("posix_sem/try_acquire_release");

}  // namespace
}  // namespace bench
