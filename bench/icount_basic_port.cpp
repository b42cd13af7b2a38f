// Fixed work for instruction counting, as icount.cpp: the uncontended try_acquire + release on
// the posix BasicPort, which has no usage source (the gate compiled out). Its own translation
// unit: see uncontended_pair.hpp.
#include "uncontended_pair.hpp"

void run_basic_port();

extern "C" __attribute__((noinline)) void icount_slotgate_basic_port(
    bench::PosixPortLimiter<slotgate::posix::BasicPort>& lim) {
  bench::icount_acquire_release(lim);
}

void run_basic_port() {
  // On the stack, not static: with a constant address the compiler clones the loop for it
  // (icount_slotgate_basic_port.constprop.0), and callgrind would count the unused original.
  slotgate::posix::BasicPort port;
  bench::PosixPortLimiter<slotgate::posix::BasicPort> lim(port);
  bench::configure_uncontended(lim);
  icount_slotgate_basic_port(lim);
}
