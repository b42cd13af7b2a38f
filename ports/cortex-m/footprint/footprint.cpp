// A minimal bare-metal image that uses every operation of a Limiter<cortex_m::Port, 8, 16>,
// the blocking acquire included (and, built with SLOTGATE_FOOTPRINT_SECOND, of a second one of
// 4 slots and 32 waiters).
// scripts/footprint links it twice — with and without the limiter (SLOTGATE_BASELINE) — and
// the difference is what the core costs.
#include <stdint.h>

#include "slotgate/ports/cortex_m.hpp"
#ifndef SLOTGATE_BASELINE
#include "slotgate/limiter.hpp"
#endif

#include "footprint_image.hpp"

extern "C" {
volatile uint32_t g_sink;

#ifndef SLOTGATE_BASELINE
slotgate::cortex_m::Port g_port;
slotgate::Limiter<slotgate::cortex_m::Port, 8, 16> g_limiter(g_port);
#endif
// SLOTGATE_FOOTPRINT_SECOND: a second limiter of another capacity beside it, what size
// erasure (SLOTGATE_SIZE_ERASURE) is for.
#ifdef SLOTGATE_FOOTPRINT_SECOND
slotgate::cortex_m::Port g_port2;
slotgate::Limiter<slotgate::cortex_m::Port, 4, 32> g_limiter2(g_port2);
#endif

// SLOTGATE_FOOTPRINT_UPTO=n: only the operations up to step n of footprint::Uses.
#ifndef SLOTGATE_FOOTPRINT_UPTO
#define SLOTGATE_FOOTPRINT_UPTO 6
#endif

int main() {
#ifndef SLOTGATE_BASELINE
  footprint::use_operations<footprint::Uses(SLOTGATE_FOOTPRINT_UPTO)>(g_limiter, g_sink);
#endif
#ifdef SLOTGATE_FOOTPRINT_SECOND
  footprint::use_every_operation(g_limiter2, g_sink);
#endif
  return 0;
}

[[noreturn]] void Reset_Handler() {
  footprint::init_memory();
  main();
  for (;;) {
  }
}

__attribute__((section(".vectors"), used)) void* const g_vectors[2] = {
    &__stack_top, reinterpret_cast<void*>(Reset_Handler)};
}
