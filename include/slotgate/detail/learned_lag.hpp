// Learned lag: how late the upstream starts counting a session (the visibility lag) and how
// long it keeps counting one that ended (the release lag), learned from evidence and used as
// the effective visibility lag and cooldown. Configured values are floors.
//
// Evidence, each a lower bound on the true lag (a reading is true at some moment no earlier
// than its date, and no later than when it was asked for):
//   - a reading that shows fewer sessions than ours surely live then misses D of them; at
//     least one of the D youngest is that old at the reading's date, so the visibility lag is
//     at least that age;
//   - one of our releases followed alone (no other release of ours until it is settled): the
//     excess of the count over our possibly live sessions rises by one when it is released and
//     falls back when the upstream stops counting it; once it has fallen, the last reading
//     that still showed it counted gives the sample (its date less the release). Other
//     clients' steady usage is in the excess before and after alike, so it does not pose as
//     lag; if the excess meanwhile falls below where it started or rises further, something
//     else changed and nothing is learned;
//   - a rejection while the limiter was open, with no foreign usage in sight and our live
//     sessions below the limit: the L - live most recent of our releases were still counted.
// While we keep releasing, another client holding a session looks exactly like a long lag;
// the limiter resolves it by time (detail/headroom.hpp): excess that every reading shows for
// headroom.foreign_confirm is another client's. So release-lag evidence is believed up to
// foreign_confirm (`release_cap`): a longer lag cannot be told from another client, and is
// treated as one.
// Each kind feeds a LearnedDuration (the largest recent sample, forgotten after `memory`,
// believed up to `max_lag`).
//
// Threads: evidence is taken in by the grant-token holder only; a rejection is noted from any
// thread (one pending slot, the latest wins) and taken in by the next granter.
#pragma once

#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/detail/learned_duration.hpp"
#include "slotgate/limiter_config.hpp"
#include "slotgate/ticks.hpp"

namespace slotgate::detail {

template <class Atomics, class Tick, class Counter>
class LearnedLag {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  using Tk = Ticks<Tick>;

 public:
  static bool valid(const LearnConfig<Tick>& l) noexcept {
    return Tk::valid_duration(l.max_lag) && Tk::valid_duration(l.memory);
  }
  void configure(const LearnConfig<Tick>& l) noexcept {
    // relaxed x2: independent settings.
    max_lag_.store(l.max_lag, std::memory_order_relaxed);
    memory_.store(l.memory, std::memory_order_relaxed);
  }
  Tick max_lag() const noexcept { return max_lag_.load(std::memory_order_relaxed); }

  // Enough release-lag evidence in memory to trust the estimate as a bound. Wait-free.
  static constexpr uint32_t kEstablished = 16;
  bool release_established() const noexcept {
    return max_lag() == 0 || out_.remembered() >= kEstablished;
  }

  // The effective lags: the longer of the floor and what was learned. Wait-free; any thread.
  Tick visibility(Tick floor) const noexcept { return longer(floor, margin(vis_.estimate())); }
  Tick release(Tick floor) const noexcept { return longer(floor, margin(out_.estimate())); }

  // A usable reading of `sessions` dated `at`, against our sessions then (`ev`) and `foreign`
  // sessions of others confirmed so far. Returns D, how many of our surely live sessions the
  // reading misses. Token holder.
  template <class Evidence>
  uint32_t from_reading(const Evidence& ev, uint32_t sessions, Tick at, Tick release_cap,
                        Tick now) noexcept {
    const uint32_t missing = ev.live_min > sessions ? ev.live_min - sessions : 0;
    const Tick cap = max_lag();
    if (cap == 0) return missing;
    const Tick memory = memory_.load(std::memory_order_relaxed);  // relaxed: a setting
    if (missing != 0) vis_.add(Tick(at - ev.grants.kth(missing)), now, cap, memory);
    follow_release(ev, sessions > ev.live_max ? sessions - ev.live_max : 0, at,
                   shorter(cap, release_cap), memory, now);
    return missing;
  }

  // The release tracker (see the top): `excess` is this reading's count beyond our possibly
  // live sessions, dated `at` and asked for at `asked`. Token holder.
  template <class Evidence>
  void follow_release(const Evidence& ev, uint32_t excess, Tick at, Tick cap, Tick memory,
                      Tick now) noexcept {
    // relaxed throughout (here and in the tracker's fields): token-holder state.
    const Tick last_at = last_at_.load(std::memory_order_relaxed);
    // A reading more than max_lag after the last one follows nothing: the gap is longer than
    // any lag believed. (On a narrow tick the heartbeat forgets the last reading at kOldest
    // anyway; this makes every tick width forget it alike.)
    const bool had =
        last_valid_.load(std::memory_order_relaxed) && !Tk::before(Tick(last_at + max_lag()), at);
    if (!had) following_.store(false, std::memory_order_relaxed);
    const uint32_t last_excess = last_excess_.load(std::memory_order_relaxed);
    last_valid_.store(true, std::memory_order_relaxed);
    last_at_.store(at, std::memory_order_relaxed);
    last_excess_.store(excess, std::memory_order_relaxed);
    // Our releases since the last reading (one at its very tick may have come after it; if it
    // did not, that reading's excess already showed it and no rise is seen now).
    uint32_t since_last = 0;
    for (uint32_t i = 0; i < ev.releases.n; ++i)
      since_last += had && !Tk::before(ev.releases.v[i], last_at) ? 1u : 0u;
    if (following_.load(std::memory_order_relaxed)) {
      const Tick r = followed_.load(std::memory_order_relaxed);
      const uint32_t base = base_excess_.load(std::memory_order_relaxed);
      const bool newer = ev.releases.n != 0 && Tk::before(r, ev.releases.kth(1));
      if (newer || excess < base || excess > base + 1) {
        following_.store(false, std::memory_order_relaxed);  // not alone, or not ours alone
      } else if (excess == base) {
        following_.store(false, std::memory_order_relaxed);
        out_.add(Tick(counted_at_.load(std::memory_order_relaxed) - r), now, cap, memory);
        return;
      } else {
        counted_at_.store(at, std::memory_order_relaxed);  // still counted
        return;
      }
    }
    // Start following our latest release if it is the only one since the last reading and
    // this reading shows it counted beyond where the excess stood before it.
    if (had && since_last == 1 && excess == last_excess + 1) {
      following_.store(true, std::memory_order_relaxed);
      followed_.store(ev.releases.kth(1), std::memory_order_relaxed);
      counted_at_.store(at, std::memory_order_relaxed);
      base_excess_.store(last_excess, std::memory_order_relaxed);
    }
  }

