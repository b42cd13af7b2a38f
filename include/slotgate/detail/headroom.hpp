// Adaptive headroom H = H_rejected + H_foreign (at most L - 1): slots held back for usage the
// limiter cannot see. L_eff = L - H without a usable reading; with one, L - H_rejected, since
// the gate then counts the foreign sessions from the reading itself.
//
//   H_rejected  +1 per rejection episode; -1 per recovery time of demand without a rejection
//               or a rise of H_foreign (another client arriving is what such a step may stand
//               for: the wait starts over).
//               The recovery time starts at recover_after and backs off: an episode that begins
//               within one recovery time of a step down doubles it (up to 16x), since the step
//               was one too many; each recovery time spent with H_rejected at 0, with demand and
//               without a rejection, halves it again.
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
//   sticky      neither part steps down by itself; a manual limit change clears H.
//
// Reserve: room the gate keeps free for other clients, so that sharing the key does not mean
// taking every slot they let go. While foreign usage is on, one slot beyond its peak stays
// free (a client replacing a session briefly holds both, and may reopen one it closed). Usage
// that has been seen to go away and come back is expected back: once it is gone, one slot
// stays free for as long as it was seen to stay away before, and when readings show it again
// in that time it counts at once, without waiting out foreign_confirm. A client seen only once
// leaves no reserve once readings stop showing it.
//
// Room: what the gate keeps free beyond a reading, the reserve and H_rejected together. A step
// of H_rejected taken with no foreign usage in sight (nor reserve) stands for usage the limiter
// could not see; once readings show some, the reserve keeps room for the same usage, so those
// steps and the reserve overlap. Steps taken despite a reserve, and every step once a
// half-open probe is refused, add to it.
//
// Threads: the foreign part, recovery and the foreign window are written only by the
// grant-token holder; rejections step H_rejected from any thread with a CAS, and file the step
// (a relaxed count the token holder reads on its own). Every field is atomic so snapshots can
// read it.
#pragma once

#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/detail/heartbeat.hpp"
#include "slotgate/detail/learned_duration.hpp"
#include "slotgate/limiter_config.hpp"
#include "slotgate/ticks.hpp"
#include "slotgate/usage.hpp"

namespace slotgate::detail {

// Foreign usage is tracked up to this many sessions (more is counted as this many).
inline constexpr uint32_t kForeignLevels = 16;

// What headroom keeps of foreign usage: its settings, H_foreign, the last reading's excess and
// since when each level of it has been shown, whether some is confirmed and since when, and
// how long it lasted and stayed away before. Nothing without a usage source.
template <class Atomics, class Tick, class Counter, bool kForeign>
struct ForeignUsage {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  ForeignUsage() noexcept {
    for (auto& v : shown_since_) v.store(0, std::memory_order_relaxed);
  }
  atomic<Tick> confirm_{0}, hold_{0};
  atomic<bool> track_foreign_{true};
  atomic<uint32_t> h_foreign_{0};
  atomic<Tick> shown_since_[kForeignLevels];
  atomic<uint32_t> beyond_{0}, streak_{0}, last_seen_{0};
  atomic<Tick> surely_at_{0};
  atomic<bool> on_{false}, away_{false}, stale_{false};
  atomic<uint32_t> peak_{0};
  atomic<Tick> on_since_{0}, stale_since_{0}, left_at_{0}, on_for_{0};
  LearnedDuration<Atomics, Tick, Counter> lifetime_, returns_;
};
template <class Atomics, class Tick, class Counter>
struct ForeignUsage<Atomics, Tick, Counter, false> {};

// kForeign: the port has a usage source. Without one no reading ever shows foreign usage, and
// only H_rejected and its recovery are compiled in (ForeignUsage is then empty). The foreign
// state lives in that dependent base, hence `this->` on it below.
template <class Atomics, class Tick, class Counter, bool kForeign = true>
class Headroom : ForeignUsage<Atomics, Tick, Counter, kForeign> {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  using Tk = Ticks<Tick>;

 public:
  static constexpr uint32_t kLevels = kForeignLevels;

