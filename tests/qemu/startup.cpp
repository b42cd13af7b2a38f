// Minimal Cortex-M startup for the test firmware: vector table, .data/.bss, constructors,
// main, then a semihosting exit with main's verdict. An RTOS supplies SVC_Handler and
// PendSV_Handler, and firmware that uses a peripheral interrupt IRQ_Handler (all of the first
// 32 external interrupts come there; it reads IPSR to tell which); each faults otherwise.
// Firmware built for hardware floating point has the FPU switched on first.
#include <stdint.h>

#include "semihost.hpp"

extern "C" {
extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();
int main();
void SysTick_Handler();

[[noreturn]] void Fault_Handler();
__attribute__((weak)) void SVC_Handler() {
  Fault_Handler();
}
__attribute__((weak)) void PendSV_Handler() {
  Fault_Handler();
}
__attribute__((weak)) void IRQ_Handler() {
  Fault_Handler();
}

[[noreturn]] void Reset_Handler() {
#if defined(__ARM_FP)
  // CPACR: full access to CP10 and CP11, before any floating-point instruction.
  *reinterpret_cast<volatile uint32_t*>(0xE000ED88u) |= 0xFu << 20;
  __asm volatile("dsb\n isb" ::: "memory");
#endif
  const uint32_t* src = &__data_load;
  for (uint32_t* dst = &__data_start; dst < &__data_end;) *dst++ = *src++;
  for (uint32_t* dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
  for (void (**f)() = __init_array_start; f < __init_array_end; ++f) (*f)();
  semihost::exit(main() == 0);
}

[[noreturn]] void Fault_Handler() {
  semihost::write("FAILED: hard fault\n");
  semihost::exit(false);
}

#define SLOTGATE_IRQ reinterpret_cast<void*>(IRQ_Handler)
#define SLOTGATE_IRQ8                                                                 \
  SLOTGATE_IRQ, SLOTGATE_IRQ, SLOTGATE_IRQ, SLOTGATE_IRQ, SLOTGATE_IRQ, SLOTGATE_IRQ, \
      SLOTGATE_IRQ, SLOTGATE_IRQ
__attribute__((section(".vectors"), used)) void* const g_vectors[16 + 32] = {
    &__stack_top,
    reinterpret_cast<void*>(Reset_Handler),
    reinterpret_cast<void*>(Fault_Handler),  // NMI
    reinterpret_cast<void*>(Fault_Handler),  // HardFault
    reinterpret_cast<void*>(Fault_Handler),  // MemManage
    reinterpret_cast<void*>(Fault_Handler),  // BusFault
    reinterpret_cast<void*>(Fault_Handler),  // UsageFault
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    reinterpret_cast<void*>(SVC_Handler),
    reinterpret_cast<void*>(Fault_Handler),  // DebugMonitor
    nullptr,
    reinterpret_cast<void*>(PendSV_Handler),
    reinterpret_cast<void*>(SysTick_Handler),
    SLOTGATE_IRQ8,
    SLOTGATE_IRQ8,
    SLOTGATE_IRQ8,
    SLOTGATE_IRQ8,  // external interrupts 0..31
};
#undef SLOTGATE_IRQ8
#undef SLOTGATE_IRQ
}
