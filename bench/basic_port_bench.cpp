// The uncontended try_acquire + release on the posix BasicPort, which has no usage source (the
// gate compiled out). Its own translation unit: see uncontended_pair.hpp.
#include <benchmark/benchmark.h>

#include "uncontended_pair_bench.hpp"

namespace bench {
namespace {

BENCHMARK(posix_try_acquire_release<slotgate::posix::BasicPort>)
    ->Name("slotgate/try_acquire_release_basic_port");

}  // namespace
}  // namespace bench
