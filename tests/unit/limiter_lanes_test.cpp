// Priority lanes: strict order across lanes, FIFO within one, aging, minimum shares, and the
// queue's promises (no barging, cancel safety, timeouts, close) in every lane.
#include <gtest/gtest.h>

#include <vector>

#include "limiter_fixture.hpp"

namespace slotgate::test {
namespace {

template <class Clock>
class Lanes : public ::testing::Test {
 protected:
  using Port = typename Clock::Port;
  using Tick = typename Port::tick_type;
  static constexpr size_t kLanes = 3;
  using L = Limiter<Port, 4, 32, kLanes>;
  using DL = typename L::deadline_type;
  using LaneCfg = typename L::lane_config_type;

  Port port{Clock::kStart};
  L lim{port};

  Tick now() const { return port.now(); }
  void advance(Tick d) { port.advance(d); }

  void SetUp() override {
    typename L::config_type c;
    c.limit = 1;
    ASSERT_EQ(lim.configure(c), Status::kOk);
  }
  void lanes(Tick age, uint32_t window = 0, std::vector<uint32_t> shares = {}) {
    LaneCfg c;
    c.age = age;
    c.share_window = window;
    for (size_t i = 0; i < shares.size(); ++i) c.min_share[i] = shares[i];
    ASSERT_EQ(lim.configure_lanes(c), Status::kOk);
  }
  Permit take() {
    Permit p;
    EXPECT_EQ(lim.try_acquire(now(), p), Status::kOk);
    return p;
  }
  Ticket wait(uint32_t lane, DL deadline = DL::none()) {
    Ticket t;
    EXPECT_EQ(lim.enqueue(now(), t, deadline, Lane(lane)), Status::kOk);
    EXPECT_EQ(lim.state(t), TicketState::kWaiting);
    return t;
  }
  // The one waiter granted now, among `ts` (exactly one must be): its position in ts.
  size_t granted_one(const std::vector<Ticket>& ts) {
    size_t found = ts.size();
    for (size_t i = 0; i < ts.size(); ++i) {
      if (lim.state(ts[i]) != TicketState::kGranted) continue;
      EXPECT_EQ(found, ts.size()) << "two tickets granted with one slot";
      found = i;
    }
    EXPECT_NE(found, ts.size()) << "no ticket granted";
    return found;
  }
  Permit claim(Ticket t) {
    Permit p;
    EXPECT_EQ(lim.claim(t, p), Status::kOk);
    return p;
  }
  typename L::lane_snapshot_type lane(uint32_t i) {
    typename L::lane_snapshot_type s;
    EXPECT_EQ(lim.lane_snapshot(Lane(i), now(), s), Status::kOk);
    return s;
  }
};

TYPED_TEST_SUITE(Lanes, Clocks);

TYPED_TEST(Lanes, HighestLaneFirstAndFifoWithinALane) {
  Permit p = this->take();
  const std::vector<uint32_t> lane_of = {0, 2, 1, 0, 2, 1, 2};
  std::vector<Ticket> ts;
  for (uint32_t l : lane_of) {
    ts.push_back(this->wait(l));
    this->advance(1);
  }
  // Lane 2 in arrival order, then lane 1, then lane 0.
  const std::vector<size_t> expected = {1, 4, 6, 2, 5, 0, 3};
  for (size_t want : expected) {
    EXPECT_EQ(this->lim.release(p, this->now()), Status::kOk);
    const size_t got = this->granted_one(ts);
    ASSERT_EQ(got, want);
    p = this->claim(ts[got]);
    ts[got] = Ticket{};  // claimed: no longer any state but invalid
  }
  EXPECT_EQ(this->lim.release(p, this->now()), Status::kOk);
}

TYPED_TEST(Lanes, NoCallerOfAnyLaneBargesPastAWaiter) {
  Permit p = this->take();
  const Ticket low = this->wait(0);
  Permit q;
  EXPECT_EQ(this->lim.try_acquire(this->now(), q), Status::kWaitersAhead);
  // A higher-lane caller queues in its lane and goes first.
  const Ticket high = this->wait(2);
  EXPECT_EQ(this->lim.release(p, this->now()), Status::kOk);
  EXPECT_EQ(this->lim.state(high), TicketState::kGranted);
  EXPECT_EQ(this->lim.state(low), TicketState::kWaiting);
  EXPECT_EQ(this->lim.release(this->claim(high), this->now()), Status::kOk);
  EXPECT_EQ(this->lim.release(this->claim(low), this->now()), Status::kOk);
}

// A lane-0 waiter under a steady stream of lane-2 waiters: without aging it is never served;
// with an age of 100 ticks it ranks as lane 2 after 200, older than every newcomer there.
TYPED_TEST(Lanes, AgingPromotesAStarvedWaiterWithinItsAge) {
  for (const bool aging : {false, true}) {
    SCOPED_TRACE(aging ? "aging" : "no aging");
    using T = typename TestFixture::Tick;
    const T age = 100;
    this->lanes(aging ? age : 0);
    Permit p = this->take();
    const T queued_at = this->now();
    const Ticket starved = this->wait(0);
    std::vector<Ticket> stream = {this->wait(2)};
    T served_after = 0;
    for (int round = 0; round < 40 && served_after == 0; ++round) {
      this->advance(30);
      stream.push_back(this->wait(2));  // always a newer lane-2 waiter in line
      EXPECT_EQ(this->lim.release(p, this->now()), Status::kOk);
      if (this->lim.state(starved) == TicketState::kGranted) {
        served_after = T(this->now() - queued_at);
        p = this->claim(starved);
        break;
      }
      const size_t got = this->granted_one(stream);
      p = this->claim(stream[got]);
      stream.erase(stream.begin() + static_cast<long>(got));
    }
    if (aging) {
      // Lanes - 1 - 0 = 2 ages to rank at the top, then at most one grant period (30).
      EXPECT_NE(served_after, T(0));
      EXPECT_LE(served_after, T(2 * age + 30));
      EXPECT_GE(served_after, T(2 * age));  // not before: lane 2's own waiters are younger
    } else {
      EXPECT_EQ(served_after, T(0)) << "lane 0 was served while lane 2 had waiters";
      EXPECT_EQ(this->lim.cancel(starved, this->now()), Status::kOk);
    }
    for (const Ticket& t : stream) (void)this->lim.cancel(t, this->now());
    EXPECT_EQ(this->lim.release(p, this->now()), Status::kOk);
    EXPECT_EQ(this->lim.snapshot().held, 0u);
    EXPECT_EQ(this->lim.snapshot().tickets_outstanding, 0u);
  }
}

// Lanes 0 and 2 always have waiters. With a share of 3 in 10 for lane 0, every window of 10
// grants gives lane 0 at least 3; without it, lane 0 gets none.
TYPED_TEST(Lanes, MinimumSharesHoldOverALongRun) {
  for (const bool shares : {false, true}) {
    SCOPED_TRACE(shares ? "shares" : "no shares");
    if (shares)
      this->lanes(0, 10, {3, 0, 0});
    else
      this->lanes(0);
    Permit p = this->take();
    std::vector<Ticket> low, high;
    for (int i = 0; i < 4; ++i) {
      low.push_back(this->wait(0));
      high.push_back(this->wait(2));
    }
    std::vector<uint32_t> lane_per_grant;
    for (int g = 0; g < 200; ++g) {
      this->advance(1);
      EXPECT_EQ(this->lim.release(p, this->now()), Status::kOk);
      bool found = false;
      for (auto* q : {&low, &high}) {
        for (size_t i = 0; i < q->size(); ++i) {
          if (this->lim.state((*q)[i]) != TicketState::kGranted) continue;
          p = this->claim((*q)[i]);
          q->erase(q->begin() + static_cast<long>(i));
          lane_per_grant.push_back(q == &low ? 0u : 2u);
          q->push_back(this->wait(q == &low ? 0u : 2u));  // keep the lane busy
          found = true;
          break;
        }
        if (found) break;
      }
      ASSERT_TRUE(found);
    }
    uint32_t total_low = 0;
    for (size_t w = 0; w + 10 <= lane_per_grant.size(); w += 10) {
      uint32_t n = 0;
      for (size_t i = w; i < w + 10; ++i) n += lane_per_grant[i] == 0;
      if (shares) {
        EXPECT_GE(n, 3u) << "window starting at grant " << w;
      }
      total_low += n;
    }
    if (shares) {
      EXPECT_EQ(total_low, 60u);  // exactly the share: lane 2 still goes first otherwise
    } else {
      EXPECT_EQ(total_low, 0u);
    }
    for (auto* q : {&low, &high}) {
      for (const Ticket& t : *q) EXPECT_EQ(this->lim.cancel(t, this->now()), Status::kOk);
    }
    EXPECT_EQ(this->lim.release(p, this->now()), Status::kOk);
    EXPECT_EQ(this->lim.snapshot().tickets_outstanding, 0u);
  }
}

TYPED_TEST(Lanes, ACancelThatLosesToAGrantGivesTheSlotBackInEveryLane) {
  for (uint32_t l = 0; l < TestFixture::kLanes; ++l) {
    Permit p = this->take();
    const Ticket t = this->wait(l);
    const Ticket behind = this->wait(0);
    EXPECT_EQ(this->lim.release(p, this->now()), Status::kOk);
    ASSERT_EQ(this->lim.state(t), TicketState::kGranted);
    EXPECT_EQ(this->lim.cancel(t, this->now()), Status::kGrantReturned);
    // The slot went on to the next waiter, not lost.
    ASSERT_EQ(this->lim.state(behind), TicketState::kGranted);
    EXPECT_EQ(this->lim.release(this->claim(behind), this->now()), Status::kOk);
    const auto s = this->lim.snapshot();
    EXPECT_EQ(s.held, 0u);
    EXPECT_EQ(s.queued, 0u);
    EXPECT_EQ(s.tickets_outstanding, 0u);
  }
}

TYPED_TEST(Lanes, TimeoutsCloseAndCancelsInEveryLane) {
  using D = typename TestFixture::DL;
  Permit p = this->take();
  std::vector<Ticket> timed, open;
  for (uint32_t l = 0; l < TestFixture::kLanes; ++l) {
    timed.push_back(this->wait(l, D::at_tick(typename TestFixture::Tick(this->now() + 10))));
    open.push_back(this->wait(l));
  }
  this->advance(10);
  this->lim.poll(this->now());
  for (uint32_t l = 0; l < TestFixture::kLanes; ++l) {
    EXPECT_EQ(this->lim.state(timed[l]), TicketState::kTimedOut);
    Permit none;
    EXPECT_EQ(this->lim.claim(timed[l], none), Status::kTimedOut);
    EXPECT_EQ(this->lane(l).timed_out, 1u);
    EXPECT_EQ(this->lane(l).queued, 2u);
  }
  this->lim.close();
  for (const Ticket& t : open) {
    Permit none;
    EXPECT_EQ(this->lim.claim(t, none), Status::kClosed);
  }
  for (uint32_t l = 0; l < TestFixture::kLanes; ++l) EXPECT_EQ(this->lane(l).waiting, 0u);
  EXPECT_EQ(this->lim.snapshot().queued, 0u);
  EXPECT_EQ(this->lim.release(p, this->now()), Status::kOk);
}

TYPED_TEST(Lanes, LaneSnapshotsCountAndMeasureTheLongestWait) {
  Permit p = this->take();
  const Ticket a = this->wait(1);
  this->advance(40);
  const Ticket b = this->wait(1);
  const Ticket c = this->wait(2);
  this->advance(10);
  auto one = this->lane(1);
  EXPECT_EQ(one.waiting, 2u);
  EXPECT_EQ(one.queued, 2u);
  EXPECT_EQ(one.granted, 0u);
  EXPECT_EQ(one.longest_wait, 50u);  // a, the lane's oldest
  EXPECT_EQ(this->lane(2).longest_wait, 10u);
  EXPECT_EQ(this->lane(0).longest_wait, 0u);
  EXPECT_EQ(this->lim.release(p, this->now()), Status::kOk);
  p = this->claim(c);
  EXPECT_EQ(this->lane(2).granted, 1u);
  EXPECT_EQ(this->lane(2).waiting, 0u);
  EXPECT_EQ(this->lane(2).longest_wait, 0u);
  EXPECT_EQ(this->lim.cancel(a, this->now()), Status::kOk);
  EXPECT_EQ(this->lim.release(p, this->now()), Status::kOk);  // grants b, drops a's entry
  one = this->lane(1);
  EXPECT_EQ(one.granted, 1u);
  EXPECT_EQ(one.waiting, 0u);
  EXPECT_EQ(this->lim.release(this->claim(b), this->now()), Status::kOk);
}

TYPED_TEST(Lanes, BadLanesAndSettingsAreRefused) {
  Ticket t;
  EXPECT_EQ(this->lim.enqueue(this->now(), t, TestFixture::DL::none(), Lane(3)),
            Status::kInvalidArgument);
  EXPECT_FALSE(t.valid());
  typename TestFixture::L::lane_snapshot_type s;
  EXPECT_EQ(this->lim.lane_snapshot(Lane(3), this->now(), s), Status::kInvalidArgument);
  typename TestFixture::LaneCfg c;
  c.share_window = 4;
  c.min_share[0] = 3;
  c.min_share[2] = 2;  // 5 > 4
  EXPECT_EQ(this->lim.configure_lanes(c), Status::kInvalidArgument);
  c.min_share[2] = 1;
  EXPECT_EQ(this->lim.configure_lanes(c), Status::kOk);
  EXPECT_EQ(this->lim.snapshot().tickets_outstanding, 0u);
}

// One lane: a Lane argument of 0 is accepted, any other refused.
TEST(OneLane, TakesOnlyLaneZero) {
  using Port = sim::Port<uint64_t, uint64_t>;
  Port port{0};
  Limiter<Port, 2, 4> lim(port);
  Ticket t;
  EXPECT_EQ(lim.enqueue(0, t, Limiter<Port, 2, 4>::deadline_type::none(), Lane(1)),
            Status::kInvalidArgument);
  EXPECT_EQ(lim.enqueue(0, t, Limiter<Port, 2, 4>::deadline_type::none(), Lane(0)), Status::kOk);
  Permit p;
  EXPECT_EQ(lim.claim(t, p), Status::kOk);
  EXPECT_EQ(lim.release(p, 0), Status::kOk);
}

}  // namespace
}  // namespace slotgate::test
