// std::counting_semaphore (C++20, libstdc++): this one file is built as C++20.
#include <benchmark/benchmark.h>

#include <semaphore>

#include "contended.hpp"

namespace bench {
namespace {

void std_semaphore_try_acquire_release(benchmark::State& state) {
  std::counting_semaphore<64> sem(4);
  for (auto _ : state) {
    if (!sem.try_acquire()) state.SkipWithError("refused");
    sem.release();
  }
}
BENCHMARK(std_semaphore_try_acquire_release)->Name("std_counting_semaphore/try_acquire_release");

std::counting_semaphore<64>* g_sem = nullptr;

void contended_std_semaphore(benchmark::State& state) {
  if (state.thread_index() == 0) {
    delete g_sem;
    g_sem = new std::counting_semaphore<64>(contended_limit(state));
  }
  run_contended(
      state, [] { g_sem->acquire(); }, [] { g_sem->release(); });
}
BENCHMARK(contended_std_semaphore)
    ->Name("contended/std_counting_semaphore")
    ->Threads(2)
    ->Threads(4)
    ->UseRealTime();

void sleepers_std_semaphore(benchmark::State& state) {
  if (state.thread_index() == 0) {
    delete g_sem;
    g_sem = new std::counting_semaphore<64>(1);
  }
  run_contended(
      state, [] { g_sem->acquire(); }, [] { g_sem->release(); });
}
BENCHMARK(sleepers_std_semaphore)
    ->Name("sleepers64/std_counting_semaphore")
    ->Threads(64)
    ->UseRealTime();

void handoff_std_semaphore(benchmark::State& state) {
  std::counting_semaphore<64> sem(0);
  run_handoff(
      state, [&] { sem.acquire(); }, [&] { sem.release(); });
}
BENCHMARK(handoff_std_semaphore)->Name("handoff/std_counting_semaphore")->UseManualTime();

}  // namespace
}  // namespace bench
