// Reports the heap allocations made while it lives (must be 0 for slotgate) as the benchmark's
// "allocs" counter: construct it just before the timed loop.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>

#include "../tests/support/allocation_hook.hpp"

namespace bench {

class AllocationProbe {
 public:
  explicit AllocationProbe(benchmark::State& s) : state_(s), before_(allocation_hook::count()) {}
  ~AllocationProbe() { state_.counters["allocs"] = double(allocation_hook::count() - before_); }
  AllocationProbe(const AllocationProbe&) = delete;
  AllocationProbe& operator=(const AllocationProbe&) = delete;

 private:
  benchmark::State& state_;
  uint64_t before_;
};

}  // namespace bench
