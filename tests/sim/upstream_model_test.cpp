// The simulator's upstream model against schedules worked out by hand.
#include <gtest/gtest.h>

#include "engine.hpp"
#include "scenario.hpp"
#include "strategies.hpp"

namespace sim {
namespace {

// cap 1, two agents that think 1 s and generate 1 s; the upstream counts a session until
// 500 ms after it ends; a plain semaphore admits the second agent the instant the first ends.
Scenario lockstep() {
  Scenario s;
  s.name = "lockstep";
  s.cap = 1;
  s.agents = 2;
  s.duration = 10000;
  s.think = {1000, 1000};
  s.generation = {1000, 1000};
  s.lag_in = {0, 0};
  s.lag_out = {500, 500};
  return s;
}

TEST(UpstreamModel, HandComputedScheduleForASemaphore) {
  // t=1000 both want; agent 0 runs 1000-2000. At 2000 the semaphore hands the slot to agent
  // 1, but the upstream still counts agent 0 until 2500: a 429. Both want again at 3000, and
  // the cycle repeats every 2 s: agent 0 completes 5 sessions (the last ends at 10000), agent 1
  // gets 5 429s, and one session of cap 1 is busy half the time.
  auto st = make_strategy("semaphore");
  const Result r = run(lockstep(), *st);
  EXPECT_EQ(r.rejections_429, 5u);
  EXPECT_EQ(r.completed, 5u);
  EXPECT_DOUBLE_EQ(r.utilization, 0.5);
  EXPECT_DOUBLE_EQ(r.throughput_per_min, 30.0);
  EXPECT_EQ(r.max_upstream, 1u);
  EXPECT_DOUBLE_EQ(r.wait_max_ms, 1000.0);
  ASSERT_EQ(r.rejected_at.size(), 5u);
  EXPECT_EQ(r.rejected_at[0], 2000u);
  EXPECT_EQ(r.rejected_at[4], 10000u);
  // Whenever agent 1 waited, agent 0's session (or its lag) filled the cap: it wastes capacity
  // on 429s, never by leaving it idle.
  EXPECT_DOUBLE_EQ(r.idle_while_waiting, 0.0);
}

TEST(UpstreamModel, TheOracleWaitsOutTheLag) {
  // The oracle admits agent 1 at 2500, when agent 0 stops counting: no 429, and agents
  // alternate with a 500 ms gap.
  auto st = make_strategy("oracle");
  const Result r = run(lockstep(), *st);
  EXPECT_EQ(r.rejections_429, 0u);
  EXPECT_EQ(r.max_upstream, 1u);
  // Sessions: 1000-2000, 2500-3500, 4000-5000, 5500-6500, 7000-8000, 8500-9500.
  EXPECT_EQ(r.completed, 6u);
  EXPECT_DOUBLE_EQ(r.utilization, 0.6);
  EXPECT_DOUBLE_EQ(r.idle_while_waiting, 0.0);  // it grants the instant the count drops
}

TEST(UpstreamModel, ACooldownLongerThanTheLagLeavesTheCapIdle) {
  // No lag: the count drops the instant a session ends, but the 350 ms cooldown holds the slot.
  // Agent 0 runs 1000-2000 while agent 1 waits; the slot is idle 2000-2350 with agent 1
  // waiting, then agent 1 runs 2350-3350 while agent 0 (back at 3000) waits, and so on: six
  // such gaps before 10000 (the seventh session, 9100-10100, is still running), 2100 ms of
  // one slot's 10000.
  Scenario s = lockstep();
  s.lag_out = {0, 0};
  auto st = make_strategy("cooldown");
  const Result r = run(s, *st);
  EXPECT_EQ(r.rejections_429, 0u);
  EXPECT_EQ(r.completed, 6u);
  EXPECT_DOUBLE_EQ(r.idle_while_waiting, 0.21);
}

TEST(UpstreamModel, APenaltyRefusesEverythingForAWhile) {
  Scenario s = lockstep();
  s.penalty = Penalty::kRefuse;
  s.penalty_duration = 5000;
  auto st = make_strategy("semaphore");
  const Result r = run(s, *st);
  // The 429 at 2000 refuses everything until 7000, and each refusal renews it: agent 0's
  // request at 3000 is refused too, and so on — nothing completes after the first session.
  EXPECT_EQ(r.completed, 1u);
  EXPECT_GT(r.rejections_429, 5u);
}

TEST(UpstreamModel, ForeignSessionsCountButAreNotOurs) {
  Scenario s = lockstep();
  s.agents = 1;
  s.cap = 2;
  s.foreign_clients = 1;
  s.foreign_sessions = {1, 1};
  s.foreign_off = {1, 1};  // on almost at once
  s.foreign_on = {100000, 100000};
  auto st = make_strategy("oracle");
  const Result r = run(s, *st);
  EXPECT_EQ(r.max_upstream, 2u);
  EXPECT_EQ(r.rejections_429, 0u);
  EXPECT_GT(r.completed, 0u);
}

TEST(UpstreamModel, TheSameSeedGivesTheSameRun) {
  Scenario s;
  preset("foreign", s);
  s.duration = 60000;
  auto a = make_strategy("slotgate");
  auto b = make_strategy("slotgate");
  const Result x = run(s, *a), y = run(s, *b);
  EXPECT_EQ(x.completed, y.completed);
  EXPECT_EQ(x.rejections_429, y.rejections_429);
  EXPECT_EQ(x.trace.size(), y.trace.size());
}

}  // namespace
}  // namespace sim
