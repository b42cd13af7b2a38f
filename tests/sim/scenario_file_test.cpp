// Scenario files: documented keys load; mistakes name the file, line and key.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "scenario.hpp"

namespace sim {
namespace {

std::string write(const std::string& name, const std::string& body) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << body;
  return path;
}

TEST(ScenarioFile, LoadsEveryKey) {
  const std::string path = write("full.scenario",
                                 "# a comment\n"
                                 "name = mine\n"
                                 "cap = 8\n"
                                 "agents = 20   # trailing comment\n"
                                 "duration_s = 120\n"
                                 "seed = 42\n"
                                 "think_ms = 100..200\n"
                                 "generation_ms = 1000..5000\n"
                                 "lag_in_ms = 10\n"
                                 "lag_out_ms = 300..600\n"
                                 "staleness_ms = 2000\n"
                                 "poll_latency_ms = 80\n"
                                 "foreign_clients = 2\n"
                                 "foreign_sessions = 1..3\n"
                                 "foreign_on_ms = 1000..2000\n"
                                 "foreign_off_ms = 3000..4000\n"
                                 "burst_period_ms = 10000\n"
                                 "burst_jitter_ms = 0..100\n"
                                 "penalty = shrink\n"
                                 "penalty_ms = 30000\n"
                                 "retry_after_ms = 5000\n"
                                 "interactive_agents = 5\n"
                                 "interactive_think_ms = 1000..9000\n"
                                 "interactive_generation_ms = 200..800\n");
  Scenario s;
  std::string error;
  ASSERT_TRUE(load_scenario(path, s, error)) << error;
  EXPECT_EQ(s.name, "mine");
  EXPECT_EQ(s.cap, 8u);
  EXPECT_EQ(s.agents, 20u);
  EXPECT_EQ(s.duration, 120000u);
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.lag_in.lo, 10u);
  EXPECT_EQ(s.lag_in.hi, 10u);
  EXPECT_EQ(s.lag_out.hi, 600u);
  EXPECT_EQ(s.foreign_clients, 2u);
  EXPECT_EQ(s.penalty, Penalty::kShrink);
  EXPECT_EQ(s.retry_after, 5000u);
  EXPECT_EQ(s.interactive, 5u);
  EXPECT_EQ(s.interactive_think.hi, 9000u);
  EXPECT_EQ(s.interactive_generation.lo, 200u);
}

// Each case has its own name and file: ctest runs every case in its own process, in parallel.
struct Bad {
  const char* name;
  const char* body;
  const char* expect;  // the part of the error after "FILE:"
};

void PrintTo(const Bad& b, std::ostream* os) {
  *os << b.name;
}

class BadScenario : public ::testing::TestWithParam<Bad> {};

TEST_P(BadScenario, NamesFileLineAndKey) {
  const std::string path =
      write(std::string("bad-") + GetParam().name + ".scenario", GetParam().body);
  Scenario s;
  std::string error;
  EXPECT_FALSE(load_scenario(path, s, error));
  EXPECT_EQ(error.rfind(path + ":", 0), 0u) << error;
  EXPECT_NE(error.find(GetParam().expect), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Mistakes, BadScenario,
    ::testing::Values(
        Bad{"UnknownKey", "cap = 4\ncolour = blue\n", ":2: colour: unknown key"},
        Bad{"NegativeLag", "lag_out_ms = -5\n", ":1: lag_out_ms: must not be negative"},
        Bad{"ZeroCap", "\n\ncap = 0\n", ":3: cap: must be at least 1"},
        Bad{"ZeroAgents", "agents = 0\n", ":1: agents: must be at least 1"},
        Bad{"NegativeAgents", "agents = -3\n", ":1: agents: must not be negative"},
        Bad{"InvertedRange", "think_ms = 500..100\n", ":1: think_ms: range upper bound below"},
        Bad{"NoEquals", "cap 4\n", ":1: cap 4: expected 'key = value'"},
        Bad{"UnknownPenalty", "penalty = maybe\n", ":1: penalty: one of none, shrink, refuse"},
        Bad{"NotANumber", "seed = 12abc\n", ":1: seed: not a whole number"},
        Bad{"MoreInteractiveThanAgents", "agents = 2\ninteractive_agents = 3\n",
            " interactive_agents: more than agents (2)"}),
    [](const ::testing::TestParamInfo<Bad>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace sim
