// Fixed work for instruction counting, as icount.cpp: the uncontended try_acquire + release on
// the posix BasicPort, which has no usage source (the gate compiled out). Its own translation
// unit, so that it does not change what the compiler inlines into icount.cpp's loops.
#include "subjects.hpp"

void run_basic_port();

namespace {
constexpr int kOps = 10000;  // as icount.cpp's
using slotgate::Permit;
}  // namespace

extern "C" __attribute__((noinline)) void icount_slotgate_basic_port(
    bench::BasicPosixLimiter& lim) {
  for (int i = 0; i < kOps; ++i) {
    Permit p;
    lim.try_acquire(1, p);
    lim.release(p, 1);
  }
}

void run_basic_port() {
  // On the stack, not static: with a constant address the compiler clones the loop for it
  // (icount_slotgate_basic_port.constprop.0), and callgrind would count the unused original.
  slotgate::posix::BasicPort port;
  bench::BasicPosixLimiter lim(port);
  bench::BasicPosixLimiter::config_type c;
  c.limit = 4;  // as icount.cpp's posix limiter
  lim.configure(c);
  icount_slotgate_basic_port(lim);
}
