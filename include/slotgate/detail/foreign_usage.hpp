// Foreign usage: other clients on the key, as fresh readings show them. It owns H_foreign (the
// headroom's part for them, detail/headroom.hpp), the window that confirms it, the reserve the
// gate keeps for them, and how long they were seen to stay and to stay away.
//
//   H_foreign   while readings are fresh: the foreign sessions every reading of the last
//               foreign_confirm showed beyond our own (possibly live) ones. Our own sessions
//               still counted after they ended come and go faster than that; another client's
//               stay. It follows readings down at once and up after foreign_confirm, except
//               that a client already confirmed is not taken for gone while only our own
//               releases, possibly still counted, could be what the reading shows (for up to
//               the effective cooldown after a reading showed it surely). When
//               readings go stale: what was last seen, stepping down by one per hold time, the
//               longer of foreign_hold and the longest foreign usage seen lately (an ongoing
//               one counts its age so far).
//
// Reserve: room the gate keeps free for other clients, so that sharing the key does not mean
// taking every slot they let go. While foreign usage is on, one slot beyond its peak stays
// free (a client replacing a session briefly holds both, and may reopen one it closed). Usage
// that has been seen to go away and come back is expected back: once it is gone, one slot
// stays free for as long as it was seen to stay away before, and when readings show it again
// in that time it counts at once, without waiting out foreign_confirm. A client seen only once
// leaves no reserve once readings stop showing it.
//
// A port without a usage source gets NoForeignUsage: no reading ever shows another client, so
// there is nothing to keep.
//
// Threads: everything here is written by the grant-token holder only (readings are judged by
// it); every field is atomic so that snapshots and rejection threads can read it.
#pragma once

#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/detail/heartbeat.hpp"
#include "slotgate/detail/learned_duration.hpp"
#include "slotgate/limiter_config.hpp"
#include "slotgate/ticks.hpp"

namespace slotgate::detail {

template <class Atomics, class Tick, class Counter>
class ForeignUsage {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  using Tk = Ticks<Tick>;

 public:
  // Foreign usage is tracked up to this many sessions (more is counted as this many).
  static constexpr uint32_t kLevels = 16;

  ForeignUsage() noexcept {
    for (auto& v : shown_since_) v.store(0, std::memory_order_relaxed);
  }

  void configure(const HeadroomConfig<Tick>& h) noexcept {
    // relaxed throughout: independent settings, read afresh by each decision.
    track_.store(h.track_foreign, std::memory_order_relaxed);
    confirm_.store(h.foreign_confirm, std::memory_order_relaxed);
    hold_.store(h.foreign_hold, std::memory_order_relaxed);
  }

  // H_foreign. Wait-free. relaxed: read beside H_rejected, whose publisher is the caller's CAS.
  uint32_t level() const noexcept { return level_.load(std::memory_order_relaxed); }
  // How long foreign usage must show before it counts (a setting). Wait-free.
  Tick confirm() const noexcept { return confirm_.load(std::memory_order_relaxed); }
  // Sessions beyond ours in the last fresh reading (foreign, confirmed or not). Wait-free.
  uint32_t beyond() const noexcept { return beyond_.load(std::memory_order_relaxed); }
  // A manual limit change forgets H_foreign. Token holder or configuration.
  void clear() noexcept { level_.store(0, std::memory_order_relaxed); }

