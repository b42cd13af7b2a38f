// The usage gate: grants are checked against the upstream's own count of in-flight sessions.
//
// The port's usage source reports readings {sessions, sampled_at}. A reading is usable while
// now - sampled_at <= max_age. With a usable reading a grant is allowed only while
//     sessions + unseen + in_flight < L - H_rejected
// where `unseen` counts our sessions the reading may be missing that the upstream may still
// count: those granted since sampled_at - visibility_lag (the effective, learned one), and at
// least the D live sessions the reading was seen to miss plus those granted since it; plus the
// room headroom reserves for foreign usage expected back (detail/headroom.hpp). The
// limiter turns that into a budget of grants (the `credit` field of its control word) that
// every grant — fast path or queue — spends in the same CAS that counts it, so one reading
// can admit several waiters and never one too many. The budget is recomputed from scratch
// whenever the granter runs. Without a usable reading the credit is "open" and the limiter runs
// on its cooldown and headroom alone.
//
// Every grant honours the newest reading the port holds: the fast path compares the port's
// reading (its version, when the port has one) with the one the granter last judged, and if
// it is newer lets the granter judge it first, or refuses (kGated) while another thread does.
//
// Threads: readings are judged by the grant-token holder only, which is the one writer of
// everything here but the refresh bookkeeping; snapshots read atomics.
#pragma once

#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/detail/heartbeat.hpp"
#include "slotgate/limiter_config.hpp"
#include "slotgate/ticks.hpp"
#include "slotgate/usage.hpp"

namespace slotgate::detail {

template <class Atomics, class Tick, class Counter>
class UsageGate {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  using Tk = Ticks<Tick>;

 public:
  static constexpr uint32_t kOpen = 0xFFFFFFFFu;

  static bool valid(const GateConfig<Tick>& g) noexcept {
    return Tk::valid_duration(g.max_age) && Tk::valid_duration(g.visibility_lag) &&
           Tk::valid_duration(g.repoll_interval) && Tk::valid_duration(g.tail) &&
           Tk::valid_duration(g.staleness);
  }
  void configure(const GateConfig<Tick>& g) noexcept {
    // relaxed throughout: independent settings, read afresh by each decision.
    max_age_.store(g.max_age, std::memory_order_relaxed);
    lag_.store(g.visibility_lag, std::memory_order_relaxed);
    tail_.store(g.tail, std::memory_order_relaxed);
    staleness_.store(g.staleness, std::memory_order_relaxed);
    repoll_.store(g.repoll_interval, std::memory_order_relaxed);
    max_plausible_.store(g.max_plausible_sessions, std::memory_order_relaxed);
  }
  Tick visibility_floor() const noexcept { return lag_.load(std::memory_order_relaxed); }
  Tick tail() const noexcept { return tail_.load(std::memory_order_relaxed); }

  // ---- judging readings (grant-token holder) ------------------------------------------------

  enum class Take : uint8_t { kNothingNew, kBad, kInstalled };

  // The port's latest reading (`has` false: none). A repeat of the last one judged changes
  // nothing; an implausible one, one from more than max_age in the future, or one older than
  // the reading in use is bad (ignored, counted); one a little in the future is taken as
  // sampled now (threads pass slightly different times). A cached one is dated by when its
  // value can have been true (GateConfig::staleness).
  Take take(bool has, UsageReading<Tick> r, Tick now) noexcept {
    // relaxed throughout: the token holder is the only writer; snapshots read each on its own.
    const bool same =
        last_has_.load() == has &&
        (!has || (r.sessions == last_sessions_.load() && r.sampled_at == last_at_.load()));
    if (same && last_judged_.load()) return Take::kNothingNew;
    last_judged_.store(true);
    last_has_.store(has);
    last_sessions_.store(r.sessions);
    last_at_.store(r.sampled_at);
    if (!has) return Take::kNothingNew;
    const bool implausible = r.sessions > max_plausible_.load(std::memory_order_relaxed);
    const bool from_future =
        Tk::before(Tick(now + max_age_.load(std::memory_order_relaxed)), r.sampled_at);
    if (!implausible && !from_future && Tk::before(now, r.sampled_at)) r.sampled_at = now;
    if (implausible || from_future) {
      bad_readings_.fetch_add(1, std::memory_order_relaxed);
      return Take::kBad;
    }
    const Tick asked = r.sampled_at;
    Tick filled_by = asked;
    r.sampled_at = dated(r, asked, filled_by);
    const bool older = valid_.load(std::memory_order_relaxed) &&
                       Tk::before(r.sampled_at, at_.load(std::memory_order_relaxed));
    if (older && Tk::before(asked, at_.load(std::memory_order_relaxed))) {
      bad_readings_.fetch_add(1, std::memory_order_relaxed);
      return Take::kBad;
    }
    if (older) r.sampled_at = at_.load(std::memory_order_relaxed);  // no older than the last
    prev_valid_.store(true);
    prev_sessions_.store(r.sessions);
    prev_asked_.store(asked);
    prev_lo_.store(r.sampled_at);
    prev_hi_.store(filled_by);
    sessions_.store(r.sessions, std::memory_order_relaxed);
    at_.store(r.sampled_at, std::memory_order_relaxed);
    asked_for_.store(asked, std::memory_order_relaxed);
    missing_.store(0, std::memory_order_relaxed);
    valid_.store(true, std::memory_order_relaxed);
    readings_.fetch_add(1, std::memory_order_relaxed);
    return Take::kInstalled;
  }

