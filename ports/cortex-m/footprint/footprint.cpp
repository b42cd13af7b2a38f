// A minimal bare-metal image that uses every operation of a Limiter<cortex_m::Port, 8, 16>,
// the blocking acquire included.
// scripts/footprint links it twice — with and without the limiter (SLOTGATE_BASELINE) — and
// the difference is what the core costs.
#include <stdint.h>

#include "slotgate/ports/cortex_m.hpp"
#ifndef SLOTGATE_BASELINE
#include "slotgate/limiter.hpp"
#endif

extern "C" {
extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
volatile uint32_t g_sink;

#ifndef SLOTGATE_BASELINE
slotgate::cortex_m::Port g_port;
slotgate::Limiter<slotgate::cortex_m::Port, 8, 16> g_limiter(g_port);
#endif

int main() {
#ifndef SLOTGATE_BASELINE
  using L = slotgate::Limiter<slotgate::cortex_m::Port, 8, 16>;
  const uint32_t now = g_sink;
  L::config_type c;
  c.limit = g_sink;
  c.cooldown = g_sink;
  g_limiter.configure(c);
  slotgate::Permit p;
  slotgate::Ticket t;
  g_sink = static_cast<uint32_t>(g_limiter.try_acquire(now, p));
  g_sink = static_cast<uint32_t>(g_limiter.enqueue(now, t));
  g_sink = static_cast<uint32_t>(g_limiter.claim(t, p));
  g_sink = static_cast<uint32_t>(g_limiter.cancel(t, now));
  g_sink = static_cast<uint32_t>(g_limiter.state(t));
  g_sink = static_cast<uint32_t>(
      slotgate::acquire_until(g_limiter, slotgate::Deadline<uint32_t>::at_tick(g_sink), p));
  g_sink = static_cast<uint32_t>(g_limiter.release(p, now, L::outcome_type::rejected()));
  g_sink = g_limiter.poll(now).next.at;
  g_sink = static_cast<uint32_t>(g_limiter.set_limit(g_sink, now));
  g_sink = static_cast<uint32_t>(g_limiter.pause_for(g_sink, now));
  g_limiter.resume();
  g_sink = g_limiter.snapshot().held;
  g_limiter.close();
#endif
  return 0;
}

[[noreturn]] void Reset_Handler() {
  const uint32_t* src = &__data_load;
  for (uint32_t* dst = &__data_start; dst < &__data_end;) *dst++ = *src++;
  for (uint32_t* dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
  main();
  for (;;) {
  }
}

__attribute__((section(".vectors"), used)) void* const g_vectors[2] = {
    &__stack_top, reinterpret_cast<void*>(Reset_Handler)};
}
