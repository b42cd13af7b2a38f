// The small value types that cross the API: permits, tickets and release outcomes.
#pragma once

#include <stdint.h>

namespace slotgate {

// A granted slot. Copyable plain data; what makes it safe is the generation tag: the limiter
// honours a release only for the generation the slot was granted with, so a second release, a
// release after the slot was reclaimed, or a forged permit changes no count and is reported.
struct Permit {
  static constexpr uint32_t kNone = 0xFFFFFFFFu;
  uint32_t slot = kNone;
  uint32_t generation = 0;  // 0 is never issued

  constexpr bool valid() const noexcept { return slot != kNone && generation != 0; }
};

// A place in the wait queue. Every ticket an enqueue returns must be resolved by its owner with
// claim() (granted, timed out or closed) or cancel(); until then it holds one of the
// MaxWaiters ticket records.
struct Ticket {
  static constexpr uint32_t kNone = 0xFFFFFFFFu;
  uint32_t index = kNone;
  uint32_t generation = 0;  // 0 is never issued

  constexpr bool valid() const noexcept { return index != kNone && generation != 0; }
};

// What happened upstream during a permit's session, reported at release.
template <class Tick>
struct Outcome {
  enum class Kind : uint8_t { kOk, kRejected };
  Kind kind = Kind::kOk;
  bool has_retry_after = false;
  Tick retry_after = 0;  // a duration in ticks, from the upstream's Retry-After

  static constexpr Outcome ok() noexcept { return Outcome{}; }
  // The upstream refused the session (a 429): grants pause for the configured default pause.
  static constexpr Outcome rejected() noexcept { return Outcome{Kind::kRejected, false, 0}; }
  // As rejected(), pausing for the upstream's retry-after instead of the default.
  static constexpr Outcome rejected_retry_after(Tick d) noexcept {
    return Outcome{Kind::kRejected, true, d};
  }
};

// Where a ticket is in its life. Reading it changes nothing.
enum class TicketState : uint8_t {
  kWaiting,   // queued
  kGranted,   // a slot is reserved for it; claim() turns it into a permit
  kTimedOut,  // its deadline passed; claim() or cancel() frees the record
  kClosed,    // the limiter closed while it waited; claim() or cancel() frees the record
  kInvalid    // never issued, already claimed or cancelled
};

}  // namespace slotgate
