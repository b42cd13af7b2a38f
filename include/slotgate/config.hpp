// Build-time profile of the library. Every knob has a default; override by defining the macro
// before including any slotgate header (or with -D on the command line).
#pragma once

// Size the hot atomics are padded to so that unrelated writers do not share a cache line.
// Microcontrollers without a data cache set this to 4 (the ports/cortex-m profile does).
#ifndef SLOTGATE_CACHE_LINE
#define SLOTGATE_CACHE_LINE 64
#endif

namespace slotgate {
inline constexpr unsigned kCacheLine = SLOTGATE_CACHE_LINE;
static_assert((kCacheLine & (kCacheLine - 1)) == 0, "SLOTGATE_CACHE_LINE must be a power of two");
}  // namespace slotgate
