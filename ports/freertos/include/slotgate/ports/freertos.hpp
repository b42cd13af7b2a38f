// The `freertos` port: FreeRTOS ticks, and a task notification per waiter.
//
//   slotgate::freertos::Port<MaxWaiters>       the port type (TickType_t ticks)
//   slotgate::freertos::UsagePort<MaxWaiters>  the same with a usage source fed by a task
//                                               (freertos_usage.hpp)
//   slotgate::freertos::Limiter<Slots, Waiters>  a limiter on Port<Waiters>
//   acquire_until / acquire_for / acquire / PermitGuard   the core's blocking acquire
//                                               (slotgate/acquire.hpp), in ticks
//
// Waiting. A task that has to wait records its handle in the spot of its ticket and blocks in
// ulTaskNotifyTakeIndexed on notification index kNotifyIndex (SLOTGATE_FREERTOS_NOTIFY_INDEX,
// default 1: index 0 is the one stream and message buffers use). A grant, timeout or close of
// its ticket gives that task alone a notification; a notification given before the task blocks
// stays pending, so none is lost. One waiter at a time, the newest, is the *poller*: it also
// blocks only until the limiter's next deadline (a cooldown's end, a pause's end) and is the
// task notify() wakes; it hands the role on when it leaves. No timer task, no queue, no heap:
// the port works with configSUPPORT_DYNAMIC_ALLOCATION 0.
//
// Interrupts. Every function of the limiter that does not block (try_acquire, release, poll,
// enqueue, claim, cancel, state, pause_*, close, snapshot) may run in an interrupt handler
// whose priority is at or below configMAX_SYSCALL_INTERRUPT_PRIORITY (numerically at or above
// it on Cortex-M), like any FreeRTOS "FromISR" function; the port then uses the FromISR forms
// and requests a context switch when a higher-priority task was woken. Above that priority:
// nothing of slotgate. The blocking acquires are for tasks only, after vTaskStartScheduler.
// Nothing of slotgate inside a critical section of your own (it makes kernel calls).
//
// Progress: the port's functions that do not block take a kernel critical section (a few
// dozen instructions with interrupts masked up to the syscall priority) and give at most one
// notification; none waits for another task. Clock: TickType_t ticks from the kernel, wrapping
// (the core compares them wrap-safely).
//
// Single core only (configNUMBER_OF_CORES 1): the port's waiter table is guarded by kernel
// critical sections, and a task handle is only used while the scheduler cannot run its task.
// FreeRTOSConfig.h must enable task notifications with at least kNotifyIndex + 1 entries and
// xTaskGetCurrentTaskHandle. A port other than the Cortex-M ones that lacks
// xPortIsInsideInterrupt defines SLOTGATE_FREERTOS_IN_ISR() to tell interrupt context.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>

// clang-format off: FreeRTOS.h comes first.
#include "FreeRTOS.h"
#include "task.h"
// clang-format on

#include "slotgate/acquire.hpp"
#include "slotgate/atomics.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/limiter.hpp"
#if defined(__ARM_ARCH_6M__)
#include "slotgate/ports/cortex_m_atomics.hpp"
#endif
#include "slotgate/status.hpp"
#include "slotgate/ticks.hpp"

#ifndef SLOTGATE_FREERTOS_NOTIFY_INDEX
#define SLOTGATE_FREERTOS_NOTIFY_INDEX 1
#endif
#ifndef SLOTGATE_FREERTOS_IN_ISR
#define SLOTGATE_FREERTOS_IN_ISR() (xPortIsInsideInterrupt() != pdFALSE)
#endif

