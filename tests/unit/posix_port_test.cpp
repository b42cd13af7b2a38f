// The posix port: blocking acquire with timeout, hand-off between threads, close, RAII guard.
#include "slotgate/ports/posix.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "slotgate/limiter.hpp"

namespace slotgate::posix {
namespace {

using namespace std::chrono_literals;
using L = Limiter<Port, 4, 8>;

struct PosixLimiter : ::testing::Test {
  Port port;
  L lim{port};
  void SetUp() override {
    L::config_type c;
    c.limit = 1;
    ASSERT_EQ(lim.configure(c), Status::kOk);
  }
};

TEST_F(PosixLimiter, AcquireTakesAFreeSlotWithoutWaiting) {
  Permit p;
  ASSERT_EQ(acquire_for(lim, 10s, p), Status::kOk);
  EXPECT_TRUE(p.valid());
  EXPECT_EQ(lim.release(p, Port::now()), Status::kOk);
}

TEST_F(PosixLimiter, AcquireTimesOutWhenNothingIsReleased) {
  Permit held;
  ASSERT_EQ(acquire_for(lim, 1s, held), Status::kOk);
  Permit p;
  EXPECT_EQ(acquire_for(lim, 20ms, p), Status::kTimedOut);
  EXPECT_FALSE(p.valid());
  const auto s = lim.snapshot();
  EXPECT_EQ(s.counters.timed_out, 1u);
  EXPECT_EQ(s.tickets_outstanding, 0u);
  EXPECT_EQ(s.queued, 0u);
}

TEST_F(PosixLimiter, ReleaseHandsTheSlotToABlockedThread) {
  Permit held;
  ASSERT_EQ(acquire_for(lim, 1s, held), Status::kOk);
  std::atomic<bool> got{false};
  Status waited = Status::kPending;
  std::thread waiter([&] {
    Permit p;
    waited = acquire(lim, p);  // no timeout: only the release below can end this
    got = true;
    lim.release(p, Port::now());
  });
  // Release only once the waiter is queued, so the hand-off (not the fast path) is tested.
  while (lim.snapshot().queued == 0) std::this_thread::yield();
  EXPECT_FALSE(got.load());
  ASSERT_EQ(lim.release(held, Port::now()), Status::kOk);
  waiter.join();
  EXPECT_EQ(waited, Status::kOk);
  EXPECT_EQ(lim.snapshot().counters.from_queue, 1u);
}

TEST_F(PosixLimiter, CloseWakesABlockedThread) {
  Permit held;
  ASSERT_EQ(acquire_for(lim, 1s, held), Status::kOk);
  Status waited = Status::kPending;
  std::thread waiter([&] {
    Permit p;
    waited = acquire(lim, p);
  });
  while (lim.snapshot().queued == 0) std::this_thread::yield();
  lim.close();
  waiter.join();
  EXPECT_EQ(waited, Status::kClosed);
  EXPECT_EQ(lim.snapshot().tickets_outstanding, 0u);
}

TEST_F(PosixLimiter, CooldownEndIsWaitedForWithoutAnyOtherEvent) {
  L::config_type c;
  c.limit = 1;
  c.cooldown = Port::from_ms(30);
  ASSERT_EQ(lim.configure(c), Status::kOk);
  Permit p;
  ASSERT_EQ(acquire_for(lim, 1s, p), Status::kOk);
  const auto released_at = Port::now();
  ASSERT_EQ(lim.release(p, released_at), Status::kOk);
  // Nobody else acts: the waiter must wake at the cooldown's end by itself.
  ASSERT_EQ(acquire_for(lim, 5s, p), Status::kOk);
  EXPECT_GE(Port::now() - released_at, Port::from_ms(30));
  EXPECT_EQ(lim.release(p, Port::now()), Status::kOk);
}

TEST_F(PosixLimiter, GuardReleasesOnScopeExit) {
  {
    PermitGuard<L> g;
    ASSERT_EQ(acquire_for(lim, 1s, g), Status::kOk);
    EXPECT_TRUE(g.holds());
    EXPECT_EQ(lim.snapshot().held, 1u);
  }
  EXPECT_EQ(lim.snapshot().held, 0u);
  EXPECT_EQ(lim.snapshot().counters.released, 1u);
}

TEST_F(PosixLimiter, GuardReleasesOnceWithAnOutcome) {
  PermitGuard<L> g;
  ASSERT_EQ(acquire_for(lim, 1s, g), Status::kOk);
  PermitGuard<L> moved = std::move(g);
  EXPECT_FALSE(g.holds());
  EXPECT_EQ(moved.release(L::outcome_type::rejected_retry_after(Port::from_ms(1))), Status::kOk);
  EXPECT_EQ(moved.release(), Status::kInvalidPermit);
  EXPECT_EQ(lim.snapshot().counters.rejected_by_upstream, 1u);
  EXPECT_EQ(lim.snapshot().counters.released, 1u);
}

}  // namespace
}  // namespace slotgate::posix
