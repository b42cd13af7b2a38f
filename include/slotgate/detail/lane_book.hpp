// The lane book: what the granter needs to order waiters across lanes (slotgate/lanes.hpp),
// and each lane's figures. Per ticket record: its lane and when it was queued. Per lane: the
// counters of its snapshot. The settings (age, minimum shares) and the state of the share
// window, which only the grant token's holder touches.
//
// A record's lane and queue time are written by its owner while the record is Preparing, before
// the entry is pushed: the ring's push (release) and pop (acquire) publish them to the granter,
// the record's publish (release) to a poll that times it out. Everything else here is a
// setting or a statistic: relaxed.
//
// With one lane the book is empty and every call a constant: a one-lane limiter is today's.
// Every function is wait-free and interrupt-safe; none reads a clock.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/detail/heartbeat.hpp"
#include "slotgate/lanes.hpp"
#include "slotgate/ticks.hpp"

namespace slotgate::detail {

template <class Atomics, class Tick, class Counter, size_t MaxWaiters, size_t Lanes>
class LaneBook {
  static_assert(Lanes >= 2 && Lanes <= 32, "2..32 lanes (one lane has its own book below)");
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  using Tk = Ticks<Tick>;

 public:
  static constexpr bool kEnabled = true;
  using config_type = LaneConfig<Tick, Lanes>;

  LaneBook() noexcept {
    for (size_t i = 0; i < MaxWaiters; ++i) {
      lane_[i].store(0, std::memory_order_relaxed);
      at_[i].store(0, std::memory_order_relaxed);
    }
    for (size_t l = 0; l < Lanes; ++l) {
      for (auto& c : counts_[l]) c.store(0, std::memory_order_relaxed);
      min_share_[l].store(0, std::memory_order_relaxed);
      got_[l].store(0, std::memory_order_relaxed);
    }
    age_.store(0, std::memory_order_relaxed);
    window_.store(0, std::memory_order_relaxed);
    given_.store(0, std::memory_order_relaxed);
  }

  static bool valid(const config_type& c) noexcept {
    if (!Tk::valid_duration(c.age) || c.share_window > 0xFFFFu) return false;
    uint64_t sum = 0;
    for (size_t l = 0; l < Lanes; ++l) sum += c.min_share[l];
    return sum <= c.share_window;
  }
  // relaxed: independent settings, read afresh by each of the granter's passes.
  void configure(const config_type& c) noexcept {
    age_.store(c.age, std::memory_order_relaxed);
    for (size_t l = 0; l < Lanes; ++l)
      min_share_[l].store(c.min_share[l], std::memory_order_relaxed);
    window_.store(c.share_window, std::memory_order_relaxed);
  }

  // ---- the record's owner, while Preparing -------------------------------------------------

  // relaxed x2: published by the ring's push and the record's publish (see the top).
  void note_queued(uint32_t idx, uint32_t lane, Tick now) noexcept {
    lane_[idx].store(static_cast<uint8_t>(lane), std::memory_order_relaxed);
    at_[idx].store(now, std::memory_order_relaxed);
  }
  // The heartbeat's pass (detail/heartbeat.hpp) over the queue times. Lock-free; any thread.
  void keep_in_range(Tick now) noexcept {
    for (auto& t : at_) Heartbeat<Tick>::keep(t, now);
  }
  // The entry is in the lane's ring.
  void queued(uint32_t lane) noexcept { count(lane, kQueued); }

  // ---- the granter (token holder) ----------------------------------------------------------

