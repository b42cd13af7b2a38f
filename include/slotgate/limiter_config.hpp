// Runtime settings of a limiter. Durations are in the port's ticks and must be under half the
// tick range.
//
// A default-constructed Config turns every timed behaviour off (the core does not know how long
// a tick is). Start from Config::recommended(limit, ticks_per_second) instead: the settings
// this project runs its simulator with, for an upstream you know nothing about but its cap.
#pragma once

#include <stdint.h>

namespace slotgate {

// The usage gate: grants are checked against the upstream's own in-flight count, when the
// port has a usage source and its latest reading is fresh enough.
template <class Tick>
struct GateConfig {
  // A reading is usable while now - sampled_at <= max_age. 0 turns the gate off (the limiter
  // then runs on cooldown alone). Keep it above the longest lag the upstream may have.
  Tick max_age = 0;
  // Grants made after a reading's sample time less this are assumed missing from it (the
  // upstream's lag before it counts a session). A floor: the limiter learns a longer lag from
  // readings that miss sessions (LearnConfig).
  Tick visibility_lag = 0;
  // The usage endpoint may serve a cached value up to this old (what its provider documents).
  // A reading is then dated no later than sampled_at - staleness, or, when its value differs
  // from the previous reading's, at the previous reading's sample time (a cache that serves a
  // new value was filled after it served the old one). This assumes the values one endpoint
  // serves only get newer (one cache, not replicas that disagree).
  Tick staleness = 0;
  // How long the upstream may go on counting a session beyond the effective cooldown.
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
  // The part of H due to rejections steps down by one after this long with demand and without
  // a rejection or another client's usage newly confirmed by readings. 0: never by itself.
  Tick recover_after = 0;
  // Neither part of H steps down by itself; only a manual limit change clears it. For
  // upstreams that punish probing.
  bool sticky = false;
  // Hold back slots for sessions that readings show beyond this limiter's own.
  bool track_foreign = true;
  // Foreign usage is what every fresh reading for this long shows beyond our own sessions: it
  // follows the readings down at once and up after this long (0: at once). Our own sessions
  // the upstream still counts after they ended come and go faster; another client's stay.
  Tick foreign_confirm = 0;
  // With readings stale, foreign headroom holds what was last seen and steps down by one per
  // this long, or per the longest foreign usage seen lately (ongoing usage counts its age so
  // far) if that is longer. 0: the learned time alone.
  Tick foreign_hold = 0;
};

// What the limiter learns from readings and rejections: how long the upstream keeps counting a
// released session (raising the effective cooldown above Config::cooldown) and how late it
// starts counting a new one (raising the visibility lag above GateConfig::visibility_lag).
template <class Tick>
struct LearnConfig {
  // The longest lag the limiter will believe; 0 turns learning off.
  Tick max_lag = 0;
  // Evidence older than this is forgotten, so a lag that shrank is unlearned. 0: never.
  Tick memory = 0;
};

// What a limit change does to headroom (Limiter::set_limit).
enum class LimitChange : uint8_t {
  kClearHeadroom,  // an operator's change: forget every step H made, and why
  kKeepHeadroom,   // a fleet's share: keep what H learned (at most L - 1)
};

template <class Tick>
struct Config {
  // Slots the upstream allows (L). 1 <= limit <= MaxSlots (set_limit may also take 0 later).
  uint32_t limit = 1;
  // A released slot keeps counting against the limit for this long (the upstream's counter
  // lags). A floor: the effective cooldown is the longer of this and the learned release lag.
  // With a usable reading the gate counts the session instead, and the slot is free at once.
  // A new value applies to later releases.
  Tick cooldown = 0;
  // A permit held longer than this is reclaimed by poll (the stuck-holder watchdog); its late
  // release reports kReclaimed. 0 = no lease limit.
  Tick max_hold = 0;
  // A rejection (a 429) starts an episode: grants pause, then one probe goes (half-open). The
  // first episode pauses this long, each consecutive one twice as long, up to max_pause; a
  // longer Retry-After wins. An episode follows the last one consecutively unless the limiter
  // was open (no episode) for max_pause in between. 0: pause only for a Retry-After.
  Tick default_pause = 0;
  // The ceiling of that doubling (0: every episode pauses default_pause).
  Tick max_pause = 0;
  GateConfig<Tick> gate;
  HeadroomConfig<Tick> headroom;
  LearnConfig<Tick> learn;

  // Settings for an upstream known only by its cap, on a clock of `ticks_per_second`
  // (1000 for milliseconds, 1e9 for nanoseconds): a 350 ms cooldown floor (the release lag
  // seen on LLM and speech APIs), learning on up to 30 s of lag with 10 minutes of memory, a
  // gate that trusts readings for 30 s and re-polls every second while waiters are held, a 1 s
  // first pause doubling up to 5 minutes, and rejected headroom that recovers after a minute.
  static constexpr Config recommended(uint32_t limit, uint64_t ticks_per_second) noexcept {
    const auto ms = [ticks_per_second](uint64_t n) {
      return static_cast<Tick>(n * ticks_per_second / 1000u);
    };
    Config c;
    c.limit = limit;
    c.cooldown = ms(350);
    c.default_pause = ms(1000);
    c.max_pause = ms(300000);
    c.gate.max_age = ms(30000);
    c.gate.visibility_lag = ms(250);
    c.gate.repoll_interval = ms(1000);
    c.headroom.recover_after = ms(60000);
    c.headroom.foreign_confirm = ms(3000);
    c.learn.max_lag = ms(30000);
    c.learn.memory = ms(600000);
    return c;
  }
};

}  // namespace slotgate
