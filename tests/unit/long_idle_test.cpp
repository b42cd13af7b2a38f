// A limiter left alone for longer than half its tick's range (24.8 days of a 32-bit
// millisecond tick) must come back as it would on a clock that never wraps. Every time it
// stores (a cooldown's end, a pause's end, a reading's date, when headroom last stepped...)
// would by then read as the future; poll's next deadline is never further away than
// Ticks::kHeartbeat on a narrow tick, and the polls bring what is old forward
// (detail/heartbeat.hpp), so a poller that sleeps until each next deadline keeps every stored
// time in range.
//
// The same scripts run on 32- and 16-bit clocks that start near their wraparound and on a
// 64-bit one; everything they observe must agree. (Without the heartbeat, the 32-bit run comes
// back with its cooled slots, its pause and its old reading stuck for the next ~25 days; without
// any one part's pass, some script here disagrees.)
#include <gtest/gtest.h>

#include <stdint.h>

#include <vector>

#include "slotgate/limiter.hpp"
#include "slotgate/ports/sim.hpp"

namespace slotgate::test {
namespace {

constexpr uint64_t kDay = 24ull * 3600 * 1000;  // ticks are milliseconds

// Sleep like a poller: to each poll's next deadline, for `total` ticks in all. Returns how many
// polls it took.
template <class L, class Port>
uint32_t sleep_like_a_poller(L& lim, Port& port, uint64_t total) {
  using Tick = typename Port::tick_type;
  uint32_t polls = 0;
  while (total != 0) {
    const auto r = lim.poll(port.now());
    ++polls;
    uint64_t step = total;
    if (r.next.set && Ticks<Tick>::before(port.now(), r.next.at)) {
      const uint64_t to_next = static_cast<Tick>(r.next.at - port.now());
      if (to_next < step) step = to_next;
    }
    // A narrow tick advances in steps it can hold; the 64-bit one needs none.
    if (step > Ticks<Tick>::kMaxDuration) step = Ticks<Tick>::kMaxDuration;
    port.advance(static_cast<Tick>(step));
    total -= step;
  }
  lim.poll(port.now());
  return polls + 1;
}

template <class Tick>
struct Idler {
  using Port = sim::Port<Tick, uint32_t>;
  using L = Limiter<Port, 4, 8>;

  explicit Idler(Tick start) : port(start) {}

  Tick now() const { return port.now(); }
  uint32_t idle(uint64_t total) { return sleep_like_a_poller(lim, port, total); }
  // What a user can observe, in one list (statuses as numbers).
  void observe(std::vector<uint64_t>& out) {
    const auto s = lim.snapshot();
    for (uint64_t v :
         {uint64_t(s.held), uint64_t(s.cooling), uint64_t(s.queued), uint64_t(s.effective_limit),
          uint64_t(s.headroom), uint64_t(s.headroom_rejected), uint64_t(s.headroom_foreign),
          uint64_t(s.paused), uint64_t(s.half_open), uint64_t(s.probe_out), uint64_t(s.gate_open),
          uint64_t(s.gate_budget), uint64_t(s.tickets_outstanding),
          uint64_t(s.consecutive_episodes)})
      out.push_back(v);
  }

