// A small, single-threaded reference model of the limiter's contract, for the differential
// fuzzer. It is written for obviousness, not speed: plain containers, linear scans, one rule
// per line of README.md's "Guarantees". It chooses slot records by the documented rule (the
// first free one from just after the last one taken) and checks the library chose the same.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

namespace reference {

using Tick = uint32_t;
inline bool before(Tick a, Tick b) {
  return int32_t(a - b) < 0;
}
inline bool reached(Tick d, Tick now) {
  return !before(now, d);
}

enum class TState { Waiting, Granted, TimedOut, Closed, Resolved };

struct Session {         // a slot counted against the limit
  bool cooling = false;  // else held
  Tick t = 0;            // held: since; cooling: until
  int permit = -1;       // index into permits (-1: granted to a ticket not yet claimed)
  int ticket = -1;       // the ticket it was granted to, if any
  int rec = -1;          // its slot record (which keeps the grant time)
};

// A slot record keeps its latest grant: the usage gate's census reads these (README, "The
// usage gate": the latest MaxSlots grants).
struct Record {
  enum Phase { Free, Held, Cooling } phase = Free;
  bool used = false;  // granted at least once
  Tick granted = 0;   // the latest grant
  Tick stamp = 0;     // Cooling: the cooldown's end; Free: when it became free
};

struct Model {
  uint32_t max_slots = 4, max_waiters = 4, queue_capacity = 16;
  uint32_t limit = 4, h_rejected = 0;
  Tick cooldown = 0, max_hold = 0, default_pause = 0;
  bool closed = false, pause_bit = false;
  Tick paused_until = 0;
  std::vector<Session> sessions;
  std::deque<int> fifo;         // ticket ids, dead ones included until popped
  std::vector<TState> tickets;  // by ticket id
  std::vector<bool> ticket_deadline;
  std::vector<Tick> deadline;
  std::vector<bool> ticket_reclaimed;  // granted, then its slot reclaimed before the claim
  bool front_peeked = false;  // the granter has taken the front entry out of the ring to look

  // The usage gate (README, "The usage gate"), with every grant remembered, not one per record.
  Tick max_age = 0, lag = 0, tail = 0;
  uint32_t max_plausible = 0;
  bool has_reading = false, seen = false;
  uint32_t sessions_read = 0, seen_sessions = 0;
  Tick read_at = 0, seen_at = 0;
  uint32_t bad_readings = 0;
  std::vector<Record> records = std::vector<Record>(4);
  size_t hint = 0;  // where the next claim starts looking

  // Take the first Free record from the hint on.
  int claim_record(Tick now) {
    size_t i = hint;
    for (size_t n = 0; n < records.size(); ++n, ++i) {
      if (i >= records.size()) i = 0;
      if (records[i].phase != Record::Free) continue;
      records[i] = Record{Record::Held, true, now, now};
      hint = i + 1;
      return int(i);
    }
    return -1;  // never: a grant needs occ < L <= MaxSlots
  }

  // Take in the source's reading, as the granter does: a repeat of the last one changes
  // nothing; an implausible one, one from more than max_age in the future, or one older than
  // the reading in use is bad; one a little in the future counts as sampled now.
  void take_reading(uint32_t n, Tick at, Tick now) {
    if (seen && n == seen_sessions && at == seen_at) return;
    seen = true;
    seen_sessions = n;
    seen_at = at;
    const bool implausible = n > max_plausible;
    const bool from_future = before(now + max_age, at);
    if (!implausible && !from_future && before(now, at)) at = now;
    if (implausible || from_future || (has_reading && before(at, read_at))) {
      ++bad_readings;
      return;
    }
    has_reading = true;
    sessions_read = n;
    read_at = at;
  }
  bool usable(Tick now) const {
    return max_age != 0 && has_reading && (before(now, read_at) || now - read_at <= max_age);
  }
  // Grants the reading may be missing: each record's latest grant made at or after
  // read_at - lag, still held, or free (or cooled: a cooling slot is free at its cooldown's
  // end, reclaimed or not) for less than `tail`.
  uint32_t unseen_grants(Tick now) const {
    const Tick since = read_at - lag;
    uint32_t n = 0;
    for (auto& r : records) {
      if (!r.used) continue;
      const bool gone = r.phase != Record::Held && !before(now - tail, r.stamp);
      n += !gone && !before(r.granted, since);
    }
    return n;
  }
  // Grants the gate still allows against L - H_rejected.
  uint32_t budget(Tick now) const {
    const uint32_t used = sessions_read + unseen_grants(now);
    return used >= lim() ? 0 : lim() - used;
  }
  // A session's slot is free again at `freed`.
  void end(size_t i, Tick freed) {
    Record& r = records[size_t(sessions[i].rec)];
    r.phase = Record::Free;
    r.stamp = freed;
    sessions.erase(sessions.begin() + long(i));
  }
  // A session ended; its slot cools until `until`.
  void cool(size_t i, Tick until) {
    sessions[i].cooling = true;
    sessions[i].t = until;
    Record& r = records[size_t(sessions[i].rec)];
    r.phase = Record::Cooling;
    r.stamp = until;
  }
  // A new session granted at `now`.
  void grant(Tick now, int ticket) {
    sessions.push_back(Session{false, now, -1, ticket, claim_record(now)});
  }

  uint32_t lim() const { return limit - (h_rejected < limit ? h_rejected : limit - 1); }
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
  // Cooldowns that ended by `now` free their slots; how many.
  uint32_t reclaim_cooled(Tick now) {
    uint32_t n = 0;
    for (size_t i = 0; i < sessions.size();) {
      if (sessions[i].cooling && reached(sessions[i].t, now)) {
        end(i, sessions[i].t);
        ++n;
      } else {
        ++i;
      }
    }
    return n;
  }
  // May a grant happen now? (The order of checks is the documented one.)
  enum class Admit { Yes, Closed, WaitersAhead, Paused, NoSlot, Gated };
  Admit admit(Tick now, bool from_queue) {
    for (;;) {
      if (closed) return Admit::Closed;
      if (!from_queue && !fifo.empty()) return Admit::WaitersAhead;
      if (pause_bit) {
        if (reached(paused_until, now)) {
          pause_bit = false;
          continue;
        }
        return Admit::Paused;
      }
      if (occ() >= lim()) {
        if (reclaim_cooled(now) != 0) continue;
        return Admit::NoSlot;
      }
      if (usable(now) && budget(now) == 0) return Admit::Gated;
      return Admit::Yes;
    }
  }
  // Grant queued tickets in order while admission allows; dead entries at the front go.
  void grant_waiters(Tick now) {
    while (!fifo.empty()) {
      const int t = fifo.front();
      front_peeked = true;
      if (tickets[size_t(t)] != TState::Waiting) {
        fifo.pop_front();
        front_peeked = false;
        continue;
      }
      if (admit(now, true) != Admit::Yes) return;
      fifo.pop_front();
      front_peeked = false;
      tickets[size_t(t)] = TState::Granted;
      grant(now, t);
    }
  }
  // A new pause; true if it started one (none was flagged).
  bool extend_pause(Tick until, Tick now) {
    if (pause_bit && before(now, paused_until) && !before(paused_until, until)) return false;
    paused_until = until;
    const bool started = !pause_bit;
    pause_bit = true;
    return started;
  }
  void step_up() {
    if (h_rejected + 1 < limit) ++h_rejected;
  }
};

}  // namespace reference
