// The `cortex-m` port: bare-metal Cortex-M0/M0+/M3/M4/M7.
//
//   tick       a 32-bit count of SysTick interrupts (it wraps: the core compares ticks
//              wrap-safely); start it with start_systick(), count with on_systick() from your
//              SysTick_Handler
//   notify     sets a flag that the waiter sleeps on; callable from any interrupt handler
//   wait       the core's wait contract: WFI until notified, until a deadline, or until any
//              interrupt, restoring the caller's PRIMASK; slotgate::acquire_until
//              (slotgate/acquire.hpp) blocks on it
//   idle       the same for a main loop: sleep until something happens
//   atomics    std::atomic. On ARMv7-M (M3/M4/M7) the read-modify-writes are LDREX/STREX and
//              the core is lock-free. ARMv6-M (M0/M0+) has no such instructions: the compiler
//              calls __atomic_* helpers, which this port implements (src/armv6m_atomics.c) by
//              masking interrupts (PRIMASK) around the few instructions of each. On M0 the
//              core is therefore interrupt-safe but NOT lock-free: an RMW briefly blocks
//              interrupts instead.
//
// try_acquire, release, poll, cancel, claim, pause_*, close and snapshot may be called from
// interrupt handlers. Put ports/cortex-m/profile on the include path (the slotgate::cortex_m
// CMake target does): its slotgate_profile.h sets SLOTGATE_CACHE_LINE to 4 (no data cache to
// pad for).
#pragma once

#include <stdint.h>

#include <atomic>

#include "slotgate/acquire.hpp"
#include "slotgate/atomics.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/ports/cortex_m_atomics.hpp"
#include "slotgate/status.hpp"
#include "slotgate/ticks.hpp"

namespace slotgate::cortex_m {

// The tick counter. Written only by the SysTick handler; read anywhere.
inline std::atomic<uint32_t> g_ticks{0};

// Counts one tick. Call from SysTick_Handler. Wait-free (one writer: a load and a store).
inline void on_systick() noexcept {
  // relaxed x2: the only writer; readers need no ordering with other data.
  g_ticks.store(g_ticks.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// Set the tick (tests start it just below the wraparound). Not from an interrupt.
inline void set_ticks(uint32_t t) noexcept {
  g_ticks.store(t, std::memory_order_relaxed);
}

// SysTick every `reload` + 1 processor cycles, with its interrupt.
inline void start_systick(uint32_t reload) noexcept {
  volatile uint32_t* const csr = reinterpret_cast<volatile uint32_t*>(0xE000E010u);
  volatile uint32_t* const rvr = reinterpret_cast<volatile uint32_t*>(0xE000E014u);
  volatile uint32_t* const cvr = reinterpret_cast<volatile uint32_t*>(0xE000E018u);
  *csr = 0;
  *rvr = reload & 0x00FFFFFFu;
  *cvr = 0;
  *csr = 7;  // processor clock, interrupt, enable
}

inline void stop_systick() noexcept {
  *reinterpret_cast<volatile uint32_t*>(0xE000E010u) = 0;
}

class Port {
 public:
  using tick_type = uint32_t;
  using word_type = uint32_t;
  using counter_type = uint32_t;
  using atomics = Atomics;
  // notify is a store: any interrupt may call it, at any priority, and it takes no lock. (On
  // ARMv6-M the limiter's own RMWs mask interrupts: Limiter::kLockFree is false there.)
  static constexpr bool kNotifyInterruptSafe = true;
  static constexpr bool kNotifyLockFree = true;

  // The tick count. Wait-free, interrupt-safe.
  static tick_type now() noexcept { return g_ticks.load(std::memory_order_relaxed); }

  // Wake the waiter. Wait-free (a store), interrupt-safe. Bare metal has one thread that can
  // wait (interrupt handlers cannot), so every wake-up, for a ticket or for a poll, is for it:
  // the port has no notify_waiter and the core calls this instead.
  void notify() noexcept {
    // release: pairs with the acquire exchange in wait_token(); what the notifier did is
    // visible to the waiter's look at its ticket.
    woken_.store(true, std::memory_order_release);
  }

  // ---- the wait contract (port.hpp); the one waiter always polls --------------------------

  void begin_wait(uint32_t) noexcept {}
  bool end_wait(uint32_t) noexcept { return false; }  // nobody to hand the role to
  void hand_off(uint32_t) noexcept {}
  // Consume any wake-up so far: the look at the ticket that follows sees what it announced.
  // Wait-free.
  uint32_t wait_token(uint32_t) noexcept {
    // acquire: pairs with notify's release.
    woken_.exchange(false, std::memory_order_acquire);
    return 0;
  }
  // Sleep until notify(), until the earlier deadline or until any interrupt. Blocking; not
  // from an interrupt handler.
  void wait(uint32_t, uint32_t, Deadline<tick_type> poll_at, Deadline<tick_type> own) noexcept {
    poll_at.merge(own);
    idle(poll_at);
  }

  // Sleep until notify(), until `until` (if set) or until any interrupt, whichever comes
  // first: the main loop's idle. Interrupts are masked between the last check and WFI, so a
  // notify() from a handler in between wakes it at once (WFI returns on a pending interrupt
  // even while masked); the caller's PRIMASK is restored after, so a caller that had
  // interrupts masked keeps them masked (its WFI then still returns on a pending interrupt,
  // whose handler runs once it unmasks). Blocking; not from an interrupt handler.
  void idle(Deadline<tick_type> until) noexcept {
    uint32_t primask = 0;
    __asm volatile("mrs %0, primask" : "=r"(primask)::"memory");
    __asm volatile("cpsid i" ::: "memory");
    const bool due = until.set && Ticks<tick_type>::reached(until.at, now());
    // relaxed: interrupts are masked; the acquire that orders the waiter's reads is in
    // wait_token.
    if (!woken_.load(std::memory_order_relaxed) && !due) __asm volatile("wfi" ::: "memory");
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
  }

  // Whether interrupts are masked now (PRIMASK). For tests of the above. Interrupt-safe.
  static bool interrupts_masked() noexcept {
    uint32_t primask = 0;
    __asm volatile("mrs %0, primask" : "=r"(primask));
    return (primask & 1u) != 0;
  }

 private:
  std::atomic<bool> woken_{false};
};

}  // namespace slotgate::cortex_m
