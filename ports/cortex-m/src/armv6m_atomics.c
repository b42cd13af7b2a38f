/*
 * The __atomic_* helpers GCC calls on ARMv6-M (Cortex-M0/M0+), which has no LDREX/STREX:
 * each masks interrupts (PRIMASK) for the few instructions of the operation and restores the
 * previous mask. Interrupt-safe on a single core; not lock-free (interrupts wait a few cycles).
 * Only the 4-byte forms the core uses (and 1-byte for std::atomic<bool>) are provided.
 */
#include <stdbool.h>
#include <stdint.h>

/* Compiled for every Cortex-M (the cortex_m CMake target always adds it); only ARMv6-M needs
 * it, and elsewhere it is empty, so the compiler's own LDREX/STREX sequences stay. */
#if defined(__ARM_ARCH_6M__)

static inline uint32_t irq_save(void) {
  uint32_t primask;
  __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
  return primask;
}

static inline void irq_restore(uint32_t primask) {
  __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
}

#define SLOTGATE_RMW(name, type, expr)             \
  type name(volatile void* p, type v, int order) { \
    (void)order;                                   \
    volatile type* a = (volatile type*)p;          \
    const uint32_t m = irq_save();                 \
    const type old = *a;                           \
    *a = (expr);                                   \
    irq_restore(m);                                \
    return old;                                    \
  }

SLOTGATE_RMW(__atomic_fetch_add_4, unsigned int, old + v)
SLOTGATE_RMW(__atomic_fetch_sub_4, unsigned int, old - v)
SLOTGATE_RMW(__atomic_fetch_or_4, unsigned int, old | v)
SLOTGATE_RMW(__atomic_fetch_and_4, unsigned int, old& v)
SLOTGATE_RMW(__atomic_exchange_4, unsigned int, v)
SLOTGATE_RMW(__atomic_exchange_1, unsigned char, v)

#define SLOTGATE_CAS(name, type)                                                           \
  bool name(volatile void* p, void* expected, type desired, bool weak, int ok, int fail) { \
    (void)weak;                                                                            \
    (void)ok;                                                                              \
    (void)fail;                                                                            \
    volatile type* a = (volatile type*)p;                                                  \
    type* e = (type*)expected;                                                             \
    const uint32_t m = irq_save();                                                         \
    const type cur = *a;                                                                   \
    const bool hit = cur == *e;                                                            \
    if (hit)                                                                               \
      *a = desired;                                                                        \
    else                                                                                   \
      *e = cur;                                                                            \
    irq_restore(m);                                                                        \
    return hit;                                                                            \
  }

SLOTGATE_CAS(__atomic_compare_exchange_4, unsigned int)
SLOTGATE_CAS(__atomic_compare_exchange_1, unsigned char)

#endif /* __ARM_ARCH_6M__ */
