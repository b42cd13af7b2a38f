// What a run prints and writes: the table, the CSV, the SVG.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "engine.hpp"

namespace sim {

// One table per scenario, strategies as rows.
void print_table(std::ostream& out, const Scenario& s, const std::vector<Result>& rows);

// One strategy's figures over several seeds of one scenario.
struct SeedSummary {
  std::string strategy;
  uint32_t seeds = 0;
  uint64_t rejections_429 = 0;  // totals over the seeds
  uint64_t foreign_429s = 0;
  uint64_t completed = 0;
  uint64_t foreign_completed = 0;
  double throughput_per_min = 0;  // means over the seeds
  double idle_while_waiting = 0;
  uint32_t max_upstream = 0;  // the highest on any seed
  // Against the baseline, when it ran (and this is not it): the seeds on which this strategy's
  // 429s, its own and the other clients', were at most the baseline's; those on which it
  // completed at least as many sessions; those on which both held (the simulator's acceptance
  // rules, README "The simulator").
  bool compared = false;
  uint32_t no_more_429s = 0, no_fewer_done = 0, both = 0;
};
// by_seed[k][j]: seed k's result for strategy j (the same strategies in the same order on
// every seed). `baseline`: the strategy the others are compared with ("" or one not run: none).
std::vector<SeedSummary> summarize(const std::vector<std::vector<Result>>& by_seed,
                                   const std::string& baseline);
// One table per scenario run on seeds first..last, strategies as rows, with each one's totals
// as multiples of the baseline's.
void print_summary(std::ostream& out, const Scenario& s, uint64_t first, uint64_t last,
                   const std::vector<SeedSummary>& rows, const std::string& baseline);

// scenario,strategy,rejections_429,completed,throughput_per_min,utilization,wait_p50_ms,
// wait_p99_ms,wait_max_ms,max_upstream,foreign_429s,foreign_completed,interactive_wait_p50_ms,
// interactive_wait_p99_ms,batch_wait_p50_ms,batch_wait_p99_ms,idle_while_waiting,seed (class
// columns 0 with one class)
void write_csv(std::ostream& out, const std::vector<Result>& rows);
// The upstream's count against the cap over time, one lane per (scenario, strategy), 429s
// marked.
void write_svg(std::ostream& out, const std::vector<Scenario>& scenarios,
               const std::vector<std::vector<Result>>& results);

}  // namespace sim
