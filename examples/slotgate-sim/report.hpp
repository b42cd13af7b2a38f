// What a run prints and writes: the table, the CSV, the SVG.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "engine.hpp"

namespace sim {

// One table per scenario, strategies as rows.
void print_table(std::ostream& out, const Scenario& s, const std::vector<Result>& rows);
// scenario,strategy,rejections_429,completed,throughput_per_min,utilization,wait_p50_ms,
// wait_p99_ms,wait_max_ms,max_upstream,foreign_429s,foreign_completed,interactive_wait_p50_ms,
// interactive_wait_p99_ms,batch_wait_p50_ms,batch_wait_p99_ms (class columns 0 with one class)
void write_csv(std::ostream& out, const std::vector<Result>& rows);
// The upstream's count against the cap over time, one lane per (scenario, strategy), 429s
// marked.
void write_svg(std::ostream& out, const std::vector<Scenario>& scenarios,
               const std::vector<std::vector<Result>>& results);

}  // namespace sim
