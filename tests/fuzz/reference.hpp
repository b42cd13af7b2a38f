// A small, single-threaded reference model of the limiter's contract, for the differential
// fuzzer. It is written for obviousness, not speed: plain containers, linear scans, one rule
// per line of README.md. It chooses slot records by the documented rule (the first free one
// from just after the last one taken) and checks the library chose the same; it learns lags by
// the documented rules (detail/learned_lag.hpp) from the same records the library keeps.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

namespace reference {

using Tick = uint32_t;
inline bool before(Tick a, Tick b) {
  return int32_t(a - b) < 0;
}
inline bool reached(Tick d, Tick now) {
  return !before(now, d);
}
inline Tick longer(Tick a, Tick b) {
  return a < b ? b : a;
}

enum class TState { Waiting, Granted, TimedOut, Closed, Resolved };

struct Session {         // a slot counted against the limit
  bool cooling = false;  // else held
  Tick t = 0;            // held: since; cooling: until
  int permit = -1;       // index into permits (-1: granted to a ticket not yet claimed)
  int ticket = -1;       // the ticket it was granted to, if any
  int rec = -1;          // its slot record
  uint32_t serial = 0;   // unique per grant (the half-open probe is known by it)
};

// A slot record: its latest session, the releases of the few before it, and the carry of ended
// sessions the upstream may still count (README, "The usage gate").
struct Record {
  enum Phase { Free, Held, Cooling } phase = Free;
  bool used = false;          // granted at least once
  Tick granted = 0;           // the latest grant
  Tick released = 0;          // the latest release
  std::vector<Tick> history;  // the latest kHistory releases, oldest first (the last: released)
  static constexpr size_t kHistory = 4;
  Tick stamp = 0;  // Cooling: the cooldown's end
  uint32_t carry_n = 0;
  Tick carry_until = 0, carry_grant = 0, carry_end = 0;
};

// The largest of the samples so far, and how many (learning with memory 0: nothing forgotten).
struct Learned {
  Tick max = 0;
  uint32_t count = 0;
  void add(Tick v, Tick cap) {
    if (cap < v) v = cap;
    max = longer(max, v);
    ++count;
  }
};

struct Model {
  uint32_t max_slots = 4, max_waiters = 4, queue_capacity = 16;
  uint32_t limit = 4, h_rejected = 0;
  Tick cooldown = 0, max_hold = 0, default_pause = 0, max_pause = 0;
  bool closed = false, pause_bit = false;
  Tick paused_until = 0;
  std::vector<Session> sessions;
  // Lanes (slotgate/lanes.hpp): a FIFO per lane of ticket ids, dead ones included until
  // popped; each ticket's lane and queue time; aging and minimum shares; per-lane figures.
  uint32_t lanes = 1;
  std::vector<std::deque<int>> fifos = std::vector<std::deque<int>>(1);
  std::vector<bool> front_peeked = std::vector<bool>(1);  // the granter took the front out
  std::vector<uint32_t> ticket_lane;
  std::vector<Tick> queued_at;
  Tick age = 0;
  uint32_t share_window = 0, given = 0;
  std::vector<uint32_t> min_share, got;
  struct LaneFigures {
    uint64_t queued = 0, granted = 0, timed_out = 0;
  };
  std::vector<LaneFigures> lane_figures = std::vector<LaneFigures>(1);
  void set_lanes(uint32_t n) {
    lanes = n;
    fifos.assign(n, {});
    front_peeked.assign(n, false);
    min_share.assign(n, 0);
    got.assign(n, 0);
    lane_figures.assign(n, {});
  }
  size_t queued() const {
    size_t n = 0;
    for (auto& f : fifos) n += f.size();
    return n;
  }
  std::vector<TState> tickets;  // by ticket id
  std::vector<bool> ticket_deadline;
  std::vector<Tick> deadline;
  std::vector<bool> ticket_reclaimed;  // granted, then its slot reclaimed before the claim

