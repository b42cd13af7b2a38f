// What a port's usage source reports: the upstream's own count of in-flight sessions for this
// credential, and when it was true.
#pragma once

#include <stdint.h>

namespace slotgate {

template <class Tick>
struct UsageReading {
  uint32_t sessions = 0;  // e.g. usage.concurrent_sessions, current-concurrent-requests
  Tick sampled_at = 0;    // when the upstream's answer was true; a fetch's start is a safe value
};

// Why the effective limit is below the configured one.
enum class HeadroomReason : uint8_t {
  kNone,      // H = 0
  kRejected,  // the upstream refused sessions (429s)
  kForeign    // readings showed sessions beyond this limiter's own
};

}  // namespace slotgate
