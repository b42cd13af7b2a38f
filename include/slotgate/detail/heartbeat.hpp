// The heartbeat: what keeps the times a limiter stores comparable on a tick that wraps in
// service (Ticks::kWrapsInService: 32 bits of milliseconds wrap every 49.7 days).
//
// Ticks compare by the sign of their difference, so a stored time (a cooldown's end, a reading's
// date, when headroom last stepped) would read as the future once it is half the range old,
// and stay wrong for as long again: a limiter left idle that long would come back with its
// cooled slots and its old reading in force. So on such a tick poll's next deadline is never
// later than Ticks::kHeartbeat, and at least every kHeartbeat each part brings the times it
// keeps that are older than Ticks::kOldest forward to exactly that age ("long ago"): every
// comparison with a recent time, and with a duration up to kOldest, comes out as before, and no
// stored time gets older than kOldest plus two heartbeats, less than half the range.
//
// A time is brought forward with a CAS from the value seen, so a newer one written meanwhile by
// its owner stands: a pass needs no ownership of what it touches, and readers find either value
// meaning the same. No part gives a time value the meaning "none" (a flag or a count says it):
// a pass may bring any time to any value, 0 included.
#pragma once

#include "slotgate/atomics.hpp"
#include "slotgate/ticks.hpp"

namespace slotgate::detail {

template <class Tick>
struct Heartbeat {
  using Tk = Ticks<Tick>;

  // Bring one stored time forward if it is older than kOldest. Lock-free; any thread. Out of
  // line: a pass calls it for every time a limiter keeps, a few times a week.
  template <class AtomicTick>
  __attribute__((noinline)) static void keep(AtomicTick& t, Tick now) noexcept {
    // relaxed x2: the value means the same before and after; the CAS only keeps a newer one.
    Tick seen = t.load(std::memory_order_relaxed);
    if (old(seen, now))
      t.compare_exchange_strong(seen, Tick(now - Tk::kOldest), std::memory_order_relaxed,
                                std::memory_order_relaxed);
  }
  // True if `t` (a time its owner keeps) is older than kOldest.
  static constexpr bool old(Tick t, Tick now) noexcept {
    return Tk::diff(now, t) > typename Tk::Signed(Tk::kOldest);
  }
};

// When a part last ran its pass: due again after kHeartbeat; one caller wins each beat. A
// tick that does not wrap in service has no heartbeat, and this holds nothing.
template <class Atomics, class Tick, bool Wraps = Ticks<Tick>::kWrapsInService>
class HeartbeatClock {
 public:
  static constexpr bool due(Tick) noexcept { return false; }
};

template <class Atomics, class Tick>
class HeartbeatClock<Atomics, Tick, true> {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  using Tk = Ticks<Tick>;

 public:
  // True for the one caller that is to run a pass at `now`. Lock-free; any thread. The age is
  // taken unsigned: a last pass that looks like the future (polls missed for half the range,
  // or a caller whose `now` is a little behind) makes one due, which costs a pass at most.
  bool due(Tick now) noexcept {
    // relaxed x2: who runs the pass is all this decides; each pass's CASes stand on their own.
    Tick last = last_.load(std::memory_order_relaxed);
    if (Tick(now - last) < Tk::kHeartbeat) return false;
    return last_.compare_exchange_strong(last, now, std::memory_order_relaxed,
                                         std::memory_order_relaxed);
  }

 private:
  atomic<Tick> last_{0};
};

}  // namespace slotgate::detail
