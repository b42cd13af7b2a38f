// Wrap-safe arithmetic on a port's tick counter.
//
// A tick is an unsigned integer that counts up and wraps (a 32-bit SysTick count wraps every
// 49.7 days at 1 kHz). Two ticks are compared by the sign of their difference, which is right
// as long as they are less than half the range apart. Every duration the library accepts is
// therefore checked against kMaxDuration.
#pragma once

#include <limits>
#include <type_traits>

namespace slotgate {

template <class Tick>
struct Ticks {
  static_assert(std::is_unsigned<Tick>::value, "a tick must be an unsigned integer");
  using Signed = std::make_signed_t<Tick>;

  // Longest duration (cooldown, max_hold, timeout, pause) that still compares correctly.
  static constexpr Tick kMaxDuration = std::numeric_limits<Tick>::max() / 2;
  // A tick this narrow wraps within a deployment's life (32 bits of milliseconds: 49.7 days;
  // 16 bits: 65.5 s). A time the limiter stored would read as the future once half the range
  // old, so on such a tick poll's next deadline is never later than kHeartbeat (a sixteenth of
  // the range: 3.1 days, or 4 s), and at least every two heartbeats each part brings the times
  // it stored that are older than kOldest forward to that age (detail/heartbeat.hpp). A
  // duration longer than kOldest (18.6 days, or 24.6 s) counted from such a time ends later.
  static constexpr bool kWrapsInService = std::numeric_limits<Tick>::digits < 64;
  static constexpr Tick kHeartbeat = kMaxDuration / 8;
  static constexpr Tick kOldest = kMaxDuration - 2 * kHeartbeat;

  // a - b as a signed distance. Wait-free, interrupt-safe, no clock assumption.
  static constexpr Signed diff(Tick a, Tick b) noexcept { return static_cast<Signed>(Tick(a - b)); }
  // a is strictly earlier than b.
  static constexpr bool before(Tick a, Tick b) noexcept { return diff(a, b) < 0; }
  // The deadline d has been reached at time now.
  static constexpr bool reached(Tick d, Tick now) noexcept { return diff(now, d) >= 0; }
  static constexpr bool valid_duration(Tick d) noexcept { return d <= kMaxDuration; }
  // The earlier of two points in time.
  static constexpr Tick earliest(Tick a, Tick b) noexcept { return before(a, b) ? a : b; }
};

// A point in time that may be absent ("no deadline").
template <class Tick>
struct Deadline {
  bool set = false;
  Tick at = 0;

  static constexpr Deadline none() noexcept { return Deadline{}; }
  static constexpr Deadline at_tick(Tick t) noexcept { return Deadline{true, t}; }

  // Keep the earlier of this deadline and t. Wait-free, no clock assumption.
  constexpr void merge(Tick t) noexcept {
    if (!set || Ticks<Tick>::before(t, at)) {
      set = true;
      at = t;
    }
  }
  constexpr void merge(Deadline other) noexcept {
    if (other.set) merge(other.at);
  }
  // Keep t if it is strictly after now and earlier than this deadline: what is already due
  // is acted on by the caller, not waited for.
  constexpr void merge_after(Tick t, Tick now) noexcept {
    if (Ticks<Tick>::before(now, t)) merge(t);
  }
};

}  // namespace slotgate
