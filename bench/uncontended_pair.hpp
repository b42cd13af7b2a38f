// The uncontended try_acquire + release on a posix limiter, on Port (which can take a usage
// source) and on BasicPort (which cannot): the limiter both rows run and the loop both count
// under callgrind, written once so that the two rows measure the same work (the timed loop is
// in uncontended_pair_bench.hpp, which needs Google Benchmark; the callgrind binary does not
// link it).
//
// Each port's row instantiates it in a translation unit of its own (uncontended_bench.cpp and
// basic_port_bench.cpp, icount.cpp and icount_basic_port.cpp): two instantiations in one file
// change what the compiler inlines into both loops (the Port row went from 16-18 ns to 30 ns).
#pragma once

#include <cstdint>

#include "subjects.hpp"

namespace bench {

// The limit both rows run at: a slot is always free.
constexpr uint32_t kUncontendedLimit = 4;
// A limiter as PosixLimiter (subjects.hpp), on either posix port.
template <class P>
using PosixPortLimiter = slotgate::Limiter<P, 8, 64>;

template <class P>
void configure_uncontended(PosixPortLimiter<P>& lim) {
  typename PosixPortLimiter<P>::config_type c;
  c.limit = kUncontendedLimit;
  lim.configure(c);
}

// The callgrind loop, inlined into the extern "C" function callgrind is told to count.
template <class Lim>
__attribute__((always_inline)) inline void icount_acquire_release(Lim& lim) {
  for (int i = 0; i < kIcountOps; ++i) {
    slotgate::Permit p;
    lim.try_acquire(1, p);
    lim.release(p, 1);
  }
}

}  // namespace bench
