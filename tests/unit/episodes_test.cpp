// Rejection episodes: a 429 pauses grants with a backoff that doubles across consecutive
// episodes, then one half-open probe decides whether the limiter opens again.
#include "limiter_fixture.hpp"

namespace slotgate::test {
namespace {

template <class C>
class Episodes : public LimiterTest<C> {
 protected:
  using Tick = typename LimiterTest<C>::Tick;
  using Out = typename LimiterTest<C>::Out;
  void episodes(uint32_t limit, Tick pause, Tick max_pause, Tick max_hold = 0) {
    typename LimiterTest<C>::L::config_type c;
    c.limit = limit;
    c.default_pause = pause;
    c.max_pause = max_pause;
    c.max_hold = max_hold;
    ASSERT_EQ(this->lim.configure(c), Status::kOk);
  }
  Status refuse(Permit p, Out o = Out::rejected()) { return this->release(p, o); }
  // Wait out the pause and take the half-open probe.
  Permit probe() {
    const auto s = this->snap();
    EXPECT_TRUE(s.half_open);
    this->port.set(s.paused_until);
    return this->take();
  }
};
TYPED_TEST_SUITE(Episodes, Clocks);

TYPED_TEST(Episodes, ConsecutiveEpisodesDoubleThePauseUpToTheCeiling) {
  this->episodes(4, /*pause=*/100, /*max_pause=*/350);
  ASSERT_EQ(this->refuse(this->take()), Status::kOk);
  EXPECT_EQ(this->snap().backoff, 100u);
  const typename TestFixture::Tick expect[] = {200, 350, 350};
  for (auto want : expect) {
    ASSERT_EQ(this->refuse(this->probe()), Status::kOk);  // the probe is refused too
    const auto s = this->snap();
    EXPECT_EQ(s.backoff, want);
    EXPECT_EQ(s.paused_until, this->at(want));
  }
  EXPECT_EQ(this->snap().consecutive_episodes, 4u);
  EXPECT_EQ(this->snap().counters.episodes, 4u);
  EXPECT_EQ(this->snap().counters.probes, 3u);
}

TYPED_TEST(Episodes, SustainedSuccessResetsTheBackoff) {
  this->episodes(4, 100, 400);
  ASSERT_EQ(this->refuse(this->take()), Status::kOk);
  ASSERT_EQ(this->refuse(this->probe()), Status::kOk);   // 200
  ASSERT_EQ(this->release(this->probe()), Status::kOk);  // ends well: open
  EXPECT_FALSE(this->snap().half_open);
  this->advance(399);  // open, but not for max_pause yet: the next one is consecutive
  ASSERT_EQ(this->refuse(this->take()), Status::kOk);
  EXPECT_EQ(this->snap().backoff, 400u);
  ASSERT_EQ(this->release(this->probe()), Status::kOk);
  this->advance(400);  // open for max_pause: start again from default_pause
  ASSERT_EQ(this->refuse(this->take()), Status::kOk);
  EXPECT_EQ(this->snap().backoff, 100u);
  EXPECT_EQ(this->snap().consecutive_episodes, 1u);
}

TYPED_TEST(Episodes, ThreeRejectionsWithRetryAfterZeroInOneBurstStepHeadroomOnce) {
  this->episodes(4, /*pause=*/0, 0);
  Permit p[3];
  for (auto& x : p) x = this->take();
  for (auto& x : p)
    ASSERT_EQ(this->refuse(x, TestFixture::Out::rejected_retry_after(0)), Status::kOk);
  auto s = this->snap();
  EXPECT_EQ(s.headroom, 1u);
  EXPECT_EQ(s.counters.episodes, 1u);
  EXPECT_EQ(s.counters.rejected_by_upstream, 3u);
  EXPECT_FALSE(s.paused);  // no pause to wait for, but still one probe at a time
  EXPECT_TRUE(s.half_open);
  const Permit probe = this->take();
  EXPECT_EQ(this->try_take(), Status::kPaused);
  EXPECT_GE(this->snap().counters.held_back_probe, 1u);
  ASSERT_EQ(this->release(probe), Status::kOk);
  EXPECT_FALSE(this->snap().half_open);
  EXPECT_EQ(this->try_take(), Status::kOk);
}

TYPED_TEST(Episodes, DefaultPauseZeroIsStillOneEpisodePerBurst) {
  this->episodes(4, 0, 0);
  Permit p[3];
  for (auto& x : p) x = this->take();
  for (auto& x : p) ASSERT_EQ(this->refuse(x), Status::kOk);
  EXPECT_EQ(this->snap().headroom, 1u);
  EXPECT_EQ(this->snap().counters.episodes, 1u);
}

TYPED_TEST(Episodes, HalfOpenAdmitsOneProbeAndOpensWhenItEndsWell) {
  this->episodes(4, 100, 1000);
  const Permit a = this->take(), b = this->take();
  ASSERT_EQ(this->refuse(a), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kPaused);
  this->advance(100);
  const Permit probe = this->take();
  EXPECT_TRUE(this->snap().probe_out);
  EXPECT_EQ(this->try_take(), Status::kPaused);  // one probe at a time
  const Ticket t = this->wait();
  this->poll();
  EXPECT_EQ(this->lim.state(t), TicketState::kWaiting);
  // A session granted before the episode ends well: it says nothing of the upstream now.
  ASSERT_EQ(this->release(b), Status::kOk);
  EXPECT_TRUE(this->snap().half_open);
  EXPECT_EQ(this->lim.state(t), TicketState::kWaiting);
  // The probe ends well: open, and the waiter is granted at once.
  ASSERT_EQ(this->release(probe), Status::kOk);
  EXPECT_FALSE(this->snap().half_open);
  EXPECT_EQ(this->lim.state(t), TicketState::kGranted);
}

TYPED_TEST(Episodes, RejectionsOfSessionsGrantedBeforeTheEpisodeBelongToIt) {
  this->episodes(4, 100, 1000);
  const Permit a = this->take(), b = this->take();
  ASSERT_EQ(this->refuse(a), Status::kOk);
  this->advance(100);
  const Permit probe = this->take();
  // An old session's 429 arriving late is the same burst: no new episode, no new step.
  ASSERT_EQ(this->refuse(b), Status::kOk);
  EXPECT_EQ(this->snap().counters.episodes, 1u);
  EXPECT_EQ(this->snap().headroom, 1u);
  EXPECT_TRUE(this->snap().probe_out);
  ASSERT_EQ(this->release(probe), Status::kOk);
  EXPECT_FALSE(this->snap().half_open);
}

TYPED_TEST(Episodes, ALaterLongerRetryAfterInTheSameBurstExtendsThePause) {
  this->episodes(4, 100, 1000);
  const Permit a = this->take(), b = this->take();
  ASSERT_EQ(this->refuse(a), Status::kOk);
  ASSERT_EQ(this->refuse(b, TestFixture::Out::rejected_retry_after(700)), Status::kOk);
  EXPECT_EQ(this->snap().paused_until, this->at(700));
  EXPECT_EQ(this->snap().counters.episodes, 1u);
}

TYPED_TEST(Episodes, AProbeWhoseGrantIsReturnedLetsTheNextOneGo) {
  this->episodes(1, 100, 1000);
  ASSERT_EQ(this->refuse(this->take()), Status::kOk);
  const Ticket first = this->wait(), second = this->wait();
  this->advance(100);
  this->poll();
  ASSERT_EQ(this->lim.state(first), TicketState::kGranted);  // the probe
  EXPECT_EQ(this->lim.cancel(first, this->now()), Status::kGrantReturned);
  // The upstream never saw it: the next waiter is the probe, at once.
  EXPECT_EQ(this->lim.state(second), TicketState::kGranted);
  EXPECT_TRUE(this->snap().probe_out);
}

TYPED_TEST(Episodes, AProbeReclaimedPastItsLeaseLetsTheNextOneGo) {
  this->episodes(2, 100, 1000, /*max_hold=*/50);
  ASSERT_EQ(this->refuse(this->take()), Status::kOk);
  this->advance(100);
  const Permit stuck = this->take();  // the probe, whose holder never comes back
  const Ticket t = this->wait();
  this->advance(51);
  this->poll();
  EXPECT_EQ(this->lim.state(t), TicketState::kGranted);  // the next probe
  EXPECT_EQ(this->release(stuck), Status::kReclaimed);
  EXPECT_TRUE(this->snap().half_open);
}

TYPED_TEST(Episodes, AFreshReadingBelowTheCapThatCountsTheProbeOpensTheLimiter) {
  typename TestFixture::L::config_type c;
  c.limit = 4;
  c.default_pause = 100;
  c.gate.max_age = 1000;
  c.gate.visibility_lag = 10;
  c.headroom.track_foreign = false;
  ASSERT_EQ(this->lim.configure(c), Status::kOk);
  ASSERT_EQ(this->release(this->take(), TestFixture::Out::rejected()), Status::kOk);
  this->advance(100);
  this->take();                          // the probe, still running
  this->port.set_usage(0, this->now());  // too early to count it: proves nothing
  this->poll();
  EXPECT_TRUE(this->snap().half_open);
  this->advance(10);
  this->port.set_usage(1, this->now());  // counts it, and there is room: the upstream took it
  this->poll();
  EXPECT_FALSE(this->snap().half_open);
  EXPECT_EQ(this->try_take(), Status::kOk);
}

TYPED_TEST(Episodes, ResumeEndsTheEpisode) {
  this->episodes(4, 100, 1000);
  ASSERT_EQ(this->refuse(this->take()), Status::kOk);
  this->lim.resume();
  const auto s = this->snap();
  EXPECT_FALSE(s.paused);
  EXPECT_FALSE(s.half_open);
  EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kOk);
}

}  // namespace
}  // namespace slotgate::test
