// Many threads (2 and 4, on 2 cores) on a limit smaller than their number, and the hand-off
// from a releasing thread to a blocked one.
#include <benchmark/benchmark.h>

#include <thread>

#include "contended.hpp"
#include "subjects.hpp"

namespace bench {
namespace {

using slotgate::Permit;
using slotgate::Status;

slotgate::posix::Port* g_port = nullptr;
PosixLimiter* g_lim = nullptr;
MutexCondvarSemaphore* g_mc = nullptr;
FifoFairSemaphore* g_fifo = nullptr;

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
  if (state.thread_index() == 0) {
    // The share of acquires that queued (the rest took the fast path), read once every
    // thread's loop is over (the benchmark joins them at its end barrier).
    const auto k = g_lim->snapshot().counters;
    state.counters["queued_share"] = k.granted > 0 ? double(k.from_queue) / double(k.granted) : 0;
    state.counters["wake_calls_per_op"] =
        k.granted > 0 ? double(g_port->wake_calls()) / double(k.granted) : 0;
  }
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

void contended_fifo_fair(benchmark::State& state) {
  if (state.thread_index() == 0) {
    delete g_fifo;
    g_fifo = new FifoFairSemaphore(contended_limit(state));
  }
  run_contended(
      state, [] { g_fifo->acquire(); }, [] { g_fifo->release(); });
}
BENCHMARK(contended_fifo_fair)
    ->Name("contended/fifo_fair_semaphore")
    ->Threads(2)
    ->Threads(4)
    ->UseRealTime();

// 64 threads on one slot, parking at once (the port's spinning off, so that they really are
// asleep): a grant should wake the one thread it is for. The port's counts say how many futex
// wake calls and woken threads each grant cost.
struct ParkingPort : slotgate::posix::Port {
  static constexpr int kAcquireSpins = 0;
};
using ParkingLimiter = slotgate::Limiter<ParkingPort, 8, 64>;
ParkingPort* g_parking_port = nullptr;
ParkingLimiter* g_parking = nullptr;

void make_parking_limiter(int limit) {
  delete g_parking;
  delete g_parking_port;
  g_parking_port = new ParkingPort;
  g_parking = new ParkingLimiter(*g_parking_port);
  ParkingLimiter::config_type c;
  c.limit = uint32_t(limit);
  g_parking->configure(c);
}

void sleepers_slotgate(benchmark::State& state) {
  if (state.thread_index() == 0) make_parking_limiter(1);
  thread_local Permit p;
  run_contended(
      state, [] { slotgate::acquire(*g_parking, p); },
      [] { g_parking->release(p, ParkingPort::now()); });
  if (state.thread_index() == 0) {
    // Read once every thread's loop is over (the benchmark joins them at its end barrier).
    const double g = double(g_parking->snapshot().counters.from_queue);
    state.counters["queued_grants"] = g;
    state.counters["wake_calls_per_queued_grant"] =
        g > 0 ? double(g_parking_port->wake_calls()) / g : 0;
    state.counters["woken_per_queued_grant"] = g > 0 ? double(g_parking_port->woken()) / g : 0;
  }
}
BENCHMARK(sleepers_slotgate)->Name("sleepers64/slotgate")->Threads(64)->UseRealTime();

// The contended loop with the port's spinning off: every acquire that finds the slots taken
// queues at once and sleeps, so grants go strictly in arrival order, as the FIFO-fair
// baseline's do (the spin before queuing lets callers that have not queued yet race).
void contended_slotgate_parked(benchmark::State& state) {
  if (state.thread_index() == 0) make_parking_limiter(contended_limit(state));
  thread_local Permit p;
  run_contended(
      state, [] { slotgate::acquire(*g_parking, p); },
      [] { g_parking->release(p, ParkingPort::now()); });
  if (state.thread_index() == 0) {
    const auto k = g_parking->snapshot().counters;
    state.counters["queued_share"] = k.granted > 0 ? double(k.from_queue) / double(k.granted) : 0;
  }
}
BENCHMARK(contended_slotgate_parked)
    ->Name("contended/slotgate_parked")
    ->Threads(2)
    ->Threads(4)
    ->UseRealTime();

void sleepers_fifo_fair(benchmark::State& state) {
  if (state.thread_index() == 0) {
    delete g_fifo;
    g_fifo = new FifoFairSemaphore(1);
  }
  run_contended(
      state, [] { g_fifo->acquire(); }, [] { g_fifo->release(); });
}
BENCHMARK(sleepers_fifo_fair)->Name("sleepers64/fifo_fair_semaphore")->Threads(64)->UseRealTime();

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