  static bool valid(const HeadroomConfig<Tick>& h) noexcept {
    return Tk::valid_duration(h.recover_after) && Tk::valid_duration(h.foreign_hold) &&
           Tk::valid_duration(h.foreign_confirm);
  }
  void configure(const HeadroomConfig<Tick>& h) noexcept {
    // relaxed throughout: independent settings, read afresh by each decision.
    recover_after_.store(h.recover_after, std::memory_order_relaxed);
    sticky_.store(h.sticky, std::memory_order_relaxed);
    if constexpr (kForeign) {
      this->track_foreign_.store(h.track_foreign, std::memory_order_relaxed);
      this->confirm_.store(h.foreign_confirm, std::memory_order_relaxed);
      this->hold_.store(h.foreign_hold, std::memory_order_relaxed);
    }
  }

  // H for limit L. Wait-free.
  uint32_t headroom(uint32_t limit) const noexcept {
    // relaxed x2: the caller publishes the result through a CAS on the control word.
    const uint32_t h = h_rejected_.load(std::memory_order_relaxed) + foreign();
    return below(h, limit);
  }
  // The slots held back: all of H without a usable reading, only the rejected part with one
  // (the gate counts foreign sessions from the reading). Wait-free.
  uint32_t held_back(bool usable, uint32_t limit) const noexcept {
    if (!usable) return headroom(limit);
    const uint32_t h = h_rejected_.load(std::memory_order_relaxed);  // relaxed: as above
    return below(h, limit);
  }
  // The limit the gate compares readings against: L - H_rejected (at least 1). Wait-free.
  uint32_t gate_limit(uint32_t limit) const noexcept { return limit - held_back(true, limit); }
  uint32_t foreign() const noexcept {
    if constexpr (kForeign)
      return this->h_foreign_.load(std::memory_order_relaxed);
    else
      return 0;
  }
  // How long foreign usage must show before it counts (a setting). Wait-free.
  Tick confirm() const noexcept { return this->confirm_.load(std::memory_order_relaxed); }
  // Sessions beyond ours in the last fresh reading (foreign, confirmed or not). Wait-free.
  uint32_t beyond() const noexcept { return this->beyond_.load(std::memory_order_relaxed); }

  // At most limit - 1: one slot is never held back (and a limit of 0 holds back nothing).
  static uint32_t below(uint32_t h, uint32_t limit) noexcept {
    return h < limit ? h : (limit == 0 ? 0 : limit - 1);
  }

  // A manual limit change: forget every step. Token holder or configuration; wait-free.
  void clear() noexcept {
    // relaxed throughout: the caller republishes the effective limit with a CAS.
    h_rejected_.store(0, std::memory_order_relaxed);
    unseen_steps_.store(0, std::memory_order_relaxed);
    if constexpr (kForeign) this->h_foreign_.store(0, std::memory_order_relaxed);
    limit_before_.store(0, std::memory_order_relaxed);
    reason_.store(static_cast<uint8_t>(HeadroomReason::kNone), std::memory_order_relaxed);
    shift_.store(0, std::memory_order_relaxed);
    stepped_down_.store(false, std::memory_order_relaxed);
  }

  // A rejection episode began: H_rejected + 1 unless H is already L - 1. True if H rose (the
  // caller republishes the effective limit). Lock-free; any thread.
  bool step_up_for_rejection(Tick now, uint32_t limit) noexcept {
    uint32_t h = h_rejected_.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    for (;;) {
      const uint32_t before = headroom(limit);
      if (before + 1 >= limit) return false;
      // relaxed: a counter; the effective limit is published by the caller's CAS.
      if (h_rejected_.compare_exchange_weak(h, h + 1, std::memory_order_relaxed,
                                            std::memory_order_relaxed)) {
        relapse(now);
        note_raise(now, limit, before, HeadroomReason::kRejected);
        return true;
      }
    }
  }

