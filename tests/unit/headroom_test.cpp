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
  void configure(uint32_t limit, Tick recover_after, bool sticky = false) {
    typename L::config_type c;
    c.limit = limit;
    c.default_pause = 100;
    c.gate.max_age = 1000;
    c.headroom.recover_after = recover_after;
    c.headroom.sticky = sticky;
    ASSERT_EQ(lim.configure(c), Status::kOk);
  }
  Permit take() {
    Permit p;
    EXPECT_EQ(lim.try_acquire(now(), p), Status::kOk);
    return p;
  }
  uint32_t effective() const { return lim.snapshot().effective_limit; }
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

TYPED_TEST(Headroom, AStormOfRejectionsInOnePauseIsOneStep) {
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
  // A rejection after the pause is a new event.
  this->port.advance(100);
  const Permit q = this->take();
  ASSERT_EQ(this->lim.release(q, this->now(), TestFixture::Out::rejected()), Status::kOk);
  EXPECT_EQ(this->effective(), 10u);
}

TYPED_TEST(Headroom, NeverHoldsBackTheLastSlot) {
  this->configure(2, 0);
  for (int i = 0; i < 5; ++i) {
    const Permit p = this->take();
    ASSERT_EQ(this->lim.release(p, this->now(), TestFixture::Out::rejected()), Status::kOk);
    this->port.advance(100);
  }
  EXPECT_EQ(this->effective(), 1u);
  EXPECT_EQ(this->lim.snapshot().headroom, 1u);
}

TYPED_TEST(Headroom, RecoversOneStepPerQuietPeriodWithDemand) {
  this->configure(4, /*recover_after=*/1000);
  for (int i = 0; i < 2; ++i) {
    const Permit p = this->take();
    ASSERT_EQ(this->lim.release(p, this->now(), TestFixture::Out::rejected()), Status::kOk);
    this->port.advance(100);
  }
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
  EXPECT_EQ(s.counters.headroom_steps_down, 2u);
}

TYPED_TEST(Headroom, StickyNeverRecoversByItself) {
  this->configure(4, /*recover_after=*/1000, /*sticky=*/true);
  const Permit p = this->take();
  ASSERT_EQ(this->lim.release(p, this->now(), TestFixture::Out::rejected()), Status::kOk);
  this->demand();
  for (int i = 0; i < 10; ++i) {
    this->port.advance(1000);
    this->lim.poll(this->now());
  }
  EXPECT_EQ(this->effective(), 3u);
  // Only a manual limit change clears it.
  ASSERT_EQ(this->lim.set_limit(4, this->now()), Status::kOk);
  EXPECT_EQ(this->effective(), 4u);
  EXPECT_EQ(this->lim.snapshot().headroom, 0u);
}

TYPED_TEST(Headroom, ForeignUsageIsRespectedAfterReadingsGoStale) {
  this->configure(4, 0);
  this->take();  // ours: 1
  this->port.advance(1);
  this->port.set_usage(3, this->now());  // the upstream sees 3: 2 are someone else's
  this->lim.poll(this->now());
  auto s = this->lim.snapshot();
  EXPECT_EQ(s.headroom_foreign, 2u);
  EXPECT_EQ(s.headroom, 2u);
  EXPECT_EQ(s.headroom_reason, HeadroomReason::kForeign);
  // Fresh reading: the gate counts the foreign sessions itself (budget 4 - 3 = 1), so the
  // occupancy limit does not hold them back a second time.
  EXPECT_EQ(s.effective_limit, 4u);
  EXPECT_EQ(s.gate_budget, 1u);
  // Stale: the gate opens, but L_eff still leaves room for the 2 foreign sessions.
  this->port.advance(1001);
  this->lim.poll(this->now());
  s = this->lim.snapshot();
  EXPECT_TRUE(s.gate_open);
  EXPECT_EQ(s.effective_limit, 2u);
  Permit p;
  EXPECT_EQ(this->lim.try_acquire(this->now(), p), Status::kOk);
  EXPECT_EQ(this->lim.try_acquire(this->now(), p), Status::kNoSlot);
  EXPECT_GE(this->lim.snapshot().counters.held_back_headroom, 1u);
}

TYPED_TEST(Headroom, ForeignHeadroomRecoversOnlyWhenReadingsShowLess) {
  this->configure(4, /*recover_after=*/500);
  this->port.set_usage(2, this->now());  // 2 foreign, none ours
  this->lim.poll(this->now());
  ASSERT_EQ(this->lim.snapshot().headroom_foreign, 2u);
  this->demand();
  this->port.advance(500);
  this->port.set_usage(4, this->now());  // ours 2 + the same 2 foreign
  this->lim.poll(this->now());
  EXPECT_EQ(this->lim.snapshot().headroom_foreign, 2u);  // still there: no recovery
  this->port.advance(500);
  this->port.set_usage(3, this->now());  // one foreign session left
  this->lim.poll(this->now());
  EXPECT_EQ(this->lim.snapshot().headroom_foreign, 1u);
}

TYPED_TEST(Headroom, AKnownForeignClientAbsentFromTheReadingKeepsOneSlotFree) {
  this->configure(4, 0);
  this->port.set_usage(2, this->now());  // 2 foreign sessions
  this->lim.poll(this->now());
  ASSERT_EQ(this->lim.snapshot().headroom_foreign, 2u);
  this->port.advance(10);
  this->port.set_usage(0, this->now());  // the other client went quiet
  this->lim.poll(this->now());
  // It may come back at any moment: one slot stays free for it.
  EXPECT_EQ(this->lim.snapshot().gate_budget, 3u);
}

TYPED_TEST(Headroom, ConfigureClearsHeadroom) {
  this->configure(4, 0);
  const Permit p = this->take();
  ASSERT_EQ(this->lim.release(p, this->now(), TestFixture::Out::rejected()), Status::kOk);
  ASSERT_EQ(this->effective(), 3u);
  this->configure(4, 0);
  EXPECT_EQ(this->effective(), 4u);
}

}  // namespace
}  // namespace slotgate::test
