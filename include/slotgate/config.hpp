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

// Size erasure (ETL-style): 1 keeps the slot table's code apart from its capacity, so that
// limiters of several slot counts in one image share one copy of it. On a Cortex-M4
// (./scripts/footprint) that saves about 0.8 KiB of text for each slot count beyond the first,
// and costs about 70 bytes in an image with one limiter, and a pointer load on every grant
// and release. 0, the default: the table is compiled for each capacity, its records inline.
#ifndef SLOTGATE_SIZE_ERASURE
#define SLOTGATE_SIZE_ERASURE 0
#endif

namespace slotgate {
inline constexpr bool kSizeErasure = SLOTGATE_SIZE_ERASURE != 0;
inline constexpr unsigned kCacheLine = SLOTGATE_CACHE_LINE;
static_assert((kCacheLine & (kCacheLine - 1)) == 0, "SLOTGATE_CACHE_LINE must be a power of two");
}  // namespace slotgate