  // The usage gate.
  Tick max_age = 0, lag = 0, tail = 0, staleness = 0;
  uint32_t max_plausible = 0;
  bool has_reading = false, judged = false, seen_has = false;
  uint32_t sessions_read = 0, seen_sessions = 0, missing = 0;
  Tick read_at = 0, asked_at = 0, seen_at = 0;
  bool prev_valid = false;
  uint32_t prev_sessions = 0;
  Tick prev_asked = 0, prev_lo = 0, prev_hi = 0;  // the installed reading's cache entry
  uint32_t bad_readings = 0;
  // The port's reading: what it holds now, and how many times it was written.
  bool port_has = false;
  uint32_t port_sessions = 0, port_version = 0, judged_version = 1;
  Tick port_at = 0;
  std::vector<Record> records = std::vector<Record>(4);
  size_t hint = 0;  // where the next claim starts looking

  // Learned lag (LearnConfig with memory 0) and the foreign-confirm cap on release evidence.
  Tick max_lag = 0, confirm = 0;
  Learned vis, out;
  bool tracker_last_valid = false, following = false;
  Tick tracker_last_at = 0, followed = 0, counted_at = 0;
  uint32_t tracker_last_excess = 0, base_excess = 0;
  bool rejection_pending = false;
  Tick rejection_at = 0, refused_granted = 0;
  uint32_t last_beyond = 0;  // sessions beyond ours in the last fresh reading

  // Rejection episodes.
  bool half_open = false, probe_out = false, opened = false;
  uint32_t consecutive = 0, episodes = 0, probe_serial = 0, serials = 0;
  Tick open_at = 0, probe_at = 0;
  Tick last_poll = 0;
  bool polled = false;
  // The freshest time any poll has seen: the granter judges with it.
  Tick newest(Tick t) const { return polled && before(t, last_poll) ? last_poll : t; }

  // ---- derived values ----------------------------------------------------------------------
  static Tick margin(Tick t) { return Tick(t + t / 8); }
  Tick vis_lag() const { return longer(lag, margin(vis.max)); }
  Tick cooldown_eff() const { return longer(cooldown, margin(out.max)); }
  bool established() const { return max_lag == 0 || out.count >= 16; }
  Tick counted_for(Tick cd) const {
    Tick d = cd + tail;
    if (!established() && d < max_lag) d = max_lag;
    return d;
  }
  bool usable(Tick now) const {
    return max_age != 0 && has_reading && (before(now, read_at) || now - read_at <= max_age);
  }
  Tick usable_through() const { return read_at + max_age; }
  uint32_t gate_limit() const {
    return limit == 0 ? 0 : limit - (h_rejected < limit ? h_rejected : limit - 1);
  }
  uint32_t lim() const { return gate_limit(); }  // no foreign headroom: the fuzzer tracks none
  uint32_t occ() const { return uint32_t(sessions.size()); }
  uint32_t held() const {
    uint32_t n = 0;
    for (auto& s : sessions) n += !s.cooling;
    return n;
  }
  uint32_t cooling() const { return occ() - held(); }
  uint32_t outstanding() const {
    uint32_t n = 0;
    for (auto t : tickets) n += t != TState::Resolved;
    return n;
  }

  // ---- slot records --------------------------------------------------------------------------
  // The first free record below lim from just after the last one taken (from 0 if that is at or
  // past lim).
  int claim_record(Tick now) {
    const size_t range = std::min<size_t>(lim(), records.size());
    size_t i = hint >= range ? 0 : hint;
    for (size_t n = 0; n < range; ++n, ++i) {
      if (i >= range) i = 0;
      if (records[i].phase != Record::Free) continue;
      Record& r = records[i];
      r.phase = Record::Held;
      r.used = true;
      r.granted = now;
      r.stamp = now;
      hint = i + 1;
      return int(i);
    }
    return -1;  // never: a grant needs occ < lim, so a record below lim is free
  }
  // A session ends at `now`: its slot cools for `cool`, and the carry takes it in for
  // `counted` (0: the upstream never saw it).
  void end_record(Record& r, Tick now, Tick cool, Tick counted) {
    r.stamp = now + cool;
    r.released = now;
    r.history.push_back(now);
    if (r.history.size() > Record::kHistory) r.history.erase(r.history.begin());
    if (counted != 0) {
      Tick until = now + counted;
      if (r.carry_n == 0 || !before(now, r.carry_until))
        r.carry_n = 0;
      else if (before(until, r.carry_until))
        until = r.carry_until;
      r.carry_until = until;
      r.carry_grant = r.granted;
      r.carry_end = now;
      ++r.carry_n;
    }
    r.phase = cool == 0 ? Record::Free : Record::Cooling;
  }
  // Release session i at `now`: cooling or freed at once while a usable reading covers it.
  void end(size_t i, Tick now, Tick cool, Tick counted) {
    end_record(records[size_t(sessions[i].rec)], now, cool, counted);
    if (cool == 0) {
      sessions.erase(sessions.begin() + long(i));
    } else {
      sessions[i].cooling = true;
      sessions[i].t = now + cool;
      sessions[i].permit = -2;
    }
  }
  // The cooldown a release at `now` gets.
  Tick cooling_for(Tick now) const {
    const Tick cd = cooldown_eff();
    const bool covered = usable(now) && !before(usable_through(), now + cd);
    return covered ? 0 : cd;
  }
  // Cooled slots (and those a usable reading covers) free their slots; how many.
  uint32_t reclaim_cooled(Tick now) {
    const bool cover = usable(now);
    uint32_t n = 0;
    for (size_t i = 0; i < sessions.size();) {
      Session& s = sessions[i];
      if (s.cooling && (reached(s.t, now) || (cover && !before(usable_through(), s.t)))) {
        records[size_t(s.rec)].phase = Record::Free;
        sessions.erase(sessions.begin() + long(i));
        ++n;
      } else {
        ++i;
      }
    }
    return n;
  }

