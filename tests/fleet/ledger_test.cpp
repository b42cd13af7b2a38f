// The fleet's share arithmetic, and its ledger script run by a real redis-server (started by
// the test on a free loopback port): fair splits, expiry in Redis time, claims never revoked,
// the floor reserved, a fresh ledger settling, repairs of an inconsistent ledger, and other
// clients' usage held back from usage readings.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "../support/redis_process.hpp"
#include "slotgate/fleet/redis_link.hpp"
#include "slotgate/fleet/share.hpp"

namespace {

using slotgate::fleet::Demand;
using slotgate::fleet::Failure;
using slotgate::fleet::Grant;
using slotgate::fleet::RedisLink;
using slotgate::fleet::want_for;
using namespace std::chrono_literals;

TEST(FleetShare, WantFollowsDemand) {
  EXPECT_EQ(want_for(Demand{0, 0, 0}, 4, 0), 0u) << "idle: all of it back to the others";
  EXPECT_EQ(want_for(Demand{0, 0, 0}, 4, 2), 2u) << "never below the floor";
  EXPECT_EQ(want_for(Demand{2, 1, 0}, 8, 0), 3u) << "what is in use, cooling included";
  EXPECT_EQ(want_for(Demand{5, 0, 0}, 4, 0), 4u) << "at most the cap";
  EXPECT_EQ(want_for(Demand{1, 0, 3}, 8, 0), 8u) << "callers wait: the whole cap";
}

TEST(FleetShare, ALeaseEndsNoLaterThanRedisEndsIt) {
  const auto sent = std::chrono::steady_clock::now();
  const auto end = slotgate::fleet::lease_end(sent, 10000ms);
  EXPECT_LT(end, sent + 10000ms);
  EXPECT_GE(end, sent + 9700ms);
}

class Ledger : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis.ping()); }
  // A ledger that began long ago (not settling), unless a test wants a fresh one.
  void established() { redis.run({"HSET", "{slotgate:k}:meta", "epoch", "0"}); }
  Grant renew(const std::string& id, uint32_t want, uint32_t in_use, uint32_t floor = 0,
              std::chrono::milliseconds ttl = 10000ms, bool leave = false) {
    Grant g;
    Failure why = Failure::kCount;
    EXPECT_TRUE(link.renew("k", id, want, in_use, ttl, kCap, floor, leave, g, why))
        << slotgate::fleet::to_string(why);
    return g;
  }
  // A renewal passing on a usage reading (`reading` < 0: none) and `held` permits out.
  Grant renew_seeing(const std::string& id, uint32_t want, uint32_t held, int64_t reading,
                     std::chrono::milliseconds hold = 10000ms,
                     std::chrono::milliseconds age = 0ms) {
    Grant g;
    Failure why = Failure::kCount;
    const slotgate::fleet::Reading r{reading, age, held, hold};
    EXPECT_TRUE(link.renew("k", id, want, held, 10000ms, kCap, 0, false, r, g, why))
        << slotgate::fleet::to_string(why);
    return g;
  }
  long claims_sum() {
    long sum = 0;
    const std::string all = redis.run({"HVALS", "{slotgate:k}:claims"});
    size_t at = 0;
    while (at < all.size()) {
      size_t end = all.find(' ', at);
      if (end == std::string::npos) end = all.size();
      sum += std::stol(all.substr(at, end - at));
      at = end + 1;
    }
    return sum;
  }

  static constexpr uint32_t kCap = 4;
  slotgate::test::Redis redis;
  RedisLink link{"127.0.0.1", static_cast<uint16_t>(redis.port()), "", 2000ms};
};

TEST_F(Ledger, AloneAMemberGetsWhatItWants) {
  established();
  Grant g = renew("a", 3, 0);
  EXPECT_EQ(g.limit, 3u);
  EXPECT_EQ(g.claim, 3u);
  EXPECT_EQ(g.peers, 0u);
  EXPECT_FALSE(g.settling);
  g = renew("a", 4, 0);
  EXPECT_EQ(g.limit, 4u);
}

