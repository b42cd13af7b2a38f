// The test upstream's model of a key: its counter's lags, 429s, the cached usage answer,
// foreign load and the ledger's maximum, on a clock the test sets.
#include <gtest/gtest.h>

#include "ledger.hpp"

namespace upstream {
namespace {

TEST(Ledger, RefusesPastTheCapAndCountsAnEndedSessionForItsLag) {
  Settings s;
  s.cap = 2;
  s.lag_out_ms = 300;
  Key k(s);
  const int64_t a = k.admit(0), b = k.admit(0);
  EXPECT_GT(a, 0);
  EXPECT_GT(b, 0);
  EXPECT_EQ(k.admit(10), -1);
  k.end(a, 100);
  EXPECT_EQ(k.admit(399), -1) << "still counted until 100 + 300";
  EXPECT_GT(k.admit(400), 0);
  const Tally t = k.tally(400);
  EXPECT_EQ(t.max_billed, 2u);
  EXPECT_EQ(t.rejected, 2u);
  EXPECT_EQ(t.over_cap, 0u);
}

// With a start lag the counter misses new sessions: a burst gets past the cap, and the ledger,
// which bills from arrival, records the overshoot.
TEST(Ledger, AStartLagLetsABurstThroughAndTheLedgerSeesIt) {
  Settings s;
  s.cap = 2;
  s.lag_in_ms = 50;
  Key k(s);
  EXPECT_GT(k.admit(0), 0);
  EXPECT_GT(k.admit(1), 0);
  EXPECT_GT(k.admit(2), 0);
  EXPECT_EQ(k.admit(60), -1);
  const Tally t = k.tally(60);
  EXPECT_EQ(t.max_billed, 3u);
  EXPECT_EQ(t.over_cap, 1u);
}

TEST(Ledger, TheUsageAnswerIsCachedForTheStaleness) {
  Settings s;
  s.cap = 4;
  s.lag_out_ms = 0;
  s.staleness_ms = 1000;
  Key k(s);
  EXPECT_EQ(k.usage(0), 0u);
  const int64_t a = k.admit(10);
  EXPECT_EQ(k.usage(500), 0u) << "cached";
  EXPECT_EQ(k.usage(1000), 1u);
  k.end(a, 1100);
  EXPECT_EQ(k.usage(1500), 1u);
  EXPECT_EQ(k.usage(2000), 0u);
  EXPECT_EQ(k.counted(2000), 0u);
}

TEST(Ledger, ForeignLoadComesAndGoes) {
  Settings s;
  s.cap = 3;
  s.foreign = 2;
  s.foreign_on_ms = 100;
  s.foreign_off_ms = 100;
  Key k(s);
  EXPECT_EQ(k.counted(50), 2u);
  EXPECT_EQ(k.counted(150), 0u);
  EXPECT_GT(k.admit(50), 0);
  EXPECT_EQ(k.admit(60), -1) << "ours + foreign at the cap";
  EXPECT_GT(k.admit(150), 0);
  EXPECT_GT(k.admit(160), 0);
  EXPECT_EQ(k.tally(250).max_billed, 5u) << "the other client came back over our three";
}

}  // namespace
}  // namespace upstream