  // A rejection at `at` of a session granted at `granted`, while the limiter was open.
  // Lock-free; any thread.
  void note_rejection(Tick at, Tick granted) noexcept {
    // relaxed x2: published by the flag.
    rejected_at_.store(at, std::memory_order_relaxed);
    refused_granted_.store(granted, std::memory_order_relaxed);
    pending_.store(true, std::memory_order_release);  // pairs with take_rejection
  }
  // The granter takes the noted rejection, if any. Token holder.
  bool take_rejection(Tick& at, Tick& granted) noexcept {
    if (!pending_.load(std::memory_order_relaxed)) return false;  // relaxed: a cheap look
    if (!pending_.exchange(false, std::memory_order_acquire)) return false;  // pairs with note
    // relaxed x2: ordered by the acquire above.
    at = rejected_at_.load(std::memory_order_relaxed);
    granted = refused_granted_.load(std::memory_order_relaxed);
    return true;
  }
  // Our sessions just before that rejection (`ev`, taken at `at` - 1 so the refused session
  // itself is not among the releases; it is among the live ones if it was granted by then, and
  // the upstream never counted it), with `limit` the upstream's cap. Token holder.
  template <class Evidence>
  void from_rejection(const Evidence& ev, uint32_t limit, Tick at, Tick granted, Tick release_cap,
                      Tick now) noexcept {
    const Tick cap = max_lag();
    const uint32_t live = ev.live_max - (!Tk::before(at, granted) && ev.live_max != 0 ? 1 : 0);
    if (cap == 0 || live >= limit) return;
    const uint32_t counted = limit - live;  // ended sessions the upstream must have counted
    if (counted > ev.released) return;      // not ours to explain: foreign, or a penalty
    out_.add(Tick(at - ev.releases.kth(counted)), now, shorter(cap, release_cap),
             memory_.load(std::memory_order_relaxed));
    from_rejections_.store(from_rejections_.load(std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
  }

  // The heartbeat's pass (detail/heartbeat.hpp): a release followed, or the last reading it was
  // compared with, that old is forgotten. Token holder.
  void keep_in_range(Tick now) noexcept {
    // relaxed throughout: token-holder state.
    if (last_valid_.load(std::memory_order_relaxed) &&
        Heartbeat<Tick>::old(last_at_.load(std::memory_order_relaxed), now)) {
      last_valid_.store(false, std::memory_order_relaxed);
      following_.store(false, std::memory_order_relaxed);
    }
    vis_.keep_in_range(now);
    out_.keep_in_range(now);
  }

  // Forget evidence older than `memory`. Token holder.
  void refresh(Tick now) noexcept {
    const Tick memory = memory_.load(std::memory_order_relaxed);  // relaxed: a setting
    vis_.refresh(now, memory);
    out_.refresh(now, memory);
  }

  template <class Snap>
  void fill(Snap& s, Tick cooldown_floor, Tick visibility_floor) const noexcept {
    s.learned_release_lag = out_.estimate();
    s.learned_visibility_lag = vis_.estimate();
    s.effective_cooldown = release(cooldown_floor);
    s.effective_visibility_lag = visibility(visibility_floor);
    s.counters.release_lag_samples = out_.samples();
    s.counters.visibility_lag_samples = vis_.samples();
    s.counters.release_lag_from_rejections = from_rejections_.load(std::memory_order_relaxed);
  }

 private:
  static Tick longer(Tick a, Tick b) noexcept { return a < b ? b : a; }
  static Tick shorter(Tick a, Tick b) noexcept { return b != 0 && b < a ? b : a; }
  // Samples are lower bounds: the lag in use is an eighth above the largest.
  static Tick margin(Tick t) noexcept { return Tick(t + t / 8); }

  atomic<Tick> max_lag_{0}, memory_{0};
  LearnedDuration<Atomics, Tick, Counter> vis_, out_;
  atomic<bool> pending_{false};
  // The release tracker: the last reading's date and excess, and the release followed.
  atomic<bool> last_valid_{false}, following_{false};
  atomic<Tick> last_at_{0}, followed_{0}, counted_at_{0};
  atomic<uint32_t> last_excess_{0}, base_excess_{0};
  atomic<Tick> rejected_at_{0}, refused_granted_{0};
  atomic<Counter> from_rejections_{0};
};

}  // namespace slotgate::detail
