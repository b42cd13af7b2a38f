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
//   H_foreign   other clients' sessions, as fresh readings confirm them, and held for a
//               while once readings go stale: detail/foreign_usage.hpp.
//   sticky      neither part steps down by itself; a manual limit change clears H.
//
// Reserve: room the gate keeps free for other clients (detail/foreign_usage.hpp).
//
// Room: what the gate keeps free beyond a reading, the reserve and H_rejected together. A step
// of H_rejected taken with no foreign usage in sight (nor reserve) stands for usage the limiter
// could not see; once readings show some, the reserve keeps room for the same usage, so those
// steps and the reserve overlap. Steps taken despite a reserve, and every step once a
// half-open probe is refused, add to it.
//
// Without a usage source no reading ever shows another client: the foreign part is then
// NoForeignUsage, and H is H_rejected alone.
//
// Threads: the foreign part and recovery are written only by the grant-token holder; rejections
// step H_rejected from any thread with a CAS, and file the step (a relaxed count the token holder
// reads on its own). Every field is atomic so snapshots can read it.
#pragma once

#include <stdint.h>

#include <type_traits>

#include "slotgate/atomics.hpp"
#include "slotgate/detail/foreign_usage.hpp"
#include "slotgate/detail/heartbeat.hpp"
#include "slotgate/limiter_config.hpp"
#include "slotgate/ticks.hpp"
#include "slotgate/usage.hpp"

namespace slotgate::detail {

// kForeign: the port has a usage source (see the top).
template <class Atomics, class Tick, class Counter, bool kForeign = true>
class Headroom {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  using Tk = Ticks<Tick>;

 public:
  using Foreign =
      std::conditional_t<kForeign, ForeignUsage<Atomics, Tick, Counter>, NoForeignUsage<Tick>>;

  static bool valid(const HeadroomConfig<Tick>& h) noexcept {
    return Tk::valid_duration(h.recover_after) && Tk::valid_duration(h.foreign_hold) &&
           Tk::valid_duration(h.foreign_confirm);
  }
  void configure(const HeadroomConfig<Tick>& h) noexcept {
    // relaxed throughout: independent settings, read afresh by each decision.
    recover_after_.store(h.recover_after, std::memory_order_relaxed);
    sticky_.store(h.sticky, std::memory_order_relaxed);
    foreign_.configure(h);
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
  // H_foreign. Wait-free.
  uint32_t foreign() const noexcept { return foreign_.level(); }
  // How long foreign usage must show before it counts (a setting). Wait-free.
  Tick confirm() const noexcept { return foreign_.confirm(); }
  // Sessions beyond ours in the last fresh reading (foreign, confirmed or not). Wait-free.
  uint32_t beyond() const noexcept { return foreign_.beyond(); }

  // At most limit - 1: one slot is never held back (and a limit of 0 holds back nothing).
  static uint32_t below(uint32_t h, uint32_t limit) noexcept {
    return h < limit ? h : (limit == 0 ? 0 : limit - 1);
  }

  // A manual limit change: forget every step. Token holder or configuration; wait-free.
  void clear() noexcept {
    // relaxed throughout: the caller republishes the effective limit with a CAS.
    h_rejected_.store(0, std::memory_order_relaxed);
    unseen_steps_.store(0, std::memory_order_relaxed);
    foreign_.clear();
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

  // A fresh reading's foreign usage (ForeignUsage::observe): H_foreign follows what it
  // confirms, and a rise that moves H restarts the wait before H_rejected steps down. Returns
  // the foreign usage confirmed. Token holder.
  uint32_t observe(uint32_t beyond, uint32_t beyond_max, Tick hidden, Tick now,
                   uint32_t limit) noexcept {
    const uint32_t confirmed = foreign_.observe(beyond, beyond_max, hidden, now);
    if (!foreign_.tracking()) return confirmed;
    const uint32_t have = foreign_.level();
    if (confirmed == have) return confirmed;
    // relaxed: a setting.
    if (sticky_.load(std::memory_order_relaxed) && confirmed < have) return confirmed;
    const uint32_t before = headroom(limit);
    foreign_.set_level(confirmed);
    if (confirmed > have && headroom(limit) != before)
      note_raise(now, limit, before, HeadroomReason::kForeign);
    else if (confirmed < have)
      note_fall(now);
    return confirmed;
  }

  // Room the gate keeps for foreign usage beyond what the last reading showed, at most
  // limit - 1. Token holder; wait-free.
  uint32_t reserve(Tick now, uint32_t limit) const noexcept {
    return below(foreign_.reserve(now), limit);
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
    if (foreign_.step_stale(now, usable)) {
      note_fall(now);
      fell = true;
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
    foreign_.keep_in_range(now);
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
    d.merge(foreign_.next_deadline(now, usable));
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
    foreign_.fill(s);
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
    const uint32_t foreign = foreign_.level();
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
  Foreign foreign_;
};

}  // namespace slotgate::detail