#if !defined(configUSE_TASK_NOTIFICATIONS) || configUSE_TASK_NOTIFICATIONS != 1
#error "slotgate's FreeRTOS port needs configUSE_TASK_NOTIFICATIONS 1"
#endif
#if configTASK_NOTIFICATION_ARRAY_ENTRIES <= SLOTGATE_FREERTOS_NOTIFY_INDEX
#error "configTASK_NOTIFICATION_ARRAY_ENTRIES must exceed SLOTGATE_FREERTOS_NOTIFY_INDEX"
#endif
#if !defined(INCLUDE_xTaskGetCurrentTaskHandle) || INCLUDE_xTaskGetCurrentTaskHandle != 1
#error "slotgate's FreeRTOS port needs INCLUDE_xTaskGetCurrentTaskHandle 1"
#endif
#if defined(configNUMBER_OF_CORES) && configNUMBER_OF_CORES != 1
#error "slotgate's FreeRTOS port is for single-core FreeRTOS (configNUMBER_OF_CORES 1)"
#endif

namespace slotgate::freertos {

inline constexpr UBaseType_t kNotifyIndex = SLOTGATE_FREERTOS_NOTIFY_INDEX;
inline constexpr uint64_t kTicksPerSecond = configTICK_RATE_HZ;

// Whether the caller runs in an interrupt handler. Interrupt-safe, wait-free.
inline bool in_isr() noexcept {
  return SLOTGATE_FREERTOS_IN_ISR();
}

// Milliseconds as ticks, rounded up: a timeout is never shorter than asked. constexpr.
constexpr TickType_t ms_to_ticks(uint32_t ms) noexcept {
  return static_cast<TickType_t>((static_cast<uint64_t>(ms) * kTicksPerSecond + 999u) / 1000u);
}

#if defined(__ARM_ARCH_6M__)
// ARMv6-M (Cortex-M0/M0+): the cortex-m port's policy (RMWs mask interrupts; link
// slotgate::cortex_m for its armv6m_atomics.c).
using Atomics = cortex_m::Atomics;
#else
using Atomics = StdAtomics;
#endif

// A kernel critical section in whichever form the context needs. Task and interrupt context
// (at or below configMAX_SYSCALL_INTERRUPT_PRIORITY); nests.
class CriticalSection {
 public:
  CriticalSection() noexcept : isr_(in_isr()) {
    if (isr_)
      saved_ = taskENTER_CRITICAL_FROM_ISR();
    else
      taskENTER_CRITICAL();
  }
  ~CriticalSection() {
    if (isr_)
      taskEXIT_CRITICAL_FROM_ISR(saved_);
    else
      taskEXIT_CRITICAL();
  }
  CriticalSection(const CriticalSection&) = delete;
  CriticalSection& operator=(const CriticalSection&) = delete;

 private:
  bool isr_;
  UBaseType_t saved_ = 0;
};

template <size_t MaxWaiters>
class Port {
  static_assert(MaxWaiters >= 1 && MaxWaiters <= 16383, "MaxWaiters as the limiter's");

 public:
  using tick_type = TickType_t;
  using word_type = uint32_t;
  using counter_type = uint32_t;
  using atomics = freertos::Atomics;
  static constexpr uint64_t kTicksPerSecond = freertos::kTicksPerSecond;
  // notify() and notify_waiter() may run in interrupts (at or below the syscall priority) and
  // enter a kernel critical section, as every FreeRTOS notification does: the limiter's calls
  // are interrupt-safe here, but they mask interrupts for a few instructions, so not lock-free.
  static constexpr bool kNotifyInterruptSafe = true;
  static constexpr bool kNotifyLockFree = false;
  static constexpr size_t kSpots = MaxWaiters;

  Port() noexcept = default;
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

  // The tick count. Tasks and interrupts; wait-free.
  static tick_type now() noexcept {
    return in_isr() ? xTaskGetTickCountFromISR() : xTaskGetTickCount();
  }
  static constexpr tick_type from_ms(uint32_t ms) noexcept { return ms_to_ticks(ms); }

  // ---- the core's wake-ups -------------------------------------------------------------------

  // The ticket at `waiter` changed: notify the task waiting on it, if one is. Tasks and
  // interrupts; a critical section and at most one notification.
  void notify_waiter(uint32_t waiter) noexcept {
    Notifier n(*this);
    const CriticalSection cs;
    n.set(spots_[waiter % kSpots]);
  }

