// Fixed work for instruction counting, as icount.cpp: a queued waiter handed a slot, with one,
// two and four lanes. Its own translation unit, so that it does not change what the compiler
// inlines into icount.cpp's loops.
#include <cstdio>

#include "subjects.hpp"

void run_queue_handoffs();

namespace {
constexpr int kOps = bench::kIcountOps;
using slotgate::Permit;

// A queued waiter handed a slot: enqueue (in the top lane), the holder's release grants it, the
// owner claims it, and holds it for the next round. With one, two and four lanes: what a lane
// costs the queue path.
template <size_t Lanes>
using LanesLimiter = slotgate::Limiter<bench::SimPort, 2, 8, Lanes>;

template <size_t Lanes>
void queue_handoff(LanesLimiter<Lanes>& lim, Permit& held) {
  for (int i = 0; i < kOps; ++i) {
    slotgate::Ticket t;
    lim.enqueue(1, t, LanesLimiter<Lanes>::deadline_type::none(), slotgate::Lane(Lanes - 1));
    lim.release(held, 1);
    lim.claim(t, held);
  }
}
extern "C" __attribute__((noinline)) void icount_queue_handoff_1(LanesLimiter<1>& l, Permit& p) {
  queue_handoff(l, p);
}
extern "C" __attribute__((noinline)) void icount_queue_handoff_2(LanesLimiter<2>& l, Permit& p) {
  queue_handoff(l, p);
}
extern "C" __attribute__((noinline)) void icount_queue_handoff_4(LanesLimiter<4>& l, Permit& p) {
  queue_handoff(l, p);
}

template <size_t Lanes>
void run_queue_handoff(void (*f)(LanesLimiter<Lanes>&, Permit&)) {
  bench::SimPort port(1);
  static LanesLimiter<Lanes> lim(port);
  typename LanesLimiter<Lanes>::config_type c;
  c.limit = 1;
  lim.configure(c);
  Permit held;
  lim.try_acquire(1, held);
  f(lim, held);
  if (lim.snapshot().counters.from_queue != uint64_t(kOps)) std::printf("queue handoff: short\n");
}

}  // namespace

void run_queue_handoffs() {
  run_queue_handoff<1>(icount_queue_handoff_1);
  run_queue_handoff<2>(icount_queue_handoff_2);
  run_queue_handoff<4>(icount_queue_handoff_4);
}
