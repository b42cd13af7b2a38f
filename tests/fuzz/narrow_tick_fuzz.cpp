// Differential fuzzing of the tick width: bytes decode into operations, run on a limiter whose
// clock is 16 bits wide (it wraps every 65.5 s of milliseconds, starting just below the wrap)
// and on one whose clock is 64 bits wide (it never wraps); every status, ticket state and
// everything a snapshot shows that is not a point in time must agree after every operation.
//
// Idles of up to an hour (dozens of wraps) go the way a poller sleeps: both limiters are
// polled at every deadline either one's last poll named, so the narrow one is polled at least
// once per heartbeat (detail/heartbeat.hpp) and the wide one at the same moments. The
// settings are the long-idle test's, every duration short enough for 16 bits, and variants of
// them an operation applies mid-run (Side::config).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "slotgate/limiter.hpp"
#include "slotgate/ports/sim.hpp"

// The narrow clock: 16 bits by default; built with SLOTGATE_FUZZ_NARROW_32, 32 bits, whose
// idles are 4096 times longer (up to 181 days: a few wraps of 49.7 days).
#ifdef SLOTGATE_FUZZ_NARROW_32
using Narrow = uint32_t;
constexpr uint64_t kIdleScale = 4096;
#else
using Narrow = uint16_t;
constexpr uint64_t kIdleScale = 1;
#endif

namespace {

using slotgate::Permit;
using slotgate::Status;
using slotgate::Ticket;

int g_op = 0;
[[noreturn]] void fail(const char* what, unsigned long long narrow, unsigned long long wide) {
  std::fprintf(stderr, "MISMATCH at op %d: %s (narrow %llu, 64-bit %llu)\n", g_op, what, narrow,
               wide);
  std::abort();
}

// One side: a limiter on a clock of `Tick`, and the permits and tickets it handed out.
template <class Tick>
struct Side {
  using Port = slotgate::sim::Port<Tick, uint32_t>;
  using L = slotgate::Limiter<Port, 4, 8, 2>;  // two lanes: aging keeps a time per waiter
  using Out = typename L::outcome_type;
  using DL = typename L::deadline_type;

  explicit Side(Tick start) : port(start) {
    if (lim.configure(config(0)) != Status::kOk) std::abort();
    typename L::lane_config_type lanes;
    lanes.age = 10000;
    if (lim.configure_lanes(lanes) != Status::kOk) std::abort();
    poll();
  }
  // The long-idle test's settings; each bit of `variant` changes one: a cached usage endpoint,
  // a tail, sticky headroom, learning off, no lease limit, no cooldown, no pause but a
  // Retry-After, foreign usage not tracked.
  static slotgate::Config<Tick> config(uint8_t variant) {
    slotgate::Config<Tick> c;
    c.limit = 3;
    c.cooldown = variant & 32 ? 0 : 350;
    c.max_hold = variant & 16 ? 0 : 6000;
    c.default_pause = variant & 64 ? 0 : 1000;
    c.max_pause = 8000;
    c.gate.max_age = 3000;
    c.gate.visibility_lag = 250;
    c.gate.staleness = variant & 1 ? 2000 : 0;
    c.gate.tail = variant & 2 ? 500 : 0;
    c.gate.repoll_interval = 1000;
    c.headroom.recover_after = 6000;
    c.headroom.foreign_confirm = 3000;
    c.headroom.sticky = (variant & 4) != 0;
    c.headroom.track_foreign = (variant & 128) == 0;
    c.learn.max_lag = variant & 8 ? 0 : 3000;
    c.learn.memory = 20000;
    return c;
  }
  Tick now() const { return port.now(); }
  // Polls, and keeps the deadline it names. Returns how far away it is (~0 for none).
  uint64_t poll() {
    const auto r = lim.poll(now());
    due_set = r.next.set;
    due = r.next.at;
    return until_due();
  }
  uint64_t until_due() const {
    if (!due_set) return ~uint64_t(0);
    return slotgate::Ticks<Tick>::before(now(), due) ? uint64_t(Tick(due - now())) : 0;
  }

  Status release(size_t k, uint8_t how) {
    if (k >= permits.size()) return Status::kInvalidArgument;
    const Out out = how == 0   ? Out::ok()
                    : how == 1 ? Out::rejected()
                               : Out::rejected_retry_after(Tick(how * 500u));
    return lim.release(permits[k], now(), out);
  }