  // ---- the usage gate ------------------------------------------------------------------------
  // The port's reading as the granter takes it in.
  enum class Take { NothingNew, Bad, Installed };
  Take take_reading(Tick now) {
    const bool same = seen_has == port_has &&
                      (!port_has || (port_sessions == seen_sessions && port_at == seen_at));
    if (same && judged) return Take::NothingNew;
    judged = true;
    seen_has = port_has;
    seen_sessions = port_sessions;
    seen_at = port_at;
    if (!port_has) return Take::NothingNew;
    Tick at = port_at;
    const uint32_t n = port_sessions;
    const bool implausible = n > max_plausible;
    const bool from_future = before(now + max_age, at);
    if (!implausible && !from_future && before(now, at)) at = now;
    if (implausible || from_future) {
      ++bad_readings;
      return Take::Bad;
    }
    const Tick asked = at;
    Tick filled_by = asked;
    if (staleness != 0) {  // a cached reading: dated by the earliest fill of its cache entry
      at = asked - staleness;
      const auto raise = [&](Tick t) {
        if (before(at, t) && !before(asked, t)) at = t;
      };
      if (prev_valid) {
        const bool changed = prev_sessions != n;                  // a new entry since
        const bool expired = before(prev_hi + staleness, asked);  // the last one is gone
        if (changed) raise(prev_asked);
        if (expired) raise(prev_lo + staleness);
        if (!changed && !expired) {  // perhaps the same entry
          raise(prev_lo);
          filled_by = prev_hi;
        }
      }
    }
    const bool older = has_reading && before(at, read_at);
    if (older && before(asked, read_at)) {
      ++bad_readings;
      return Take::Bad;
    }
    if (older) at = read_at;
    prev_valid = true;
    prev_sessions = n;
    prev_asked = asked;
    prev_lo = at;
    prev_hi = filled_by;
    has_reading = true;
    sessions_read = n;
    read_at = at;
    asked_at = asked;
    missing = 0;
    return Take::Installed;
  }

  // The top-8 selection the library's evidence uses: the k-th largest, past 8 the 8th.
  static Tick kth(std::vector<Tick> v, uint32_t k) {
    std::sort(v.begin(), v.end(), [](Tick a, Tick b) { return before(b, a); });
    if (v.size() > 8) v.resize(8);
    return v[std::min<size_t>(k, 8) - 1];
  }
  struct Evidence {
    uint32_t live_min = 0, live_max = 0, released = 0;
    std::vector<Tick> grants, releases;
  };
  Evidence evidence(Tick lo, Tick hi, Tick oldest) const {
    Evidence e;
    for (const Record& r : records) {
      if (!r.used) continue;
      const bool ended = r.phase != Record::Held;
      // The sessions before the latest, each known by its release only.
      for (size_t k = ended ? 1 : 0; k < r.history.size(); ++k) {
        const Tick t = r.history[r.history.size() - 1 - k];
        if (!before(t, r.granted)) continue;
        if (before(lo, t)) ++e.live_max;
        if (!before(lo, t) && before(oldest, t)) {
          ++e.released;
          e.releases.push_back(t);
        }
      }
      if (before(hi, r.granted)) continue;
      if (!ended || before(lo, r.released)) ++e.live_max;
      if (!before(lo, r.granted) && (!ended || before(hi, r.released))) {
        ++e.live_min;
        e.grants.push_back(r.granted);
      }
      if (ended && !before(lo, r.released) && before(oldest, r.released)) {
        ++e.released;
        e.releases.push_back(r.released);
      }
    }
    return e;
  }
  Tick release_cap() const { return confirm != 0 && confirm < max_lag ? confirm : max_lag; }