  // With readings: file the step a rejection episode just took (room()). One taken with no
  // foreign usage in sight and no reserve overlaps the reserve; a refused half-open probe was
  // granted with the reserve and every step in force, so after one no step overlaps it.
  // Lock-free; any thread; a race with another episode misfiles at most one step.
  void file_rejection_step(Tick now, uint32_t limit, bool probe_refused) noexcept {
    // relaxed throughout: a heuristic's state, read by room() on its own.
    if (probe_refused)
      unseen_steps_.store(0, std::memory_order_relaxed);
    else if (beyond() == 0 && reserve(now, limit) == 0)
      unseen_steps_.fetch_add(1, std::memory_order_relaxed);
  }

  // A fresh reading showed at least `beyond` sessions more than ours possibly live or still
  // counted after their release, and at most `beyond_max` more than ours surely live (the gap:
  // releases of ours the upstream may or may not still count). Returns the foreign usage it
  // confirms: what every reading of the last foreign_confirm showed (at once for usage
  // expected back). A release of ours that may still be counted hides another client's
  // session from the lower figure for up to `hidden` (the effective cooldown): while foreign
  // usage is on, a level goes on counting as shown while the upper figure allows it, for that
  // long after a reading last showed it surely; beyond that, what hides it is not our lag.
  // (Not before usage is on: our own lag, underestimated, would confirm itself as a client.)
  // Token holder.
  uint32_t observe(uint32_t beyond, uint32_t beyond_max, Tick hidden, Tick now,
                   uint32_t limit) noexcept {
    // relaxed throughout: token-holder state.
    if (beyond > kLevels) beyond = kLevels;
    if (beyond_max > kLevels) beyond_max = kLevels;
    this->beyond_.store(beyond, std::memory_order_relaxed);
    // shown_since_[k-1], for k <= streak_: since when every reading has shown k, surely
    // or, within `hidden` of one that did, possibly.
    uint32_t kept = this->streak_.load(std::memory_order_relaxed);
    if (kept > beyond_max) kept = beyond_max;
    if (kept <= beyond)
      this->surely_at_.store(now, std::memory_order_relaxed);
    else if (!this->on_.load(std::memory_order_relaxed) ||
             Tk::before(Tick(this->surely_at_.load(std::memory_order_relaxed) + hidden), now))
      kept = beyond;
    for (uint32_t k = kept + 1; k <= beyond; ++k)
      this->shown_since_[k - 1].store(now, std::memory_order_relaxed);
    const uint32_t streak = kept > beyond ? kept : beyond;
    this->streak_.store(streak, std::memory_order_relaxed);
    const Tick confirm = this->confirm_.load(std::memory_order_relaxed);
    uint32_t persistent = 0;
    while (persistent < streak &&
           Tk::reached(
               Tick(this->shown_since_[persistent].load(std::memory_order_relaxed) + confirm), now))
      ++persistent;
    // Usage that has come back before, seen again while it is expected back, is taken at once.
    if (!this->on_.load(std::memory_order_relaxed) && expected_back(now)) persistent = beyond;
    this->last_seen_.store(persistent, std::memory_order_relaxed);
    // How long foreign usage lasts (from the first reading that confirms some to the one that
    // shows none) and how long it stays away before it comes back.
    const bool was = this->on_.load(std::memory_order_relaxed);
    if (persistent != 0 && !was) {
      this->on_.store(true, std::memory_order_relaxed);
      this->on_since_.store(now, std::memory_order_relaxed);
      if (this->away_.load(std::memory_order_relaxed))
        this->returns_.add(Tick(now - this->left_at_.load(std::memory_order_relaxed)), now,
                           Tk::kMaxDuration, 0);
      this->peak_.store(persistent, std::memory_order_relaxed);
    } else if (persistent == 0 && was) {
      this->on_.store(false, std::memory_order_relaxed);
      this->away_.store(true, std::memory_order_relaxed);
      this->left_at_.store(now, std::memory_order_relaxed);
      this->lifetime_.add(Tick(now - this->on_since_.load(std::memory_order_relaxed)), now,
                          Tk::kMaxDuration, 0);
    } else if (persistent > this->peak_.load(std::memory_order_relaxed)) {
      this->peak_.store(persistent, std::memory_order_relaxed);
    }
    // How long the usage under way had lasted at this reading: kept as a duration, not as the
    // reading's time, which the heartbeat may bring forward apart from on_since_.
    this->on_for_.store(this->on_.load(std::memory_order_relaxed)
                            ? Tick(now - this->on_since_.load(std::memory_order_relaxed))
                            : Tick(0),
                        std::memory_order_relaxed);
    this->stale_.store(false, std::memory_order_relaxed);
    if (!this->track_foreign_.load(std::memory_order_relaxed)) return persistent;
    const uint32_t have = this->h_foreign_.load(std::memory_order_relaxed);
    if (persistent == have) return persistent;
    if (sticky_.load(std::memory_order_relaxed) && persistent < have) return persistent;
    const uint32_t before = headroom(limit);
    this->h_foreign_.store(persistent,
                           std::memory_order_relaxed);  // only the token holder writes it
    if (persistent > have && headroom(limit) != before)
      note_raise(now, limit, before, HeadroomReason::kForeign);
    else if (persistent < have)
      note_fall(now);
    return persistent;
  }

