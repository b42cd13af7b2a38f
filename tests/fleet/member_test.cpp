// The fleet member on real limiters (posix port) and a real redis-server: it starts at 0,
// takes its share, splits the cap with another member, keeps its share while Redis is gone
// until its lease would have run out, then drops to its floor, and comes back by itself; and
// it passes usage readings on, so the fleet's shares leave room for another client's sessions.
#include "slotgate/fleet/member.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "../support/redis_process.hpp"
#include "slotgate/limiter.hpp"
#include "slotgate/ports/posix.hpp"

namespace {

using namespace std::chrono_literals;
using slotgate::fleet::Member;
using slotgate::fleet::State;
using Port = slotgate::posix::Port;
using L = slotgate::Limiter<Port, 8, 32>;

constexpr uint32_t kCap = 4;

// Looks at `pred` every 10 ms for at most `limit`.
template <class Pred>
bool within(std::chrono::milliseconds limit, Pred pred) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

slotgate::fleet::Options options(const slotgate::test::Redis& redis, const std::string& id,
                                 uint32_t floor = 0) {
  slotgate::fleet::Options o;
  o.redis_port = static_cast<uint16_t>(redis.port());
  o.name = "k";
  o.id = id;
  o.cap = kCap;
  o.floor = floor;
  o.ttl = 1000ms;
  return o;
}

struct Gateway {
  Port port;
  L limiter{port};
  std::atomic<bool> stop{false};
  std::vector<std::thread> callers;
  Gateway() {
    auto c = L::config_type::recommended(kCap, Port::kTicksPerSecond);
    c.cooldown = 0;
    limiter.configure(c);
  }
  ~Gateway() {
    stop = true;
    for (auto& t : callers) t.join();
  }
  uint32_t limit() const { return limiter.snapshot().limit; }
  // `n` callers, each taking a slot for 20 ms at a time, again and again: more than the cap
  // keeps some waiting (demand for the whole cap), and slots free as sessions end.
  void busy(int n) {
    for (int i = 0; i < n; ++i)
      callers.emplace_back([this] {
        while (!stop.load()) {
          slotgate::posix::PermitGuard<L> permit;
          if (slotgate::posix::acquire_for(limiter, 100ms, permit) == slotgate::Status::kOk)
            std::this_thread::sleep_for(20ms);
        }
      });
  }
};

TEST(FleetOptions, BadOptionsAreNamed) {
  slotgate::fleet::Options o;
  std::string why;
  EXPECT_FALSE(slotgate::fleet::check(o, why));
  EXPECT_EQ(why, "name: empty");
  o.name = "k";
  EXPECT_FALSE(slotgate::fleet::check(o, why));
  EXPECT_EQ(why, "cap: at least 1");
  o.cap = 4;
  o.floor = 5;
  EXPECT_FALSE(slotgate::fleet::check(o, why));
  EXPECT_EQ(why, "floor: above the cap");
  o.floor = 0;
  o.renew_every = o.ttl;
  EXPECT_FALSE(slotgate::fleet::check(o, why));
  o.renew_every = 0ms;
  o.usage_hold = -1ms;
  EXPECT_FALSE(slotgate::fleet::check(o, why));
  EXPECT_EQ(why, "usage_hold: not negative");
  o.usage_hold = 0ms;
  EXPECT_TRUE(slotgate::fleet::check(o, why)) << why;
}

TEST(FleetMember, StartsAtZeroThenTakesItsShare) {
  slotgate::test::Redis redis;
  ASSERT_TRUE(redis.ping());
  redis.run({"HSET", "{slotgate:k}:meta", "epoch", "0"});  // an established ledger
  Gateway g;
  Member<L> m(g.limiter, options(redis, "a"));
  EXPECT_EQ(g.limit(), 0u) << "nothing before the ledger has counted us";
  ASSERT_TRUE(within(5s, [&] { return m.status().state == State::kLeased; }));
  EXPECT_EQ(g.limit(), 0u) << "idle: nothing to ask for";
  g.busy(kCap + 2);
  EXPECT_TRUE(within(5s, [&] { return g.limit() == kCap; })) << "alone and busy: the cap";
  EXPECT_GE(m.status().renewals, 2u);
  EXPECT_EQ(redis.run({"HGET", "{slotgate:k}:claims", "a"}), "4");
}

TEST(FleetMember, TwoBusyMembersSplitTheCapAndNeverClaimMore) {
  slotgate::test::Redis redis;
  ASSERT_TRUE(redis.ping());
  redis.run({"HSET", "{slotgate:k}:meta", "epoch", "0"});
  Gateway a, b;
  Member<L> ma(a.limiter, options(redis, "a"));
  Member<L> mb(b.limiter, options(redis, "b"));
  a.busy(kCap + 2);  // callers wait at both
  b.busy(kCap + 2);
  const bool split = within(10s, [&] {
    EXPECT_LE(a.limit() + b.limit(), kCap);
    return a.limit() == 2 && b.limit() == 2;
  });
  EXPECT_TRUE(split) << a.limit() << " and " << b.limit();
  EXPECT_EQ(ma.status().peers, 1u);
}

TEST(FleetMember, ReadingsPassedOnLeaveRoomForAnotherClientOnTheKey) {
  slotgate::test::Redis redis;
  ASSERT_TRUE(redis.ping());
  redis.run({"HSET", "{slotgate:k}:meta", "epoch", "0"});
  Gateway g;
  // The upstream's whole count as a usage source would read it: this member's sessions and
  // another client's.
  std::atomic<uint32_t> theirs{2};
  std::atomic<int> refreshes{0};
  auto o = options(redis, "a");
  o.read_usage = [&](uint32_t& sessions, std::chrono::milliseconds& age) {
    sessions = g.limiter.snapshot().held + theirs.load();
    age = 0ms;
    return true;
  };
  o.refresh_usage = [&] { ++refreshes; };
  Member<L> m(g.limiter, o);
  g.busy(kCap + 2);
  ASSERT_TRUE(within(5s, [&] { return g.limit() == kCap - 2; })) << g.limit();
  EXPECT_EQ(m.status().foreign, 2u);
  // Held for as long as readings show it (a second, four renewals).
  const auto until = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < until) {
    EXPECT_LE(g.limit(), kCap - 2);
    std::this_thread::sleep_for(10ms);
  }
  theirs = 0;  // the other client leaves: its room comes back once the hold has passed
  EXPECT_TRUE(within(5s, [&] { return g.limit() == kCap; })) << g.limit();
  EXPECT_EQ(m.status().foreign, 0u);
  const auto s = m.status();
  EXPECT_GE(refreshes.load(), 1);
  EXPECT_LE(static_cast<uint64_t>(refreshes.load()), s.renewals + 1)
      << "at most one fetch per renewal, however often demand renews early";
}

