// ARM semihosting, the two calls the firmware needs: print a string, and exit with a verdict
// QEMU turns into its exit code (0 for ApplicationExit, 1 otherwise).
#pragma once

#include <stdint.h>

namespace semihost {

inline uint32_t call(uint32_t op, const void* arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void* r1 __asm__("r1") = arg;
  __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

inline void write(const char* s) {
  call(0x04 /* SYS_WRITE0 */, s);
}

inline void write_uint(uint32_t v) {
  char buf[11];
  char* p = buf + sizeof buf - 1;
  *p = '\0';
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  write(p);
}

[[noreturn]] inline void exit(bool ok) {
  // SYS_EXIT with ADP_Stopped_ApplicationExit (0x20026) or ADP_Stopped_RunTimeErrorUnknown.
  call(0x18, reinterpret_cast<const void*>(ok ? 0x20026u : 0x20023u));
  for (;;) {
  }
}

}  // namespace semihost
