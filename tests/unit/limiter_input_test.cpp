// Bad input gets an explicit status, never a crash and never a count change.
#include "limiter_fixture.hpp"

namespace slotgate::test {
namespace {

template <class C>
using Input = LimiterTest<C>;
TYPED_TEST_SUITE(Input, Clocks);

TYPED_TEST(Input, LimitOutsideItsRangeIsRefused) {
  this->configure(2);
  EXPECT_EQ(this->lim.set_limit(TestFixture::kSlots + 1, this->now()), Status::kInvalidArgument);
  typename TestFixture::L::config_type c;
  c.limit = 0;
  EXPECT_EQ(this->lim.configure(c), Status::kInvalidArgument);
  c.limit = TestFixture::kSlots + 1;
  EXPECT_EQ(this->lim.configure(c), Status::kInvalidArgument);
  const auto s = this->snap();
  EXPECT_EQ(s.limit, 2u);
  EXPECT_EQ(s.effective_limit, 2u);
}

TYPED_TEST(Input, DurationsBeyondHalfTheTickRangeAreRefused) {
  using T = typename TestFixture::Tick;
  const T too_long = T(Ticks<T>::kMaxDuration + 1);
  this->configure(2, /*cooldown=*/10, /*max_hold=*/20);
  EXPECT_EQ(this->lim.set_cooldown(too_long), Status::kInvalidArgument);
  EXPECT_EQ(this->lim.set_max_hold(too_long), Status::kInvalidArgument);
  typename TestFixture::L::config_type c;
  c.limit = 1;
  c.cooldown = too_long;
  EXPECT_EQ(this->lim.configure(c), Status::kInvalidArgument);
  c.cooldown = 0;
  c.default_pause = too_long;
  EXPECT_EQ(this->lim.configure(c), Status::kInvalidArgument);
  EXPECT_EQ(this->lim.pause_for(too_long, this->now()), Status::kInvalidArgument);
  const auto s = this->snap();
  EXPECT_EQ(s.cooldown, 10u);
  EXPECT_EQ(s.max_hold, 20u);
  EXPECT_EQ(s.limit, 2u);
  EXPECT_FALSE(s.paused);
  EXPECT_EQ(s.tickets_outstanding, 0u);
  // The largest valid duration is accepted.
  EXPECT_EQ(this->lim.set_cooldown(Ticks<T>::kMaxDuration), Status::kOk);
}

TYPED_TEST(Input, PointsInTimeMoreThanHalfTheRangeAheadReadAsPast) {
  // Absolute times cannot be told apart from past ones once they are more than half the tick
  // range ahead: such a deadline times out at the next poll, such a pause does nothing.
  using T = typename TestFixture::Tick;
  this->configure(1);
  this->take();
  const T far = T(this->now() + Ticks<T>::kMaxDuration + 2);
  EXPECT_EQ(this->lim.pause_until(far, this->now()), Status::kOk);
  EXPECT_FALSE(this->snap().paused);
  const Ticket t = this->wait(TestFixture::DL::at_tick(far));
  this->poll();
  Permit out;
  EXPECT_EQ(this->lim.claim(t, out), Status::kTimedOut);
}

TYPED_TEST(Input, TimeGoingBackwardsIsReportedAndFreesNothingEarly) {
  this->configure(1, /*cooldown=*/100);
  const Permit p = this->take();
  ASSERT_EQ(this->release(p), Status::kOk);
  this->advance(50);
  EXPECT_EQ(this->poll().status, Status::kOk);
  const auto before = this->snap();
  this->port.set(typename TestFixture::Tick(this->now() - 40));
  const auto r = this->poll();
  EXPECT_EQ(r.status, Status::kClockWentBackwards);
  ASSERT_TRUE(r.next.set);
  const auto after = this->snap();
  EXPECT_EQ(after.cooling, before.cooling);
  EXPECT_EQ(after.held, before.held);
  EXPECT_EQ(after.counters.clock_regressions, 1u);
  EXPECT_EQ(this->try_take(), Status::kNoSlot);
  // Once time catches up with the cooldown's end, it frees as usual.
  this->advance(90);
  EXPECT_EQ(this->poll().status, Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kOk);
}

TYPED_TEST(Input, ReleaseBeforeTheGrantTimeStillWorks) {
  // A release stamped earlier than its grant (skewed clocks across threads) must not wedge.
  this->configure(1, /*cooldown=*/100);
  const Permit p = this->take();
  ASSERT_EQ(this->lim.release(p, typename TestFixture::Tick(this->now() - 30)), Status::kOk);
  this->advance(70);
  EXPECT_EQ(this->try_take(), Status::kOk);
}

TYPED_TEST(Input, OutcomeRetryAfterBeyondRangeIsClamped) {
  using T = typename TestFixture::Tick;
  this->configure(2);
  const Permit p = this->take();
  ASSERT_EQ(this->release(p, TestFixture::Out::rejected_retry_after(T(~T(0)))), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kPaused);
  const auto s = this->snap();
  EXPECT_TRUE(s.paused);
  EXPECT_EQ(s.paused_until, T(this->now() + Ticks<T>::kMaxDuration));
  this->lim.resume();
  EXPECT_EQ(this->try_take(), Status::kOk);
}

// A limit of 0 (a fleet member without a share): nobody is admitted, callers queue, permits out
// stay valid; raising it grants the queue in order.
TYPED_TEST(Input, ALimitOfZeroAdmitsNobodyUntilRaised) {
  this->configure(2);
  const Permit out = this->take();
  ASSERT_EQ(this->lim.set_limit(0, this->now()), Status::kOk);
  Permit p;
  EXPECT_EQ(this->lim.try_acquire(this->now(), p), Status::kNoSlot);
  const Ticket t = this->wait();
  this->poll();
  EXPECT_EQ(this->lim.state(t), TicketState::kWaiting);
  auto s = this->snap();
  EXPECT_EQ(s.limit, 0u);
  EXPECT_EQ(s.effective_limit, 0u);
  EXPECT_EQ(s.headroom, 0u);
  EXPECT_EQ(this->release(out), Status::kOk) << "a permit out stays valid";
  this->poll();
  EXPECT_EQ(this->lim.state(t), TicketState::kWaiting);
  ASSERT_EQ(this->lim.set_limit(1, this->now()), Status::kOk);
  EXPECT_EQ(this->lim.state(t), TicketState::kGranted);
  this->claim_ok(t);
}

}  // namespace
}  // namespace slotgate::test
