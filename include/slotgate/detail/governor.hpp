// The usage gate and adaptive headroom: what the limiter learns from the upstream.
//
// Gate. The port's usage source reports readings {sessions, sampled_at}. A reading is usable
// while now - sampled_at <= max_age. With a usable reading a grant is allowed only while
//     sessions + grants_after(sampled_at - visibility_lag) < L - H_rejected
// The limiter turns that into a budget of grants (the `credit` field of its control word) that
// every grant — fast path or queue — spends in the same CAS that counts it, so one reading can
// admit several waiters and can never admit one too many. The budget is recomputed from scratch
// whenever the granter runs, so a new reading, a release or a headroom step take effect at once.
// Without a usable reading the credit is "open" and the limiter runs on cooldown alone.
//
// Headroom. H = H_rejected + H_foreign (at most L - 1) slots are held back: L_eff = L - H
// without a usable reading; with one, L - H_rejected, since the gate then counts the foreign
// sessions from the reading itself.
//   H_rejected  +1 when a release reports a rejection that starts a pause (a burst of 429s in
//               one pause is one event); -1 per recover_after of demand without one.
//   H_foreign   raised to the sessions a reading shows beyond this limiter's own, so they are
//               still respected when readings go stale; -1 per recover_after while readings
//               show less. The gate itself uses L - H_rejected: a reading already counts the
//               foreign sessions it saw, and must not count them twice; while a known foreign
//               client is absent from the reading it keeps one slot of room for its return.
//   sticky      no recovery by itself; a manual limit change clears H.
//
// Threads. govern() runs only in the grant-token holder, so the reading and the recovery
// clock have one writer; everything a snapshot reads is atomic. Rejections arrive from any
// thread and step H_rejected with a CAS.
#pragma once

#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/limiter_config.hpp"
#include "slotgate/snapshot.hpp"
#include "slotgate/ticks.hpp"
#include "slotgate/usage.hpp"

namespace slotgate::detail {

template <class Atomics, class Tick, class Counter>
class Governor {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  using Tk = Ticks<Tick>;

 public:
  Governor() noexcept = default;

  // ---- settings (wait-free; any thread) ----------------------------------------------------

  static bool valid(const GateConfig<Tick>& g, const HeadroomConfig<Tick>& h) noexcept {
    return Tk::valid_duration(g.max_age) && Tk::valid_duration(g.visibility_lag) &&
           Tk::valid_duration(g.repoll_interval) && Tk::valid_duration(g.tail) &&
           Tk::valid_duration(h.recover_after) && Tk::valid_duration(h.foreign_confirm);
  }

  void configure(const GateConfig<Tick>& g, const HeadroomConfig<Tick>& h) noexcept {
    // relaxed throughout: independent settings, read afresh by each decision.
    max_age_.store(g.max_age, std::memory_order_relaxed);
    lag_.store(g.visibility_lag, std::memory_order_relaxed);
    repoll_.store(g.repoll_interval, std::memory_order_relaxed);
    max_plausible_.store(g.max_plausible_sessions, std::memory_order_relaxed);
    recover_after_.store(h.recover_after, std::memory_order_relaxed);
    sticky_.store(h.sticky, std::memory_order_relaxed);
    track_foreign_.store(h.track_foreign, std::memory_order_relaxed);
    tail_.store(g.tail, std::memory_order_relaxed);
    foreign_confirm_.store(h.foreign_confirm, std::memory_order_relaxed);
  }

  // ---- headroom ------------------------------------------------------------------------------

  // H for limit L. Wait-free.
  uint32_t headroom(uint32_t limit) const noexcept {
    // relaxed x2: the caller publishes the result through a CAS on the control word.
    const uint32_t h =
        h_rejected_.load(std::memory_order_relaxed) + h_foreign_.load(std::memory_order_relaxed);
    return h < limit ? h : limit - 1;
  }

  // The slots held back now: all of H without a usable reading; with one, the gate counts the
  // foreign sessions itself (and keeps room for a known one it does not see), so only the
  // rejected part. Wait-free.
  uint32_t held_back(Tick now, uint32_t limit) const noexcept {
    if (!usable(now)) return headroom(limit);
    const uint32_t h = h_rejected_.load(std::memory_order_relaxed);  // relaxed: as above
    return h < limit ? h : limit - 1;
  }

  // The limit the gate compares readings against: L - H_rejected (at least 1). Wait-free.
  uint32_t gate_limit(uint32_t limit) const noexcept {
    const uint32_t h = h_rejected_.load(std::memory_order_relaxed);  // relaxed: as above
    return h < limit ? limit - h : 1;
  }