  // Room the gate keeps for foreign usage beyond what the last reading showed (see the top),
  // at most limit - 1. Token holder; wait-free.
  uint32_t reserve(Tick now, uint32_t limit) const noexcept {
    // relaxed throughout: token-holder state.
    if (!this->track_foreign_.load(std::memory_order_relaxed)) return 0;
    uint32_t r = 0;
    const uint32_t shown = beyond();
    if (this->on_.load(std::memory_order_relaxed)) {
      r = this->peak_.load(std::memory_order_relaxed);
      if (r < shown) r = shown;
      r += 1;
    } else if (expected_back(now)) {
      r = 1;
    }
    r = r > shown ? r - shown : 0;
    return below(r, limit);
  }

  // Foreign usage that went away after coming back before, within how long it stayed away.
  bool expected_back(Tick now) const noexcept {
    // relaxed throughout: token-holder state.
    if (!this->away_.load(std::memory_order_relaxed) || this->returns_.samples() == 0) return false;
    const Tick back = this->returns_.estimate();
    return !Tk::before(Tick(this->left_at_.load(std::memory_order_relaxed) + back + back / 4), now);
  }

  // The room the gate keeps free beyond what a reading shows: the foreign reserve and the
  // rejected part of H. A step taken while no foreign usage was in sight stands for usage the
  // limiter could not see; once readings show foreign usage the reserve keeps room for it, so
  // such steps and the reserve overlap (the larger counts). A step taken despite the reserve
  // says the reserve was short, and adds to it. Token holder; wait-free.
  uint32_t room(Tick now, uint32_t limit) const noexcept {
    // relaxed x2: see file_rejection_step; the result is published by the caller's CAS.
    const uint32_t rejected = held_back(true, limit);
    uint32_t unseen = unseen_steps_.load(std::memory_order_relaxed);
    if (unseen > rejected) unseen = rejected;
    const uint32_t r = reserve(now, limit);
    return below((r > unseen ? r : unseen) + (rejected - unseen), limit);
  }