TEST_F(Ledger, BusyMembersConvergeToAFairSplitAndNeverClaimMoreThanTheCap) {
  established();
  EXPECT_EQ(renew("a", 4, 0).limit, 4u);  // alone: all of it
  // b asks too: its fair share is 2, but a still claims 4, so b waits.
  Grant b = renew("b", 4, 0);
  EXPECT_EQ(b.limit, 0u);
  EXPECT_LE(claims_sum(), 4);
  // a is told 2 but keeps claiming the 4 it uses until they free.
  Grant a = renew("a", 4, 4);
  EXPECT_EQ(a.limit, 2u);
  EXPECT_EQ(a.claim, 4u);
  EXPECT_EQ(renew("b", 4, 0).limit, 0u);
  EXPECT_LE(claims_sum(), 4);
  a = renew("a", 4, 2);  // two of a's slots freed
  EXPECT_EQ(a.claim, 2u);
  EXPECT_EQ(renew("b", 4, 0).limit, 2u);
  EXPECT_LE(claims_sum(), 4);
  // c joins: 2, 1, 1 (the odd unit to the first id), reached as a and b give back.
  EXPECT_EQ(renew("c", 4, 0).limit, 0u);
  EXPECT_EQ(renew("a", 4, 2).limit, 2u);
  b = renew("b", 4, 2);
  EXPECT_EQ(b.limit, 1u);
  EXPECT_EQ(b.claim, 2u) << "never revoked below what is in use";
  b = renew("b", 4, 1);
  EXPECT_EQ(b.claim, 1u);
  Grant c = renew("c", 4, 0);
  EXPECT_EQ(c.limit, 1u);
  EXPECT_EQ(c.peers, 2u);
  EXPECT_EQ(claims_sum(), 4);
}

TEST_F(Ledger, AnIdleMemberGivesBackToABusyOne) {
  established();
  renew("a", 1, 1);  // one session, nobody waiting
  EXPECT_EQ(renew("b", 4, 0).limit, 3u);
  renew("a", 0, 0);  // idle
  EXPECT_EQ(renew("b", 4, 0).limit, 4u);
}

TEST_F(Ledger, AnExpiredLeaseReturnsItsShareInRedisTime) {
  established();
  EXPECT_EQ(renew("a", 4, 4, 0, 300ms).limit, 4u);
  EXPECT_EQ(renew("b", 4, 0, 0, 300ms).limit, 0u);
  // The lease's score is Redis TIME + ttl.
  const std::string t = redis.run({"TIME"});
  const long long redis_ms = std::stoll(t.substr(0, t.find(' '))) * 1000;
  const long long score = std::stoll(redis.run({"ZSCORE", "{slotgate:k}:leases", "a"}));
  EXPECT_GT(score, redis_ms);
  EXPECT_LE(score, redis_ms + 300 + 1000);
  std::this_thread::sleep_for(350ms);  // a stops renewing: its lease runs out in Redis
  Grant b = renew("b", 4, 0, 0, 300ms);
  EXPECT_EQ(b.limit, 4u);
  EXPECT_EQ(b.peers, 0u);
  EXPECT_EQ(redis.run({"HGET", "{slotgate:k}:claims", "a"}), "(nil)");
}

TEST_F(Ledger, TheFloorIsReservedForEveryLiveMember) {
  established();
  renew("a", 0, 0, 1);
  renew("b", 0, 0, 1);
  Grant c = renew("c", 4, 0, 1);
  EXPECT_EQ(c.limit, 2u) << "4 less the floor of a and of b";
  EXPECT_EQ(renew("a", 0, 0, 1).limit, 1u) << "the floor, wanted or not";
}