  // A fresh reading showed at least `beyond` sessions more than ours possibly live or still
  // counted after their release, and at most `beyond_max` more than ours surely live (the gap:
  // releases of ours the upstream may or may not still count). Confirmed: what every reading
  // of the last foreign_confirm showed (at once for usage expected back). A release of ours
  // that may still be counted hides another client's session from the lower figure for up to
  // `hidden` (the effective cooldown): while foreign usage is on, a level goes on counting as
  // shown while the upper figure allows it, for that long after a reading last showed it
  // surely; beyond that, what hides it is not our lag. (Not before usage is on: our own lag,
  // underestimated, would confirm itself as a client.) Returns what is confirmed; the caller
  // sets H_foreign (set_level) while tracking is on, so that H's bookkeeping sees it change.
  // Token holder. Inlined into its one caller: on a small MCU the granter's stack is the
  // deepest a limiter asks for, and this is on its deepest path.
  __attribute__((always_inline)) uint32_t observe(uint32_t beyond, uint32_t beyond_max, Tick hidden,
                                                  Tick now) noexcept {
    // relaxed throughout: token-holder state.
    if (beyond > kLevels) beyond = kLevels;
    if (beyond_max > kLevels) beyond_max = kLevels;
    beyond_.store(beyond, std::memory_order_relaxed);
    // shown_since_[k-1], for k <= streak_: since when every reading has shown k, surely or,
    // within `hidden` of one that did, possibly.
    uint32_t kept = streak_.load(std::memory_order_relaxed);
    if (kept > beyond_max) kept = beyond_max;
    if (kept <= beyond)
      surely_at_.store(now, std::memory_order_relaxed);
    else if (!on_.load(std::memory_order_relaxed) ||
             Tk::before(Tick(surely_at_.load(std::memory_order_relaxed) + hidden), now))
      kept = beyond;
    for (uint32_t k = kept + 1; k <= beyond; ++k)
      shown_since_[k - 1].store(now, std::memory_order_relaxed);
    const uint32_t streak = kept > beyond ? kept : beyond;
    streak_.store(streak, std::memory_order_relaxed);
    const Tick confirm = confirm_.load(std::memory_order_relaxed);
    uint32_t persistent = 0;
    while (
        persistent < streak &&
        Tk::reached(Tick(shown_since_[persistent].load(std::memory_order_relaxed) + confirm), now))
      ++persistent;
    // Usage that has come back before, seen again while it is expected back, is taken at once.
    if (!on_.load(std::memory_order_relaxed) && expected_back(now)) persistent = beyond;
    last_seen_.store(persistent, std::memory_order_relaxed);
    // How long foreign usage lasts (from the first reading that confirms some to the one that
    // shows none) and how long it stays away before it comes back.
    const bool was = on_.load(std::memory_order_relaxed);
    if (persistent != 0 && !was) {
      on_.store(true, std::memory_order_relaxed);
      on_since_.store(now, std::memory_order_relaxed);
      if (away_.load(std::memory_order_relaxed))
        returns_.add(Tick(now - left_at_.load(std::memory_order_relaxed)), now, Tk::kMaxDuration,
                     0);
      peak_.store(persistent, std::memory_order_relaxed);
    } else if (persistent == 0 && was) {
      on_.store(false, std::memory_order_relaxed);
      away_.store(true, std::memory_order_relaxed);
      left_at_.store(now, std::memory_order_relaxed);
      lifetime_.add(Tick(now - on_since_.load(std::memory_order_relaxed)), now, Tk::kMaxDuration,
                    0);
    } else if (persistent > peak_.load(std::memory_order_relaxed)) {
      peak_.store(persistent, std::memory_order_relaxed);
    }
    // How long the usage under way had lasted at this reading: kept as a duration, not as the
    // reading's time, which the heartbeat may bring forward apart from on_since_.
    on_for_.store(on_.load(std::memory_order_relaxed)
                      ? Tick(now - on_since_.load(std::memory_order_relaxed))
                      : Tick(0),
                  std::memory_order_relaxed);
    stale_.store(false, std::memory_order_relaxed);
    return persistent;
  }
  // Whether H_foreign follows what readings confirm (a setting). Wait-free.
  bool tracking() const noexcept { return track_.load(std::memory_order_relaxed); }
  // Token holder: only it writes H_foreign.
  void set_level(uint32_t v) noexcept { level_.store(v, std::memory_order_relaxed); }

  // Room the gate keeps for foreign usage beyond what the last reading showed (see the top),
  // before the caller caps it below the limit. Token holder; wait-free.
  uint32_t reserve(Tick now) const noexcept {
    // relaxed throughout: token-holder state.
    if (!track_.load(std::memory_order_relaxed)) return 0;
    uint32_t r = 0;
    const uint32_t shown = beyond();
    if (on_.load(std::memory_order_relaxed)) {
      r = peak_.load(std::memory_order_relaxed);
      if (r < shown) r = shown;
      r += 1;
    } else if (expected_back(now)) {
      r = 1;
    }
    return r > shown ? r - shown : 0;
  }