  // Step down where nothing says the usage is still there: H_rejected after a recovery time of
  // demand without a rejection (and the recovery time halves after one spent at 0); H_foreign,
  // with readings stale, once per hold time. Token holder. True if H fell.
  bool maybe_recover(Tick now, bool demand, bool usable) noexcept {
    if (sticky_.load(std::memory_order_relaxed)) return false;  // relaxed: a setting
    bool fell = false;
    // relaxed throughout: token-holder state and settings.
    const Tick after = recovery_time();
    const uint8_t shift = shift_.load(std::memory_order_relaxed);
    if (after != 0 && demand && shift != 0 && h_rejected_.load(std::memory_order_relaxed) == 0 &&
        Tk::reached(Tick(quiet_since_.load(std::memory_order_relaxed) + after), now)) {
      shift_.store(uint8_t(shift - 1), std::memory_order_relaxed);
      quiet_since_.store(now, std::memory_order_relaxed);
    }
    if (after != 0 && demand && h_rejected_.load(std::memory_order_relaxed) != 0 &&
        Tk::reached(Tick(quiet_since_.load(std::memory_order_relaxed) + after), now)) {
      uint32_t h = h_rejected_.load(std::memory_order_relaxed);
      bool stepped = false;
      while (h > 0 && !stepped)
        stepped = h_rejected_.compare_exchange_weak(h, h - 1, std::memory_order_relaxed,
                                                    std::memory_order_relaxed);
      if (stepped) {
        const uint32_t unseen = unseen_steps_.load(std::memory_order_relaxed);
        if (unseen > h - 1) unseen_steps_.store(h - 1, std::memory_order_relaxed);
        quiet_since_.store(now, std::memory_order_relaxed);
        stepped_down_at_.store(now, std::memory_order_relaxed);
        stepped_down_.store(true, std::memory_order_relaxed);
        note_fall(now);
        fell = true;
      }
    }
    if constexpr (kForeign) {
      const uint32_t f = foreign();
      if (!usable && f != 0) {
        if (!this->stale_.load(
                std::memory_order_relaxed)) {  // readings just went stale: hold from here
          this->stale_.store(true, std::memory_order_relaxed);
          this->stale_since_.store(now, std::memory_order_relaxed);
        } else if (Tk::reached(
                       Tick(this->stale_since_.load(std::memory_order_relaxed) + hold_time()),
                       now)) {
          this->h_foreign_.store(f - 1,
                                 std::memory_order_relaxed);  // only the token holder writes it
          this->stale_since_.store(now, std::memory_order_relaxed);
          note_fall(now);
          fell = true;
        }
      }
    }
    return fell;
  }

  // The heartbeat's pass (detail/heartbeat.hpp); the rejection path writes some of these from
  // any thread, which the pass's CASes let stand. Token holder.
  void keep_in_range(Tick now) noexcept {
    using HB = Heartbeat<Tick>;
    HB::keep(since_, now);
    HB::keep(quiet_since_, now);
    HB::keep(stepped_down_at_, now);
    if constexpr (kForeign) {
      HB::keep(this->surely_at_, now);
      HB::keep(this->on_since_, now);
      HB::keep(this->stale_since_, now);
      HB::keep(this->left_at_, now);
      for (auto& t : this->shown_since_) HB::keep(t, now);
    }
  }

  // When H may step down by itself: a recovery or a stale foreign step (the recovery time's
  // own halving needs no wake-up: it matters only at the next step up). Wait-free.
  Deadline<Tick> next_deadline(Tick now, bool demand, bool usable) const noexcept {
    Deadline<Tick> d;
    // relaxed throughout: an estimate for a sleeper, re-checked when it wakes.
    if (sticky_.load(std::memory_order_relaxed)) return d;
    const Tick after = recovery_time();
    if (after != 0 && demand && h_rejected_.load(std::memory_order_relaxed) != 0)
      d.merge_after(Tick(quiet_since_.load(std::memory_order_relaxed) + after), now);
    if constexpr (kForeign)
      if (!usable && foreign() != 0 && this->stale_.load(std::memory_order_relaxed))
        d.merge_after(Tick(this->stale_since_.load(std::memory_order_relaxed) + hold_time()), now);
    return d;
  }

  template <class Snap>
  void fill(Snap& s, uint32_t limit) const noexcept {
    // relaxed throughout: a statistic.
    s.headroom = headroom(limit);
    s.headroom_rejected = h_rejected_.load(std::memory_order_relaxed);
    s.headroom_reason = static_cast<HeadroomReason>(reason_.load(std::memory_order_relaxed));
    s.headroom_since = since_.load(std::memory_order_relaxed);
    s.limit_before_headroom = limit_before_.load(std::memory_order_relaxed);
    s.headroom_recovery = recovery_time();
    s.counters.headroom_steps_up = steps_up_.load(std::memory_order_relaxed);
    s.counters.headroom_steps_down = steps_down_.load(std::memory_order_relaxed);
    if constexpr (kForeign) {
      s.headroom_foreign = foreign();
      s.foreign_seen = this->last_seen_.load(std::memory_order_relaxed);
      s.foreign_peak = this->peak_.load(std::memory_order_relaxed);
      s.foreign_away_for = this->returns_.estimate();
      s.foreign_hold = hold_time();
    }
  }

