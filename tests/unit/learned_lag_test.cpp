// Learned lag: how late the upstream counts a new session and how long it keeps counting an
// ended one, learned from readings and rejections; configured values are floors.
#include "limiter_fixture.hpp"

namespace slotgate::test {
namespace {

template <class C>
class Learning : public LimiterTest<C> {
 protected:
  using Tick = typename LimiterTest<C>::Tick;
  using Config = typename LimiterTest<C>::L::config_type;
  Config base() const {
    Config c;
    c.limit = 4;
    c.gate.max_age = 5000;
    c.gate.repoll_interval = 100;
    c.learn.max_lag = 3000;
    c.headroom.foreign_confirm = 3000;
    c.headroom.track_foreign = false;
    return c;
  }
  void use(const Config& c) { ASSERT_EQ(this->lim.configure(c), Status::kOk); }
  // A fresh reading of `n`, taken in.
  void reading(uint32_t n) {
    this->port.set_usage(n, this->now());
    this->poll();
  }
};
TYPED_TEST_SUITE(Learning, Clocks);

TYPED_TEST(Learning, AReadingThatMissesOurSessionsTeachesTheVisibilityLag) {
  this->use(this->base());
  this->take();
  this->take();
  this->advance(40);
  this->reading(1);  // two of ours are live; the upstream counts one
  auto s = this->snap();
  EXPECT_EQ(s.reading_missing, 1u);
  EXPECT_EQ(s.learned_visibility_lag, 40u);
  EXPECT_EQ(s.effective_visibility_lag, 45u);  // an eighth above: samples are lower bounds
  EXPECT_EQ(s.counters.visibility_lag_samples, 1u);
  // Both grants now count as ones a reading may miss: 4 - 1 - 2.
  EXPECT_EQ(s.gate_budget, 1u);
}

TYPED_TEST(Learning, EvenBeforeTheLagIsLearnedTheMissingSessionIsCounted) {
  auto c = this->base();
  c.learn.max_lag = 0;  // no learning: the reading itself still says one is missing
  this->use(c);
  this->take();
  this->take();
  this->advance(40);
  this->reading(1);
  EXPECT_EQ(this->snap().reading_missing, 1u);
  EXPECT_EQ(this->snap().gate_budget, 2u);  // 4 - (1 counted + 1 missing)
}

TYPED_TEST(Learning, TheConfiguredVisibilityLagIsAFloor) {
  auto c = this->base();
  c.gate.visibility_lag = 100;
  this->use(c);
  this->take();
  this->advance(40);
  this->reading(0);
  EXPECT_EQ(this->snap().learned_visibility_lag, 40u);
  EXPECT_EQ(this->snap().effective_visibility_lag, 100u);
}

TYPED_TEST(Learning, ARecurrentReleaseFollowedUntilItLeavesTheCountTeachesTheReleaseLag) {
  this->use(this->base());
  const Permit a = this->take();
  this->advance(10);
  this->reading(1);  // ours, counted
  this->advance(10);
  ASSERT_EQ(this->release(a), Status::kOk);  // the reading covers it: the slot is free at once
  EXPECT_EQ(this->snap().cooling, 0u);
  this->advance(30);
  this->reading(1);  // released, still counted
  this->advance(30);
  this->reading(1);  // still counted 60 after
  EXPECT_EQ(this->snap().counters.release_lag_samples, 0u);
  this->advance(30);
  this->reading(0);  // gone
  const auto s = this->snap();
  EXPECT_EQ(s.counters.release_lag_samples, 1u);
  EXPECT_EQ(s.learned_release_lag, 60u);  // the last reading that still counted it
  EXPECT_EQ(s.effective_cooldown, 67u);
}

TYPED_TEST(Learning, ReleaseEvidenceIsBelievedOnlyUpToTheForeignConfirmTime) {
  auto c = this->base();
  c.headroom.foreign_confirm = 40;  // longer than this cannot be told from another client
  this->use(c);
  const Permit a = this->take();
  this->advance(10);
  this->reading(1);
  ASSERT_EQ(this->release(a), Status::kOk);
  this->advance(100);
  this->reading(1);
  this->advance(10);
  this->reading(0);
  EXPECT_EQ(this->snap().learned_release_lag, 40u);
}

TYPED_TEST(Learning, AnotherClientsSteadySessionIsNotTakenForLag) {
  this->use(this->base());
  const Permit a = this->take();
  this->advance(10);
  this->reading(2);  // ours and another client's
  ASSERT_EQ(this->release(a), Status::kOk);
  this->advance(30);
  this->reading(2);  // ours still counted, theirs too
  this->advance(30);
  this->reading(1);  // ours gone; theirs stays in the excess before and after
  EXPECT_EQ(this->snap().learned_release_lag, 30u);
  // Theirs leaving later teaches nothing: no release of ours was being followed.
  this->advance(30);
  this->reading(0);
  EXPECT_EQ(this->snap().counters.release_lag_samples, 1u);
}

TYPED_TEST(Learning, WithoutReadingsA429SoonAfterAReleaseRaisesTheCooldown) {
  typename TestFixture::Config c;
  c.limit = 2;
  c.cooldown = 100;
  c.default_pause = 10;
  c.learn.max_lag = 5000;
  c.headroom.foreign_confirm = 5000;
  this->use(c);
  const Permit a = this->take();
  this->take();                              // b, held throughout
  ASSERT_EQ(this->release(a), Status::kOk);  // cools for the 100 floor
  this->advance(100);
  const Permit c2 = this->take();
  this->advance(50);
  // The upstream refuses c: only b and c are ours and c was never counted, so a (ended 150
  // ago) still was.
  ASSERT_EQ(this->release(c2, TestFixture::Out::rejected()), Status::kOk);
  this->poll();
  const auto s = this->snap();
  EXPECT_EQ(s.counters.release_lag_from_rejections, 1u);
  EXPECT_EQ(s.learned_release_lag, 149u);
  EXPECT_EQ(s.effective_cooldown, 167u);
}

TYPED_TEST(Learning, EvidenceIsForgottenAfterItsMemory) {
  auto c = this->base();
  c.learn.memory = 800;  // forgotten in steps of 100
  this->use(c);
  this->take();
  this->advance(40);
  this->reading(0);
  ASSERT_EQ(this->snap().effective_visibility_lag, 45u);
  this->advance(850);
  this->poll();
  EXPECT_EQ(this->snap().effective_visibility_lag, 45u);  // its bucket is not all past memory
  this->advance(100);
  this->poll();
  EXPECT_EQ(this->snap().learned_visibility_lag, 0u);
  EXPECT_EQ(this->snap().effective_visibility_lag, 0u);
}

TYPED_TEST(Learning, EvidenceIsBelievedUpToMaxLag) {
  auto c = this->base();
  c.learn.max_lag = 30;
  this->use(c);
  this->take();
  this->advance(400);
  this->reading(0);
  EXPECT_EQ(this->snap().learned_visibility_lag, 30u);
}

TYPED_TEST(Learning, UntilTheReleaseLagIsEstablishedAnEndedSessionCountsUntilAReadingCoversIt) {
  auto c = this->base();
  c.cooldown = 20;  // the floor
  this->use(c);
  this->reading(0);
  this->advance(10);
  const Permit a = this->take();  // after the reading: the gate counts it
  this->advance(10);
  ASSERT_EQ(this->release(a), Status::kOk);
  EXPECT_EQ(this->snap().cooling, 0u);  // free at once: the gate counts it instead
  this->advance(100);                   // long past the floor
  this->poll();
  EXPECT_EQ(this->snap().gate_budget, 3u);  // no release lag is established: still counted
  this->reading(1);                         // dated after its end: the reading says
  EXPECT_EQ(this->snap().gate_budget, 3u);
  this->advance(10);
  this->reading(0);
  EXPECT_EQ(this->snap().gate_budget, 4u);
}

TYPED_TEST(Learning, ACachedReadingIsDatedByItsStalenessOrByWhenItsValueChanged) {
  auto c = this->base();
  c.learn.max_lag = 0;
  c.gate.staleness = 500;
  this->use(c);
  this->advance(1000);
  this->reading(2);
  EXPECT_EQ(this->snap().reading_sampled_at, this->at(-500));  // may be 500 old
  this->advance(100);
  this->reading(2);  // the same value: perhaps the same cache entry
  EXPECT_EQ(this->snap().reading_sampled_at, this->at(-500));
  this->advance(100);
  this->reading(3);  // a new value was cached after the last reading was served
  EXPECT_EQ(this->snap().reading_sampled_at, this->at(-100));
}

}  // namespace
}  // namespace slotgate::test
