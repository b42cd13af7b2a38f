// Everything driven by time: cooldowns, leases, deadlines, pauses, poll's next deadline.
// On the 32-bit clock every one of these crosses the counter's wraparound.
#include "limiter_fixture.hpp"

namespace slotgate::test {
namespace {

template <class C>
using Time = LimiterTest<C>;
TYPED_TEST_SUITE(Time, Clocks);

TYPED_TEST(Time, CooldownHoldsTheReleasedSlot) {
  this->configure(1, /*cooldown=*/350);
  const Permit p = this->take();
  this->advance(200);
  ASSERT_EQ(this->release(p), Status::kOk);
  EXPECT_EQ(this->snap().cooling, 1u);
  this->advance(349);
  EXPECT_EQ(this->try_take(), Status::kNoSlot);
  EXPECT_EQ(this->snap().counters.held_back_cooldown, 1u);
  this->advance(1);
  EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_EQ(this->snap().cooling, 0u);
}

TYPED_TEST(Time, ANewCooldownAppliesToLaterReleasesOnly) {
  this->configure(2, /*cooldown=*/100);
  const Permit a = this->take(), b = this->take();
  ASSERT_EQ(this->release(a), Status::kOk);  // cools until +100
  ASSERT_EQ(this->lim.set_cooldown(300), Status::kOk);
  ASSERT_EQ(this->release(b), Status::kOk);  // cools until +300
  this->advance(100);
  EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kNoSlot);
  this->advance(200);
  EXPECT_EQ(this->try_take(), Status::kOk);
}

TYPED_TEST(Time, CooledSlotGoesToTheWaiterOnPoll) {
  this->configure(1, /*cooldown=*/50);
  const Permit p = this->take();
  const Ticket t = this->wait();
  ASSERT_EQ(this->release(p), Status::kOk);
  EXPECT_EQ(this->lim.state(t), TicketState::kWaiting);
  auto r = this->poll();
  ASSERT_TRUE(r.next.set);
  EXPECT_EQ(r.next.at, this->at(50));
  this->advance(49);
  this->poll();
  EXPECT_EQ(this->lim.state(t), TicketState::kWaiting);
  this->advance(1);
  this->poll();
  EXPECT_EQ(this->lim.state(t), TicketState::kGranted);
}

TYPED_TEST(Time, OverdueLeaseIsReclaimedAndTheNextWaiterGranted) {
  this->configure(1, /*cooldown=*/0, /*max_hold=*/1000);
  const Permit stuck = this->take();
  const Ticket t = this->wait();
  auto r = this->poll();
  ASSERT_TRUE(r.next.set);
  EXPECT_EQ(r.next.at, this->at(1001));  // held *longer* than max_hold
  this->advance(1000);
  this->poll();
  EXPECT_EQ(this->lim.state(t), TicketState::kWaiting);  // exactly max_hold: still its own
  this->advance(1);
  this->poll();
  EXPECT_EQ(this->lim.state(t), TicketState::kGranted);
  const Permit next = this->claim_ok(t);
  EXPECT_EQ(this->snap().counters.reclaimed, 1u);
  // The stuck holder's late release is reported and changes nothing.
  EXPECT_EQ(this->release(stuck), Status::kReclaimed);
  EXPECT_EQ(this->snap().held, 1u);
  EXPECT_EQ(this->release(next), Status::kOk);
  EXPECT_EQ(this->snap().held, 0u);
}

TYPED_TEST(Time, ReclaimedLeaseCoolsLikeARelease) {
  this->configure(1, /*cooldown=*/200, /*max_hold=*/500);
  this->take();
  this->advance(501);
  this->poll();
  EXPECT_EQ(this->snap().cooling, 1u);
  EXPECT_EQ(this->try_take(), Status::kNoSlot);
  this->advance(200);
  EXPECT_EQ(this->try_take(), Status::kOk);
}

TYPED_TEST(Time, UnclaimedGrantPastMaxHoldIsReclaimed) {
  this->configure(1, 0, /*max_hold=*/100);
  const Permit p = this->take();
  const Ticket t = this->wait();
  ASSERT_EQ(this->release(p), Status::kOk);
  ASSERT_EQ(this->lim.state(t), TicketState::kGranted);
  this->advance(101);
  this->poll();
  Permit out;
  EXPECT_EQ(this->lim.claim(t, out), Status::kReclaimed);
  EXPECT_FALSE(out.valid());
  EXPECT_EQ(this->try_take(), Status::kOk);
}

TYPED_TEST(Time, TicketDeadlinePassesOnPoll) {
  this->configure(1);
  this->take();
  const Ticket t = this->wait(TestFixture::DL::at_tick(this->at(300)));
  auto r = this->poll();
  ASSERT_TRUE(r.next.set);
  EXPECT_EQ(r.next.at, this->at(300));
  this->advance(299);
  this->poll();
  EXPECT_EQ(this->lim.state(t), TicketState::kWaiting);
  this->advance(1);
  const uint64_t before = this->port.waiter_notifications();
  this->poll();
  EXPECT_EQ(this->port.waiter_notifications(), before + 1);  // its owner alone is woken
  EXPECT_EQ(this->port.last_woken(), t.index);
  EXPECT_EQ(this->lim.state(t), TicketState::kTimedOut);
  Permit out;
  EXPECT_EQ(this->lim.claim(t, out), Status::kTimedOut);
  EXPECT_EQ(this->lim.claim(t, out), Status::kStaleTicket);
  const auto s = this->snap();
  EXPECT_EQ(s.counters.timed_out, 1u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.tickets_outstanding, 0u);
}

TYPED_TEST(Time, TimedOutWaiterIsSkippedByTheNextGrant) {
  this->configure(1);
  const Permit p = this->take();
  const Ticket a = this->wait(TestFixture::DL::at_tick(this->at(10)));
  const Ticket b = this->wait();
  this->advance(10);
  this->poll();
  ASSERT_EQ(this->release(p), Status::kOk);
  EXPECT_EQ(this->lim.state(a), TicketState::kTimedOut);
  EXPECT_EQ(this->lim.state(b), TicketState::kGranted);
  EXPECT_EQ(this->lim.cancel(a, this->now()), Status::kTimedOut);
}

TYPED_TEST(Time, PauseHoldsEveryGrantUntilItEnds) {
  this->configure(2);
  ASSERT_EQ(this->lim.pause_until(this->at(1000), this->now()), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kPaused);
  const Ticket t = this->wait();
  EXPECT_EQ(this->lim.state(t), TicketState::kWaiting);
  auto r = this->poll();
  ASSERT_TRUE(r.next.set);
  EXPECT_EQ(r.next.at, this->at(1000));
  EXPECT_TRUE(this->snap().paused);
  this->advance(1000);
  this->poll();
  EXPECT_EQ(this->lim.state(t), TicketState::kGranted);
  EXPECT_FALSE(this->snap().paused);
  EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_GE(this->snap().counters.held_back_pause, 1u);
}

TYPED_TEST(Time, AnEarlierPauseDoesNotShortenALaterOne) {
  this->configure(1);
  ASSERT_EQ(this->lim.pause_until(this->at(500), this->now()), Status::kOk);
  ASSERT_EQ(this->lim.pause_until(this->at(100), this->now()), Status::kOk);
  this->advance(100);
  EXPECT_EQ(this->try_take(), Status::kPaused);
  this->advance(400);
  EXPECT_EQ(this->try_take(), Status::kOk);
}

TYPED_TEST(Time, ResumeEndsAPauseEarly) {
  this->configure(1);
  ASSERT_EQ(this->lim.pause_until(this->at(500), this->now()), Status::kOk);
  this->lim.resume();
  EXPECT_EQ(this->try_take(), Status::kOk);
}

TYPED_TEST(Time, UpstreamRejectionPausesForALongerRetryAfter) {
  this->configure(2, /*cooldown=*/0, 0, /*default_pause=*/300);
  const Permit p = this->take();
  ASSERT_EQ(this->release(p, TestFixture::Out::rejected_retry_after(700)), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kPaused);
  this->advance(699);
  EXPECT_EQ(this->try_take(), Status::kPaused);
  this->advance(1);
  EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_EQ(this->snap().counters.rejected_by_upstream, 1u);
}

TYPED_TEST(Time, AShorterRetryAfterDoesNotCutTheBackoffShort) {
  this->configure(2, /*cooldown=*/0, 0, /*default_pause=*/5000);
  const Permit p = this->take();
  ASSERT_EQ(this->release(p, TestFixture::Out::rejected_retry_after(700)), Status::kOk);
  this->advance(4999);
  EXPECT_EQ(this->try_take(), Status::kPaused);
  this->advance(1);
  EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_EQ(this->snap().backoff, 5000u);
}

TYPED_TEST(Time, UpstreamRejectionWithoutRetryAfterUsesTheDefaultPause) {
  this->configure(2, 0, 0, /*default_pause=*/300);
  const Permit p = this->take();
  ASSERT_EQ(this->release(p, TestFixture::Out::rejected()), Status::kOk);
  this->advance(299);
  EXPECT_EQ(this->try_take(), Status::kPaused);
  this->advance(1);
  EXPECT_EQ(this->try_take(), Status::kOk);
}

// Nothing due: no deadline, but on a tick that wraps in service the heartbeat (long_idle_test).
TYPED_TEST(Time, IdleLimiterHasNoDeadlineButTheHeartbeat) {
  using Tk = Ticks<typename TestFixture::Tick>;
  const auto idle = [this] {
    const auto r = this->poll();
    if (!Tk::kWrapsInService) return !r.next.set;
    return r.next.set && r.next.at == this->at(Tk::kHeartbeat);
  };
  this->configure(2);
  EXPECT_TRUE(idle());
  const Permit p = this->take();
  EXPECT_TRUE(idle());
  ASSERT_EQ(this->release(p), Status::kOk);
  EXPECT_TRUE(idle());
}

TYPED_TEST(Time, NextDeadlineIsTheEarliestEvent) {
  this->configure(3, /*cooldown=*/400, /*max_hold=*/900);
  const Permit a = this->take();
  this->take();
  this->advance(100);
  ASSERT_EQ(this->release(a), Status::kOk);  // cooldown ends at +400 from here
  this->take();                              // leaves nothing free, so the ticket below waits
  this->wait(TestFixture::DL::at_tick(this->at(250)));
  auto r = this->poll();
  ASSERT_TRUE(r.next.set);
  EXPECT_EQ(r.next.at, this->at(250));  // ticket deadline beats cooldown (400) and lease (800)
  this->advance(250);
  r = this->poll();
  ASSERT_TRUE(r.next.set);
  EXPECT_EQ(r.next.at, this->at(150));  // then the cooldown
  this->advance(150);
  r = this->poll();
  ASSERT_TRUE(r.next.set);
  EXPECT_EQ(r.next.at, this->at(401));  // then the first lease: taken 500 ago, overdue past 900
}

// resume() and configure() take no clock: they use the last time a poll saw, and set_limit
// judges the new limit with its own `now`. They used 0, which on a tick that wraps is no
// stand-in for "long ago": with the clock just past half its range, an episode resumed at 0
// read as opened long since, and the next rejection within max_pause started over at one.
// (set_limit's granter pass, run with its `now` right after, set its effective limit right.)
template <class Tick>
std::vector<uint64_t> resume_and_set_limit(Tick start) {
  using Port = sim::Port<Tick, uint32_t>;
  using L = Limiter<Port, 4, 8>;
  using Out = typename L::outcome_type;
  Port port(start);
  L lim(port);
  Config<Tick> c;
  c.limit = 3;
  c.default_pause = 1000;
  c.max_pause = 8000;
  c.gate.max_age = 3000;
  EXPECT_EQ(lim.configure(c), Status::kOk);
  std::vector<uint64_t> seen;
  Permit p;
  lim.poll(port.now());
  seen.push_back(uint64_t(lim.try_acquire(port.now(), p)));
  seen.push_back(uint64_t(lim.release(p, port.now(), Out::rejected())));
  port.advance(1000);
  lim.poll(port.now());  // half-open
  lim.resume();          // opened now: the next episode within max_pause follows this one
  port.advance(100);
  lim.poll(port.now());
  seen.push_back(uint64_t(lim.try_acquire(port.now(), p)));
  seen.push_back(uint64_t(lim.release(p, port.now(), Out::rejected())));
  seen.push_back(lim.snapshot().consecutive_episodes);
  lim.resume();
  // Another client's session in a fresh reading: one slot kept for it, and one for its growth.
  port.set_usage(1, port.now());
  lim.poll(port.now());
  seen.push_back(lim.snapshot().effective_limit);
  port.advance(100);
  EXPECT_EQ(lim.set_limit(3, port.now(), LimitChange::kKeepHeadroom), Status::kOk);
  seen.push_back(lim.snapshot().effective_limit);
  return seen;
}

TEST(TimeWithoutAClock, ResumeAndSetLimitUseTheLastPoll) {
  const auto wide = resume_and_set_limit<uint64_t>(1000);
  EXPECT_EQ(wide[4], 2u);  // consecutive
  EXPECT_EQ(wide[5], 1u);  // 3 - (1 + 1)
  EXPECT_EQ(wide[6], 1u);
  // The last poll just past half the 32-bit range from 0.
  EXPECT_EQ(resume_and_set_limit<uint32_t>(0x80000000u - 900u), wide);
}

}  // namespace
}  // namespace slotgate::test
