// The uncontended try_acquire + release on the posix BasicPort, which has no usage source (the
// gate compiled out). Its own translation unit: beside uncontended_bench.cpp's limiter it
// changes what the compiler inlines into that file's loops, and so their times.
#include <benchmark/benchmark.h>

#include "allocation_probe.hpp"
#include "subjects.hpp"

namespace bench {
namespace {

void slotgate_try_acquire_release_basic_port(benchmark::State& state) {
  slotgate::posix::BasicPort port;
  BasicPosixLimiter lim(port);
  BasicPosixLimiter::config_type c;
  c.limit = 4;
  lim.configure(c);
  const uint64_t now = port.now();
  AllocationProbe probe(state);
  for (auto _ : state) {
    slotgate::Permit p;
    if (lim.try_acquire(now, p) != slotgate::Status::kOk) state.SkipWithError("refused");
    lim.release(p, now);
  }
}
BENCHMARK(slotgate_try_acquire_release_basic_port)->Name("slotgate/try_acquire_release_basic_port");

}  // namespace
}  // namespace bench