TEST_F(Ledger, AFreshLedgerSettlesForOneTtlBeforeGrantingMoreThanIsInUse) {
  // No epoch: a new ledger, or one whose Redis lost its data while members had sessions out.
  // (The TTL a renewal passes is also how long the ledger settles: 10 s leases first, then
  // renewals with 300 ms, by which time it has settled.)
  Grant g = renew("a", 4, 2, 0, 10000ms);
  EXPECT_TRUE(g.settling);
  EXPECT_EQ(g.limit, 2u) << "what it has in use, not more";
  EXPECT_EQ(renew("b", 4, 0, 0, 10000ms).limit, 0u);
  std::this_thread::sleep_for(350ms);
  Grant b = renew("b", 4, 0, 0, 300ms);
  EXPECT_FALSE(b.settling);
  EXPECT_EQ(b.limit, 2u) << "what a does not claim";
  EXPECT_EQ(renew("a", 4, 2, 0, 300ms).limit, 2u) << "a fair share";
}

TEST_F(Ledger, AClaimWithoutALeaseIsDroppedAndCounted) {
  established();
  redis.run({"HSET", "{slotgate:k}:claims", "ghost", "3"});
  redis.run({"HSET", "{slotgate:k}:wants", "ghost", "3"});
  Grant g = renew("a", 4, 0);
  EXPECT_EQ(g.limit, 4u);
  EXPECT_EQ(g.repairs, 2u);
  EXPECT_EQ(redis.run({"HGET", "{slotgate:k}:claims", "ghost"}), "(nil)");
  EXPECT_EQ(redis.run({"HGET", "{slotgate:k}:meta", "repairs"}), "2");
}

TEST_F(Ledger, ALiveMemberWithABadClaimIsTakenAtTheCapUntilItRenews) {
  established();
  for (const char* bad : {"-1", "2.5", "lots", "99"}) {
    SCOPED_TRACE(bad);
    redis.run({"DEL", "{slotgate:k}:leases", "{slotgate:k}:claims", "{slotgate:k}:wants"});
    redis.run({"ZADD", "{slotgate:k}:leases", "99999999999999", "zombie"});
    redis.run({"HSET", "{slotgate:k}:claims", "zombie", bad});
    Grant g = renew("a", 4, 0);
    EXPECT_EQ(g.limit, 0u) << "the safe side: nothing until zombie says what it uses";
    EXPECT_EQ(redis.run({"HGET", "{slotgate:k}:claims", "zombie"}), "4");
    // zombie renews and tells the truth; the others get their room back.
    renew("zombie", 1, 1);
    EXPECT_EQ(renew("a", 4, 0).limit, 3u);
  }
  EXPECT_GE(std::stoi(redis.run({"HGET", "{slotgate:k}:meta", "repairs"})), 4);
}

TEST_F(Ledger, AMemberWithNothingInUseCanLeaveAtOnce) {
  established();
  renew("a", 4, 0);
  renew("a", 0, 0, 0, 10000ms, /*leave=*/true);
  EXPECT_EQ(redis.run({"ZSCORE", "{slotgate:k}:leases", "a"}), "(nil)");
  EXPECT_EQ(renew("b", 4, 0).limit, 4u);
  // With sessions out, leaving keeps what is in use until the lease runs out.
  renew("b", 0, 2, 0, 10000ms, /*leave=*/true);
  EXPECT_EQ(redis.run({"HGET", "{slotgate:k}:claims", "b"}), "2");
}

TEST_F(Ledger, UsageBeyondTheMembersSessionsIsHeldBackFromEveryShare) {
  established();
  // a has one permit out; the upstream counts 3: two sessions are another client's.
  Grant a = renew_seeing("a", 4, 1, 3);
  EXPECT_EQ(a.foreign, 2u);
  EXPECT_EQ(a.limit, 2u) << "the cap less the other client's two";
  // b has no usage source: the ledger still holds the two back from its share.
  Grant b = renew_seeing("b", 4, 0, -1);
  EXPECT_EQ(b.foreign, 2u);
  EXPECT_EQ(b.limit, 0u) << "a claims the 2 the others leave";
  a = renew_seeing("a", 4, 1, 3);
  EXPECT_EQ(a.limit, 1u) << "a fair split of 2 between a and b";
  EXPECT_EQ(a.claim, 1u) << "the one it has out";
  EXPECT_EQ(renew_seeing("b", 4, 0, -1).limit, 1u);
  EXPECT_LE(claims_sum() + a.foreign, kCap);
}

