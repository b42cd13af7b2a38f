// The timed uncontended try_acquire + release on a posix port (see uncontended_pair.hpp), for
// the benchmark binary.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>

#include "allocation_probe.hpp"
#include "uncontended_pair.hpp"

namespace bench {

// The benchmark: the time read once, as a caller that has it at hand.
template <class P>
void posix_try_acquire_release(benchmark::State& state) {
  P port;
  PosixPortLimiter<P> lim(port);
  configure_uncontended(lim);
  const uint64_t now = port.now();
  AllocationProbe probe(state);
  for (auto _ : state) {
    slotgate::Permit p;
    if (lim.try_acquire(now, p) != slotgate::Status::kOk) state.SkipWithError("refused");
    lim.release(p, now);
  }
}

}  // namespace bench
