// A simulation scenario: the upstream, the workload and how long to run. Times are in ms.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sim {

using Tick = uint64_t;  // milliseconds of virtual time

struct Range {
  Tick lo = 0;
  Tick hi = 0;
};

enum class Penalty { kNone, kShrink, kRefuse };

struct Scenario {
  std::string name = "custom";
  uint32_t cap = 4;        // the upstream's concurrent-session cap
  uint32_t agents = 8;     // clients of this gateway
  Tick duration = 600000;  // virtual run time
  uint64_t seed = 1;
  Range think{500, 3000};        // an agent's pause between sessions
  Range generation{2000, 8000};  // a session's length
  Range lag_in{0, 50};           // the upstream starts counting a session this late
  Range lag_out{200, 500};       // ... and keeps counting it this long after it ends
  Tick staleness = 0;            // the usage endpoint serves a value cached up to this long
  Tick poll_latency = 50;        // the usage endpoint answers this late
  uint32_t foreign_clients = 0;  // other clients on the same key, invisible locally
  Range foreign_sessions{1, 2};  // sessions each keeps open while on
  Range foreign_on{20000, 60000};
  Range foreign_off{20000, 60000};
  Range foreign_ramp{0, 0};  // when a foreign client comes on, each session starts this late
  Tick burst_period = 0;     // > 0: agents want sessions in bursts at multiples of this
  Range burst_jitter{0, 500};
  Penalty penalty = Penalty::kNone;
  Tick penalty_duration = 0;  // how long a penalty lasts after a 429
  Tick retry_after = 0;       // the Retry-After a 429 carries (0: none)
  // Two classes of callers: agents 0 .. interactive-1 are interactive (short sessions, long
  // pauses: a person waiting), the rest batch (think and generation above). 0: one class.
  uint32_t interactive = 0;
  Range interactive_think{3000, 15000};
  Range interactive_generation{500, 2000};
};

// The named presets, in the order --all-presets runs them.
std::vector<std::string> preset_names();
// False if there is no such preset.
bool preset(const std::string& name, Scenario& out);

// Parse a scenario file (documented in the README). On error: false, and `error` says
// "FILE:LINE: KEY: what is wrong".
bool load_scenario(const std::string& path, Scenario& out, std::string& error);

}  // namespace sim
