// A small, single-threaded reference model of the limiter's contract, for the differential
// fuzzer. It is written for obviousness, not speed: plain containers, linear scans, one rule
// per line of README.md's "Guarantees". It does not choose slots; it learns each permit's
// identity when the library hands it out, and checks the library's choice is a free slot.
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
        sessions.erase(sessions.begin() + long(i));
        ++n;
      } else {
        ++i;
      }
    }
    return n;
  }
  // May a grant happen now? (The order of checks is the documented one.)
  enum class Admit { Yes, Closed, WaitersAhead, Paused, NoSlot };
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
      sessions.push_back(Session{false, now, -1, t});
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
