// Priority lanes: the public types. A limiter with Lanes > 1 (its fourth template argument)
// queues each waiter in a lane; the granter serves the highest lane that has a waiter first,
// FIFO within a lane, with two rules that keep a busy lane from starving the others:
//
//   aging         a waiter queued for `age` is served as if it were one lane higher, for
//                 2 * age two lanes higher, and so on up to the top lane; among waiters served
//                 as the same lane, the one queued first goes first. So a waiter of lane i is
//                 served at the latest like a top-lane waiter queued (Lanes - 1 - i) * age
//                 after it.
//   minimum share of every `share_window` grants made while lane i has waiters, at least
//                 min_share[i] go to it (when the grants left in the window are just enough for
//                 the shares still owed, the lanes that are owed are served first).
//
// One lane (the default) is today's single FIFO at no cost: none of this is compiled in.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace slotgate {

// Which lane a waiter queues in: 0 (the lowest) .. Lanes - 1 (the highest).
struct Lane {
  constexpr Lane() noexcept = default;
  constexpr explicit Lane(uint32_t i) noexcept : index(i) {}
  uint32_t index = 0;
};

template <class Tick, size_t Lanes>
struct LaneConfig {
  // A waiter queued this long is served one lane higher (per `age` waited). 0: no aging, a
  // lower lane waits while any higher one has waiters.
  Tick age = 0;
  // Minimum shares are counted over windows of this many grants to queued waiters (0: none).
  uint32_t share_window = 0;
  // Of every share_window grants, at least this many go to lane i while it has waiters. Their
  // sum may not exceed share_window.
  uint32_t min_share[Lanes] = {};

  // Aging after a minute, no minimum shares, on a clock of `ticks_per_second`: longer than a
  // batch caller's usual wait on a busy LLM key (so interactive callers keep going first), short
  // enough that a lower lane waits at most about (Lanes - 1) minutes behind a busy higher one.
  static constexpr LaneConfig recommended(uint64_t ticks_per_second) noexcept {
    LaneConfig c;
    c.age = static_cast<Tick>(60u * ticks_per_second);
    return c;
  }
};

// One lane's figures (Limiter::lane_snapshot). Counters wrap at the port's counter width.
template <class Tick>
struct LaneSnapshot {
  uint32_t waiting = 0;    // entries in the lane's queue the granter has not yet taken off
  uint64_t queued = 0;     // tickets queued in this lane
  uint64_t granted = 0;    // ... granted from the queue
  uint64_t timed_out = 0;  // ... whose deadline passed while they waited
  Tick longest_wait = 0;   // how long the lane's oldest live waiter has waited (0: none seen)
};

}  // namespace slotgate
