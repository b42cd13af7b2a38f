/* The FreeRTOS configuration of the FreeRTOS gateway example (QEMU mps2-an385, Cortex-M3).
 * What slotgate's port needs: task notifications with a spare index (index 1 is slotgate's)
 * and xTaskGetCurrentTaskHandle. The rest is the example's: static allocation only, one static
 * queue to the modem task. */
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#include <stdint.h>

#define configUSE_PREEMPTION 1
#define configUSE_PORT_OPTIMISED_TASK_SELECTION 0
#define configCPU_CLOCK_HZ 25000000u
#define configTICK_RATE_HZ 1000u
#define configMAX_PRIORITIES 6
#define configMINIMAL_STACK_SIZE 256
#define configMAX_TASK_NAME_LEN 8
#define configTICK_TYPE_WIDTH_IN_BITS TICK_TYPE_WIDTH_32_BITS
#define configIDLE_SHOULD_YIELD 1
#define configUSE_TASK_NOTIFICATIONS 1
#define configTASK_NOTIFICATION_ARRAY_ENTRIES 2
#define configUSE_MUTEXES 0
#define configUSE_RECURSIVE_MUTEXES 0
#define configUSE_COUNTING_SEMAPHORES 0
#define configQUEUE_REGISTRY_SIZE 0
#define configUSE_QUEUE_SETS 0
#define configUSE_TIME_SLICING 1
#define configSUPPORT_STATIC_ALLOCATION 1
#define configSUPPORT_DYNAMIC_ALLOCATION 0
#define configKERNEL_PROVIDED_STATIC_MEMORY 1
#define configUSE_IDLE_HOOK 0
#define configUSE_TICK_HOOK 0
#define configCHECK_FOR_STACK_OVERFLOW 2
#define configUSE_TIMERS 0
#define configTIMER_TASK_STACK_DEPTH configMINIMAL_STACK_SIZE /* unused without timers */
#define configUSE_CO_ROUTINES 0
#define configUSE_TRACE_FACILITY 0

/* QEMU does not model the NVIC's priority bits. On hardware with 3 bits (0x20 steps): the
 * kernel at the lowest priority, FromISR calls (slotgate's included) up to 0x40; the network
 * interrupt at 0xA0, below that. */
#define configKERNEL_INTERRUPT_PRIORITY 255
#define configMAX_SYSCALL_INTERRUPT_PRIORITY 0x40

#define INCLUDE_vTaskDelay 1
#define INCLUDE_vTaskSuspend 1
#define INCLUDE_xTaskGetCurrentTaskHandle 1

#ifdef __cplusplus
extern "C" {
#endif
void slotgate_freertos_assert(const char* file, int line);
#ifdef __cplusplus
}
#endif
#define configASSERT(x) \
  if (!(x)) slotgate_freertos_assert(__FILE__, __LINE__)

#define vPortSVCHandler SVC_Handler
#define xPortPendSVHandler PendSV_Handler
#define xPortSysTickHandler SysTick_Handler

#endif
