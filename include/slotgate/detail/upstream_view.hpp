// The upstream view: what the limiter makes of the upstream. It owns the usage gate
// (detail/usage_gate.hpp), the headroom (detail/headroom.hpp) and the learned lags
// (detail/learned_lag.hpp), and the cooldown floor the release lag raises; the granter has it
// take a look (govern) before each decision:
//
//   1. judge the port's latest reading; a usable one is compared with our own sessions when it
//      was true: sessions beyond ours are foreign usage, ours it misses or still counts are lag
//      evidence, and a reading below the cap after the half-open probe has had time to count
//      says the upstream took the probe;
//   2. a rejection noted without a usable reading, and no foreign usage in sight, is evidence
//      that the release lag exceeds the cooldown;
//   3. headroom steps down where it has recovered, and the control word's limit follows H;
//   4. cooling slots a usable reading accounts for are freed, and the gate's budget is set
//      from a census of our sessions (taken after the word it is set on);
//   5. a fresh reading is asked for when waiters are held for want of one.
//
// Data flows one way: the parts below it (slot records, episodes, admission) are handed in
// and read; the census is a value. Everything here but the settings is written by the grant-
// token holder only; the accessors are wait-free and read atomics.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <type_traits>

#include "slotgate/atomics.hpp"
#include "slotgate/detail/headroom.hpp"
#include "slotgate/detail/learned_lag.hpp"
#include "slotgate/detail/usage_gate.hpp"
#include "slotgate/port.hpp"
#include "slotgate/ticks.hpp"
#include "slotgate/usage.hpp"

namespace slotgate::detail {

template <class Port, size_t MaxSlots>
class UpstreamView {
  using Tick = typename Port::tick_type;
  using Counter = typename Port::counter_type;
  using Atomics = typename Port::atomics;
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  using Tk = Ticks<Tick>;
  static constexpr bool kHasUsageSource = HasUsageSource<Port>::value;

 public:
  using Gate = UsageGate<Atomics, Tick, Counter>;
  using Room = Headroom<Atomics, Tick, Counter, kHasUsageSource>;
  using Lag = LearnedLag<Atomics, Tick, Counter>;
  // Without a usage source there are no readings for a gate to judge or to learn lags from:
  // both are left out, state and code (the gate is off), and H is H_rejected alone.
  struct Absent {
    template <class C>
    void configure(const C&) noexcept {}
    static constexpr bool enabled() noexcept { return false; }
  };
  using GatePart = std::conditional_t<kHasUsageSource, Gate, Absent>;
  using LagPart = std::conditional_t<kHasUsageSource, Lag, Absent>;

  UpstreamView() noexcept {
    cooldown_.store(0, std::memory_order_relaxed);
    room_.store(0, std::memory_order_relaxed);
  }

  template <class Cfg>
  __attribute__((always_inline)) static bool valid(const Cfg& cfg) noexcept {
    return Tk::valid_duration(cfg.cooldown) && Gate::valid(cfg.gate) && Room::valid(cfg.headroom) &&
           Lag::valid(cfg.learn);
  }
  template <class Cfg>
  __attribute__((always_inline)) void configure(const Cfg& cfg) noexcept {
    set_cooldown(cfg.cooldown);
    gate_.configure(cfg.gate);
    headroom_.configure(cfg.headroom);
    lag_.configure(cfg.learn);
  }
  // relaxed: an independent setting; a concurrent change applies to a release or not.
  void set_cooldown(Tick t) noexcept { cooldown_.store(t, std::memory_order_relaxed); }
  Tick cooldown_floor() const noexcept { return cooldown_.load(std::memory_order_relaxed); }

  GatePart& gate() noexcept { return gate_; }
  const GatePart& gate() const noexcept { return gate_; }
  Room& headroom() noexcept { return headroom_; }
  const Room& headroom() const noexcept { return headroom_; }
  LagPart& lag() noexcept { return lag_; }

  // ---- what releases and reclaims need (wait-free, any thread) ---------------------------------

