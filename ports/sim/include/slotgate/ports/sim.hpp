// The `sim` port: a virtual clock and a scripted usage source, for tests and the simulator.
//
// Time moves only when the owner says so, so every scenario is exact and repeatable; the tick
// width is a template parameter, so tests can run a 32-bit clock that starts just below its
// wraparound and crosses it. notify() and notify_waiter() only count (nobody sleeps on a
// virtual clock).
//
//   sim::BasicPort  clock and notify only: the limiter runs on cooldown alone
//   sim::Port       plus a usage source whose reading the owner sets (set_usage / clear_usage)
#pragma once

#include <stdint.h>

#include <atomic>

#include "slotgate/atomics.hpp"
#include "slotgate/usage.hpp"
#include "slotgate/usage_cell.hpp"

namespace slotgate::sim {

template <class Tick = uint64_t, class Word = uint64_t, class Atomics = StdAtomics>
class BasicPort {
 public:
  using tick_type = Tick;
  using word_type = Word;
  using counter_type = Word;
  using atomics = Atomics;

  explicit BasicPort(Tick start = 0) noexcept : now_(start) {}
  BasicPort(const BasicPort&) = delete;
  BasicPort& operator=(const BasicPort&) = delete;

  // The virtual time. Wait-free, interrupt-safe.
  Tick now() const noexcept { return now_.load(std::memory_order_acquire); }
  // Move time on by d ticks (wrapping like the real counter). Wait-free.
  void advance(Tick d) noexcept { now_.fetch_add(d, std::memory_order_acq_rel); }
  // Set the time (it may go backwards, to test how the core copes). Wait-free.
  void set(Tick t) noexcept { now_.store(t, std::memory_order_release); }

  static constexpr bool kNotifyInterruptSafe = true;
  static constexpr bool kNotifyLockFree = Atomics::kLockFree;

  // Counts the poll wake-ups the core asked for. Wait-free, interrupt-safe.
  void notify() noexcept { notifications_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t notifications() const noexcept { return notifications_.load(std::memory_order_relaxed); }
  // Counts the wake-ups meant for one waiter, and remembers the last one's index. Wait-free,
  // interrupt-safe.
  void notify_waiter(uint32_t waiter) noexcept {
    last_woken_.store(waiter, std::memory_order_relaxed);  // relaxed: a statistic
    woken_.fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t waiter_notifications() const noexcept { return woken_.load(std::memory_order_relaxed); }
  uint32_t last_woken() const noexcept { return last_woken_.load(std::memory_order_relaxed); }

 private:
  // acquire/release on now_: a thread that reads a time sees what was done before it was set.
  std::atomic<Tick> now_;
  std::atomic<Word> notifications_{0};  // relaxed: a statistic (word-wide: lock-free on MCUs)
  std::atomic<Word> woken_{0};
  std::atomic<uint32_t> last_woken_{0xFFFFFFFFu};
};

template <class Tick = uint64_t, class Word = uint64_t, class Atomics = StdAtomics>
class Port : public BasicPort<Tick, Word, Atomics> {
 public:
  using BasicPort<Tick, Word, Atomics>::BasicPort;

  // Script the source: from now on read_usage returns this reading. One writer at a time
  // (the test or simulator); readers never wait.
  void set_usage(uint32_t sessions, Tick sampled_at) noexcept {
    cell_.write(true, sessions, sampled_at);
  }
  // From now on there is no reading (a failed fetch).
  void clear_usage() noexcept { cell_.write(false, 0, 0); }

  // The port contract's usage source. Lock-free.
  bool read_usage(UsageReading<Tick>& out) const noexcept { return cell_.read(out); }
  // Changes with every set_usage / clear_usage (odd during one). Wait-free.
  uint32_t usage_version() const noexcept { return cell_.version(); }
  // Counts requests; the owner decides when a new reading "arrives". Wait-free.
  void request_usage_refresh() noexcept {
    refresh_requests_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
  }
  uint64_t refresh_requests() const noexcept {
    return refresh_requests_.load(std::memory_order_relaxed);
  }

 private:
  UsageCell<Tick> cell_;
  std::atomic<Word> refresh_requests_{0};  // word-wide: lock-free on MCUs
};

}  // namespace slotgate::sim