  // Of the lanes in `live` (bit l: lane l's front waiter, record front[l], can be granted),
  // the one to serve: the shares owed first when the window's grants left are just enough
  // for them, then the highest lane after aging, then the waiter queued first.
  uint32_t pick(uint32_t live, const uint32_t* front, Tick now) const noexcept {
    const uint32_t owed = owed_lanes(live);
    const uint32_t from = owed != 0 ? owed : live;
    uint32_t best = Lanes;
    uint32_t best_rank = 0;
    Tick best_at = 0;
    for (uint32_t l = Lanes; l-- > 0;) {
      if ((from & (1u << l)) == 0) continue;
      // relaxed: ordered after the owner's write by the ring's pop (see the top).
      const Tick at = at_[front[l]].load(std::memory_order_relaxed);
      const uint32_t rank = aged_lane(l, at, now);
      if (best == Lanes || rank > best_rank || (rank == best_rank && Tk::before(at, best_at))) {
        best = l;
        best_rank = rank;
        best_at = at;
      }
    }
    return best;
  }
  void granted(uint32_t lane) noexcept {
    count(lane, kGranted);
    // relaxed: the share window is the token holder's alone; the token's acq_rel orders it.
    const uint32_t window = window_.load(std::memory_order_relaxed);
    if (window == 0) return;
    got_[lane].store(got_[lane].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    const uint32_t given = given_.load(std::memory_order_relaxed) + 1;
    if (given < window) {
      given_.store(given, std::memory_order_relaxed);
      return;
    }
    given_.store(0, std::memory_order_relaxed);
    for (auto& g : got_) g.store(0, std::memory_order_relaxed);
  }

  // ---- statistics --------------------------------------------------------------------------

  void timed_out(uint32_t idx) noexcept {
    count(lane_[idx].load(std::memory_order_relaxed), kTimedOut);  // relaxed: see the top
  }
  uint32_t lane_of(uint32_t idx) const noexcept {
    return lane_[idx].load(std::memory_order_relaxed);  // relaxed: a statistic's
  }
  Tick queued_at(uint32_t idx) const noexcept {
    return at_[idx].load(std::memory_order_relaxed);  // relaxed: a statistic's
  }
  template <class Snap>
  void fill(uint32_t lane, Snap& out) const noexcept {
    // relaxed: each figure stands on its own.
    out.queued = counts_[lane][kQueued].load(std::memory_order_relaxed);
    out.granted = counts_[lane][kGranted].load(std::memory_order_relaxed);
    out.timed_out = counts_[lane][kTimedOut].load(std::memory_order_relaxed);
  }

 private:
  enum : uint32_t { kQueued, kGranted, kTimedOut, kCounts };

  void count(uint32_t lane, uint32_t which) noexcept {
    counts_[lane][which].fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
  }

  // Lane l, raised one lane per `age` its waiter has waited, up to the top lane.
  uint32_t aged_lane(uint32_t l, Tick at, Tick now) const noexcept {
    const Tick age = age_.load(std::memory_order_relaxed);  // relaxed: a setting
    if (age == 0 || !Tk::before(at, now)) return l;
    Tick waited = Tick(now - at);
    while (l < Lanes - 1 && waited >= age) {
      waited = Tick(waited - age);
      ++l;
    }
    return l;
  }

  // The live lanes still owed part of their minimum share, when the grants left in the window
  // are no more than what they are owed (else 0: no lane needs to go first).
  uint32_t owed_lanes(uint32_t live) const noexcept {
    // relaxed: settings, and the window's state, which only the token holder touches.
    const uint32_t window = window_.load(std::memory_order_relaxed);
    if (window == 0) return 0;
    uint32_t owed = 0;
    uint32_t mask = 0;
    for (uint32_t l = 0; l < Lanes; ++l) {
      if ((live & (1u << l)) == 0) continue;
      const uint32_t want = min_share_[l].load(std::memory_order_relaxed);
      const uint32_t got = got_[l].load(std::memory_order_relaxed);
      if (want <= got) continue;
      owed += want - got;
      mask |= 1u << l;
    }
    const uint32_t given = given_.load(std::memory_order_relaxed);
    const uint32_t left = window > given ? window - given : 0;
    return owed != 0 && owed >= left ? mask : 0;
  }

  atomic<uint8_t> lane_[MaxWaiters];
  atomic<Tick> at_[MaxWaiters];
  atomic<Counter> counts_[Lanes][kCounts];
  atomic<Tick> age_;
  atomic<uint32_t> min_share_[Lanes];
  atomic<uint32_t> window_;
  atomic<uint32_t> got_[Lanes];
  atomic<uint32_t> given_;
};

// One lane: nothing to book.
template <class Atomics, class Tick, class Counter, size_t MaxWaiters>
class LaneBook<Atomics, Tick, Counter, MaxWaiters, 1> {
 public:
  static constexpr bool kEnabled = false;
  void note_queued(uint32_t, uint32_t, Tick) noexcept {}
  void queued(uint32_t) noexcept {}
  static constexpr uint32_t pick(uint32_t, const uint32_t*, Tick) noexcept { return 0; }
  void granted(uint32_t) noexcept {}
  void timed_out(uint32_t) noexcept {}
  void keep_in_range(Tick) noexcept {}
};

}  // namespace slotgate::detail