  Port port;
  L lim{port};
};

// Every setting that keeps a time, short enough for a 16-bit tick (its durations stop at 32.7 s).
template <class Tick>
Config<Tick> config() {
  Config<Tick> c;
  c.limit = 3;
  c.cooldown = 350;
  c.max_hold = 6000;
  c.default_pause = 1000;
  c.max_pause = 8000;
  c.gate.max_age = 3000;
  c.gate.visibility_lag = 250;
  c.gate.repoll_interval = 1000;
  c.headroom.recover_after = 6000;
  c.headroom.foreign_confirm = 3000;
  c.learn.max_lag = 3000;
  c.learn.memory = 20000;
  return c;
}

// The script: a bit of everything that stores a time, a long idle, then the same requests.
template <class Tick>
std::vector<uint64_t> script(Tick start, uint64_t idle_for, uint32_t* polls = nullptr) {
  Idler<Tick> r(start);
  auto& lim = r.lim;
  using Out = typename Idler<Tick>::L::outcome_type;
  using DL = typename Idler<Tick>::L::deadline_type;
  EXPECT_EQ(lim.configure(config<Tick>()), Status::kOk);
  std::vector<uint64_t> seen;
  const auto note = [&seen](Status s) { seen.push_back(static_cast<uint64_t>(s)); };

  r.port.set_usage(0, r.now());
  lim.poll(r.now());
  Permit a, b, held;
  note(lim.try_acquire(r.now(), a));
  note(lim.try_acquire(r.now(), b));
  note(lim.try_acquire(r.now(), held));  // never released: its lease ends after max_hold
  Ticket waiting;
  note(lim.enqueue(r.now(), waiting, DL::at_tick(Tick(r.now() + 5000))));
  r.port.advance(1000);
  r.port.set_usage(3, r.now());
  note(lim.release(a, r.now(), Out::rejected()));  // an episode: a pause, headroom, half-open
  note(lim.release(b, r.now()));                   // a cooldown
  lim.poll(r.now());
  r.observe(seen);

  const uint32_t n = r.idle(idle_for);
  if (polls != nullptr) *polls = n;
  r.observe(seen);
  seen.push_back(static_cast<uint64_t>(lim.state(waiting)));

  // The upstream is empty now, and says so.
  r.port.set_usage(0, r.now());
  lim.poll(r.now());
  r.observe(seen);
  Permit p[4];
  for (auto& x : p) note(lim.try_acquire(r.now(), x));  // the probe, then whatever opens
  note(lim.release(p[0], r.now()));
  r.port.advance(2000);
  r.port.set_usage(0, r.now());
  lim.poll(r.now());
  r.observe(seen);
  for (auto& x : p) note(lim.try_acquire(r.now(), x));
  r.observe(seen);
  return seen;
}

class LongIdle : public ::testing::TestWithParam<uint64_t> {};

TEST_P(LongIdle, ANarrowClockComesBackAsAWideOneDoes) {
  const uint64_t idle = GetParam();
  uint32_t narrow_polls = 0;
  const auto narrow = script<uint32_t>(0xFFFFFFFFu - 500u, idle, &narrow_polls);
  const auto wide = script<uint64_t>(1000, idle);
  ASSERT_EQ(narrow.size(), wide.size());
  for (size_t i = 0; i < narrow.size(); ++i) EXPECT_EQ(narrow[i], wide[i]) << "observation " << i;
  // The 32-bit clock is woken at least once a quarter of its range.
  EXPECT_GE(narrow_polls, idle / (Ticks<uint32_t>::kHeartbeat + 1));
}

// Shorter than half the range, past it, past the whole range, and twice that.
INSTANTIATE_TEST_SUITE_P(Days, LongIdle,
                         ::testing::Values(1 * kDay, 30 * kDay, 60 * kDay, 120 * kDay));

// A 16-bit tick wraps every 65.5 s: minutes of idle are many wraps.
class LongIdle16 : public ::testing::TestWithParam<uint64_t> {};

TEST_P(LongIdle16, ANarrowClockComesBackAsAWideOneDoes) {
  const auto narrow = script<uint16_t>(0xFFFFu - 500u, GetParam());
  const auto wide = script<uint64_t>(1000, GetParam());
  ASSERT_EQ(narrow.size(), wide.size());
  for (size_t i = 0; i < narrow.size(); ++i) EXPECT_EQ(narrow[i], wide[i]) << "observation " << i;
}

INSTANTIATE_TEST_SUITE_P(Seconds, LongIdle16,
                         ::testing::Values(10000u, 40000u, 70000u, 600000u, 3600000u));

// Busy, not idle: twenty minutes of sessions on a 16-bit tick (eighteen wraps), mostly on one
// record, now and then on all of them, with another client coming and going, every outcome the
// same as on a 64-bit tick. Records used rarely keep times from many wraps ago.
template <class Tick>
std::vector<uint64_t> busy(Tick start) {
  Idler<Tick> r(start);
  auto& lim = r.lim;
  using Out = typename Idler<Tick>::L::outcome_type;
  EXPECT_EQ(lim.configure(config<Tick>()), Status::kOk);
  std::vector<uint64_t> seen;
  const auto note = [&seen](Status s) { seen.push_back(static_cast<uint64_t>(s)); };
  uint64_t rng = 12345;
  const auto next = [&rng](uint32_t n) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>((rng >> 33) % n);
  };
  Permit held[3];
  bool has[3] = {false, false, false};
  uint32_t foreign = 0;
  for (uint64_t t = 0; t < 20ull * 60 * 1000;) {
    const uint32_t step = 37 + next(400);
    r.port.advance(static_cast<Tick>(step));
    t += step;
    const bool burst = (t / 1000) % 150 < 4;  // every 2.5 minutes, 4 s of full use
    const uint32_t want = burst ? 3 : 1;
    for (uint32_t i = 0; i < 3; ++i) {
      if (has[i] && (i >= want || next(8) == 0)) {
        note(lim.release(held[i], r.now(), next(40) == 0 ? Out::rejected() : Out::ok()));
        has[i] = false;
      } else if (!has[i] && i < want) {
        const Status s = lim.try_acquire(r.now(), held[i]);
        note(s);
        has[i] = s == Status::kOk;
      }
    }
    // Another client, five seconds in twenty (what the limiter learns of it must fit the
    // narrow tick: how long it stays away is a duration, and 16 bits hold 32.7 s).
    foreign = (t / 1000) % 20 < 5 ? 1 : 0;
    if (next(3) == 0)
      r.port.set_usage((has[0] ? 1 : 0) + (has[1] ? 1 : 0) + (has[2] ? 1 : 0) + foreign, r.now());
    lim.poll(r.now());
    r.observe(seen);
  }
  return seen;
}

TEST(Busy, ANarrowClockDecidesAsAWideOneDoes) {
  const auto narrow = busy<uint16_t>(0xFFFFu - 500u);
  const auto wide = busy<uint64_t>(1000);
  ASSERT_EQ(narrow.size(), wide.size());
  size_t differ = 0;
  for (size_t i = 0; i < narrow.size() && differ < 10; ++i)
    if (narrow[i] != wide[i]) {
      ++differ;
      ADD_FAILURE() << "observation " << i << ": " << narrow[i] << " against " << wide[i];
    }
}

// Lanes: a waiter in the lower lane that has waited through the idle has aged past the higher
// lane's newcomer, and is granted first.
template <class Tick>
std::vector<uint64_t> lanes(Tick start, uint64_t idle_for) {
  using Port = sim::Port<Tick, uint32_t>;
  using L = Limiter<Port, 2, 8, 2>;
  Port port(start);
  L lim(port);
  Config<Tick> c;
  c.limit = 1;
  EXPECT_EQ(lim.configure(c), Status::kOk);
  typename L::lane_config_type lc;
  lc.age = 10000;
  EXPECT_EQ(lim.configure_lanes(lc), Status::kOk);
  std::vector<uint64_t> seen;
  Permit p;
  seen.push_back(static_cast<uint64_t>(lim.try_acquire(port.now(), p)));
  Ticket low, high;
  seen.push_back(
      static_cast<uint64_t>(lim.enqueue(port.now(), low, L::deadline_type::none(), Lane(0))));
  sleep_like_a_poller(lim, port, idle_for);
  seen.push_back(
      static_cast<uint64_t>(lim.enqueue(port.now(), high, L::deadline_type::none(), Lane(1))));
  seen.push_back(static_cast<uint64_t>(lim.release(p, port.now())));
  lim.poll(port.now());
  seen.push_back(static_cast<uint64_t>(lim.state(low)));
  seen.push_back(static_cast<uint64_t>(lim.state(high)));
  return seen;
}

TEST(LongIdleLanes, AWaiterAgesThroughTheIdle) {
  for (uint64_t idle : {uint64_t(60000), 30 * kDay}) {
    const auto wide = lanes<uint64_t>(1000, idle);
    EXPECT_EQ(wide[4], static_cast<uint64_t>(TicketState::kGranted));  // the old waiter first
    EXPECT_EQ(lanes<uint32_t>(0xFFFFFFFFu - 500u, idle), wide);
  }
  for (uint64_t idle : {uint64_t(20000), uint64_t(600000)}) {
    const auto wide = lanes<uint64_t>(1000, idle);
    EXPECT_EQ(wide[4], static_cast<uint64_t>(TicketState::kGranted));
    EXPECT_EQ(lanes<uint16_t>(0xFFFFu - 500u, idle), wide);
  }
}

TEST(Heartbeat, AnIdleLimiterOnANarrowTickStillHasADeadline) {
  Idler<uint32_t> r(7);
  typename Idler<uint32_t>::L::config_type c;
  c.limit = 2;
  ASSERT_EQ(r.lim.configure(c), Status::kOk);
  const auto p = r.lim.poll(r.now());
  ASSERT_TRUE(p.next.set);
  EXPECT_EQ(p.next.at, uint32_t(7 + Ticks<uint32_t>::kHeartbeat));
  EXPECT_EQ(Ticks<uint32_t>::kHeartbeat, 0x0FFFFFFFu);  // a sixteenth of the range

  Idler<uint64_t> w(7);
  typename Idler<uint64_t>::L::config_type cw;
  cw.limit = 2;
  ASSERT_EQ(w.lim.configure(cw), Status::kOk);
  EXPECT_FALSE(w.lim.poll(w.now()).next.set);
}

}  // namespace
}  // namespace slotgate::test
