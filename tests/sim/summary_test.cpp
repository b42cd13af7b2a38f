// slotgate-sim --seeds: a strategy's figures over several seeds, and how they are compared with
// the baseline's seed by seed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "report.hpp"

namespace sim {
namespace {

Result row(const char* strategy, uint64_t ours, uint64_t theirs, uint64_t done, double per_min) {
  Result r;
  r.scenario = "s";
  r.strategy = strategy;
  r.rejections_429 = ours;
  r.foreign_429s = theirs;
  r.completed = done;
  r.throughput_per_min = per_min;
  return r;
}

TEST(SeedSummary, TotalsMeansAndTheSeedsEachRuleHoldsOn) {
  // Seed 1: fewer 429s (3 against 5) and more done: both. Seed 2: as many 429s (4 and 4), fewer
  // done: one rule. Seed 3: more 429s (6 against 2), as many done: the other rule.
  const std::vector<std::vector<Result>> by_seed = {
      {row("poll-one", 1, 4, 10, 1.0), row("slotgate", 0, 3, 12, 1.2)},
      {row("poll-one", 2, 2, 20, 2.0), row("slotgate", 1, 3, 19, 1.9)},
      {row("poll-one", 0, 2, 30, 3.0), row("slotgate", 2, 4, 30, 3.0)},
  };
  const auto s = summarize(by_seed, "poll-one");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].strategy, "poll-one");
  EXPECT_FALSE(s[0].compared) << "the baseline is not compared with itself";
  EXPECT_EQ(s[0].seeds, 3u);
  EXPECT_EQ(s[0].rejections_429, 3u);
  EXPECT_EQ(s[0].foreign_429s, 8u);
  EXPECT_EQ(s[0].completed, 60u);
  EXPECT_DOUBLE_EQ(s[0].throughput_per_min, 2.0);
  EXPECT_TRUE(s[1].compared);
  EXPECT_EQ(s[1].rejections_429, 3u);
  EXPECT_EQ(s[1].foreign_429s, 10u);
  EXPECT_EQ(s[1].completed, 61u);
  EXPECT_EQ(s[1].no_more_429s, 2u);
  EXPECT_EQ(s[1].no_fewer_done, 2u);
  EXPECT_EQ(s[1].both, 1u);
}

TEST(SeedSummary, WithoutTheBaselineNothingIsCompared) {
  const std::vector<std::vector<Result>> by_seed = {{row("slotgate", 0, 0, 5, 0.5)}};
  const auto s = summarize(by_seed, "poll-one");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_FALSE(s[0].compared);
  EXPECT_EQ(s[0].both, 0u);
  EXPECT_TRUE(summarize({}, "poll-one").empty());
}

}  // namespace
}  // namespace sim
