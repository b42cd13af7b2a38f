// The gate under threads, with the upstream's count changing underneath.
//
// An "upstream" counts the sessions workers have registered plus one foreign session the
// limiter cannot see (foreign headroom is off). A sampler thread publishes readings of it,
// garbage now and then, and is the only one to move time; readings never go stale here, so
// the gate is all that stands between the workers and a 429. Every worker registers its
// session right after a grant and checks, with that independent count, that the upstream
// never sees more than the limit: a grant never exceeds the budget of the reading it used.
//
// A reading must not miss a grant the limiter thinks it includes. Workers announce a grant in
// progress (flag, then the time they will pass); the sampler stamps its reading no later than
// any announced time and skips a round while an announcement has no time yet, so every grant
// a reading misses carries a grant time at or after the reading's — which the gate counts.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "slotgate/limiter.hpp"
#include "slotgate/ports/sim.hpp"
#include "stress_config.hpp"

namespace slotgate::test {
namespace {

using Port = sim::Port<uint64_t, uint64_t>;
using L = Limiter<Port, 8, 16>;
constexpr uint32_t kLimit = 4;
constexpr uint32_t kForeign = 1;
constexpr int kWorkers = 4;
constexpr uint64_t kNone = ~uint64_t(0);

TEST(GateStress, NoGrantExceedsTheBudgetOfItsReading) {
  Port port(0);
  L lim(port);
  L::config_type c;
  c.limit = kLimit;
  c.gate.max_age = 1000000;  // never stale here: a stale reading rightly opens the gate
  c.gate.repoll_interval = 5;
  // Foreign headroom would hold the foreign session back on its own; the gate is under test.
  c.headroom.track_foreign = false;
  ASSERT_EQ(lim.configure(c), Status::kOk);

  std::atomic<uint32_t> registered{0};
  std::atomic<int> over{0};
  std::atomic<uint32_t> max_seen{0};
  std::atomic<bool> announcing[kWorkers];
  std::atomic<uint64_t> announced_at[kWorkers];
  for (int i = 0; i < kWorkers; ++i) {
    announcing[i] = false;
    announced_at[i] = kNone;
  }
  std::atomic<int> done{0};
  std::atomic<uint64_t> readings{0};

  // The first reading, before anyone works: the foreign session is known from the start.
  port.set_usage(kForeign, port.now());
  lim.poll(port.now());
  ASSERT_EQ(lim.snapshot().effective_limit, kLimit);
  ASSERT_EQ(lim.snapshot().gate_budget, kLimit - kForeign);

  std::thread sampler([&] {
    std::mt19937 rng(7);
    while (done.load() < kWorkers) {
      uint64_t at = port.now();
      bool skip = false;
      for (int i = 0; i < kWorkers; ++i) {
        if (!announcing[i].load()) continue;
        const uint64_t t = announced_at[i].load();
        if (t == kNone)
          skip = true;
        else if (t < at)
          at = t;
      }
      const uint32_t sessions = registered.load() + kForeign;
      if (!skip) {
        if (rng() % 50 == 0)
          port.set_usage(1000000, port.now());  // garbage now and then
        else
          port.set_usage(sessions, at);
        readings.fetch_add(1);
        port.advance(1);  // time moves only here
      }
      std::this_thread::yield();
    }
  });

  const int rounds = stress_rounds(200000);
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      for (int r = 0; r < rounds; ++r) {
        announcing[w].store(true);
        const uint64_t now = port.now();
        announced_at[w].store(now);
        Permit p;
        Status s = lim.try_acquire(now, p);
        if (s != Status::kOk) {
          announcing[w].store(false);
          announced_at[w].store(kNone);
          lim.poll(port.now());
          continue;
        }
        const uint32_t upstream = registered.fetch_add(1) + 1 + kForeign;
        announcing[w].store(false);
        announced_at[w].store(kNone);
        if (upstream > kLimit) over.fetch_add(1);
        uint32_t m = max_seen.load();
        while (upstream > m && !max_seen.compare_exchange_weak(m, upstream)) {
        }
        std::this_thread::yield();
        registered.fetch_sub(1);
        EXPECT_EQ(lim.release(p, port.now()), Status::kOk);
      }
      done.fetch_add(1);
    });
  }
  for (auto& t : workers) t.join();
  sampler.join();

  EXPECT_EQ(over.load(), 0) << "the upstream saw more than the limit";
  EXPECT_LE(max_seen.load(), kLimit);
  const auto s = lim.snapshot();
  EXPECT_GT(s.counters.granted, 0u);
  EXPECT_GT(s.counters.readings, 1u);
  EXPECT_GT(s.counters.held_back_gate, 0u);
  EXPECT_EQ(s.held, 0u);
  EXPECT_GT(readings.load(), 0u);
}

}  // namespace
}  // namespace slotgate::test
