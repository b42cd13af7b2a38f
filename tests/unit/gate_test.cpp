// The usage gate: grants are checked against the upstream's own count.
#include "limiter_fixture.hpp"

namespace slotgate::test {
namespace {

template <class C>
class Gate : public LimiterTest<C> {
 protected:
  using Tick = typename LimiterTest<C>::Tick;
  // limit 4, readings usable for 1000 ticks, no visibility lag, repoll every 200.
  void SetUp() override { gate(4, 1000, 0, 200); }
  void gate(uint32_t limit, Tick max_age, Tick lag, Tick repoll, Tick cooldown = 0) {
    typename LimiterTest<C>::L::config_type c;
    c.limit = limit;
    c.cooldown = cooldown;
    c.gate.max_age = max_age;
    c.gate.visibility_lag = lag;
    c.gate.repoll_interval = repoll;
    c.headroom.track_foreign = false;  // these tests are about the gate alone
    ASSERT_EQ(this->lim.configure(c), Status::kOk);
  }
  // A reading taken just now, taken in by a poll.
  void reading(uint32_t sessions, Tick age = 0) {
    this->port.set_usage(sessions, Tick(this->now() - age));
    this->poll();
  }
  int waiters_granted(const std::vector<Ticket>& ts) {
    int n = 0;
    for (const Ticket& t : ts) n += this->lim.state(t) == TicketState::kGranted;
    return n;
  }
};
TYPED_TEST_SUITE(Gate, Clocks);

TYPED_TEST(Gate, HoldsWhenTheUpstreamIsAtTheLimit) {
  this->reading(4);
  EXPECT_FALSE(this->snap().gate_open);
  EXPECT_EQ(this->try_take(), Status::kGated);
  const Ticket t = this->wait();
  this->poll();
  EXPECT_EQ(this->lim.state(t), TicketState::kWaiting);
  EXPECT_GE(this->snap().counters.held_back_gate, 1u);
}

TYPED_TEST(Gate, AdmitsOneBelowTheLimitAndOnlyOnePerReading) {
  this->reading(3);
  std::vector<Ticket> ts;
  for (int i = 0; i < 3; ++i) ts.push_back(this->wait());
  this->poll();
  EXPECT_EQ(this->waiters_granted(ts), 1);
  EXPECT_EQ(this->try_take(), Status::kWaitersAhead);
  // The upstream now counts that session too: still at the limit, nobody else gets in.
  this->advance(10);
  this->reading(4);
  EXPECT_EQ(this->waiters_granted(ts), 1);
  // It finished: one more.
  this->advance(10);
  this->reading(3);
  EXPECT_EQ(this->waiters_granted(ts), 2);
}

TYPED_TEST(Gate, OneReadingAdmitsItsWholeBudget) {
  this->reading(1);  // L - 3
  std::vector<Ticket> ts;
  for (int i = 0; i < 5; ++i) ts.push_back(this->wait());
  this->poll();
  EXPECT_EQ(this->waiters_granted(ts), 3);
  EXPECT_EQ(this->lim.state(ts[3]), TicketState::kWaiting);
  EXPECT_EQ(this->snap().gate_budget, 0u);
}

TYPED_TEST(Gate, GrantsAfterTheSampleAreCounted) {
  this->take();
  this->take();  // two sessions the upstream has not seen yet
  this->advance(10);
  this->port.set_usage(1, typename TestFixture::Tick(this->now() - 20));  // sampled before both
  this->poll();
  EXPECT_EQ(this->snap().gate_budget, 1u);  // 4 - 1 - 2
  EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kGated);
}

TYPED_TEST(Gate, VisibilityLagCountsGrantsJustBeforeTheSample) {
  this->gate(4, 1000, /*lag=*/50, 200);
  this->take();
  this->advance(30);
  // Sampled 30 after the grant, but the upstream needs 50 to show it: count it.
  this->reading(0);
  EXPECT_EQ(this->snap().gate_budget, 3u);
  this->advance(100);
  this->reading(1);  // now it shows
  EXPECT_EQ(this->snap().gate_budget, 3u);
}

TYPED_TEST(Gate, AppliesToTheFastPathToo) {
  this->reading(2);
  EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kGated);
  EXPECT_EQ(this->snap().held, 2u);
}

