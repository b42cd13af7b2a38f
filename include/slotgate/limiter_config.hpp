// Runtime settings of a limiter. Durations are in the port's ticks and must be under half the
// tick range.
#pragma once

#include <stdint.h>

namespace slotgate {

// The usage gate: grants are checked against the upstream's own in-flight count, when the
// port has a usage source and its latest reading is fresh enough.
template <class Tick>
struct GateConfig {
  // A reading is usable while now - sampled_at <= max_age. 0 turns the gate off (the limiter
  // then runs on cooldown alone).
  Tick max_age = 0;
  // Grants made after sampled_at - visibility_lag are assumed missing from a reading (the
  // upstream's lag before it counts a session, plus how stale its endpoint may serve).
  Tick visibility_lag = 0;
  // How long the upstream may go on counting a session after its slot is free again: its lag
  // beyond the cooldown (0 when the cooldown covers the lag, as it should).
  Tick tail = 0;
  // While waiters are held (by the gate, or with no usable reading), ask the port for a fresh
  // reading at most this often, and after every release. 0: at every poll.
  Tick repoll_interval = 0;
  // A reading above this is garbage (a parse error, a wrong field): ignored and counted.
  uint32_t max_plausible_sessions = 10000;
};

// Adaptive headroom H: slots held back for usage the limiter cannot see. L_eff = L - H.
template <class Tick>
struct HeadroomConfig {
  // After this long without a rejection, with demand, H steps down by one. 0: never.
  Tick recover_after = 0;
  // Never step down by itself; only a manual limit change clears H.
  bool sticky = false;
  // Raise H to cover sessions that readings show beyond this limiter's own.
  bool track_foreign = true;
  // Foreign usage must show in every reading for this long before H rises for it (0: at
  // once). Readings already count foreign sessions in the gate; H only has to cover them once
  // readings go stale, so waiting out a passing spike costs nothing.
  Tick foreign_confirm = 0;
};

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
  // 0 = no pause; each rejection then counts as its own headroom event.
  Tick default_pause = 0;
  GateConfig<Tick> gate;
  HeadroomConfig<Tick> headroom;
};

}  // namespace slotgate
