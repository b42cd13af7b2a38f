// Many threads (2 and 4, on 2 cores) on a limit smaller than their number, and the hand-off
// from a releasing thread to a blocked one.
#include <benchmark/benchmark.h>

#include <thread>

#include "../tests/support/allocation_hook.hpp"
#include "contended.hpp"
#include "subjects.hpp"

namespace bench {
namespace {

using slotgate::Permit;
using slotgate::Status;

slotgate::posix::Port* g_port = nullptr;
PosixLimiter* g_lim = nullptr;
MutexCondvarSemaphore* g_mc = nullptr;

void make_limiter(int limit) {
  delete g_lim;
  delete g_port;
  g_port = new slotgate::posix::Port;
  g_lim = new PosixLimiter(*g_port);
  PosixLimiter::config_type c;
  c.limit = uint32_t(limit);
  g_lim->configure(c);
}

// The blocking acquire a thread would use (try, then queue and sleep until granted).
void contended_slotgate(benchmark::State& state) {
  if (state.thread_index() == 0) make_limiter(contended_limit(state));
  thread_local Permit p;
  run_contended(
      state, [] { slotgate::posix::acquire(*g_lim, p); },
      [] { g_lim->release(p, slotgate::posix::Port::now()); });
}
BENCHMARK(contended_slotgate)->Name("contended/slotgate")->Threads(2)->Threads(4)->UseRealTime();

// The lock-free fast path alone, yielding between refusals.
void contended_slotgate_try(benchmark::State& state) {
  if (state.thread_index() == 0) make_limiter(contended_limit(state));
  thread_local Permit p;
  run_contended(
      state,
      [] {
        const uint64_t now = slotgate::posix::Port::now();
        while (g_lim->try_acquire(now, p) != Status::kOk) std::this_thread::yield();
      },
      [] { g_lim->release(p, slotgate::posix::Port::now()); });
}
BENCHMARK(contended_slotgate_try)
    ->Name("contended/slotgate_try_yield")
    ->Threads(2)
    ->Threads(4)
    ->UseRealTime();

void contended_mutex_condvar(benchmark::State& state) {
  if (state.thread_index() == 0) {
    delete g_mc;
    g_mc = new MutexCondvarSemaphore(contended_limit(state));
  }
  run_contended(
      state, [] { g_mc->acquire(); }, [] { g_mc->release(); });
}
BENCHMARK(contended_mutex_condvar)
    ->Name("contended/mutex_condvar_semaphore")
    ->Threads(2)
    ->Threads(4)
    ->UseRealTime();

// The benchmark thread holds the only slot; the waiter blocks in acquire until it is
// released, then hands it straight back for the next round.
void handoff_slotgate(benchmark::State& state) {
  slotgate::posix::Port port;
  PosixLimiter lim(port);
  PosixLimiter::config_type c;
  c.limit = 1;
  lim.configure(c);
  Permit held;
  run_handoff(
      state,
      [&] {
        Permit got;
        slotgate::posix::acquire(lim, got);
        lim.release(got, port.now());
      },
      [&] { lim.release(held, port.now()); },
      [&] {
        while (lim.try_acquire(port.now(), held) != Status::kOk) std::this_thread::yield();
      });
}
BENCHMARK(handoff_slotgate)->Name("handoff/slotgate")->UseManualTime();

void handoff_mutex_condvar(benchmark::State& state) {
  MutexCondvarSemaphore sem(0);
  run_handoff(
      state, [&] { sem.acquire(); }, [&] { sem.release(); });
}
BENCHMARK(handoff_mutex_condvar)->Name("handoff/mutex_condvar_semaphore")->UseManualTime();

}  // namespace
}  // namespace bench