TYPED_TEST(Gate, FallsBackToCooldownAloneWithoutAReading) {
  this->poll();
  EXPECT_TRUE(this->snap().gate_open);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kNoSlot);
}

TYPED_TEST(Gate, StaleReadingIsIgnored) {
  this->reading(4, /*age=*/1001);
  EXPECT_TRUE(this->snap().gate_open);
  EXPECT_TRUE(this->snap().has_reading);
  EXPECT_EQ(this->try_take(), Status::kOk);
}

TYPED_TEST(Gate, ClosedGateOpensWhenItsReadingAgesOut) {
  this->reading(4);
  const Ticket t = this->wait();
  auto r = this->poll();
  ASSERT_TRUE(r.next.set);
  this->advance(1001);
  this->poll();
  EXPECT_TRUE(this->snap().gate_open);
  EXPECT_EQ(this->lim.state(t), TicketState::kGranted);
}

TYPED_TEST(Gate, TheFastPathNoticesAnAgedOutReadingItself) {
  this->reading(4);
  EXPECT_EQ(this->try_take(), Status::kGated);
  this->advance(1001);
  EXPECT_EQ(this->try_take(), Status::kOk);  // no poll in between
}

TYPED_TEST(Gate, AsksForReadingsWhileWaitersAreHeldAndStopsWhenTheyAreGone) {
  this->reading(4);
  const uint64_t base = this->port.refresh_requests();
  EXPECT_EQ(this->snap().counters.refresh_requests, 0u);  // nobody waits yet
  const Ticket t = this->wait();
  EXPECT_EQ(this->port.refresh_requests(), base + 1);  // held by the gate: ask
  auto r = this->poll();
  EXPECT_EQ(this->port.refresh_requests(), base + 1);  // not again before repoll_interval
  ASSERT_TRUE(r.next.set);
  EXPECT_EQ(r.next.at, this->at(200));  // the repoll is a deadline
  this->advance(200);
  this->poll();
  EXPECT_EQ(this->port.refresh_requests(), base + 2);
  ASSERT_EQ(this->lim.cancel(t, this->now()), Status::kOk);
  this->advance(200);
  this->poll();
  this->advance(200);
  this->poll();
  EXPECT_EQ(this->port.refresh_requests(), base + 2);  // the queue drained: no more requests
  EXPECT_EQ(this->snap().counters.refresh_requests, base + 2);
}

TYPED_TEST(Gate, AsksAfterEveryReleaseWhileHeld) {
  this->gate(2, 1000, 0, 100000);
  const Permit a = this->take(), b = this->take();
  this->reading(2);
  this->wait();
  this->poll();
  const uint64_t base = this->port.refresh_requests();
  ASSERT_EQ(this->release(a), Status::kOk);
  EXPECT_EQ(this->port.refresh_requests(), base + 1);
  ASSERT_EQ(this->release(b), Status::kOk);
  EXPECT_EQ(this->port.refresh_requests(), base + 2);
}

TYPED_TEST(Gate, BadReadingsAreIgnoredAndCounted) {
  using T = typename TestFixture::Tick;
  this->reading(100000);  // implausible
  EXPECT_EQ(this->snap().counters.bad_readings, 1u);
  EXPECT_FALSE(this->snap().has_reading);
  this->port.set_usage(1, T(this->now() + 1001));  // further in the future than max_age
  this->poll();
  EXPECT_EQ(this->snap().counters.bad_readings, 2u);
  this->reading(3);  // a good one
  EXPECT_EQ(this->snap().reading_sessions, 3u);
  this->port.set_usage(0, T(this->now() - 10));  // goes back in time
  this->poll();
  EXPECT_EQ(this->snap().counters.bad_readings, 3u);
  EXPECT_EQ(this->snap().reading_sessions, 3u);
  // A source stuck on garbage is counted once per reading, and the limiter runs on.
  this->advance(2000);
  this->port.set_usage(999999, this->now());
  for (int i = 0; i < 5; ++i) this->poll();
  EXPECT_EQ(this->snap().counters.bad_readings, 4u);
  EXPECT_TRUE(this->snap().gate_open);
  EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_EQ(this->snap().counters.readings, 1u);
}

