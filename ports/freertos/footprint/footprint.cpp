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

#include "../../cortex-m/footprint/footprint_image.hpp"

extern "C" {
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
#endif

void task(void*) {
  for (;;) {
#ifndef SLOTGATE_BASELINE
    footprint::use_every_operation(g_limiter, g_sink);
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
  footprint::init_memory();
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