  // A usable reading was installed: foreign excess, lag evidence, the half-open probe.
  void learn_from_reading() {
    const Tick at = read_at;
    const uint32_t s = sessions_read;
    const Evidence ev = evidence(at, asked_at, at - max_lag);
    const Tick cd = cooldown_eff();
    std::vector<Tick> top = ev.releases;
    std::sort(top.begin(), top.end(), [](Tick a, Tick b) { return before(b, a); });
    if (top.size() > 8) top.resize(8);
    uint32_t lagging = 0;
    for (Tick r : top) lagging += before(at - cd, r);
    const uint32_t ours = ev.live_max + lagging;
    last_beyond = std::min<uint32_t>(s > ours ? s - ours : 0, 16);
    missing = ev.live_min > s ? ev.live_min - s : 0;
    if (max_lag != 0) {
      if (missing != 0) vis.add(at - kth(ev.grants, missing), max_lag);
      follow_release(ev, s > ev.live_max ? s - ev.live_max : 0, at);
    }
    // Half-open with the probe out: a reading that has had time to count it, below the cap.
    if (half_open && probe_out && !pause_bit && s < gate_limit() &&
        !before(at, probe_at + vis_lag())) {
      half_open = probe_out = false;
      opened = true;
      open_at = now_for_open;
      probe_serial = 0;
    }
  }
  Tick now_for_open = 0;  // the granter's `now`, for the episode bookkeeping above
  void follow_release(const Evidence& ev, uint32_t excess, Tick at) {
    const Tick last_at = tracker_last_at;
    // A reading more than max_lag after the last one follows nothing.
    const bool had = tracker_last_valid && !before(last_at + max_lag, at);
    if (!had) following = false;
    const uint32_t last_excess = tracker_last_excess;
    tracker_last_valid = true;
    tracker_last_at = at;
    tracker_last_excess = excess;
    uint32_t since_last = 0;
    std::vector<Tick> top = ev.releases;
    std::sort(top.begin(), top.end(), [](Tick a, Tick b) { return before(b, a); });
    if (top.size() > 8) top.resize(8);
    for (Tick r : top) since_last += had && !before(r, last_at);
    if (following) {
      const bool newer = !top.empty() && before(followed, top[0]);
      if (newer || excess < base_excess || excess > base_excess + 1) {
        following = false;
      } else if (excess == base_excess) {
        following = false;
        out.add(counted_at - followed, release_cap());
        return;
      } else {
        counted_at = at;
        return;
      }
    }
    if (had && since_last == 1 && excess == last_excess + 1) {
      following = true;
      followed = top[0];
      counted_at = at;
      base_excess = last_excess;
    }
  }
  // Our sessions the reading may be missing: live ones granted since the bound, carried ended
  // ones while any may still count and the latest ended after the reading's date.
  uint32_t unseen(Tick since, Tick now) const {
    uint32_t n = 0;
    for (const Record& r : records) {
      if (r.phase == Record::Held && r.used && !before(r.granted, since)) ++n;
      if (r.carry_n != 0 && before(now, r.carry_until) && !before(r.carry_end, read_at) &&
          !before(r.carry_grant, since))
        n += r.carry_n;
    }
    return n;
  }
  uint32_t budget(Tick now) const {
    const uint32_t by_bound = unseen(read_at - vis_lag(), now);
    const uint32_t by_sight = missing + unseen(read_at, now);
    const uint32_t used = sessions_read + std::max(by_bound, by_sight);
    return used >= gate_limit() ? 0 : gate_limit() - used;
  }
  // The budget in force: computed by every granter run, spent by every grant, spent all by a
  // lower limit; -1 when the gate is open (no usable reading).
  int credit = -1;
  void update_credit(Tick now) {
    credit = usable(now) ? int(std::min<uint32_t>(budget(now), max_slots)) : -1;
  }
  bool reading_pending() const {
    return max_age != 0 && ((port_version & 1u) != 0 || port_version != judged_version);
  }