TEST_F(Ledger, TheMembersOwnSessionsAreNotForeign) {
  established();
  renew_seeing("a", 4, 2, -1);
  Grant b = renew_seeing("b", 4, 1, 3);  // 2 of a's (its last renewal) and b's 1
  EXPECT_EQ(b.foreign, 0u);
  EXPECT_EQ(renew_seeing("a", 4, 2, 4).foreign, 1u) << "one more than the members have out";
}

TEST_F(Ledger, ForeignUsageRisesAtOnceAndFallsOnlyAfterTheHold) {
  established();
  EXPECT_EQ(renew_seeing("a", 4, 0, 2, 300ms).foreign, 2u);
  EXPECT_EQ(renew_seeing("a", 4, 0, 3, 300ms).foreign, 3u) << "a rise is taken at once";
  Grant g = renew_seeing("a", 4, 0, 0, 300ms);
  EXPECT_EQ(g.foreign, 3u) << "a lower reading within the hold changes nothing";
  EXPECT_EQ(g.limit, 1u);
  std::this_thread::sleep_for(350ms);  // Redis time passes the hold since 3 was last seen
  g = renew_seeing("a", 4, 0, 1, 300ms);
  EXPECT_EQ(g.foreign, 1u) << "past the hold, what readings show";
  EXPECT_EQ(g.limit, 3u);
}

TEST_F(Ledger, WithoutReadingsForeignUsageStepsDownOnePerHold) {
  established();
  EXPECT_EQ(renew_seeing("a", 4, 0, 2, 300ms).foreign, 2u);
  EXPECT_EQ(renew_seeing("a", 4, 0, 4, 300ms, 400ms).foreign, 2u) << "older than the hold";
  EXPECT_EQ(renew_seeing("a", 4, 0, -1, 300ms).foreign, 2u);
  std::this_thread::sleep_for(350ms);
  EXPECT_EQ(renew_seeing("a", 4, 0, -1, 300ms).foreign, 1u);
  EXPECT_EQ(renew_seeing("a", 4, 0, -1, 300ms).foreign, 1u) << "one step per hold";
  std::this_thread::sleep_for(350ms);
  Grant g = renew_seeing("a", 4, 0, -1, 300ms);
  EXPECT_EQ(g.foreign, 0u);
  EXPECT_EQ(g.limit, 4u);
}

TEST_F(Ledger, ForeignUsageAtTheCapLeavesNothingEvenTheFloor) {
  established();
  Grant g;
  Failure why = Failure::kCount;
  const slotgate::fleet::Reading r{4, 0ms, 0, 10000ms};
  ASSERT_TRUE(link.renew("k", "a", 4, 0, 10000ms, kCap, 1, false, r, g, why));
  EXPECT_EQ(g.foreign, 4u);
  EXPECT_EQ(g.limit, 0u) << "the floor is for a member without a lease, not past the cap";
}

TEST_F(Ledger, RedisGoneIsAFailureWithItsReasonAndABackRedisIsFoundAgain) {
  established();
  EXPECT_EQ(renew("a", 4, 0).limit, 4u);
  redis.stop();
  Grant g;
  Failure why = Failure::kCount;
  EXPECT_FALSE(link.renew("k", "a", 4, 0, 10000ms, kCap, 0, false, g, why));
  EXPECT_TRUE(why == Failure::kIo || why == Failure::kConnect) << to_string(why);
  EXPECT_FALSE(link.renew("k", "a", 4, 0, 10000ms, kCap, 0, false, g, why));
  EXPECT_EQ(why, Failure::kConnect);
  ASSERT_TRUE(redis.start());  // empty: the script is loaded again, the ledger settles
  g = renew("a", 4, 1, 0, 300ms);
  EXPECT_TRUE(g.settling);
  EXPECT_EQ(g.limit, 1u);
}

}  // namespace
