// Runtime settings of a limiter. Durations are in the port's ticks.
#pragma once

#include <stdint.h>

namespace slotgate {

template <class Tick>
struct Config {
  // Slots the upstream allows (L). 1 <= limit <= MaxSlots.
  uint32_t limit = 1;
  // A released slot keeps counting against the limit for this long (the upstream's counter
  // lags). 0 hands a released slot straight on. A new value applies to later releases.
  Tick cooldown = 0;
  // A permit held longer than this is reclaimed by poll (the stuck-holder watchdog); its late
  // release reports kReclaimed. 0 = no lease limit.
  Tick max_hold = 0;
  // How long a release reported as rejected (a 429) without a retry-after pauses grants.
  Tick default_pause = 0;
};

}  // namespace slotgate