  // ---- the granter ---------------------------------------------------------------------------
  // Its look at the upstream: readings, a noted rejection, freeing what a reading covers.
  void govern(Tick now) {
    now_for_open = now;
    if (take_reading(now) == Take::Installed && usable(now)) learn_from_reading();
    if (rejection_pending) {
      rejection_pending = false;
      if (!usable(now) && last_beyond == 0) from_rejection(rejection_at - 1, refused_granted);
    }
    sync_limit();
    reclaim_cooled(now);
    update_credit(now);
    judged_version = port_version;
  }
  void from_rejection(Tick at, Tick granted) {
    if (max_lag == 0) return;
    const Evidence ev = evidence(at, at, at - max_lag);
    // The refused session, if it was granted by then, is live but was never counted.
    const uint32_t live = ev.live_max - (!before(at, granted) && ev.live_max != 0 ? 1 : 0);
    if (live >= limit) return;
    const uint32_t counted = limit - live;
    if (counted > ev.released) return;
    out.add(at - kth(ev.releases, counted), release_cap());
  }

  // May a grant happen now? (The order of checks is the documented one.) Gated is judged on
  // the budget the granter last computed: `gate` is refreshed by every kick.
  enum class Admit { Yes, Closed, WaitersAhead, Paused, NoSlot, Gated };
  Admit admit(Tick now, bool from_queue) {
    for (;;) {
      if (closed) return Admit::Closed;
      if (!from_queue && queued() != 0) return Admit::WaitersAhead;
      if (pause_bit) {
        if (reached(paused_until, now)) {
          pause_bit = false;
          continue;
        }
        return Admit::Paused;
      }
      if (half_open && probe_out) return Admit::Paused;
      if (occ() >= lim()) {
        if (reclaim_cooled(now) != 0) {
          if (!from_queue) lowered(now);
          continue;
        }
        return Admit::NoSlot;
      }
      if (credit == 0) return Admit::Gated;
      return Admit::Yes;
    }
  }
  // Grant queued tickets while admission allows: each pass drops every lane's dead front
  // entries, then serves the lane the rules pick (README, "Lanes").
  void grant_waiters(Tick now) {
    for (;;) {
      std::vector<bool> live(lanes, false);
      bool any = false;
      for (uint32_t l = 0; l < lanes; ++l) {
        while (!fifos[l].empty()) {
          front_peeked[l] = true;
          if (tickets[size_t(fifos[l].front())] == TState::Waiting) {
            live[l] = any = true;
            break;
          }
          fifos[l].pop_front();
          front_peeked[l] = false;
        }
      }
      if (!any) return;
      const uint32_t l = pick(live, now);
      if (admit(now, true) != Admit::Yes) return;
      const int t = fifos[l].front();
      fifos[l].pop_front();
      front_peeked[l] = false;
      tickets[size_t(t)] = TState::Granted;
      ++lane_figures[l].granted;
      if (share_window != 0) {
        ++got[l];
        if (++given >= share_window) {
          given = 0;
          std::fill(got.begin(), got.end(), 0u);
        }
      }
      grant(now, t);
    }
  }
  // The lane served next: the lanes owed part of their minimum share when the window's grants
  // left are no more than what they are owed; else every live lane. Among them, the highest
  // after aging (one lane up per `age` waited, up to the top), then the one queued first, then
  // the higher lane.
  uint32_t pick(const std::vector<bool>& live, Tick now) const {
    std::vector<bool> from = live;
    if (share_window != 0) {
      uint32_t owed = 0;
      std::vector<bool> owes(lanes, false);
      for (uint32_t l = 0; l < lanes; ++l) {
        if (!live[l] || min_share[l] <= got[l]) continue;
        owed += min_share[l] - got[l];
        owes[l] = true;
      }
      if (owed != 0 && owed >= share_window - given) from = owes;
    }
    int best = -1;
    uint32_t best_rank = 0;
    Tick best_at = 0;
    for (uint32_t l = lanes; l-- > 0;) {
      if (!from[l]) continue;
      const Tick at = queued_at[size_t(fifos[l].front())];
      uint32_t rank = l;
      if (age != 0 && before(at, now))
        rank = std::min<uint64_t>(lanes - 1, l + uint64_t(Tick(now - at)) / age);
      if (best < 0 || rank > best_rank || (rank == best_rank && before(at, best_at))) {
        best = int(l);
        best_rank = rank;
        best_at = at;
      }
    }
    return uint32_t(best);
  }
  // A kick: the granter looks, then grants, at the freshest time a poll has seen.
  void kick(Tick now) {
    now = newest(now);
    govern(now);
    grant_waiters(now);
  }
  // Lowering occupancy runs the granter only when someone is queued, or a lowered limit waits
  // for records above it to free.
  void lowered(Tick now) {
    if (queued() != 0 || shrink) kick(now);
  }
  // A new session granted at `now`; the half-open probe if half-open.
  void grant(Tick now, int ticket) {
    if (credit > 0) --credit;
    const uint32_t serial = ++serials;
    if (half_open) {
      probe_out = true;
      probe_at = now;
      probe_serial = serial;
    }
    sessions.push_back(Session{false, now, -1, ticket, claim_record(now), serial});
  }
  bool is_probe(const Session& s) const { return probe_serial != 0 && s.serial == probe_serial; }

