// A minimal FreeRTOS image with one task that uses every operation of a
// slotgate::freertos::Limiter<8, 16>, the blocking acquire included. scripts/footprint links it
// twice — with and without the limiter (SLOTGATE_BASELINE: the task only delays) — and the
// difference is what slotgate, its FreeRTOS port and the kernel functions the port calls cost.
#include <stdint.h>

#include "FreeRTOS.h"
#include "task.h"
#ifndef SLOTGATE_BASELINE
#include "slotgate/ports/freertos.hpp"
#endif

extern "C" {
extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
volatile uint32_t g_sink;
void SVC_Handler();
void PendSV_Handler();
void SysTick_Handler();
}

namespace {
#ifndef SLOTGATE_BASELINE
using L = slotgate::freertos::Limiter<8, 16>;
slotgate::freertos::Port<16> g_port;
L g_limiter(g_port);

void use_the_limiter() {
  const TickType_t now = slotgate::freertos::Port<16>::now();
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
  g_sink = static_cast<uint32_t>(slotgate::freertos::acquire_for(g_limiter, g_sink, p));
  g_sink = static_cast<uint32_t>(g_limiter.release(p, now, L::outcome_type::rejected()));
  g_sink = g_limiter.poll(now).next.at;
  g_sink = static_cast<uint32_t>(g_limiter.set_limit(g_sink, now));
  g_sink = static_cast<uint32_t>(g_limiter.pause_for(g_sink, now));
  g_limiter.resume();
  g_sink = g_limiter.snapshot().held;
  g_limiter.close();
}
#endif

void task(void*) {
  for (;;) {
#ifndef SLOTGATE_BASELINE
    use_the_limiter();
#endif
    vTaskDelay(g_sink);
  }
}

StaticTask_t g_tcb;
StackType_t g_stack[256];
}  // namespace

extern "C" {
int main() {
  (void)xTaskCreateStatic(task, "t", 256, nullptr, 1, g_stack, &g_tcb);
  vTaskStartScheduler();
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

__attribute__((section(".vectors"), used)) void* const g_vectors[16] = {
    &__stack_top,
    reinterpret_cast<void*>(Reset_Handler),
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    reinterpret_cast<void*>(SVC_Handler),
    nullptr,
    nullptr,
    reinterpret_cast<void*>(PendSV_Handler),
    reinterpret_cast<void*>(SysTick_Handler)};
}
