// The atomics policy for Cortex-M, used by the cortex-m port and by the FreeRTOS port on
// ARMv6-M. On ARMv7-M (M3/M4/M7) read-modify-writes are LDREX/STREX: lock-free. ARMv6-M
// (M0/M0+) has no such instructions: the compiler calls __atomic_* helpers, which
// src/armv6m_atomics.c implements by masking interrupts (PRIMASK), so RMWs are interrupt-safe
// but not lock-free there.
#pragma once

#include <atomic>

#include "slotgate/atomics.hpp"

namespace slotgate::cortex_m {

#if defined(__ARM_ARCH_6M__)
inline constexpr bool kHasExclusives = false;
#else
inline constexpr bool kHasExclusives = true;
#endif

struct Atomics {
  template <class T>
  using atomic = std::atomic<T>;
  template <class T>
  using var = PlainVar<T>;
  // Every type the core uses is at most 32 bits wide here, and whole-word loads and stores are
  // single instructions on every Cortex-M.
  template <class T>
  static constexpr bool always_lock_free = sizeof(T) <= 4;
  static constexpr bool kLockFree = kHasExclusives;
};

}  // namespace slotgate::cortex_m
