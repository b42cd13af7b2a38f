// What the FreeRTOS firmware under QEMU shares (the test firmware and the gateway example): a
// task with statically allocated memory, and the kernel's failure hooks reporting over
// semihosting and exiting with a failing verdict. Include it from one source file of a
// firmware: it defines the hooks. FreeRTOSConfig.h routes configASSERT to
// slotgate_freertos_assert.
#pragma once

#include <stdint.h>

#include "FreeRTOS.h"
#include "semihost.hpp"
#include "task.h"

namespace freertos_support {

template <uint32_t Words>
struct TaskMemory {
  StaticTask_t tcb;
  StackType_t stack[Words];
  TaskHandle_t start(TaskFunction_t f, const char* name, UBaseType_t priority,
                     void* arg = nullptr) {
    return xTaskCreateStatic(f, name, Words, arg, priority, stack, &tcb);
  }
};

}  // namespace freertos_support

extern "C" void vApplicationStackOverflowHook(TaskHandle_t, char* name) {
  semihost::write("FAILED: stack overflow in task ");
  semihost::write(name);
  semihost::write("\n");
  semihost::exit(false);
}

extern "C" void slotgate_freertos_assert(const char* file, int line) {
  semihost::write("FAILED: configASSERT at ");
  semihost::write(file);
  semihost::write(":");
  semihost::write_uint(static_cast<uint32_t>(line));
  semihost::write("\n");
  semihost::exit(false);
}