  void observe(std::vector<uint64_t>& out) const {
    const auto s = lim.snapshot();
    const auto& k = s.counters;
    // Everything but points in time (they differ by the clocks' starts, and modulo 2^16).
    for (uint64_t v : {uint64_t(s.limit),
                       uint64_t(s.effective_limit),
                       uint64_t(s.headroom),
                       uint64_t(s.headroom_reason),
                       uint64_t(s.limit_before_headroom),
                       uint64_t(s.headroom_rejected),
                       uint64_t(s.headroom_foreign),
                       uint64_t(s.headroom_recovery),
                       uint64_t(s.foreign_seen),
                       uint64_t(s.foreign_hold),
                       uint64_t(s.foreign_peak),
                       uint64_t(s.foreign_away_for),
                       uint64_t(s.held),
                       uint64_t(s.cooling),
                       uint64_t(s.queued),
                       uint64_t(s.tickets_outstanding),
                       uint64_t(s.closed),
                       uint64_t(s.paused),
                       uint64_t(s.half_open),
                       uint64_t(s.probe_out),
                       uint64_t(s.backoff),
                       uint64_t(s.consecutive_episodes),
                       uint64_t(s.learned_release_lag),
                       uint64_t(s.learned_visibility_lag),
                       uint64_t(s.effective_cooldown),
                       uint64_t(s.effective_visibility_lag),
                       uint64_t(s.gate_open),
                       uint64_t(s.gate_budget),
                       uint64_t(s.gate_room),
                       k.granted,
                       k.fast_path,
                       k.from_queue,
                       k.released,
                       k.cancelled,
                       k.grants_returned,
                       k.timed_out,
                       k.reclaimed,
                       k.rejected_by_upstream,
                       k.queue_full,
                       k.bad_releases,
                       k.no_slot,
                       k.held_back_cooldown,
                       k.held_back_gate,
                       k.held_back_headroom,
                       k.held_back_pause,
                       k.held_back_probe,
                       k.waiters_ahead,
                       k.clock_regressions,
                       k.wakeups,
                       k.readings,
                       k.bad_readings,
                       k.headroom_steps_up,
                       k.headroom_steps_down,
                       k.episodes,
                       k.probes,
                       k.release_lag_samples,
                       k.visibility_lag_samples,
                       k.release_lag_from_rejections})
      out.push_back(v);
    for (const Ticket& t : tickets) out.push_back(uint64_t(lim.state(t)));
    // Each lane's figures; a wait is an age, which the narrow one holds at about kOldest.
    for (uint32_t i = 0; i < 2; ++i) {
      typename L::lane_snapshot_type l;
      if (lim.lane_snapshot(slotgate::Lane(i), now(), l) != Status::kOk) std::abort();
      const uint64_t wait = uint64_t(l.longest_wait);
      for (uint64_t v : {uint64_t(l.waiting), l.queued, l.granted, l.timed_out,
                         wait < slotgate::Ticks<Narrow>::kOldest ? wait : ~uint64_t(0)})
        out.push_back(v);
    }
  }
  // The reading taken in, and its age (~0 for none).
  void reading(std::vector<uint64_t>& out, uint64_t& age) const {
    const auto s = lim.snapshot();
    out = {uint64_t(s.has_reading), uint64_t(s.reading_sessions), uint64_t(s.reading_missing)};
    age = s.has_reading ? uint64_t(Tick(now() - s.reading_sampled_at)) : ~uint64_t(0);
  }

  Port port;
  L lim{port};
  std::vector<Permit> permits;
  std::vector<Ticket> tickets;
  bool due_set = false;
  Tick due = 0;
};

struct Pair {
  Side<Narrow> narrow{Narrow(Narrow(~Narrow(0)) - 700u)};
  Side<uint64_t> wide{1000};