  // ---- pauses and episodes -------------------------------------------------------------------
  bool extend_pause(Tick until, Tick now) {
    if (pause_bit && before(now, paused_until) && !before(paused_until, until)) return false;
    paused_until = until;
    const bool started = !pause_bit;
    pause_bit = true;
    return started;
  }
  void step_up() {
    if (h_rejected + 1 >= limit) return;  // nothing moves: no sync (and no settling)
    ++h_rejected;
    sync_limit();
  }
  // The effective limit is republished: a lower one spends the budget (it was computed against
  // the old one).
  uint32_t published_lim = 0;
  bool shrink = false;  // the limit was lowered and a record at or above it may be taken
  void sync_limit() {
    if (lim() < published_lim) {
      if (credit > 0) credit = 0;
      shrink = true;
    }
    published_lim = lim();
    // Settled once no record at or above the limit is taken.
    bool above = false;
    for (size_t i = lim(); i < records.size(); ++i) above |= records[i].phase != Record::Free;
    if (!above) shrink = false;
  }
  Tick begin_episode(Tick now) {
    const Tick cap = longer(default_pause, max_pause);
    const bool rested = opened && reached(open_at + cap, now);
    consecutive = (consecutive == 0 || rested || cap == default_pause)
                      ? 1
                      : std::min<uint32_t>(consecutive + 1, 31);
    Tick pause = default_pause;
    for (uint32_t i = 1; i < consecutive && pause < cap; ++i)
      pause = pause > cap / 2 ? cap : pause * 2;
    opened = false;
    probe_serial = 0;
    ++episodes;
    return pause;
  }
  // A release of session `i` reported rejected (`probe`: it was the half-open probe).
  void rejected(Tick now, bool probe, bool has_retry, Tick retry, Tick granted) {
    if (retry > 0x7FFFFFFFu) retry = 0x7FFFFFFFu;
    const bool ends_probe = probe && half_open && probe_out;
    if (half_open && !ends_probe) {
      if (has_retry && retry != 0) extend_pause(now + retry, now);
      return;
    }
    const bool was_open = !half_open;
    half_open = true;
    Tick d = begin_episode(now);
    if (has_retry && before(d, retry)) d = retry;
    if (d != 0) extend_pause(now + d, now);
    probe_out = false;
    step_up();
    if (was_open) {
      rejection_pending = true;
      rejection_at = now;
      refused_granted = granted;
    }
  }
  // The probe ended well: open, and let the granter run.
  void probe_ended_well(Tick now) {
    if (!(half_open && probe_out)) return;
    half_open = probe_out = false;
    opened = true;
    open_at = now;
    probe_serial = 0;
    kick(now);
  }
  // The probe never reached the upstream: another may go.
  void probe_lost() {
    if (half_open && probe_out) probe_out = false;
  }
};

}  // namespace reference