  // The cooldown releases get: the floor or the learned release lag, whichever is longer.
  // Without a usage source nothing is learned (rejections alone cannot tell our lag from
  // usage we cannot see), so the floor is the cooldown.
  Tick effective_cooldown() const noexcept {
    if constexpr (!kHasUsageSource)
      return cooldown_floor();
    else
      return lag_.release(cooldown_floor());
  }
  // How long the gate counts a session after its release, unless a reading dated after the
  // release covers it: the cooldown plus the tail, or, until the release lag is established
  // by evidence, the longest lag the limiter would believe. Nothing while the gate is off
  // (only the gate reads it).
  Tick counted_for(Tick cooldown) const noexcept {
    if constexpr (!kHasUsageSource) {
      return 0;
    } else {
      if (!gate_.enabled()) return 0;
      const Tick t = gate_.tail();
      Tick d = Tk::valid_duration(Tick(cooldown + t)) ? Tick(cooldown + t) : Tk::kMaxDuration;
      if (!lag_.release_established() && d < lag_.max_lag()) d = lag_.max_lag();
      return d;
    }
  }
  bool usable(Tick now) const noexcept {
    if constexpr (kHasUsageSource) return gate_.usable(now);
    return false;
  }
  // Cooling slots a usable reading accounts for: those whose cooldown ends while it is usable.
  Deadline<Tick> covered(Tick now) const noexcept {
    if constexpr (kHasUsageSource)
      if (gate_.usable(now)) return Deadline<Tick>::at_tick(gate_.usable_through());
    return Deadline<Tick>::none();
  }
  // The slots the word's limit holds back from L now.
  uint32_t held_back(Tick now, uint32_t limit) const noexcept {
    return headroom_.held_back(usable(now), limit);
  }

  // ---- the look (grant-token holder) -----------------------------------------------------------

  template <class Admission, class Slots, class Episodes>
  void govern(Tick now, Port& port, Admission& adm, Slots& slots, Episodes& episodes) noexcept {
    using CW = typename Admission::word_layout;
    const uint32_t limit = adm.limit();
    uint32_t version = 0;
    UsageReading<Tick> r;
    bool has = false;
    if constexpr (kHasUsageSource) {
      // The version first: a reading written after it is judged again at the next look.
      if constexpr (HasUsageVersion<Port>::value) version = port.usage_version();
      has = port.read_usage(r);
      if (gate_.take(has, r, now) == Gate::Take::kInstalled && gate_.usable(now))
        learn_from_reading(now, limit, adm, slots, episodes);
      // A rejection is lag evidence only without a usable reading (with one, the gate would
      // have seen the lag: another client is the likelier cause) and no foreign usage in sight.
      Tick rejected_at = 0, refused_granted = 0;
      if (lag_.take_rejection(rejected_at, refused_granted) && !gate_.usable(now) &&
          headroom_.foreign() == 0 && headroom_.beyond() == 0) {
        const Tick before = Tick(rejected_at - 1);
        lag_.from_rejection(slots.evidence(before, before, Tick(before - lag_.max_lag())), limit,
                            before, refused_granted, headroom_.confirm(), now);
      }
      lag_.refresh(now);
    }
    if (beat_.due(now)) keep_in_range(now);  // a narrow tick's heartbeat
    // Demand is a heuristic for recovery.
    const auto c = adm.word();
    headroom_.maybe_recover(now, CW::queued(c) != 0 || slots.taken() >= CW::lim(c), usable(now));
    sync_limit(now, adm, slots);              // a reading, its age or a recovery may have moved H
    slots.reclaim_cooled(now, covered(now));  // we grant into them next, if anyone waits
    if constexpr (kHasUsageSource) {
      update_credit(now, adm, slots);
      gate_.publish_judged(version, has, r);
      request_refresh_if_held(now, false, port, adm, slots);
    }
  }

  // Bring the word's limit in step with L - H. Lock-free; any thread.
  template <class Admission, class Slots>
  void sync_limit(Tick now, Admission& adm, const Slots& slots) noexcept {
    const bool fresh = usable(now);
    adm.sync_limit([this, fresh](uint32_t limit) { return headroom_.held_back(fresh, limit); },
                   [&slots](size_t from) { return slots.taken_from(from); });
  }

  // True if the port holds a reading the granter has not judged yet. Wait-free.
  bool reading_pending(Port& port) const noexcept {
    if constexpr (!kHasUsageSource) {
      return false;
    } else if constexpr (HasUsageVersion<Port>::value) {
      return gate_.pending(port.usage_version());
    } else {
      UsageReading<Tick> r;
      const bool has = port.read_usage(r);
      return gate_.pending(has, r);
    }
  }

  // Ask the port for a fresh reading if waiters are held for want of one: by the gate, or by a
  // half-open probe a reading may show the upstream took. Lock-free; any thread.
  template <class Admission, class Slots>
  void request_refresh_if_held(Tick now, bool after_release, Port& port, const Admission& adm,
                               const Slots& slots) noexcept {
    using CW = typename Admission::word_layout;
    const auto c = adm.word();
    if (CW::queued(c) == 0 || !gate_.enabled()) return;  // nobody to hold, or no gate
    const bool held = (!CW::gate_open(c) && CW::credit(c) == 0) ||
                      (CW::half_open(c) && CW::probe_out(c) && !CW::paused(c));
    const bool waiters = CW::queued(c) != 0;
    const Deadline<Tick> news = waiters && held && gate_.usable(now)
                                    ? next_news(gate_.refresh_asked_at(now), slots)
                                    : Deadline<Tick>{};
    if (gate_.should_refresh(now, waiters, held, after_release, news)) port.request_usage_refresh();
  }