  // Something a poll should see changed: notify the poller, or give the free role to a waiting
  // task and notify it. Tasks and interrupts, as notify_waiter.
  void notify() noexcept {
    Notifier n(*this);
    const CriticalSection cs;
    n.set(poller_ != kNoPoller ? spots_[poller_] : take_free_role(kSpots - 1));
  }

  // ---- the wait contract (port.hpp); tasks only ----------------------------------------------

  // The task takes the spot of its ticket and, as the newest waiter, the poller role. A
  // notification left pending from an earlier wait is dropped first: none for this ticket can
  // have been given before the spot named this task. Tasks only; a critical section.
  void begin_wait(uint32_t waiter) noexcept {
    xTaskNotifyStateClearIndexed(nullptr, kNotifyIndex);
    ulTaskNotifyValueClearIndexed(nullptr, kNotifyIndex, ~0u);
    const TaskHandle_t me = xTaskGetCurrentTaskHandle();
    const CriticalSection cs;
    TaskHandle_t& spot = spots_[waiter % kSpots];
    if (spot == nullptr) {
      spot = me;
      ++registered_;
      poller_ = waiter % kSpots;
    } else {
      ++shared_waits_;  // another waiter holds the spot (MaxWaiters below the limiter's)
    }
  }

  // Nothing to read: a notification given after this and before the block stays pending.
  // Takes the poller role if it is free. Tasks only; a critical section.
  uint32_t wait_token(uint32_t waiter) noexcept {
    const CriticalSection cs;
    if (poller_ == kNoPoller && owns(waiter)) poller_ = waiter % kSpots;
    return 0;
  }

  // Block until notified, until `own`, and (as the poller) until `poll_at`; returns at once if
  // the poller role was free (the caller polls first). A waiter without a spot of its own
  // blocks a tick at most: nobody can notify it. Blocking.
  void wait(uint32_t waiter, uint32_t, Deadline<tick_type> poll_at,
            Deadline<tick_type> own) noexcept {
    Deadline<tick_type> until = own;
    bool mine = false;
    {
      const CriticalSection cs;
      mine = owns(waiter);
      if (mine && poller_ == kNoPoller) {
        poller_ = waiter % kSpots;
        return;
      }
      if (mine && poller_ == waiter % kSpots) until.merge(poll_at);
      ++blocked_;
    }
    TickType_t ticks = portMAX_DELAY;
    if (!mine) {
      ticks = 1;
    } else if (until.set) {
      const tick_type t = now();
      if (Ticks<tick_type>::reached(until.at, t)) {
        unblock();
        return;
      }
      ticks = static_cast<TickType_t>(until.at - t);
    }
    if (ulTaskNotifyTakeIndexed(kNotifyIndex, pdTRUE, ticks) != 0)
      woken_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
    unblock();
  }

  // The task leaves its spot; true if it held the poller role, which it has let go. Tasks
  // only; a critical section.
  bool end_wait(uint32_t waiter) noexcept {
    const CriticalSection cs;
    if (!owns(waiter)) return false;
    spots_[waiter % kSpots] = nullptr;
    --registered_;
    if (poller_ != waiter % kSpots) return false;
    poller_ = kNoPoller;
    return true;
  }

  // Give the free poller role to another waiting task and notify it to poll. Tasks only; a
  // critical section and at most one notification.
  void hand_off(uint32_t waiter) noexcept {
    Notifier n(*this);
    const CriticalSection cs;
    if (poller_ == kNoPoller) n.set(take_free_role(waiter % kSpots));
  }

  // ---- observing (tests) ---------------------------------------------------------------------

