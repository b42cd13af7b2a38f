// Sizes of the threaded tests. More threads than cores, seconds not minutes; the sanitizer
// builds set SLOTGATE_STRESS_ROUNDS lower because they run each operation ~10x slower.
#pragma once

#include <cstdlib>

namespace slotgate::test {

inline int stress_rounds(int fallback) {
  if (const char* env = std::getenv("SLOTGATE_STRESS_ROUNDS")) {
    const int v = std::atoi(env);
    if (v > 0) return v;
  }
  return fallback;
}

}  // namespace slotgate::test
