// Rejection episodes: how a limiter backs off from an upstream that refuses sessions (429s).
//
// An episode starts with a rejection while the limiter is open, or with the rejection of the
// half-open probe. It pauses grants, then goes half-open: one probe is granted, and the limiter
// opens again only when that probe ends well (an ok release, or a fresh reading below the cap).
// Every other rejection meanwhile belongs to the episode (a burst of 429s for sessions granted
// before it started is one event), whatever its Retry-After. Consecutive episodes double the
// pause from `default_pause` up to `max_pause`; a Retry-After longer than that wins; the
// doubling starts again once the limiter has stayed open for max_pause.
//
// The episode's state that admission must see in the same CAS as a grant (half-open, probe out)
// lives in the control word; this part keeps the backoff, the probe's identity and statistics.
// Episodes start one at a time (the start is decided by a CAS on the control word), but the
// end of one (opened) may overlap the start of the next (begin), and nothing orders their
// fields across threads: they are relaxed atomics, read by snapshots too, and a stale read
// costs at most one backoff step (a pause one step shorter or longer), never a grant.
#pragma once

#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/detail/heartbeat.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/ticks.hpp"

namespace slotgate::detail {

template <class Atomics, class Tick, class Counter>
class RejectionEpisodes {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  using Tk = Ticks<Tick>;

 public:
  RejectionEpisodes() noexcept = default;

  static bool valid(Tick default_pause, Tick max_pause) noexcept {
    return Tk::valid_duration(default_pause) && Tk::valid_duration(max_pause);
  }
  void configure(Tick default_pause, Tick max_pause) noexcept {
    // relaxed x2: independent settings read afresh by each episode.
    base_.store(default_pause, std::memory_order_relaxed);
    ceiling_.store(max_pause, std::memory_order_relaxed);
  }

  // A new episode starts at `now`: its pause before any Retry-After is considered. Wait-free.
  Tick begin(Tick now) noexcept {
    // relaxed throughout: one caller at a time (see the top); snapshots read each on its own.
    const Tick base = base_.load(std::memory_order_relaxed);
    const Tick ceiling = cap();
    uint32_t k = consecutive_.load(std::memory_order_relaxed);
    const bool rested = opened_.load(std::memory_order_relaxed) &&
                        Tk::reached(Tick(open_at_.load(std::memory_order_relaxed) + ceiling), now);
    k = (k == 0 || rested || ceiling == base) ? 1 : (k < 31 ? k + 1 : 31);
    Tick pause = base;
    for (uint32_t i = 1; i < k && pause < ceiling; ++i)
      pause = pause > ceiling / 2 ? ceiling : Tick(pause * 2);
    consecutive_.store(k, std::memory_order_relaxed);
    opened_.store(false, std::memory_order_relaxed);
    last_pause_.store(pause, std::memory_order_relaxed);
    started_at_.store(now, std::memory_order_relaxed);
    probe_.store(kNoProbe, std::memory_order_relaxed);  // no permit is this episode's probe yet
    episodes_.store(episodes_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return pause;
  }

  // The longer of the backoff pause and a Retry-After, recorded as the episode's pause.
  Tick settle(Tick backoff, bool has_retry_after, Tick retry_after) noexcept {
    const Tick d = has_retry_after && Tk::before(backoff, retry_after) ? retry_after : backoff;
    last_pause_.store(d, std::memory_order_relaxed);  // relaxed: a statistic
    return d;
  }

  // The heartbeat's pass (detail/heartbeat.hpp). Lock-free; any thread.
  void keep_in_range(Tick now) noexcept {
    Heartbeat<Tick>::keep(open_at_, now);
    Heartbeat<Tick>::keep(started_at_, now);
    Heartbeat<Tick>::keep(probe_at_, now);
  }

  // The episode ended: its probe ended well. Wait-free.
  void opened(Tick now) noexcept {
    // relaxed x2: as in begin().
    open_at_.store(now, std::memory_order_relaxed);
    opened_.store(true, std::memory_order_relaxed);
    probe_.store(kNoProbe, std::memory_order_relaxed);  // the probe is an ordinary permit now
  }

  // The half-open probe was granted. Called before the permit is handed to anyone, so whoever
  // releases it sees this. Wait-free.
  void set_probe(Permit p, Tick now) noexcept {
    // relaxed x2: the tag publishes nothing. Its readers read nothing of ours after it (the
    // grant time is read by the upstream view after a look at the word, not at the tag); the
    // releaser of p sees the tag through p's own hand-off (the ticket's grant, or one thread);
    // and an ordering cannot make a stale tag fresh. scripts/weaken-orders never caught it.
    probe_at_.store(now, std::memory_order_relaxed);
    probe_.store(tag(p), std::memory_order_relaxed);
    probes_.store(probes_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // True if p is the latest probe. Only one release of a permit is ever honoured, so a caller
  // that also holds p's release knows it ends the probe. Wait-free.
  bool is_probe(Permit p) const noexcept {
    return p.valid() && probe_.load(std::memory_order_relaxed) == tag(p);  // relaxed: set_probe
  }
  Permit probe() const noexcept {
    const uint32_t t = probe_.load(std::memory_order_relaxed);  // relaxed: see set_probe
    return t == kNoProbe ? Permit{} : Permit{t >> 16, t & 0xFFFFu};
  }
  Tick probe_granted_at() const noexcept { return probe_at_.load(std::memory_order_relaxed); }

  template <class Snap>
  void fill(Snap& s) const noexcept {
    // relaxed throughout: statistics.
    s.backoff = last_pause_.load(std::memory_order_relaxed);
    s.consecutive_episodes = consecutive_.load(std::memory_order_relaxed);
    s.episode_started_at = started_at_.load(std::memory_order_relaxed);
    s.counters.episodes = episodes_.load(std::memory_order_relaxed);
    s.counters.probes = probes_.load(std::memory_order_relaxed);
  }

 private:
  static constexpr uint32_t kNoProbe = 0xFFFFFFFFu;
  // The slot index and the low 16 bits of the generation: a probe is the only grant of its
  // episode, so no later permit of the same slot can share the tag while it matters.
  static constexpr uint32_t tag(Permit p) noexcept {
    return (p.slot << 16) | (p.generation & 0xFFFFu);
  }
  Tick cap() const noexcept {
    // relaxed x2: settings.
    const Tick base = base_.load(std::memory_order_relaxed);
    const Tick ceiling = ceiling_.load(std::memory_order_relaxed);
    return Tk::before(ceiling, base) ? base : ceiling;
  }

  atomic<Tick> base_{0}, ceiling_{0};
  atomic<uint32_t> consecutive_{0};
  atomic<bool> opened_{false};
  atomic<Tick> open_at_{0}, last_pause_{0}, started_at_{0}, probe_at_{0};
  atomic<uint32_t> probe_{kNoProbe};
  atomic<Counter> episodes_{0}, probes_{0};
};

}  // namespace slotgate::detail