  // The heartbeat's pass (detail/heartbeat.hpp): a reading that old (unusable long since) and
  // the cache's previous entry are forgotten, the last refresh asked for brought forward.
  // Token holder.
  void keep_in_range(Tick now) noexcept {
    using HB = Heartbeat<Tick>;
    // relaxed: token-holder state; usable() says false before and after for every caller (a
    // max_age longer than kOldest is cut to it here).
    if (valid_.load(std::memory_order_relaxed) && HB::old(at_.load(std::memory_order_relaxed), now))
      valid_.store(false, std::memory_order_relaxed);
    if (prev_valid_.load() && HB::old(prev_hi_.load(), now)) prev_valid_.store(false);
    HB::keep(asked_at_, now);  // written by any thread that asks
  }

  // The installed reading was seen to miss `d` of our live sessions. Token holder.
  void set_missing(uint32_t d) noexcept { missing_.store(d, std::memory_order_relaxed); }

  // After the budget from what was judged is in the control word: from now on a fast path that
  // finds the port's reading at `version` (or, without versions, equal to `r`) need not ask
  // the granter. Token holder.
  void publish_judged(uint32_t version, bool has, UsageReading<Tick> r) noexcept {
    // release: pairs with pending()'s acquire, so a fast path that finds the version judged
    // sees the word the judgement left (an open gate closed, a budget set). Not shown weakened:
    // Relacy runs seq_cst loads in the order it schedules them, and under RC11 (GenMC) the
    // record pair already covers it: a fast path whose look precedes the close in the single
    // total order has its claim seen by the census, which comes before this store, so reading
    // the version here would close a cycle of program order and reads-from, which RC11 forbids.
    // C++ does not forbid that cycle (load buffering), so the pair stays. relaxed load: we are
    // the only writer of what we compare with.
    if (judged_version_.load(std::memory_order_relaxed) != version)
      judged_version_.store(version, std::memory_order_release);
    const uint32_t v = seen_seq_.load(std::memory_order_relaxed);  // one writer
    // relaxed x3: ours; unchanged, republishing would only make fast paths look again.
    if (v != 0 && seen_.load(std::memory_order_relaxed) == has &&
        (!has || (seen_sessions_.load(std::memory_order_relaxed) == r.sessions &&
                  seen_at_.load(std::memory_order_relaxed) == r.sampled_at)))
      return;
    seen_seq_.store(v + 1, std::memory_order_relaxed);  // ordered by the release stores below
    // release x3: pair with pending()'s acquire loads, as in a seqlock (every pair is shown
    // by tests/genmc/judged_reading_read_whole*.cpp, the sequence's also by the model suite).
    seen_.store(has, std::memory_order_release);
    seen_sessions_.store(r.sessions, std::memory_order_release);
    seen_at_.store(r.sampled_at, std::memory_order_release);
    seen_seq_.store(v + 2, std::memory_order_release);  // pairs with pending()'s first load
  }

  // ---- the fast path's look (any thread, any interrupt) -------------------------------------

  // The gate is on (max_age > 0). Wait-free.
  bool enabled() const noexcept { return max_age_.load(std::memory_order_relaxed) != 0; }

