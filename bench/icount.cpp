// Fixed work for instruction counting: scripts/bench runs this under
// `valgrind --tool=callgrind --toggle-collect=FUNCTION` once per function below and divides
// the instructions collected by the operations done. Each function does kOps operations.
#include <semaphore.h>

#include <atomic>
#include <cstdio>
#include <cstring>

#include "protocol_floor.hpp"
#include "subjects.hpp"
#include "uncontended_pair.hpp"

// In its own file (icount_queue.cpp): more code here changes what the compiler inlines into
// the loops above, and so their counts.
void run_queue_handoffs();
void run_basic_port();

namespace {
constexpr int kOps = bench::kIcountOps;
using slotgate::Permit;

alignas(64) std::atomic<uint64_t> g_word{0};

extern "C" __attribute__((noinline)) void icount_floor_cas_pair() {
  for (int i = 0; i < kOps; ++i) {
    uint64_t v = g_word.load(std::memory_order_relaxed);
    while (!g_word.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) {
    }
    v = g_word.load(std::memory_order_relaxed);
    while (!g_word.compare_exchange_weak(v, v - 1, std::memory_order_acq_rel)) {
    }
  }
}

extern "C" __attribute__((noinline)) void icount_floor_protocol_pair(bench::ProtocolFloor& f) {
  for (int i = 0; i < kOps; ++i) {
    bench::ProtocolFloor::Permit p;
    f.acquire(uint64_t(i) + 1, p);
    f.release(p, uint64_t(i) + 1);
  }
}

extern "C" __attribute__((noinline)) void icount_slotgate_try_acquire_release(
    bench::PosixLimiter& lim) {
  bench::icount_acquire_release(lim);
}

extern "C" __attribute__((noinline)) void icount_slotgate_cooldown(bench::SimLimiter& lim) {
  for (uint64_t now = 0; now < uint64_t(kOps); ++now) {
    Permit p;
    lim.try_acquire(now, p);
    lim.release(p, now);
  }
}

// The gate on, a reading in force: every grant spends the budget, and the fast path looks at
// the port's reading version first.
extern "C" __attribute__((noinline)) void icount_slotgate_gated(bench::SimLimiter& lim) {
  for (int i = 0; i < kOps; ++i) {
    Permit p;
    lim.try_acquire(1, p);
    lim.release(p, 1);
  }
}

extern "C" __attribute__((noinline)) void icount_posix_sem(sem_t* s) {
  for (int i = 0; i < kOps; ++i) {
    sem_trywait(s);
    sem_post(s);
  }
}

extern "C" __attribute__((noinline)) void icount_mutex_condvar(bench::MutexCondvarSemaphore& s) {
  for (int i = 0; i < kOps; ++i) {
    s.try_acquire();
    s.release();
  }
}

extern "C" __attribute__((noinline)) void icount_ring_slotgate(slotgate::Ring<uint32_t, 1024>& q) {
  uint32_t out = 0;
  for (int i = 0; i < kOps; ++i) {
    q.try_push(uint32_t(i));
    q.try_pop(out);
  }
}

extern "C" __attribute__((noinline)) void icount_ring_vyukov(
    bench::VyukovReference<uint32_t, 1024>& q) {
  uint32_t out = 0;
  for (int i = 0; i < kOps; ++i) {
    q.try_push(uint32_t(i));
    q.try_pop(out);
  }
}

}  // namespace

int main() {
  slotgate::posix::Port port;
  static bench::PosixLimiter lim(port);
  bench::configure_uncontended(lim);
  bench::SimPort sim_port(0);
  static bench::SimLimiter cool(sim_port);
  bench::SimLimiter::config_type cc;
  cc.limit = 8;
  cc.cooldown = 8;
  cool.configure(cc);
  bench::SimPort gated_port(1);
  static bench::SimLimiter gated(gated_port);
  bench::SimLimiter::config_type gc;
  gc.limit = 4;
  gc.gate.max_age = 1u << 30;  // the reading stays usable throughout
  gated.configure(gc);
  gated_port.set_usage(0, 1);
  gated.poll(1);  // takes it in: a budget of 4
  sem_t sem;
  sem_init(&sem, 0, 4);
  static bench::MutexCondvarSemaphore mc(4);
  static slotgate::Ring<uint32_t, 1024> ring;
  static bench::VyukovReference<uint32_t, 1024> vy;
  icount_floor_cas_pair();
  static bench::ProtocolFloor protocol;
  icount_floor_protocol_pair(protocol);
  icount_slotgate_try_acquire_release(lim);
  icount_slotgate_cooldown(cool);
  icount_slotgate_gated(gated);
  icount_posix_sem(&sem);
  icount_mutex_condvar(mc);
  icount_ring_slotgate(ring);
  icount_ring_vyukov(vy);
  run_queue_handoffs();
  run_basic_port();
  std::printf("ops_per_function %d\n", kOps);
  return 0;
}