TEST(FleetMember, WithoutRedisTheShareHoldsUntilTheLeaseEndsThenTheFloorThenItComesBack) {
  slotgate::test::Redis redis;
  ASSERT_TRUE(redis.ping());
  redis.run({"HSET", "{slotgate:k}:meta", "epoch", "0"});
  Gateway g;
  Member<L> m(g.limiter, options(redis, "a", /*floor=*/1));
  g.busy(kCap + 2);
  ASSERT_TRUE(within(5s, [&] { return g.limit() == kCap; }));
  redis.stop();
  const auto gone = std::chrono::steady_clock::now();
  const auto right_after = m.status();
  EXPECT_GT(right_after.lease_left_s, 0.0) << "the lease still runs";
  EXPECT_EQ(g.limit(), kCap);
  ASSERT_TRUE(within(5s, [&] { return m.status().state == State::kLapsed; }));
  const auto lapsed_after = std::chrono::steady_clock::now() - gone;
  EXPECT_LE(lapsed_after, 2000ms) << "about one TTL, not later";
  EXPECT_EQ(g.limit(), 1u) << "the floor";
  const auto s = m.status();
  EXPECT_GT(s.failures[static_cast<int>(slotgate::fleet::Failure::kConnect)] +
                s.failures[static_cast<int>(slotgate::fleet::Failure::kIo)],
            0u);
  ASSERT_TRUE(redis.start());  // empty: the ledger settles for a TTL, then grants again
  EXPECT_TRUE(within(5s, [&] { return m.status().state != State::kLapsed; }));
  EXPECT_TRUE(within(5s, [&] { return g.limit() == kCap; }));
}

}  // namespace