  // Tasks in the waiter table, and those of them blocked in wait() now. Tasks and interrupts;
  // a critical section.
  uint32_t waiting() const noexcept {
    const CriticalSection cs;
    return registered_;
  }
  uint32_t blocked() const noexcept {
    const CriticalSection cs;
    return blocked_;
  }
  // Notifications given (one per task woken), blocks that ended by a notification, and waits
  // that found their spot taken (a Port smaller than the limiter's MaxWaiters). Wait-free.
  uint32_t notifications() const noexcept { return notifications_.load(std::memory_order_relaxed); }
  uint32_t woken() const noexcept { return woken_.load(std::memory_order_relaxed); }
  uint32_t shared_waits() const noexcept {
    const CriticalSection cs;
    return shared_waits_;
  }

 protected:
  // A task to notify once the critical section is over: FreeRTOS API calls are not made inside
  // one. The handle stays usable until the notification: in an interrupt no task runs before
  // the handler returns, and in a task the scheduler is suspended (inside the critical section
  // that found the task) until the notification is given, so the task cannot leave its wait,
  // let alone be deleted. A found task means a task waits, so the scheduler runs. The
  // caller's own task is not notified: it is running, and looks at its ticket before it blocks.
  class Notifier {
   public:
    // `counted`: a wake-up of a waiter (notifications() counts those alone).
    explicit Notifier(Port& port, bool counted = true) noexcept
        : port_(port), isr_(in_isr()), counted_(counted) {}
    // Inside the critical section: the task to notify, or nullptr.
    void set(TaskHandle_t task) noexcept {
      if (task == nullptr || (!isr_ && task == xTaskGetCurrentTaskHandle())) return;
      task_ = task;
      if (!isr_) vTaskSuspendAll();  // a counter: allowed in a critical section
    }
    ~Notifier() {
      if (task_ == nullptr) return;
      if (counted_) port_.count_notification();
      if (isr_) {
        BaseType_t higher_woken = pdFALSE;
        vTaskNotifyGiveIndexedFromISR(task_, kNotifyIndex, &higher_woken);
        portYIELD_FROM_ISR(higher_woken);
        return;
      }
      (void)xTaskNotifyGiveIndexed(task_, kNotifyIndex);
      (void)xTaskResumeAll();
    }
    Notifier(const Notifier&) = delete;
    Notifier& operator=(const Notifier&) = delete;

   private:
    Port& port_;
    TaskHandle_t task_ = nullptr;
    bool isr_;
    bool counted_;
  };

 private:
  static constexpr uint32_t kNoPoller = 0xFFFFFFFFu;

  void count_notification() noexcept {
    notifications_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
  }

  bool owns(uint32_t waiter) const noexcept {
    return spots_[waiter % kSpots] == xTaskGetCurrentTaskHandle();
  }

  // Inside a critical section: the first spot after `from` (round to `from` itself) with a
  // task becomes the poller; its task, or nullptr if no task waits.
  TaskHandle_t take_free_role(uint32_t from) noexcept {
    if (registered_ == 0) return nullptr;
    for (uint32_t n = 1; n <= kSpots; ++n) {
      const uint32_t j = static_cast<uint32_t>((from + n) % kSpots);
      if (spots_[j] == nullptr) continue;
      poller_ = j;
      return spots_[j];
    }
    return nullptr;
  }

  void unblock() noexcept {
    const CriticalSection cs;
    --blocked_;
  }

  TaskHandle_t spots_[kSpots] = {};
  uint32_t poller_ = kNoPoller;  // the poller's spot
  uint32_t registered_ = 0;
  uint32_t blocked_ = 0;
  uint32_t shared_waits_ = 0;
  std::atomic<uint32_t> notifications_{0};
  std::atomic<uint32_t> woken_{0};
};

}  // namespace slotgate::freertos

namespace slotgate::freertos {

// A limiter on this port: the port has a spot for each of the limiter's ticket records.
template <size_t MaxSlots, size_t MaxWaiters, size_t Lanes = 1>
using Limiter = slotgate::Limiter<Port<MaxWaiters>, MaxSlots, MaxWaiters, Lanes>;

using slotgate::acquire;
using slotgate::acquire_for;
using slotgate::acquire_until;
using slotgate::PermitGuard;

}  // namespace slotgate::freertos
