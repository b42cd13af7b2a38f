// Build-time profile of the library. Every knob has a default. Set them in one place: a header
// named slotgate_profile.h anywhere on the include path is read first (ETL-style; the
// cortex-m port ships one in ports/cortex-m/profile/, which its CMake target puts on the path
// after the user's own directories, so a profile of yours wins). -D on the command line works
// too.
#pragma once

#if defined(__has_include)
#if __has_include(<slotgate_profile.h>)
#include <slotgate_profile.h>
#endif
#endif

// Size the hot atomics are padded to so that unrelated writers do not share a cache line.
// Microcontrollers without a data cache set this to 4 (the cortex-m profile does).
#ifndef SLOTGATE_CACHE_LINE
#define SLOTGATE_CACHE_LINE 64
#endif

namespace slotgate {
inline constexpr unsigned kCacheLine = SLOTGATE_CACHE_LINE;
static_assert((kCacheLine & (kCacheLine - 1)) == 0, "SLOTGATE_CACHE_LINE must be a power of two");
}  // namespace slotgate