  // A manual limit change: forget every step. Wait-free.
  void clear_headroom() noexcept {
    // relaxed throughout: the caller republishes the effective limit with a CAS.
    h_rejected_.store(0, std::memory_order_relaxed);
    h_foreign_.store(0, std::memory_order_relaxed);
    reason_.store(static_cast<uint8_t>(HeadroomReason::kNone), std::memory_order_relaxed);
  }

  // An upstream rejection that started a new pause: H_rejected + 1 unless H is already L - 1.
  // True if H rose (the caller republishes the effective limit). Lock-free; any thread.
  bool step_up_for_rejection(Tick now, uint32_t limit) noexcept {
    uint32_t h = h_rejected_.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    for (;;) {
      const uint32_t before = headroom(limit);
      if (before + 1 >= limit) return false;
      // relaxed: a counter; the effective limit is published by the caller's CAS.
      if (h_rejected_.compare_exchange_weak(h, h + 1, std::memory_order_relaxed,
                                            std::memory_order_relaxed)) {
        note_raise(now, limit, before, HeadroomReason::kRejected);
        return true;
      }
    }
  }

  // ---- the governor run (grant-token holder only) ---------------------------------------------

  // Take in the port's latest reading and judge it. `occupied` is the control word's occ; the
  // census is taken for this reading. Returns true if a new reading was installed.
  template <class Port, class Census>
  bool take_reading(Port& port, Tick now, uint32_t limit, uint32_t occupied,
                    Census census) noexcept {
    UsageReading<Tick> r;
    if (!port.read_usage(r)) return false;
    // relaxed throughout: written only by the token holder, read by snapshots.
    const bool same_as_seen = seen_.load(std::memory_order_relaxed) &&
                              r.sessions == seen_sessions_.load(std::memory_order_relaxed) &&
                              r.sampled_at == seen_at_.load(std::memory_order_relaxed);
    if (same_as_seen) return false;
    seen_.store(true, std::memory_order_relaxed);
    seen_sessions_.store(r.sessions, std::memory_order_relaxed);
    seen_at_.store(r.sampled_at, std::memory_order_relaxed);

    const bool implausible = r.sessions > max_plausible_.load(std::memory_order_relaxed);
    // Threads pass slightly different times: a sample a little after our `now` is fine (we
    // clamp it to `now`, which only counts more grants as possibly missing); one more than
    // max_age ahead is a broken clock.
    const bool from_future =
        Tk::before(Tick(now + max_age_.load(std::memory_order_relaxed)), r.sampled_at);
    if (!implausible && !from_future && Tk::before(now, r.sampled_at)) r.sampled_at = now;
    const bool older = valid_.load(std::memory_order_relaxed) &&
                       Tk::before(r.sampled_at, at_.load(std::memory_order_relaxed));
    if (implausible || from_future || older) {
      bad_readings_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    sessions_.store(r.sessions, std::memory_order_relaxed);
    at_.store(r.sampled_at, std::memory_order_relaxed);
    valid_.store(true, std::memory_order_relaxed);
    readings_.fetch_add(1, std::memory_order_relaxed);
    if (usable(now) && track_foreign_.load(std::memory_order_relaxed)) {
      // Our sessions still in the reading: freed after its earliest possible sample time less
      // the tail.
      const Tick freed_after =
          Tick(grants_since(r.sampled_at) - tail_.load(std::memory_order_relaxed));
      judge_foreign(now, limit, occupied, census(r.sampled_at, now, freed_after));
    }
    return true;
  }

  // Step H down by one if recover_after has passed since the last change, there is demand,
  // and nothing says the usage is still there. True if H fell.
  bool maybe_recover(Tick now, bool demand) noexcept {
    // relaxed throughout: token-holder state and independent settings.
    const Tick after = recover_after_.load(std::memory_order_relaxed);
    if (after == 0 || sticky_.load(std::memory_order_relaxed) || !demand) return false;
    if (!Tk::reached(Tick(quiet_since_.load(std::memory_order_relaxed) + after), now)) return false;
    uint32_t h = h_rejected_.load(std::memory_order_relaxed);
    bool stepped = false;
    while (h > 0 && !stepped)
      stepped = h_rejected_.compare_exchange_weak(h, h - 1, std::memory_order_relaxed,
                                                  std::memory_order_relaxed);
    if (!stepped) {
      const uint32_t f = h_foreign_.load(std::memory_order_relaxed);
      if (f == 0 || f <= last_foreign_.load(std::memory_order_relaxed)) return false;
      h_foreign_.store(f - 1, std::memory_order_relaxed);  // only the token holder writes it
    }
    quiet_since_.store(now, std::memory_order_relaxed);
    since_.store(now, std::memory_order_relaxed);
    steps_down_.fetch_add(1, std::memory_order_relaxed);
    const uint32_t rest = h_rejected_.load(std::memory_order_relaxed);
    const uint32_t foreign = h_foreign_.load(std::memory_order_relaxed);
    reason_.store(static_cast<uint8_t>(rest != 0      ? HeadroomReason::kRejected
                                       : foreign != 0 ? HeadroomReason::kForeign
                                                      : HeadroomReason::kNone),
                  std::memory_order_relaxed);
    return true;
  }

  // The gate budget for a control word whose occ is `occupied`, given a census of grants since
  // the reading: kOpen when no reading is usable. Wait-free.
  static constexpr uint32_t kOpen = 0xFFFFFFFFu;
  template <class Census>
  uint32_t budget(Tick now, uint32_t gate_limit, uint32_t occupied, Census census) const noexcept {
    if (!usable(now)) return kOpen;
    const Tick at = at_.load(std::memory_order_relaxed);  // relaxed: token-holder state
    // Grants since the reading that the upstream may still count: not free for `tail` ticks
    // or more (the census drops those freed at or before now - tail).
    const auto u = census(at, Tick(now - tail_.load(std::memory_order_relaxed) + 1), at);
    // Grants whose CAS counted them but whose slot record is not claimed yet: recent too.
    const uint32_t in_flight = occupied > u.nonfree ? occupied - u.nonfree : 0;
    // A known foreign client (H_foreign) absent from this reading may come back at any
    // moment: keep one slot of room for it.
    const uint32_t known = h_foreign_.load(std::memory_order_relaxed);
    const uint32_t seen = last_foreign_.load(std::memory_order_relaxed);
    const uint32_t unseen = known > seen ? 1 : 0;
    const uint32_t used =
        sessions_.load(std::memory_order_relaxed) + u.granted_since + in_flight + unseen;
    return used >= gate_limit ? 0 : gate_limit - used;
  }

  // Whether the port should be asked for a fresh reading now: waiters are queued, and either
  // no reading is usable or the gate holds them; at most every repoll_interval unless
  // `after_release`. Records the request. Lock-free; any thread.
  bool should_refresh(Tick now, bool waiters, bool gate_closed, bool after_release) noexcept {
    if (!waiters || (usable(now) && !gate_closed)) return false;
    // relaxed throughout: rate limiting; a duplicate request merges in the port.
    if (!after_release && asked_.load(std::memory_order_relaxed) &&
        !Tk::reached(Tick(asked_at_.load(std::memory_order_relaxed) +
                          repoll_.load(std::memory_order_relaxed)),
                     now))
      return false;
    asked_at_.store(now, std::memory_order_relaxed);
    asked_.store(true, std::memory_order_relaxed);
    refresh_requests_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  // A reading is usable at `now`. Wait-free.
  bool usable(Tick now) const noexcept {
    // relaxed throughout: token-holder state and a setting.
    const Tick max_age = max_age_.load(std::memory_order_relaxed);
    if (max_age == 0 || !valid_.load(std::memory_order_relaxed)) return false;
    const Tick at = at_.load(std::memory_order_relaxed);
    // A caller whose `now` is a little older than the sample sees it as fresh, not as stale.
    return Tk::before(now, at) || Tick(now - at) <= max_age;
  }

  // The grants a reading may be missing start at sampled_at - visibility_lag. Wait-free.
  Tick grants_since(Tick sampled_at) const noexcept {
    return Tick(sampled_at - lag_.load(std::memory_order_relaxed));  // relaxed: a setting
  }

  // When something here changes by itself: the reading ages out of a closed gate, a repoll is
  // due for held waiters, headroom may recover. Wait-free.
  Deadline<Tick> next_deadline(Tick now, bool waiters, bool gate_closed,
                               bool has_headroom) const noexcept {
    Deadline<Tick> d;
    // relaxed throughout: an estimate for a sleeper, re-checked when it wakes.
    const Tick max_age = max_age_.load(std::memory_order_relaxed);
    if (valid_.load(std::memory_order_relaxed) && max_age != 0 && gate_closed)
      d.merge_after(Tick(at_.load(std::memory_order_relaxed) + max_age + 1), now);
    if (waiters && asked_.load(std::memory_order_relaxed))
      d.merge_after(
          Tick(asked_at_.load(std::memory_order_relaxed) + repoll_.load(std::memory_order_relaxed)),
          now);
    const Tick after = recover_after_.load(std::memory_order_relaxed);
    if (waiters && has_headroom && after != 0 && !sticky_.load(std::memory_order_relaxed))
      d.merge_after(Tick(quiet_since_.load(std::memory_order_relaxed) + after), now);
    return d;
  }

  template <class Snap>
  void fill(Snap& s, uint32_t limit) const noexcept {
    // relaxed throughout: a statistic.
    s.headroom = headroom(limit);
    s.headroom_rejected = h_rejected_.load(std::memory_order_relaxed);
    s.headroom_foreign = h_foreign_.load(std::memory_order_relaxed);
    s.headroom_reason = static_cast<HeadroomReason>(reason_.load(std::memory_order_relaxed));
    s.headroom_since = since_.load(std::memory_order_relaxed);
    s.limit_before_headroom = limit_before_.load(std::memory_order_relaxed);
    s.has_reading = valid_.load(std::memory_order_relaxed);
    s.reading_sessions = sessions_.load(std::memory_order_relaxed);
    s.reading_sampled_at = at_.load(std::memory_order_relaxed);
    s.counters.readings = readings_.load(std::memory_order_relaxed);
    s.counters.bad_readings = bad_readings_.load(std::memory_order_relaxed);
    s.counters.refresh_requests = refresh_requests_.load(std::memory_order_relaxed);
    s.counters.headroom_steps_up = steps_up_.load(std::memory_order_relaxed);
    s.counters.headroom_steps_down = steps_down_.load(std::memory_order_relaxed);
  }

 private:
  // Sessions the reading shows beyond ours: ours are those occupying a slot now, plus those
  // whose slot freed after the sample less the grace (they may still be in it). The estimate
  // must hold in every reading for foreign_confirm before H rises to the smallest of them.
  template <class Usage>
  void judge_foreign(Tick now, uint32_t limit, uint32_t occupied, const Usage& u) noexcept {
    // relaxed throughout: token-holder state.
    const uint32_t ours = occupied + u.freed_since;
    const uint32_t s = sessions_.load(std::memory_order_relaxed);
    const uint32_t seen = s > ours ? s - ours : 0;
    last_foreign_.store(seen, std::memory_order_relaxed);
    uint32_t candidate = candidate_.load(std::memory_order_relaxed);
    if (seen == 0 || candidate == 0) {
      candidate = seen;
      candidate_since_.store(now, std::memory_order_relaxed);
    } else if (seen < candidate) {
      candidate = seen;
    }
    candidate_.store(candidate, std::memory_order_relaxed);
    const Tick confirm = foreign_confirm_.load(std::memory_order_relaxed);
    if (candidate == 0 ||
        !Tk::reached(Tick(candidate_since_.load(std::memory_order_relaxed) + confirm), now))
      return;
    const uint32_t foreign = candidate;
    const uint32_t have = h_foreign_.load(std::memory_order_relaxed);
    if (foreign <= have) return;
    const uint32_t before = headroom(limit);
    h_foreign_.store(foreign, std::memory_order_relaxed);  // only the token holder writes it
    if (headroom(limit) != before) note_raise(now, limit, before, HeadroomReason::kForeign);
  }

  void note_raise(Tick now, uint32_t limit, uint32_t before, HeadroomReason why) noexcept {
    // relaxed throughout: metadata for snapshots; last writer wins.
    if (before == 0) limit_before_.store(limit, std::memory_order_relaxed);
    since_.store(now, std::memory_order_relaxed);
    quiet_since_.store(now, std::memory_order_relaxed);
    reason_.store(static_cast<uint8_t>(why), std::memory_order_relaxed);
    steps_up_.fetch_add(1, std::memory_order_relaxed);
  }

  // Settings.
  atomic<Tick> max_age_{0}, lag_{0}, repoll_{0}, recover_after_{0};
  atomic<uint32_t> max_plausible_{10000};
  atomic<bool> sticky_{false}, track_foreign_{true};
  // The installed reading, and the last one the port returned (to judge each only once).
  atomic<bool> valid_{false}, seen_{false};
  atomic<uint32_t> sessions_{0}, seen_sessions_{0};
  atomic<Tick> at_{0}, seen_at_{0};
  // Headroom.
  atomic<uint32_t> h_rejected_{0}, h_foreign_{0}, last_foreign_{0}, limit_before_{0};
  atomic<uint32_t> candidate_{0};  // foreign usage seen in every reading since candidate_since_
  atomic<Tick> candidate_since_{0}, tail_{0}, foreign_confirm_{0};
  atomic<uint8_t> reason_{0};
  atomic<Tick> since_{0}, quiet_since_{0};
  // Refresh requests.
  atomic<bool> asked_{false};
  atomic<Tick> asked_at_{0};
  // Statistics.
  atomic<Counter> readings_{0}, bad_readings_{0}, refresh_requests_{0}, steps_up_{0},
      steps_down_{0};
};

}  // namespace slotgate::detail
