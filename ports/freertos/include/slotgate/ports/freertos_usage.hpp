// A usage source fed by a task: the FreeRTOS port with the usage gate compiled in.
//
//   slotgate::freertos::UsagePort<MaxWaiters>          Port<MaxWaiters> plus a usage source
//   slotgate::freertos::UsageLimiter<Slots, Waiters>   a limiter on it
//
// The task that talks to the upstream (the modem's AT channel, the HTTP client) is the
// *feeder*: it blocks in wait_for_request() until the limiter asks for a fresh reading, asks
// the upstream, and hands the answer to publish() (or publish_none() when the answer was
// unusable). The limiter reads the latest reading from a UsageCell without waiting, in tasks
// and interrupts alike; nothing on the request path ever waits for the upstream.
//
// The port outlives the limiter (the limiter holds a reference to it), and the feeder task
// runs as long as the port does: the limiter cannot read a source that is gone.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>

#include "slotgate/ports/freertos.hpp"
#include "slotgate/usage.hpp"
#include "slotgate/usage_cell.hpp"

namespace slotgate::freertos {

template <size_t MaxWaiters>
class UsagePort : public Port<MaxWaiters> {
  using Base = Port<MaxWaiters>;

 public:
  using typename Base::tick_type;

  // ---- the port contract's usage source (the limiter calls these) ---------------------------

  // The latest reading, or false for none. Tasks and interrupts; never waits: publish() writes
  // inside a critical section, so no reader can find a write half done.
  bool read_usage(UsageReading<tick_type>& out) noexcept { return cell_.read(out); }
  // Changes with every reading published. Wait-free, tasks and interrupts.
  uint32_t usage_version() const noexcept { return cell_.version(); }
  // Ask the feeder for a fresh reading; requests made before it gets to them merge into one.
  // Tasks and interrupts; a notification at most.
  void request_usage_refresh() noexcept {
    // seq_cst: against wait_for_request's feeder store and flag exchange: either it sees the
    // flag, or we see the feeder and notify it (the notification stays pending).
    if (requested_.exchange(true, std::memory_order_seq_cst)) return;
    requests_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
    typename Base::Notifier n(*this, false);
    const CriticalSection cs;
    n.set(feeder_.load(std::memory_order_seq_cst));
  }

  // ---- the feeder task's side ---------------------------------------------------------------

  // Block until the limiter asks for a reading (true) or `timeout` ticks pass (false). The
  // first call makes the calling task the feeder; only that task may call it. Blocking.
  bool wait_for_request(TickType_t timeout) noexcept {
    feeder_.store(xTaskGetCurrentTaskHandle(), std::memory_order_seq_cst);
    if (requested_.exchange(false, std::memory_order_seq_cst)) return true;
    (void)ulTaskNotifyTakeIndexed(kNotifyIndex, pdTRUE, timeout);
    return requested_.exchange(false, std::memory_order_seq_cst);
  }

  // What the upstream reported: `sessions` in flight, true at `sampled_at` (when the question
  // was asked is a safe value). Then the poller re-judges the gate with it. One task at a
  // time (the feeder), not from an interrupt.
  void publish(uint32_t sessions, tick_type sampled_at) noexcept {
    write(true, sessions, sampled_at);
  }

  // The upstream's answer was unusable (a timeout, an error, no such field): no reading, and
  // the limiter falls back to its cooldown alone. As publish().
  void publish_none() noexcept { write(false, 0, 0); }

  // Refresh requests that reached the feeder (merged ones count once). Wait-free.
  uint32_t requests() const noexcept { return requests_.load(std::memory_order_relaxed); }

 private:
  void write(bool valid, uint32_t sessions, tick_type at) noexcept {
    {
      const CriticalSection cs;
      cell_.write(valid, sessions, at);
    }
    this->notify();
  }

  UsageCell<tick_type> cell_;
  std::atomic<bool> requested_{false};
  std::atomic<TaskHandle_t> feeder_{nullptr};
  std::atomic<uint32_t> requests_{0};
};

template <size_t MaxSlots, size_t MaxWaiters, size_t Lanes = 1>
using UsageLimiter = slotgate::Limiter<UsagePort<MaxWaiters>, MaxSlots, MaxWaiters, Lanes>;

}  // namespace slotgate::freertos
