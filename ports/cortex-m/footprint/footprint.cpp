// A minimal bare-metal image that uses every operation of a Limiter<cortex_m::Port, 8, 16>,
// the blocking acquire included.
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

int main() {
#ifndef SLOTGATE_BASELINE
  footprint::use_every_operation(g_limiter, g_sink);
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
