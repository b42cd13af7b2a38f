// The one blocking acquire on the posix port, with more threads than cores, checked against
// independent bookkeeping:
//   - held permits never exceed the limit (a counter of the test's own);
//   - no wake-up is lost: an acquire with a long timeout is always granted, since permits keep
//     being released well within it (a lost grant wake-up or a lost poller shows as a timeout);
//   - short timeouts do time out, and leave nothing behind;
//   - at the end no ticket record is in use and no thread is inside the port's wait.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "slotgate/limiter.hpp"
#include "slotgate/ports/posix.hpp"
#include "stress_config.hpp"

namespace slotgate::test {
namespace {

using posix::Port;
using L = Limiter<Port, 8, 32>;
using namespace std::chrono_literals;

struct Result {
  std::atomic<int> over_limit{0}, lost{0};
  std::atomic<uint64_t> granted{0}, timed_out{0};
};

template <class Lim>
void run(Lim& lim, uint32_t limit, int threads, int rounds, Result& r) {
  std::atomic<uint32_t> held{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      std::minstd_rand rng(1234u + uint32_t(t));
      for (int i = 0; i < rounds; ++i) {
        const bool patient = rng() % 4 != 0;
        Permit p;
        const Status s = patient
                             ? posix::acquire_for(lim, 10s, p)
                             : posix::acquire_for(lim, std::chrono::microseconds(rng() % 50), p);
        if (s == Status::kTimedOut) {
          if (patient) r.lost.fetch_add(1);
          r.timed_out.fetch_add(1);
          continue;
        }
        ASSERT_EQ(s, Status::kOk);
        if (held.fetch_add(1) + 1 > limit) r.over_limit.fetch_add(1);
        r.granted.fetch_add(1);
        for (uint32_t k = rng() % 8; k > 0; --k) std::this_thread::yield();
        held.fetch_sub(1);
        ASSERT_EQ(lim.release(p, Port::now()), Status::kOk);
      }
    });
  for (auto& th : pool) th.join();
}

template <class Lim, class P>
void check_end(Lim& lim, P& port, const Result& r) {
  EXPECT_EQ(r.over_limit.load(), 0) << "held permits exceeded the limit";
  EXPECT_EQ(r.lost.load(), 0) << "a patient acquire timed out: a wake-up was lost";
  EXPECT_GT(r.granted.load(), 0u);
  const auto s = lim.snapshot();
  EXPECT_EQ(s.tickets_outstanding, 0u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.held, 0u);
  EXPECT_EQ(port.sleeping(), 0u);
  EXPECT_EQ(s.counters.bad_releases, 0u);
}

TEST(BlockingStress, NoWakeUpIsLostHandingOff) {
  Port port;
  L lim{port};
  L::config_type c;
  c.limit = 2;
  ASSERT_EQ(lim.configure(c), Status::kOk);
  Result r;
  run(lim, 2, 8, stress_rounds(100000) / 50, r);
  check_end(lim, port, r);
}

// The same on the port without a usage source (the gate compiled out of the limiter).
TEST(BlockingStress, NoWakeUpIsLostHandingOffOnTheBasicPort) {
  posix::BasicPort port;
  Limiter<posix::BasicPort, 8, 32> lim{port};
  Limiter<posix::BasicPort, 8, 32>::config_type c;
  c.limit = 2;
  ASSERT_EQ(lim.configure(c), Status::kOk);
  Result r;
  run(lim, 2, 8, stress_rounds(100000) / 50, r);
  check_end(lim, port, r);
}

// With a cooldown, grants come only from polls at the cooldowns' ends: the poller role (and
// its hand-off when its holder is granted or times out) carries every one of them.
TEST(BlockingStress, NoWakeUpIsLostWithCooldowns) {
  Port port;
  L lim{port};
  L::config_type c;
  c.limit = 2;
  c.cooldown = Port::from_us(50);
  ASSERT_EQ(lim.configure(c), Status::kOk);
  Result r;
  run(lim, 2, 6, stress_rounds(100000) / 100, r);
  check_end(lim, port, r);
  EXPECT_GT(lim.snapshot().counters.poll_wakeups, 0u);
}

}  // namespace
}  // namespace slotgate::test