 private:
  // The recovery time backs off to at most recover_after << kMaxShift.
  static constexpr uint8_t kMaxShift = 4;

  // recover_after << shift, saturated at the longest duration the clock can compare.
  Tick recovery_time() const noexcept {
    // relaxed x2: a setting and token-holder state.
    const Tick after = recover_after_.load(std::memory_order_relaxed);
    const uint8_t shift = shift_.load(std::memory_order_relaxed);
    if (after > Tick(Tk::kMaxDuration >> shift)) return Tk::kMaxDuration;
    return Tick(after << shift);
  }
  // A rejection episode began: if it came within a recovery time of the last step down, that
  // step was too soon, and the next ones wait twice as long. Once per step down. Any thread:
  // the caller's CAS on H_rejected makes it the only one stepping up; a recovery racing it may
  // see the old shift, which only delays the back-off by one step.
  void relapse(Tick now) noexcept {
    // relaxed throughout: a heuristic's state; no decision needs it in step with another word.
    if (!stepped_down_.load(std::memory_order_relaxed)) return;
    stepped_down_.store(false, std::memory_order_relaxed);
    const uint8_t shift = shift_.load(std::memory_order_relaxed);
    if (shift < kMaxShift &&
        Tk::before(now, Tick(stepped_down_at_.load(std::memory_order_relaxed) + recovery_time())))
      shift_.store(uint8_t(shift + 1), std::memory_order_relaxed);
  }

  // How long stale foreign headroom holds one step: the longest foreign usage seen lately, or
  // the age of the one under way, or foreign_hold, whichever is longest.
  Tick hold_time() const noexcept {
    // relaxed throughout: token-holder state and a setting.
    Tick t = this->hold_.load(std::memory_order_relaxed);
    const Tick learned = this->lifetime_.estimate();
    if (t < learned) t = learned;
    const Tick ongoing =
        this->on_for_.load(std::memory_order_relaxed);  // 0 while none is under way
    if (t < ongoing && Tk::valid_duration(ongoing)) t = ongoing;
    return t;
  }

  void note_raise(Tick now, uint32_t limit, uint32_t before, HeadroomReason why) noexcept {
    // relaxed throughout: metadata for snapshots; last writer wins.
    if (before == 0) limit_before_.store(limit, std::memory_order_relaxed);
    since_.store(now, std::memory_order_relaxed);
    quiet_since_.store(now, std::memory_order_relaxed);
    reason_.store(static_cast<uint8_t>(why), std::memory_order_relaxed);
    steps_up_.fetch_add(1, std::memory_order_relaxed);
  }
  void note_fall(Tick now) noexcept {
    // relaxed throughout: metadata for snapshots.
    since_.store(now, std::memory_order_relaxed);
    steps_down_.fetch_add(1, std::memory_order_relaxed);
    const uint32_t rest = h_rejected_.load(std::memory_order_relaxed);
    const uint32_t foreign = this->foreign();
    if (rest == 0 && foreign == 0) limit_before_.store(0, std::memory_order_relaxed);
    reason_.store(static_cast<uint8_t>(rest != 0      ? HeadroomReason::kRejected
                                       : foreign != 0 ? HeadroomReason::kForeign
                                                      : HeadroomReason::kNone),
                  std::memory_order_relaxed);
  }

  // Settings.
  atomic<Tick> recover_after_{0};
  atomic<bool> sticky_{false};
  // H_rejected and what snapshots say of H.
  atomic<uint32_t> h_rejected_{0}, limit_before_{0};
  atomic<uint32_t> unseen_steps_{0};  // steps of H_rejected taken with no foreign in sight
  atomic<uint8_t> reason_{0};
  atomic<Tick> since_{0}, quiet_since_{0};
  // The recovery's back-off: recover_after << shift_, and the last step down it judges.
  atomic<uint8_t> shift_{0};
  atomic<bool> stepped_down_{false};
  atomic<Tick> stepped_down_at_{0};
  atomic<Counter> steps_up_{0}, steps_down_{0};
};

}  // namespace slotgate::detail
