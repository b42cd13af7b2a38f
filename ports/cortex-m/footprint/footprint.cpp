// A minimal bare-metal image that uses every operation of a Limiter<cortex_m::Port, 8, 16>,
// the blocking acquire included (and, built with SLOTGATE_FOOTPRINT_SECOND, of a second one of
// 4 slots and 32 waiters; with SLOTGATE_FOOTPRINT_USAGE, on a port with a usage source, which
// brings in the usage gate, the learned lags and headroom's foreign part).
// scripts/footprint links it twice — with and without the limiter (SLOTGATE_BASELINE) — and
// the difference is what the core costs.
#include <stdint.h>

#include "slotgate/ports/cortex_m.hpp"
#ifndef SLOTGATE_BASELINE
#include "slotgate/limiter.hpp"
#endif
#ifdef SLOTGATE_FOOTPRINT_USAGE
#include "slotgate/usage_cell.hpp"
#endif

#include "footprint_image.hpp"

#ifdef SLOTGATE_FOOTPRINT_USAGE
// The cortex-m port with a usage source: readings a task or an interrupt writes into a cell,
// and a flag the feeder watches for a refresh.
class UsagePort : public slotgate::cortex_m::Port {
 public:
  bool read_usage(slotgate::UsageReading<uint32_t>& out) noexcept { return cell.read(out); }
  uint32_t usage_version() const noexcept { return cell.version(); }
  void request_usage_refresh() noexcept { refresh_asked = true; }
  slotgate::UsageCell<uint32_t, slotgate::cortex_m::Atomics> cell;
  volatile bool refresh_asked = false;
};
#endif

extern "C" {
volatile uint32_t g_sink;

#ifdef SLOTGATE_FOOTPRINT_USAGE
UsagePort g_port;
slotgate::Limiter<UsagePort, 8, 16> g_limiter(g_port);
#elif !defined(SLOTGATE_BASELINE)
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
#ifdef SLOTGATE_FOOTPRINT_USAGE
  g_port.cell.write(true, g_sink, g_sink);  // a reading, as a feeder would write it
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