  // Foreign usage that went away after coming back before, within how long it stayed away.
  bool expected_back(Tick now) const noexcept {
    // relaxed throughout: token-holder state.
    if (!away_.load(std::memory_order_relaxed) || returns_.samples() == 0) return false;
    const Tick back = returns_.estimate();
    return !Tk::before(Tick(left_at_.load(std::memory_order_relaxed) + back + back / 4), now);
  }

  // With readings stale, H_foreign holds what was last seen and steps down by one per hold
  // time. True if it fell. Token holder.
  bool step_stale(Tick now, bool usable) noexcept {
    // relaxed throughout: token-holder state.
    const uint32_t f = level();
    if (usable || f == 0) return false;
    if (!stale_.load(std::memory_order_relaxed)) {  // readings just went stale: hold from here
      stale_.store(true, std::memory_order_relaxed);
      stale_since_.store(now, std::memory_order_relaxed);
      return false;
    }
    if (!Tk::reached(Tick(stale_since_.load(std::memory_order_relaxed) + hold_time()), now))
      return false;
    level_.store(f - 1, std::memory_order_relaxed);
    stale_since_.store(now, std::memory_order_relaxed);
    return true;
  }

  // When a stale step may come down. Wait-free; an estimate for a sleeper.
  Deadline<Tick> next_deadline(Tick now, bool usable) const noexcept {
    Deadline<Tick> d;
    // relaxed throughout: re-checked when the sleeper wakes.
    if (!usable && level() != 0 && stale_.load(std::memory_order_relaxed))
      d.merge_after(Tick(stale_since_.load(std::memory_order_relaxed) + hold_time()), now);
    return d;
  }

  // The heartbeat's pass (detail/heartbeat.hpp). Token holder.
  void keep_in_range(Tick now) noexcept {
    using HB = Heartbeat<Tick>;
    HB::keep(surely_at_, now);
    HB::keep(on_since_, now);
    HB::keep(stale_since_, now);
    HB::keep(left_at_, now);
    for (auto& t : shown_since_) HB::keep(t, now);
  }

  template <class Snap>
  void fill(Snap& s) const noexcept {
    // relaxed throughout: a statistic.
    s.headroom_foreign = level();
    s.foreign_seen = last_seen_.load(std::memory_order_relaxed);
    s.foreign_peak = peak_.load(std::memory_order_relaxed);
    s.foreign_away_for = returns_.estimate();
    s.foreign_hold = hold_time();
  }

 private:
  // How long stale foreign headroom holds one step: the longest foreign usage seen lately, or
  // the age of the one under way, or foreign_hold, whichever is longest.
  Tick hold_time() const noexcept {
    // relaxed throughout: token-holder state and a setting.
    Tick t = hold_.load(std::memory_order_relaxed);
    const Tick learned = lifetime_.estimate();
    if (t < learned) t = learned;
    const Tick ongoing = on_for_.load(std::memory_order_relaxed);  // 0 while none is under way
    if (t < ongoing && Tk::valid_duration(ongoing)) t = ongoing;
    return t;
  }

  // Settings.
  atomic<Tick> confirm_{0}, hold_{0};
  atomic<bool> track_{true};
  atomic<uint32_t> level_{0};  // H_foreign
  // The last reading's excess and since when each level of it has been shown, whether some is
  // confirmed and since when, and how long it lasted and stayed away before.
  atomic<Tick> shown_since_[kLevels];
  atomic<uint32_t> beyond_{0}, streak_{0}, last_seen_{0};
  atomic<Tick> surely_at_{0};
  atomic<bool> on_{false}, away_{false}, stale_{false};
  atomic<uint32_t> peak_{0};
  atomic<Tick> on_since_{0}, stale_since_{0}, left_at_{0}, on_for_{0};
  LearnedDuration<Atomics, Tick, Counter> lifetime_, returns_;
};

// Without a usage source: no other client is ever seen.
template <class Tick>
struct NoForeignUsage {
  void configure(const HeadroomConfig<Tick>&) noexcept {}
  static constexpr uint32_t level() noexcept { return 0; }
  void clear() noexcept {}
  static constexpr bool step_stale(Tick, bool) noexcept { return false; }
  static constexpr Deadline<Tick> next_deadline(Tick, bool) noexcept { return {}; }
  void keep_in_range(Tick) noexcept {}
  template <class Snap>
  void fill(Snap&) const noexcept {}
};

}  // namespace slotgate::detail
