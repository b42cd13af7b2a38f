// The ring against other bounded queues: a push and a pop, one thread (the uncontended cost).
// (atomic_queue left in 0.3.0: Debian's package needs Boost 1.74, the asio port Boost 1.81.)
#include <benchmark/benchmark.h>

#include <concurrentqueue/concurrentqueue.h>
#include <boost/lockfree/queue.hpp>

#include "allocation_probe.hpp"
#include "subjects.hpp"

namespace bench {
namespace {

constexpr size_t kCap = 1024;

template <class Q>
void push_pop(benchmark::State& state, Q& q) {
  uint32_t v = 0, out = 0;
  for (auto _ : state) {
    if (!q.try_push(v++)) state.SkipWithError("full");
    if (!q.try_pop(out)) state.SkipWithError("empty");
    benchmark::DoNotOptimize(out);
  }
}

void ring_slotgate(benchmark::State& state) {
  static slotgate::Ring<uint32_t, kCap> q;
  AllocationProbe probe(state);
  push_pop(state, q);
}
BENCHMARK(ring_slotgate)->Name("ring/slotgate");

void ring_vyukov(benchmark::State& state) {
  static VyukovReference<uint32_t, kCap> q;
  push_pop(state, q);
}
BENCHMARK(ring_vyukov)->Name("ring/vyukov_reference");

void ring_boost(benchmark::State& state) {
  static boost::lockfree::queue<uint32_t, boost::lockfree::capacity<kCap>> q;
  uint32_t v = 0, out = 0;
  for (auto _ : state) {
    if (!q.bounded_push(v++)) state.SkipWithError("full");
    if (!q.pop(out)) state.SkipWithError("empty");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(ring_boost)->Name("ring/boost_lockfree");

void ring_moodycamel(benchmark::State& state) {
  static moodycamel::ConcurrentQueue<uint32_t> q(
      kCap);  // preallocated; try_enqueue never allocates
  uint32_t v = 0, out = 0;
  for (auto _ : state) {
    if (!q.try_enqueue(v++)) state.SkipWithError("full");
    if (!q.try_dequeue(out)) state.SkipWithError("empty");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(ring_moodycamel)->Name("ring/moodycamel");

}  // namespace
}  // namespace bench
