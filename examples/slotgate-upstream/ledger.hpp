// The test upstream's model of one key: a cap on concurrent sessions, counted the way a
// provider counts them (late to start, late to stop), with 429s past the cap, a usage answer
// cached up to a staleness, optional load from another client, and a ledger of what it saw.
// Times are milliseconds on a clock the caller supplies (steady_clock in the server, a
// number in the tests). Thread-safe: one mutex per key.
#pragma once

#include <stdint.h>

#include <algorithm>
#include <mutex>
#include <vector>

namespace upstream {

struct Settings {
  uint32_t cap = 4;
  int64_t lag_in_ms = 0;     // a new session counts this long after it arrives
  int64_t lag_out_ms = 300;  // an ended session counts this long after it ends
  int64_t staleness_ms = 0;  // the usage answer is refreshed at most this often
  int64_t retry_after_s = 1;
  uint32_t foreign = 0;        // sessions another client holds while it is on
  int64_t foreign_on_ms = 0;   // ... for this long
  int64_t foreign_off_ms = 0;  // ... then none for this long (0 on: never)
};

// What the ledger saw.
struct Tally {
  uint32_t max_billed = 0;  // the most sessions counted against the cap at once (ours + foreign)
  uint32_t current = 0;     // counted now
  uint64_t admitted = 0;
  uint64_t rejected = 0;  // 429s
  uint64_t over_cap = 0;  // admissions that took the billed count past the cap
};

class Key {
 public:
  explicit Key(const Settings& s) : s_(s) {}

  // A session asks to start at `now`: its id, or -1 for a 429.
  int64_t admit(int64_t now) {
    std::lock_guard<std::mutex> lock(mu_);
    prune(now);
    if (seen(now) + foreign(now) >= s_.cap) {
      ++tally_.rejected;
      return -1;
    }
    sessions_.push_back({next_id_, now, kOpen});
    ++tally_.admitted;
    if (note_billed(now) > s_.cap) ++tally_.over_cap;
    return next_id_++;
  }

  // The session ended (its response finished, or its client went away).
  void end(int64_t id, int64_t now) {
    std::lock_guard<std::mutex> lock(mu_);
    for (Session& x : sessions_)
      if (x.id == id && x.end == kOpen) x.end = now;
  }

  // What the usage endpoint answers at `now`: the count as the counter sees it, cached.
  uint32_t usage(int64_t now) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!cached_ || now - cached_at_ >= s_.staleness_ms) {
      prune(now);
      note_billed(now);
      cached_value_ = seen(now) + foreign(now);
      cached_at_ = now;
      cached_ = true;
    }
    return cached_value_;
  }

  // The counter's view now (what a passive header would carry).
  uint32_t counted(int64_t now) {
    std::lock_guard<std::mutex> lock(mu_);
    return seen(now) + foreign(now);
  }

  Tally tally(int64_t now) {
    std::lock_guard<std::mutex> lock(mu_);
    prune(now);
    const uint32_t b = note_billed(now);
    Tally t = tally_;
    t.current = b;
    return t;
  }

  const Settings& settings() const { return s_; }

 private:
  static constexpr int64_t kOpen = INT64_MAX;
  struct Session {
    int64_t id, start, end;
  };

  // Other clients come and go without asking us: the maximum is also taken whenever we look.
  uint32_t note_billed(int64_t now) {
    const uint32_t b = billed(now);
    tally_.max_billed = std::max(tally_.max_billed, b);
    return b;
  }

  // Billed: from arrival until lag_out after the end (what the provider charges as concurrent).
  uint32_t billed(int64_t now) const {
    uint32_t n = foreign(now);
    for (const Session& x : sessions_) n += x.start <= now && !gone(x, now);
    return n;
  }
  // Seen: what the provider's counter shows, lag_in late to start.
  uint32_t seen(int64_t now) const {
    uint32_t n = 0;
    for (const Session& x : sessions_) n += x.start + s_.lag_in_ms <= now && !gone(x, now);
    return n;
  }
  bool gone(const Session& x, int64_t now) const {
    return x.end != kOpen && now >= x.end + s_.lag_out_ms;
  }
  uint32_t foreign(int64_t now) const {
    if (s_.foreign == 0) return 0;
    if (s_.foreign_off_ms == 0) return s_.foreign;
    const int64_t period = s_.foreign_on_ms + s_.foreign_off_ms;
    return (now % period) < s_.foreign_on_ms ? s_.foreign : 0;
  }
  void prune(int64_t now) {
    sessions_.erase(std::remove_if(sessions_.begin(), sessions_.end(),
                                   [&](const Session& x) { return gone(x, now); }),
                    sessions_.end());
  }

  Settings s_;
  std::mutex mu_;
  std::vector<Session> sessions_;
  int64_t next_id_ = 1;
  Tally tally_;
  bool cached_ = false;
  int64_t cached_at_ = 0;
  uint32_t cached_value_ = 0;
};

}  // namespace upstream
