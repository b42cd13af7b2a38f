/* The FreeRTOS configuration of slotgate's FreeRTOS test firmware (QEMU mps2-an385 / an386).
 * The port needs only task notifications with a spare index and xTaskGetCurrentTaskHandle;
 * everything else here is the test's choice. Allocation is static only. */
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#include <stdint.h>

#define configUSE_PREEMPTION 1
#define configUSE_PORT_OPTIMISED_TASK_SELECTION 0
#define configCPU_CLOCK_HZ 25000000u
#define configTICK_RATE_HZ 1000u
#define configMAX_PRIORITIES 8
#ifdef SLOTGATE_FREERTOS_SMALL_RAM /* the micro:bit: 16 KiB of RAM in all */
#define configMINIMAL_STACK_SIZE 128
#else
#define configMINIMAL_STACK_SIZE 256
#endif
#define configMAX_TASK_NAME_LEN 8
#define configTICK_TYPE_WIDTH_IN_BITS TICK_TYPE_WIDTH_32_BITS
/* The tick wraps during the run: slotgate compares ticks wrap-safely, and this proves it. */
#define configINITIAL_TICK_COUNT (0xFFFFFFFFu - SLOTGATE_TICKS_BEFORE_WRAP)
#define configIDLE_SHOULD_YIELD 1
#define configUSE_TASK_NOTIFICATIONS 1
#define configTASK_NOTIFICATION_ARRAY_ENTRIES 2 /* index 1 is slotgate's */
#define configUSE_MUTEXES 0
#define configUSE_RECURSIVE_MUTEXES 0
#define configUSE_COUNTING_SEMAPHORES 0
#define configQUEUE_REGISTRY_SIZE 0
#define configUSE_QUEUE_SETS 0
#define configUSE_TIME_SLICING 1
#define configUSE_NEWLIB_REENTRANT 0
#define configENABLE_BACKWARD_COMPATIBILITY 0
#define configSUPPORT_STATIC_ALLOCATION 1
#define configSUPPORT_DYNAMIC_ALLOCATION 0
#define configKERNEL_PROVIDED_STATIC_MEMORY 1
#define configUSE_IDLE_HOOK 0
#define configUSE_TICK_HOOK 1 /* the interrupt that releases permits and marks 429s */
#define configCHECK_FOR_STACK_OVERFLOW 2
#define configUSE_MALLOC_FAILED_HOOK 0
#define configUSE_TIMERS 0
#define configTIMER_TASK_STACK_DEPTH configMINIMAL_STACK_SIZE /* unused without timers */
#define configUSE_CO_ROUTINES 0
#define configUSE_TRACE_FACILITY 0
#define configGENERATE_RUN_TIME_STATS 0
#define configUSE_STATS_FORMATTING_FUNCTIONS 0

/* The ARMv6-M port (ARM_CM0) asks for these; the M3 and M4F ports ignore them. */
#define configENABLE_MPU 0
#define configENABLE_FPU 0
#define configENABLE_TRUSTZONE 0
#define configRUN_FREERTOS_SECURE_ONLY 0

/* QEMU does not model the NVIC's priority bits: the kernel runs at the lowest priority, and
 * FromISR calls are allowed up to 0x40. */
#define configKERNEL_INTERRUPT_PRIORITY 255
#define configMAX_SYSCALL_INTERRUPT_PRIORITY 0x40

#define INCLUDE_vTaskPrioritySet 0
#define INCLUDE_uxTaskPriorityGet 0
#define INCLUDE_vTaskDelete 0
#define INCLUDE_vTaskSuspend 1
#define INCLUDE_vTaskDelayUntil 0
#define INCLUDE_vTaskDelay 1
#define INCLUDE_xTaskGetCurrentTaskHandle 1
#define INCLUDE_xTaskGetSchedulerState 1
#define INCLUDE_uxTaskGetStackHighWaterMark 1 /* the controller reports its stack margin */

#ifdef __cplusplus
extern "C" {
#endif
void slotgate_freertos_assert(const char* file, int line);
#ifdef __cplusplus
}
#endif
#define configASSERT(x) \
  if (!(x)) slotgate_freertos_assert(__FILE__, __LINE__)

/* The kernel's handlers under the names the startup code's vector table uses. */
#define vPortSVCHandler SVC_Handler
#define xPortPendSVHandler PendSV_Handler
#define xPortSysTickHandler SysTick_Handler

#endif