  // The next moment after `after` a fresh reading would tell the gate more than the one it has
  // (see SlotTable::next_news), by the effective lags; or when a cached one may have been
  // replaced. Wait-free.
  template <class Slots>
  Deadline<Tick> next_news(Tick after, const Slots& slots) const noexcept {
    Deadline<Tick> d = slots.next_news(
        gate_.sampled_at(), lag_.visibility(gate_.visibility_floor()), effective_cooldown(), after);
    d.merge(gate_.cache_expiry(after));
    return d;
  }

  template <class Snap>
  __attribute__((always_inline)) void fill(Snap& s, uint32_t limit) const noexcept {
    headroom_.fill(s, limit);
    s.gate_room = room_.load(std::memory_order_relaxed);  // relaxed: a statistic
    if constexpr (kHasUsageSource) {
      gate_.fill(s);
      lag_.fill(s, cooldown_floor(), gate_.visibility_floor());
    } else {
      s.effective_cooldown = cooldown_floor();
    }
  }

 private:
  // The heartbeat's pass over what the granter keeps (detail/heartbeat.hpp). Token holder; out
  // of line, as it runs a few times a week.
  __attribute__((noinline)) void keep_in_range(Tick now) noexcept {
    headroom_.keep_in_range(now);
    if constexpr (kHasUsageSource) {
      gate_.keep_in_range(now);
      lag_.keep_in_range(now);
    }
  }

  // A usable reading was installed: compare it with our sessions when it was true (between its
  // date and when it was asked for). Sessions beyond ours (and beyond our releases the
  // upstream may still count, by the effective cooldown) are foreign; ours it does not count
  // yet, and a release of ours followed until it leaves the count, are lag evidence.
  template <class Admission, class Slots, class Episodes>
  void learn_from_reading(Tick now, uint32_t limit, Admission& adm, Slots& slots,
                          Episodes& episodes) noexcept {
    using CW = typename Admission::word_layout;
    const Tick at = gate_.sampled_at();
    const uint32_t sessions = gate_.sessions();
    const auto ev = slots.evidence(at, gate_.asked_at(), Tick(at - lag_.max_lag()));
    const Tick lag = effective_cooldown();
    uint32_t lagging = 0;  // our releases the upstream may still count
    for (uint32_t i = 0; i < ev.releases.n; ++i)
      lagging += Tk::before(Tick(at - lag), ev.releases.v[i]) ? 1u : 0u;
    const uint32_t ours = ev.live_max + lagging;
    headroom_.observe(sessions > ours ? sessions - ours : 0,
                      sessions > ev.live_min ? sessions - ev.live_min : 0, lag, now, limit);
    gate_.set_missing(lag_.from_reading(ev, sessions, at, headroom_.confirm(), now));
    // Half-open, probe out: a reading that has had time to count the probe (by the lag this
    // reading itself may just have shown to be longer) and is still below the cap says the
    // upstream took it.
    const auto c = adm.word();
    const Tick counted_from =
        Tick(episodes.probe_granted_at() + lag_.visibility(gate_.visibility_floor()));
    if (CW::half_open(c) && CW::probe_out(c) && !CW::paused(c) &&
        sessions < headroom_.gate_limit(limit) && !Tk::before(at, counted_from) &&
        adm.clear_if_probe_out(CW::kHalfOpen | CW::kProbeOut))
      episodes.opened(now);
  }

  // Set the gate budget from the installed reading (open without a usable one).
  template <class Admission, class Slots>
  void update_credit(Tick now, Admission& adm, const Slots& slots) noexcept {
    using CW = typename Admission::word_layout;
    using Word = decltype(adm.word());
    const uint32_t limit = adm.limit();
    const Tick at = gate_.sampled_at();
    const Tick since = Tick(at - lag_.visibility(gate_.visibility_floor()));
    const bool usable = gate_.usable(now);
    const uint32_t room = usable ? headroom_.room(now, limit) : 0u;
    room_.store(room, std::memory_order_relaxed);  // relaxed: a statistic
    adm.set_credit([&](Word) {
      if (!usable) return Word(CW::kCreditOpen);
      const uint32_t b = gate_.budget(limit, slots.gate_census(since, at, at, now), room);
      return b > MaxSlots ? Word(MaxSlots) : Word(b);
    });
  }

  atomic<Tick> cooldown_;
  atomic<uint32_t> room_;  // the room of the gate's last judgement, for snapshots
  HeartbeatClock<Atomics, Tick> beat_;
  GatePart gate_;
  Room headroom_;
  LagPart lag_;
};

}  // namespace slotgate::detail