  void agree(const char* what, Status n, Status w) {
    if (n != w) fail(what, uint64_t(n), uint64_t(w));
  }
  // The same, and on success each side keeps what it was handed (a permit, a ticket).
  template <class H>
  void keep(const char* what, Status n, Status w, H x, H y, std::vector<H>& at_narrow,
            std::vector<H>& at_wide) {
    agree(what, n, w);
    if (n != Status::kOk) return;
    at_narrow.push_back(x);
    at_wide.push_back(y);
  }
  void poll() {
    narrow.poll();
    wide.poll();
  }
  // Time passes as a poller sleeps: to the nearer of the two limiters' deadlines, polling both
  // there, until `total` has passed.
  void advance(uint64_t total) {
    while (total != 0) {
      uint64_t step = total;
      const uint64_t n = narrow.until_due(), w = wide.until_due();
      if (n < step) step = n;
      if (w < step) step = w;
      narrow.port.advance(Narrow(step));
      wide.port.advance(step);
      total -= step;
      if (narrow.until_due() == 0 || wide.until_due() == 0) poll();
      if (step == 0 && total != 0) {  // a deadline now that polling did not move
        narrow.port.advance(1);
        wide.port.advance(1);
        --total;
        poll();
      }
    }
  }
  // What the narrow clock can express: the wide limiter's durations all shorter than kOldest.
  // Beyond it the narrow one holds what it learned at about kOldest (a foreign session's age,
  // a recovery time that backed off), as documented, and the two part ways by design.
  bool in_range() const {
    const auto s = wide.lim.snapshot();
    // (Foreign usage gone is expected back for a quarter longer than it stayed away before.)
    for (uint64_t d :
         {s.headroom_recovery, s.foreign_hold, s.foreign_away_for + s.foreign_away_for / 4,
          s.backoff, s.learned_release_lag, s.learned_visibility_lag, s.effective_cooldown,
          s.effective_visibility_lag})
      if (d >= slotgate::Ticks<Narrow>::kOldest) return false;
    // Two waiters who have both waited that long are equals to the narrow one (aging ranks
    // them, then the older goes first).
    for (uint32_t i = 0; i < 2; ++i) {
      typename Side<uint64_t>::L::lane_snapshot_type l;
      if (wide.lim.lane_snapshot(slotgate::Lane(i), wide.now(), l) != Status::kOk) std::abort();
      if (l.longest_wait >= slotgate::Ticks<Narrow>::kOldest) return false;
    }
    return true;
  }
  // SLOTGATE_FUZZ_TRACE set: each operation and both sides' observations, for a failing input.
  void trace(int op) const {
    std::vector<uint64_t> a, b;
    narrow.observe(a);
    wide.observe(b);
    std::fprintf(stderr, "op %d (%d) at %llu:\n ", g_op, op,
                 (unsigned long long)(wide.now() - 1000));
    for (uint64_t v : a) std::fprintf(stderr, " %llu", (unsigned long long)v);
    std::fprintf(stderr, "\n ");
    for (uint64_t v : b) std::fprintf(stderr, " %llu", (unsigned long long)v);
    std::fprintf(stderr, "\n");
  }
  void compare() {
    std::vector<uint64_t> a, b;
    narrow.observe(a);
    wide.observe(b);
    if (a.size() != b.size()) fail("observation count", a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i] != b[i]) {
        char what[48];
        std::snprintf(what, sizeof what, "observation %zu", i);
        fail(what, a[i], b[i]);
      }
    // A reading older than kOldest is dropped by the narrow one's heartbeat (documented: it
    // is long past any max_age the narrow tick holds); until then both hold the same one.
    uint64_t narrow_age, wide_age;
    narrow.reading(a, narrow_age);
    wide.reading(b, wide_age);
    const bool dropped = !a[0] && b[0] && wide_age >= slotgate::Ticks<Narrow>::kOldest;
    if (!dropped && a != b) fail("the reading taken in", a[0] * 100 + a[1], b[0] * 100 + b[1]);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Pair p;
  g_op = 0;
  // One permit and one ticket per operation at most; bounded inputs keep a run short.
  for (size_t i = 0; i + 2 < size && i < 3 * 200; i += 3, ++g_op) {
    const uint8_t op = data[i] % 13, a = data[i + 1], b = data[i + 2];
    switch (op) {
      case 0: {  // try_acquire
        Permit x, y;
        const Status n = p.narrow.lim.try_acquire(p.narrow.now(), x);
        const Status w = p.wide.lim.try_acquire(p.wide.now(), y);
        p.keep("try_acquire", n, w, x, y, p.narrow.permits, p.wide.permits);
        break;
      }
      case 1:  // release: ok, rejected, or rejected with a Retry-After of up to 7.5 s
      case 2: {
        const size_t k = a % 8;
        const uint8_t how = op == 1 ? 0 : uint8_t(b % 17);
        p.agree("release", p.narrow.release(k, how), p.wide.release(k, how));
        break;
      }
      case 3: {  // enqueue in either lane, with a deadline up to 25.5 s away or none
        Ticket x, y;
        const bool timed = b & 1;
        const slotgate::Lane lane((b >> 1) & 1);
        const Status n = p.narrow.lim.enqueue(
            p.narrow.now(), x,
            timed ? Side<Narrow>::DL::at_tick(Narrow(p.narrow.now() + a * 100u))
                  : Side<Narrow>::DL::none(),
            lane);
        const Status w =
            p.wide.lim.enqueue(p.wide.now(), y,
                               timed ? Side<uint64_t>::DL::at_tick(p.wide.now() + a * 100u)
                                     : Side<uint64_t>::DL::none(),
                               lane);
        p.keep("enqueue", n, w, x, y, p.narrow.tickets, p.wide.tickets);
        break;
      }
      case 4: {  // claim
        const size_t k = a % 8;
        if (k >= p.narrow.tickets.size()) break;
        Permit x, y;
        const Status n = p.narrow.lim.claim(p.narrow.tickets[k], x);
        const Status w = p.wide.lim.claim(p.wide.tickets[k], y);
        p.keep("claim", n, w, x, y, p.narrow.permits, p.wide.permits);
        break;
      }
      case 5: {  // cancel
        const size_t k = a % 8;
        if (k >= p.narrow.tickets.size()) break;
        p.agree("cancel", p.narrow.lim.cancel(p.narrow.tickets[k], p.narrow.now()),
                p.wide.lim.cancel(p.wide.tickets[k], p.wide.now()));
        break;
      }
      case 6: {  // a reading of a sessions, taken up to 5.1 s ago
        const uint32_t sessions = a % 6, age = b * 20u;
        p.narrow.port.set_usage(sessions, Narrow(p.narrow.now() - age));
        p.wide.port.set_usage(sessions, p.wide.now() - age);
        break;
      }
      case 7:  // a little time, up to 2.5 s
        p.advance(1 + a * 10u);
        break;
      case 8: {  // an idle of up to an hour (x kIdleScale with nobody queued): many wraps
        // (Queued waiters held for a reading re-poll every second: months of that are slow.)
        const uint64_t scale = p.wide.lim.snapshot().queued == 0 ? kIdleScale : 1;
        p.advance(uint64_t(a) * (b % 4 == 0 ? 15000u : 250u) * scale);
        break;
      }
      case 9:  // a poll, or (b's top bit) new settings, applied as configure applies them
        if (b & 0x80)
          p.agree("configure", p.narrow.lim.configure(Side<Narrow>::config(a)),
                  p.wide.lim.configure(Side<uint64_t>::config(a)));
        else
          p.poll();
        break;
      case 10: {  // set_limit, the operator's or a fleet's share
        const uint32_t limit = a % 5;
        const auto how =
            b & 1 ? slotgate::LimitChange::kKeepHeadroom : slotgate::LimitChange::kClearHeadroom;
        p.agree("set_limit", p.narrow.lim.set_limit(limit, p.narrow.now(), how),
                p.wide.lim.set_limit(limit, p.wide.now(), how));
        break;
      }
      case 11:  // pause_for up to 25.5 s, or resume
        if (b & 1) {
          p.narrow.lim.resume();
          p.wide.lim.resume();
        } else {
          p.agree("pause_for", p.narrow.lim.pause_for(Narrow(a * 100u), p.narrow.now()),
                  p.wide.lim.pause_for(a * 100u, p.wide.now()));
        }
        break;
      case 12: {  // a little time with no poll, short of either limiter's next deadline
        uint64_t step = 1 + a * 10u;
        const uint64_t n = p.narrow.until_due(), w = p.wide.until_due();
        if (n <= step) step = n == 0 ? 0 : n - 1;
        if (w <= step) step = w == 0 ? 0 : w - 1;
        p.narrow.port.advance(Narrow(step));
        p.wide.port.advance(step);
        break;
      }
    }
    if (!p.in_range()) break;
    if (std::getenv("SLOTGATE_FUZZ_TRACE") != nullptr) p.trace(op);
    p.compare();
  }
  return 0;
}