  // True if the port holds a reading (`version`, odd while being written) the granter has not
  // judged. Wait-free.
  bool pending(uint32_t version) const noexcept {
    // acquire: pairs with publish_judged, so a control word read after this carries the budget
    // the granter set for that version (why the model suite cannot show it: publish_judged).
    return (version & 1u) != 0 || judged_version_.load(std::memory_order_acquire) != version;
  }
  // The same for a port without versions: compare the reading itself. Wait-free (a few loads;
  // a look that races the granter's note reads as pending).
  bool pending(bool has, UsageReading<Tick> r) const noexcept {
    // acquire: pairs with publish_judged's release stores, as in a seqlock.
    const uint32_t v = seen_seq_.load(std::memory_order_acquire);
    if ((v & 1u) != 0) return true;
    const bool same = seen_.load(std::memory_order_acquire) == has &&
                      (!has || (r.sessions == seen_sessions_.load(std::memory_order_acquire) &&
                                r.sampled_at == seen_at_.load(std::memory_order_acquire)));
    // relaxed: ordered by the acquire loads above (a newer value carries its odd sequence).
    return !same || v == 0 || seen_seq_.load(std::memory_order_relaxed) != v;
  }

  // ---- the budget ------------------------------------------------------------------------------

  // A reading is usable at `now`. Wait-free.
  bool usable(Tick now) const noexcept {
    // relaxed throughout: token-holder state and a setting.
    const Tick max_age = max_age_.load(std::memory_order_relaxed);
    if (max_age == 0 || !valid_.load(std::memory_order_relaxed)) return false;
    const Tick at = at_.load(std::memory_order_relaxed);
    // A caller whose `now` is a little older than the sample sees it as fresh, not as stale.
    return Tk::before(now, at) || Tick(now - at) <= max_age;
  }
  // The first moment after `after` that the cache entry of the reading in use has surely
  // expired, so that a reading then comes from a later one (none without a cache). Token
  // holder.
  Deadline<Tick> cache_expiry(Tick after) const noexcept {
    // relaxed x2: token-holder state and a setting.
    const Tick staleness = staleness_.load(std::memory_order_relaxed);
    Deadline<Tick> d;
    if (staleness == 0 || !valid_.load(std::memory_order_relaxed)) return d;
    d.merge_after(Tick(prev_hi_.load() + staleness + 1), after);
    return d;
  }

  // The last tick at which the reading in use is usable. Wait-free.
  Tick usable_through() const noexcept {
    // relaxed x2: token-holder state and a setting.
    return Tick(at_.load(std::memory_order_relaxed) + max_age_.load(std::memory_order_relaxed));
  }
  // True while the reading in use stays usable until `t` (it then accounts for a session
  // ending by `t`). Wait-free.
  bool usable_until(Tick now, Tick t) const noexcept {
    return usable(now) && !Tk::before(usable_through(), t);
  }
  uint32_t sessions() const noexcept { return sessions_.load(std::memory_order_relaxed); }
  // The reading in use: the earliest it can have been true (its date), and when it was asked
  // for (the latest). They differ only for a cached endpoint.
  Tick sampled_at() const noexcept { return at_.load(std::memory_order_relaxed); }
  Tick asked_at() const noexcept { return asked_for_.load(std::memory_order_relaxed); }

  // The budget, given the census of our sessions granted since the reading's bound (u.since)
  // and since its sample (u.after); a record being granted right now counts in both. Wait-free.
  template <class Census>
  uint32_t budget(uint32_t gate_limit, const Census& u, uint32_t reserve) const noexcept {
    // relaxed x2: token-holder state.
    const uint32_t missing = missing_.load(std::memory_order_relaxed);
    const uint32_t seen_missing = missing + u.after;
    const uint32_t unseen = u.since > seen_missing ? u.since : seen_missing;
    const uint32_t used = sessions_.load(std::memory_order_relaxed) + unseen + reserve;
    return used >= gate_limit ? 0 : gate_limit - used;
  }

  // ---- refreshes and deadlines
  // -------------------------------------------------------------------