TYPED_TEST(Gate, AReadingALittleAheadOfACallersClockIsFreshNotStale) {
  // Another thread's clock read a little later: the sample is treated as taken now, so the
  // grants made since still count against it, and the gate stays closed.
  using T = typename TestFixture::Tick;
  this->take();
  this->port.set_usage(4, T(this->now() + 5));
  this->poll();
  EXPECT_TRUE(this->snap().has_reading);
  EXPECT_FALSE(this->snap().gate_open);
  EXPECT_EQ(this->snap().reading_sampled_at, this->now());
  EXPECT_EQ(this->try_take(), Status::kGated);
  // A caller still further behind does not open the gate either.
  Permit p;
  EXPECT_EQ(this->lim.try_acquire(T(this->now() - 50), p), Status::kGated);
}

TYPED_TEST(Gate, AReadingThePortHoldsBindsTheFastPathBeforeAnyPollTakesItIn) {
  this->poll();
  ASSERT_TRUE(this->snap().gate_open);
  this->port.set_usage(4, this->now());  // the upstream at its cap; nobody has polled
  EXPECT_EQ(this->try_take(), Status::kGated);
  EXPECT_EQ(this->snap().reading_sessions, 4u);  // the fast path had the granter judge it
  this->advance(1);
  this->port.set_usage(3, this->now());  // room for one, again not polled
  EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kGated);
}

TYPED_TEST(Gate, WithoutTheGateTheFastPathDoesNotLookAtReadings) {
  this->gate(4, /*max_age=*/0, 0, 200);
  this->port.set_usage(4, this->now());
  EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_FALSE(this->snap().has_reading);
}

TYPED_TEST(Gate, AUsableReadingFreesAReleasedSlotAtOnceAndCountsTheSessionItself) {
  this->gate(1, 1000, 0, 200, /*cooldown=*/300);
  this->reading(0);
  const Permit p = this->take();
  ASSERT_EQ(this->release(p), Status::kOk);
  auto s = this->snap();
  EXPECT_EQ(s.cooling, 0u);      // no cooldown to sit out: the reading accounts for the session
  EXPECT_EQ(s.gate_budget, 0u);  // granted after the reading, ended within its cooldown
  EXPECT_EQ(this->try_take(), Status::kGated);
  this->advance(10);
  this->reading(0);  // a reading dated after its end: the upstream no longer counts it
  EXPECT_EQ(this->try_take(), Status::kOk);
}

TYPED_TEST(Gate, ACooldownThatWouldOutlastTheReadingStillCools) {
  this->gate(2, 1000, 0, 200, /*cooldown=*/300);
  this->reading(0);
  this->advance(800);  // the reading stays usable for 200 more, less than the cooldown
  const Permit p = this->take();
  ASSERT_EQ(this->release(p), Status::kOk);
  EXPECT_EQ(this->snap().cooling, 1u);
}

TYPED_TEST(Gate, ARecordGrantedAgainWithinTheTailStillCountsItsLastSession) {
  // One record, a tail of 500 beyond a cooldown of 0: the upstream may count a session until
  // 500 after its release. Granting the record again must not make the gate forget it.
  typename TestFixture::L::config_type c;
  c.limit = 3;
  c.gate.max_age = 5000;
  c.gate.tail = 500;
  c.headroom.track_foreign = false;
  ASSERT_EQ(this->lim.configure(c), Status::kOk);
  this->reading(0);
  for (int i = 0; i < 2; ++i) {  // two short sessions after the reading, then a third
    this->advance(10);
    const Permit p = this->take();
    this->advance(10);
    ASSERT_EQ(this->release(p), Status::kOk);
  }
  // Both may still count: 3 - 0 - 2 = 1 left, whichever records they used.
  EXPECT_EQ(this->snap().gate_budget, 1u);
  EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kGated);
  this->advance(500);
  this->poll();  // both have left the count by the tail
  EXPECT_EQ(this->snap().gate_budget, 2u);
}

TYPED_TEST(Gate, AFailedFetchLeavesTheLastReadingToAgeOut) {
  this->reading(4);
  this->port.clear_usage();
  this->poll();
  EXPECT_FALSE(this->snap().gate_open);
  this->advance(1001);
  this->poll();
  EXPECT_TRUE(this->snap().gate_open);
}

}  // namespace
}  // namespace slotgate::test
