// Statistics: the limiter's event counters, and how a snapshot's Counters are made from them
// and from the slot table's census.
//
// Only events that leave no trace in any part's state are counted here, each with one relaxed
// RMW off the fast path; grants and releases are derived (the slot records count their own
// grants, and every grant is held, released, reclaimed or returned), which keeps a statistics
// RMW off the fast path. Counters wrap at the port's counter width.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/snapshot.hpp"

namespace slotgate::detail {

enum class Event : uint8_t {
  kCancelled,
  kGrantsReturned,
  kTimedOut,
  kClosedWaiters,
  kReclaimed,
  kRejectedByUpstream,
  kQueueFull,
  kBadReleases,
  kNoSlot,
  kHeldBackCooldown,
  kHeldBackGate,
  kHeldBackHeadroom,
  kHeldBackPause,
  kHeldBackProbe,
  kWaitersAhead,
  kClockRegressions,
  kWakeups,
  kPollWakeups,
  kCount
};

template <class Atomics, class Counter>
class Statistics {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  static constexpr size_t kEvents = static_cast<size_t>(Event::kCount);

 public:
  Statistics() noexcept {
    for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
  }

  // Count `n` of an event. Wait-free (one RMW), interrupt-safe. relaxed: statistics order
  // nothing. Out of line: every call is off the fast path, and one copy is smaller than an
  // RMW loop at each of its twenty call sites (on ARMv7-M).
  __attribute__((noinline)) void count(Event e, uint32_t n = 1) noexcept {
    counts_[static_cast<size_t>(e)].fetch_add(static_cast<Counter>(n), std::memory_order_relaxed);
  }

  // Fill `k` from the counts and the slot census (held records and grants per record).
  // Wait-free; each counter is read once (relaxed: each field stands on its own).
  template <class Census>
  void fill(Counters& k, const Census& census) const noexcept {
    k.fast_path = census.fast_grants;
    k.from_queue = census.queue_grants;
    k.granted = k.fast_path + k.from_queue;
    k.cancelled = get(Event::kCancelled);
    k.grants_returned = get(Event::kGrantsReturned);
    k.timed_out = get(Event::kTimedOut);
    k.closed_waiters = get(Event::kClosedWaiters);
    k.reclaimed = get(Event::kReclaimed);
    // Every grant is still held, or was released, reclaimed or returned by a cancel.
    const uint64_t ended = uint64_t(census.held) + k.reclaimed + k.grants_returned;
    k.released = k.granted > ended ? k.granted - ended : 0;
    k.rejected_by_upstream = get(Event::kRejectedByUpstream);
    k.queue_full = get(Event::kQueueFull);
    k.bad_releases = get(Event::kBadReleases);
    k.no_slot = get(Event::kNoSlot);
    k.held_back_cooldown = get(Event::kHeldBackCooldown);
    k.held_back_gate = get(Event::kHeldBackGate);
    k.held_back_headroom = get(Event::kHeldBackHeadroom);
    k.held_back_pause = get(Event::kHeldBackPause);
    k.held_back_probe = get(Event::kHeldBackProbe);
    k.waiters_ahead = get(Event::kWaitersAhead);
    k.clock_regressions = get(Event::kClockRegressions);
    k.wakeups = get(Event::kWakeups);
    k.poll_wakeups = get(Event::kPollWakeups);
    k.claim_rescans = census.rescans;
  }

 private:
  uint64_t get(Event e) const noexcept {
    return counts_[static_cast<size_t>(e)].load(std::memory_order_relaxed);
  }

  atomic<Counter> counts_[kEvents];
};

}  // namespace slotgate::detail
