// Adaptive headroom: slots held back for usage the limiter cannot see.
#include "limiter_fixture.hpp"

namespace slotgate::test {
namespace {

template <class C>
class Headroom : public ::testing::Test {
 protected:
  using Port = typename C::Port;
  using Tick = typename Port::tick_type;
  using L = Limiter<Port, 16, 16>;
  using Out = typename L::outcome_type;

  Port port{C::kStart};
  L lim{port};

  Tick now() const { return port.now(); }
  void configure(uint32_t limit, Tick recover_after, bool sticky = false, Tick confirm = 0,
                 Tick cooldown = 0) {
    typename L::config_type c;
    c.limit = limit;
    c.cooldown = cooldown;
    c.learn.max_lag = cooldown != 0 ? 10000 : 0;  // releases are evidence only when learning
    c.default_pause = 100;
    c.gate.max_age = 1000;
    c.headroom.recover_after = recover_after;
    c.headroom.sticky = sticky;
    c.headroom.foreign_confirm = confirm;
    ASSERT_EQ(lim.configure(c), Status::kOk);
  }
  Permit take() {
    Permit p;
    EXPECT_EQ(lim.try_acquire(now(), p), Status::kOk);
    return p;
  }
  uint32_t effective() const { return lim.snapshot().effective_limit; }
  // A fresh reading of `n` sessions, taken in.
  void reading(uint32_t n) {
    port.set_usage(n, now());
    lim.poll(now());
  }
  // Saturate the effective limit and queue one more, so there is demand.
  void demand() {
    Permit p;
    while (lim.try_acquire(now(), p) == Status::kOk) {
    }
    Ticket t;
    ASSERT_EQ(lim.enqueue(now(), t), Status::kOk);
  }
};
TYPED_TEST_SUITE(Headroom, Clocks);

TYPED_TEST(Headroom, AStormOfRejectionsInOneEpisodeIsOneStep) {
  this->configure(12, 0);
  Permit p[10];
  for (auto& x : p) x = this->take();
  for (auto& x : p)
    ASSERT_EQ(this->lim.release(x, this->now(), TestFixture::Out::rejected()), Status::kOk);
  const auto s = this->lim.snapshot();
  EXPECT_EQ(s.headroom, 1u);
  EXPECT_EQ(s.effective_limit, 11u);
  EXPECT_EQ(s.headroom_reason, HeadroomReason::kRejected);
  EXPECT_EQ(s.limit_before_headroom, 12u);
  EXPECT_EQ(s.headroom_since, this->now());
  EXPECT_EQ(s.counters.rejected_by_upstream, 10u);
  EXPECT_EQ(s.counters.headroom_steps_up, 1u);
  EXPECT_EQ(s.counters.episodes, 1u);
  // After the pause, the half-open probe is refused too: that is the next episode.
  this->port.advance(100);
  const Permit q = this->take();
  ASSERT_EQ(this->lim.release(q, this->now(), TestFixture::Out::rejected()), Status::kOk);
  EXPECT_EQ(this->effective(), 10u);
  EXPECT_EQ(this->lim.snapshot().counters.episodes, 2u);
}

// A share handed down by a fleet keeps what headroom learned; an operator's change clears it.
TYPED_TEST(Headroom, AShareKeepsItAnOperatorsChangeClearsIt) {
  this->configure(4, 0);
  Permit p = this->take();
  ASSERT_EQ(this->lim.release(p, this->now(), TestFixture::Out::rejected()), Status::kOk);
  ASSERT_EQ(this->lim.snapshot().headroom, 1u);
  ASSERT_EQ(this->lim.set_limit(3, this->now(), LimitChange::kKeepHeadroom), Status::kOk);
  auto s = this->lim.snapshot();
  EXPECT_EQ(s.headroom, 1u);
  EXPECT_EQ(s.effective_limit, 2u);
  EXPECT_EQ(s.limit_before_headroom, 4u) << "what it says stays too";
  ASSERT_EQ(this->lim.set_limit(1, this->now(), LimitChange::kKeepHeadroom), Status::kOk);
  EXPECT_EQ(this->lim.snapshot().effective_limit, 1u) << "never the last slot";
  ASSERT_EQ(this->lim.set_limit(0, this->now(), LimitChange::kKeepHeadroom), Status::kOk);
  EXPECT_EQ(this->lim.snapshot().effective_limit, 0u);
  ASSERT_EQ(this->lim.set_limit(3, this->now(), LimitChange::kKeepHeadroom), Status::kOk);
  EXPECT_EQ(this->lim.snapshot().effective_limit, 2u);
  ASSERT_EQ(this->lim.set_limit(3, this->now()), Status::kOk);
  s = this->lim.snapshot();
  EXPECT_EQ(s.headroom, 0u);
  EXPECT_EQ(s.effective_limit, 3u);
  EXPECT_EQ(s.limit_before_headroom, 0u);
}

TYPED_TEST(Headroom, NeverHoldsBackTheLastSlot) {
  this->configure(2, 0);
  Permit p = this->take();
  ASSERT_EQ(this->lim.release(p, this->now(), TestFixture::Out::rejected()), Status::kOk);
  for (int i = 0; i < 5; ++i) {
    this->port.advance(100000);  // past any backoff: the probe goes, and is refused
    p = this->take();
    ASSERT_EQ(this->lim.release(p, this->now(), TestFixture::Out::rejected()), Status::kOk);
  }
  EXPECT_EQ(this->effective(), 1u);
  EXPECT_EQ(this->lim.snapshot().headroom, 1u);
}

TYPED_TEST(Headroom, RejectedHeadroomRecoversOneStepPerQuietPeriodWithDemand) {
  this->configure(4, /*recover_after=*/1000);
  for (int i = 0; i < 2; ++i) {
    const Permit p = this->take();  // the second is the half-open probe
    ASSERT_EQ(this->lim.release(p, this->now(), TestFixture::Out::rejected()), Status::kOk);
    this->port.advance(1000);
  }
  const Permit ok = this->take();  // a probe that ends well opens the limiter
  ASSERT_EQ(this->lim.release(ok, this->now()), Status::kOk);
  ASSERT_EQ(this->effective(), 2u);
  // Quiet, but no demand: no probing.
  this->port.advance(5000);
  this->lim.poll(this->now());
  EXPECT_EQ(this->effective(), 2u);
  this->demand();
  this->lim.poll(this->now());
  EXPECT_EQ(this->effective(), 3u);  // one step
  this->demand();                    // the waiter got the new slot; queue another
  auto r = this->lim.poll(this->now());
  EXPECT_EQ(this->effective(), 3u);  // not two at once
  ASSERT_TRUE(r.next.set);
  EXPECT_EQ(r.next.at, typename TestFixture::Tick(this->now() + 1000));
  this->port.advance(1000);
  this->lim.poll(this->now());
  EXPECT_EQ(this->effective(), 4u);
  const auto s = this->lim.snapshot();
  EXPECT_EQ(s.headroom, 0u);
  EXPECT_EQ(s.headroom_reason, HeadroomReason::kNone);
  EXPECT_EQ(s.limit_before_headroom, 0u);
  EXPECT_EQ(s.counters.headroom_steps_down, 2u);
}

// Another client's usage confirmed while a rejection step stands is what the step may stand
// for arriving: the wait for the step's recovery starts over from there.
TYPED_TEST(Headroom, AnotherClientArrivingRestartsTheRecoveryWait) {
  this->configure(4, /*recover_after=*/1000, false, /*confirm=*/100);
  const Permit p = this->take();
  ASSERT_EQ(this->lim.release(p, this->now(), TestFixture::Out::rejected()), Status::kOk);
  this->port.advance(100);  // the pause is over
  const Permit probe = this->take();
  ASSERT_EQ(this->lim.release(probe, this->now()), Status::kOk);
  ASSERT_EQ(this->lim.snapshot().headroom_rejected, 1u);
  this->port.advance(400);
  this->reading(1);  // another client's session, 500 after the rejection
  this->port.advance(100);
  this->reading(1);  // confirmed: H_foreign rises, 600 after the rejection
  ASSERT_EQ(this->lim.snapshot().headroom_foreign, 1u);
  this->demand();
  this->port.advance(500);  // 1100 after the rejection, 500 after the other client arrived
  this->reading(2);
  EXPECT_EQ(this->lim.snapshot().headroom_rejected, 1u);
  this->port.advance(500);  // 1000 after it arrived
  this->reading(2);
  EXPECT_EQ(this->lim.snapshot().headroom_rejected, 0u);
}

// A rejection soon after a step down says the step came too soon: the next steps wait twice
// as long, and a recovery time spent at H = 0 halves the wait again.
TYPED_TEST(Headroom, RecoveryBacksOffWhenARejectionFollowsAStepDown) {
  this->configure(4, /*recover_after=*/1000);
  {
    const Permit p = this->take();
    ASSERT_EQ(this->lim.release(p, this->now(), TestFixture::Out::rejected()), Status::kOk);
  }
  this->lim.resume();
  ASSERT_EQ(this->effective(), 3u);
  EXPECT_EQ(this->lim.snapshot().headroom_recovery, typename TestFixture::Tick(1000));
  Permit held[3];
  for (auto& p : held) p = this->take();
  Ticket waiter;
  ASSERT_EQ(this->lim.enqueue(this->now(), waiter), Status::kOk);  // demand
  this->port.advance(1000);
  this->lim.poll(this->now());
  ASSERT_EQ(this->effective(), 4u);  // the first step down, after recover_after
  EXPECT_EQ(this->lim.snapshot().headroom_recovery, typename TestFixture::Tick(1000));

  this->port.advance(500);  // a rejection within a recovery time of that step
  ASSERT_EQ(this->lim.release(held[0], this->now(), TestFixture::Out::rejected()), Status::kOk);
  this->lim.resume();
  ASSERT_EQ(this->effective(), 3u);
  EXPECT_EQ(this->lim.snapshot().headroom_recovery, typename TestFixture::Tick(2000));
  this->port.advance(1000);
  this->lim.poll(this->now());
  EXPECT_EQ(this->effective(), 3u);  // recover_after is no longer enough
  this->port.advance(1000);
  this->lim.poll(this->now());
  ASSERT_EQ(this->effective(), 4u);

  // Demand goes on (every slot is out) without a rejection: one recovery time at H = 0 halves
  // the wait, and a rejection after that long is no relapse.
  held[0] = this->take();
  ASSERT_EQ(this->lim.snapshot().held, 4u);
  this->port.advance(1999);
  this->lim.poll(this->now());
  EXPECT_EQ(this->lim.snapshot().headroom_recovery, typename TestFixture::Tick(2000));
  this->port.advance(1);
  this->lim.poll(this->now());
  EXPECT_EQ(this->lim.snapshot().headroom_recovery, typename TestFixture::Tick(1000));
  ASSERT_EQ(this->lim.release(held[1], this->now(), TestFixture::Out::rejected()), Status::kOk);
  EXPECT_EQ(this->effective(), 3u);
  EXPECT_EQ(this->lim.snapshot().headroom_recovery, typename TestFixture::Tick(1000));
  // A manual limit change forgets the back-off with the rest of H.
  ASSERT_EQ(this->lim.set_limit(4, this->now()), Status::kOk);
  EXPECT_EQ(this->lim.snapshot().headroom_recovery, typename TestFixture::Tick(1000));
}

TYPED_TEST(Headroom, StickyNeverRecoversByItself) {
  this->configure(4, /*recover_after=*/1000, /*sticky=*/true);
  const Permit p = this->take();
  ASSERT_EQ(this->lim.release(p, this->now(), TestFixture::Out::rejected()), Status::kOk);
  this->port.advance(1000);
  const Permit probe = this->take();
  ASSERT_EQ(this->lim.release(probe, this->now()), Status::kOk);
  this->demand();
  for (int i = 0; i < 10; ++i) {
    this->port.advance(1000);
    this->lim.poll(this->now());
  }
  EXPECT_EQ(this->effective(), 3u);
  // Only a manual limit change clears it, and everything said about it.
  ASSERT_EQ(this->lim.set_limit(4, this->now()), Status::kOk);
  const auto s = this->lim.snapshot();
  EXPECT_EQ(s.effective_limit, 4u);
  EXPECT_EQ(s.headroom, 0u);
  EXPECT_EQ(s.limit_before_headroom, 0u);
  EXPECT_EQ(s.headroom_reason, HeadroomReason::kNone);
}

TYPED_TEST(Headroom, ForeignUsageCountsOnceEveryReadingForTheConfirmTimeShowsIt) {
  this->configure(4, 0, false, /*confirm=*/300);
  this->take();  // ours: 1
  this->port.advance(1);
  this->reading(3);                                      // 2 beyond ours
  EXPECT_EQ(this->lim.snapshot().headroom_foreign, 0u);  // not yet: it may be a passing spike
  this->port.advance(200);
  this->reading(2);  // only 1 beyond ours now
  this->port.advance(100);
  this->reading(3);
  auto s = this->lim.snapshot();
  EXPECT_EQ(s.headroom_foreign, 1u);  // 300 of readings all showed at least 1
  EXPECT_EQ(s.foreign_seen, 1u);
  this->port.advance(300);
  this->reading(3);
  s = this->lim.snapshot();
  EXPECT_EQ(s.headroom_foreign, 2u);
  EXPECT_EQ(s.headroom_reason, HeadroomReason::kForeign);
  // Fresh readings: the gate counts foreign sessions itself (4 - 3 = 1 left, less the one slot
  // kept free beyond another client's peak), so the occupancy limit does not hold them back.
  EXPECT_EQ(s.effective_limit, 4u);
  EXPECT_EQ(s.gate_budget, 0u);
}

TYPED_TEST(Headroom, AForeignSessionThatDisappearsGivesItsSlotBackAtTheNextReading) {
  this->configure(4, 0, false, /*confirm=*/100);
  this->reading(1);
  this->port.advance(100);
  this->reading(1);
  ASSERT_EQ(this->lim.snapshot().headroom_foreign, 1u);
  this->port.advance(50);
  this->reading(0);  // it ended
  const auto s = this->lim.snapshot();
  EXPECT_EQ(s.headroom_foreign, 0u);
  EXPECT_EQ(s.gate_budget, 4u);  // seen once, never seen to return: no room kept for it
  EXPECT_EQ(s.counters.headroom_steps_down, 1u);
}

TYPED_TEST(Headroom, ForeignUsageIsHeldWhenReadingsGoStaleAndDecaysOverItsLifetime) {
  this->configure(4, 0, false, /*confirm=*/0);
  this->take();  // ours: 1
  this->port.advance(1);
  this->reading(3);  // 2 foreign
  this->port.advance(400);
  this->reading(3);  // still there 400 later: its lifetime so far
  ASSERT_EQ(this->lim.snapshot().headroom_foreign, 2u);
  // Stale: the gate opens, but L_eff still leaves room for the 2 foreign sessions.
  this->port.advance(1001);
  this->lim.poll(this->now());
  auto s = this->lim.snapshot();
  EXPECT_TRUE(s.gate_open);
  EXPECT_EQ(s.effective_limit, 2u);
  EXPECT_EQ(s.foreign_hold, 400u);
  Permit p, q;
  EXPECT_EQ(this->lim.try_acquire(this->now(), p), Status::kOk);  // ours: 2 of 2
  EXPECT_EQ(this->lim.try_acquire(this->now(), q), Status::kNoSlot);
  EXPECT_GE(this->lim.snapshot().counters.held_back_headroom, 1u);
  ASSERT_EQ(this->lim.release(p, this->now()), Status::kOk);
  // One step per hold time from when readings went stale.
  const auto r = this->lim.poll(this->now());
  ASSERT_TRUE(r.next.set);
  EXPECT_EQ(r.next.at, typename TestFixture::Tick(this->now() + 400));
  this->port.set(r.next.at);
  this->lim.poll(this->now());
  EXPECT_EQ(this->lim.snapshot().headroom_foreign, 1u);
  this->port.advance(400);
  this->lim.poll(this->now());
  EXPECT_EQ(this->lim.snapshot().headroom_foreign, 0u);
  EXPECT_EQ(this->effective(), 4u);
}

TYPED_TEST(Headroom, StickyForeignHeadroomNeverDecays) {
  this->configure(4, 0, /*sticky=*/true, /*confirm=*/0);
  this->reading(2);
  ASSERT_EQ(this->lim.snapshot().headroom_foreign, 2u);
  this->port.advance(10);
  this->reading(0);  // fresh readings showing less do not lower it either
  EXPECT_EQ(this->lim.snapshot().headroom_foreign, 2u);
  for (int i = 0; i < 10; ++i) {
    this->port.advance(5000);
    this->lim.poll(this->now());
  }
  EXPECT_EQ(this->lim.snapshot().headroom_foreign, 2u);
}

TYPED_TEST(Headroom, OneSlotBeyondAnotherClientsPeakStaysFreeWhileItIsOn) {
  this->configure(4, 0, false, /*confirm=*/0);
  this->reading(2);  // another client holds 2
  // 4 - 2 shown - 1 kept free (it may replace a session, briefly holding both).
  EXPECT_EQ(this->lim.snapshot().gate_budget, 1u);
  this->port.advance(10);
  this->reading(1);  // it closed one; it may reopen it
  EXPECT_EQ(this->lim.snapshot().gate_budget, 1u);
}

TYPED_TEST(Headroom, AClientThatCameBackIsExpectedBack) {
  this->configure(4, 0, false, /*confirm=*/0);
  this->reading(1);  // on
  this->port.advance(100);
  this->reading(0);  // away for 500
  this->port.advance(500);
  this->reading(1);  // back: it comes and goes
  this->port.advance(100);
  this->reading(0);  // away again
  auto s = this->lim.snapshot();
  EXPECT_EQ(s.foreign_away_for, 500u);
  EXPECT_EQ(s.gate_budget, 3u);  // one slot kept for its return
  // Long past how long it stayed away (plus a quarter): the slot is ours again.
  this->port.advance(626);
  this->reading(0);
  EXPECT_EQ(this->lim.snapshot().gate_budget, 4u);
}

// Right after a release of ours a reading cannot tell our ended session, still counted, from
// another client's: the lower figure hides the other client. A client already confirmed stays
// counted through that (so its slot is not handed out), and a reading that shows fewer sessions
// than ours surely live still ends it at once.
TYPED_TEST(Headroom, AClientHiddenBehindOurLaggingReleaseStaysCounted) {
  this->configure(4, 0, false, /*confirm=*/100, /*cooldown=*/200);
  const Permit p = this->take();  // ours: 1
  this->port.advance(1);
  this->reading(2);  // 1 beyond ours
  this->port.advance(100);
  this->reading(2);
  ASSERT_EQ(this->lim.snapshot().foreign_seen, 1u);
  ASSERT_EQ(this->lim.release(p, this->now()), Status::kOk);
  this->port.advance(10);
  this->reading(1);  // ours, still counted for up to 200, or the other client's
  auto s = this->lim.snapshot();
  EXPECT_EQ(s.foreign_seen, 1u);
  EXPECT_EQ(s.headroom_foreign, 1u);
  // 4 - 1 shown - 2 kept free (its session, and one beyond its peak): the ambiguity is
  // resolved against us, not against the other client.
  EXPECT_EQ(s.gate_room, 2u);
  EXPECT_EQ(s.gate_budget, 1u);
  this->port.advance(10);
  this->reading(0);  // nobody: it is gone
  s = this->lim.snapshot();
  EXPECT_EQ(s.foreign_seen, 0u);
  EXPECT_EQ(s.headroom_foreign, 0u);
}

// A 429 with no other client in sight stands for usage the limiter could not see. When
// readings then show another client, the room kept for it serves the same purpose: one slot
// kept free, not two.
TYPED_TEST(Headroom, ARejectionWithNoOtherClientInSightOverlapsTheReserve) {
  this->configure(4, 0, false, /*confirm=*/0);
  const Permit p = this->take();
  ASSERT_EQ(this->lim.release(p, this->now(), TestFixture::Out::rejected()), Status::kOk);
  ASSERT_EQ(this->lim.snapshot().headroom_rejected, 1u);
  this->reading(2);  // another client holds 2
  // 4 - 2 shown - 1 kept free (the larger of the reserve, 1, and the rejection's step, 1).
  EXPECT_EQ(this->lim.snapshot().gate_room, 1u);
  EXPECT_EQ(this->lim.snapshot().gate_budget, 1u);
}

// A rejection while room was already kept for another client says that room was short, and a
// refused half-open probe (granted with every step in force) says the same of every step: such
// steps add to the reserve. (With nobody in sight, a step overlaps the reserve: see above.)
TYPED_TEST(Headroom, StepsTheReserveDidNotPreventAddToIt) {
  this->configure(4, 0, false, /*confirm=*/0);
  this->reading(1);  // another client holds 1: 2 kept for it (its session and one beyond)
  Permit p = this->take();
  ASSERT_EQ(this->lim.release(p, this->now(), TestFixture::Out::rejected()), Status::kOk);
  this->port.advance(1);
  this->reading(1);
  // 4 - 1 shown - (1 reserve + 1 step taken despite it).
  EXPECT_EQ(this->lim.snapshot().gate_room, 2u);
  EXPECT_EQ(this->lim.snapshot().gate_budget, 1u);
}

TYPED_TEST(Headroom, AfterARefusedProbeEveryStepAddsToTheReserve) {
  this->configure(4, 0, false, /*confirm=*/0);
  Permit p = this->take();
  ASSERT_EQ(this->lim.release(p, this->now(), TestFixture::Out::rejected()), Status::kOk);
  this->port.advance(100);  // the pause is over: half-open
  this->reading(0);
  p = this->take();  // the probe
  ASSERT_EQ(this->lim.release(p, this->now(), TestFixture::Out::rejected()), Status::kOk);
  ASSERT_EQ(this->lim.snapshot().headroom_rejected, 2u);
  this->port.advance(1);
  this->reading(1);
  // 4 - 1 shown - (1 reserve + 2 steps): nothing.
  EXPECT_EQ(this->lim.snapshot().gate_room, 3u);
  EXPECT_EQ(this->lim.snapshot().gate_budget, 0u);
}

TYPED_TEST(Headroom, ConfigureClearsHeadroom) {
  this->configure(4, 0);
  const Permit p = this->take();
  ASSERT_EQ(this->lim.release(p, this->now(), TestFixture::Out::rejected()), Status::kOk);
  ASSERT_EQ(this->effective(), 3u);
  this->configure(4, 0);
  EXPECT_EQ(this->effective(), 4u);
  EXPECT_EQ(this->lim.snapshot().limit_before_headroom, 0u);
}

}  // namespace
}  // namespace slotgate::test