  // Whether the port should be asked for a fresh reading now: waiters are queued, and either
  // no reading is usable or waiters are held (by the gate, or a half-open probe); at most every
  // repoll_interval unless `after_release`. Records the request. Lock-free; any thread.
  bool should_refresh(Tick now, bool waiters, bool held, bool after_release) noexcept {
    return should_refresh(now, waiters, held, after_release, Deadline<Tick>::none());
  }
  // The same, also asking once `news` (a moment a fresh reading would tell more) has come.
  bool should_refresh(Tick now, bool waiters, bool held, bool after_release,
                      Deadline<Tick> news) noexcept {
    if (news.set && Tk::reached(news.at, now)) after_release = true;
    if (!waiters || (usable(now) && !held)) return false;
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

  // Since when refreshes have been asked for (news before it was asked about already).
  Tick refresh_asked_at(Tick otherwise) const noexcept {
    // relaxed x2: rate limiting.
    return asked_.load(std::memory_order_relaxed) ? asked_at_.load(std::memory_order_relaxed)
                                                  : otherwise;
  }

  // When something here changes by itself: the reading ages out (when that matters), a repoll
  // is due for held waiters. Wait-free.
  // `age_out_matters`: the gate is closed, or headroom binds once readings are stale.
  Deadline<Tick> next_deadline(Tick now, bool waiters, bool age_out_matters) const noexcept {
    Deadline<Tick> d;
    // relaxed throughout: an estimate for a sleeper, re-checked when it wakes.
    const Tick max_age = max_age_.load(std::memory_order_relaxed);
    if (valid_.load(std::memory_order_relaxed) && max_age != 0 && age_out_matters)
      d.merge_after(Tick(at_.load(std::memory_order_relaxed) + max_age + 1), now);
    if (waiters && asked_.load(std::memory_order_relaxed))
      d.merge_after(
          Tick(asked_at_.load(std::memory_order_relaxed) + repoll_.load(std::memory_order_relaxed)),
          now);
    return d;
  }

  template <class Snap>
  void fill(Snap& s) const noexcept {
    // relaxed throughout: a statistic.
    s.has_reading = valid_.load(std::memory_order_relaxed);
    s.reading_sessions = sessions_.load(std::memory_order_relaxed);
    s.reading_sampled_at = at_.load(std::memory_order_relaxed);
    s.reading_missing = missing_.load(std::memory_order_relaxed);
    s.counters.readings = readings_.load(std::memory_order_relaxed);
    s.counters.bad_readings = bad_readings_.load(std::memory_order_relaxed);
    s.counters.refresh_requests = refresh_requests_.load(std::memory_order_relaxed);
  }

 private:
  // When a cached reading asked at `asked` can have been true (see GateConfig::staleness):
  // the earliest its cache entry can have been filled. Also notes the latest (filled_by_).
  // An entry lives at most `staleness`. Its value differing from the previous reading's, it was
  // filled after that reading was served; asked after the previous entry's latest fill plus
  // `staleness`, it is a later entry, filled no earlier than the previous one's earliest fill
  // plus `staleness`; otherwise it may be the previous entry still.
  Tick dated(UsageReading<Tick> r, Tick asked, Tick& filled_by) const noexcept {
    const Tick staleness = staleness_.load(std::memory_order_relaxed);  // relaxed: a setting
    filled_by = asked;
    if (staleness == 0) return asked;
    Tick at = Tick(asked - staleness);
    if (!prev_valid_.load()) return at;
    const auto raise = [&at, asked](Tick t) {
      if (Tk::before(at, t) && !Tk::before(asked, t)) at = t;
    };
    const bool changed = prev_sessions_.load() != r.sessions;
    const bool expired = Tk::before(Tick(prev_hi_.load() + staleness), asked);
    if (changed) raise(prev_asked_.load());
    if (expired) raise(Tick(prev_lo_.load() + staleness));
    if (!changed && !expired) {
      raise(prev_lo_.load());
      filled_by = prev_hi_.load();
    }
    return at;
  }

  // Settings.
  atomic<Tick> max_age_{0}, lag_{0}, tail_{0}, repoll_{0}, staleness_{0};
  atomic<uint32_t> max_plausible_{10000};
  // The installed reading and what it was seen to miss.
  atomic<bool> valid_{false};
  atomic<uint32_t> sessions_{0}, missing_{0};
  atomic<Tick> at_{0}, asked_for_{0};
  template <class T>
  using var = typename Atomics::template var<T>;
  // The last reading the port returned, judged once, and the last one installed, as asked for
  // (token holder only: plain data the grant token's acq_rel orders).
  var<bool> last_judged_{false}, last_has_{false}, prev_valid_{false};
  var<uint32_t> last_sessions_{0}, prev_sessions_{0};
  var<Tick> last_at_{0}, prev_asked_{0}, prev_lo_{0}, prev_hi_{0};
  // What fast paths compare the port's reading with (a seqlock with one writer; sequence 0:
  // nothing judged yet).
  atomic<bool> seen_{false};
  atomic<uint32_t> seen_sessions_{0}, seen_seq_{0};
  atomic<Tick> seen_at_{0};
  atomic<uint32_t> judged_version_{1};  // odd: no version judged yet
  // Refresh requests.
  atomic<bool> asked_{false};
  atomic<Tick> asked_at_{0};
  atomic<Counter> readings_{0}, bad_readings_{0}, refresh_requests_{0};
};

}  // namespace slotgate::detail
