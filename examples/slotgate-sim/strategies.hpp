// The admission strategies compared side by side.
//
//   semaphore  a plain counting semaphore at the cap
//   cooldown   a semaphore whose released slot comes back after a fixed 350 ms
//   poll-one   the limiter slotgate grew from: 350 ms cooldown; before admitting a queued
//              caller it polls usage and admits one waiter if sessions < limit, else re-polls
//              after 1 s or on the next release; the fast path is not gated; a 429 pauses the
//              queue 30 s and lowers the limit by one for good
//   slotgate   the library (sim port), usage gate and adaptive headroom on; interactive
//              callers in the higher of two lanes
//   slotgate-fifo  the same with one lane: every caller in one FIFO (run on request only)
//   oracle     admits exactly when the upstream's true count allows (no real client can)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine.hpp"

namespace sim {

// The strategies a run compares by default; and those run only when named.
std::vector<std::string> strategy_names();
std::vector<std::string> extra_strategy_names();
// nullptr for an unknown name.
std::unique_ptr<Strategy> make_strategy(const std::string& name);

}  // namespace sim
