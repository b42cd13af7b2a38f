// A port without a usage source (firmware talking to a modem, a gateway with no usage
// endpoint): no gate, no learned lag and no foreign headroom are compiled in, and what the
// limiter keeps for rejections (episodes, H_rejected and its recovery) works as with one.
#include "limiter_fixture.hpp"

namespace slotgate::test {
namespace {

struct NoSource32 {
  using Port = sim::BasicPort<uint32_t, uint32_t>;
  static constexpr uint32_t kStart = 0xFFFFFFFFu - 500u;
};
struct NoSource64 {
  using Port = sim::BasicPort<uint64_t, uint64_t>;
  static constexpr uint64_t kStart = 1000;
};
static_assert(!HasUsageSource<NoSource32::Port>::value && !HasUsageSource<NoSource64::Port>::value);

// The state of the parts only readings feed is not in the object: the limiter is smaller than
// the same limiter with a usage source by at least the gate and the learned lags.
template <class Tick, class Word>
constexpr bool kLeftOut = [] {
  using With = detail::UpstreamView<sim::Port<Tick, Word>, 4>;
  return sizeof(Limiter<sim::BasicPort<Tick, Word>, 4, 8>) + sizeof(typename With::Gate) +
             sizeof(typename With::Lag) <=
         sizeof(Limiter<sim::Port<Tick, Word>, 4, 8>);
}();
static_assert(kLeftOut<uint32_t, uint32_t> && kLeftOut<uint64_t, uint64_t>);

template <class C>
class NoUsageSource : public ::testing::Test {
 protected:
  using Port = typename C::Port;
  using Tick = typename Port::tick_type;
  using L = Limiter<Port, 4, 8>;
  using Out = typename L::outcome_type;

  Port port{C::kStart};
  L lim{port};

  Tick now() const { return port.now(); }
  void configure(Tick cooldown) {
    typename L::config_type c;
    c.limit = 4;
    c.cooldown = cooldown;
    c.default_pause = 100;
    c.learn.max_lag = 10000;  // asked for, but there is nothing to learn from
    c.headroom.recover_after = 1000;
    ASSERT_EQ(lim.configure(c), Status::kOk);
  }
  Permit take() {
    Permit p;
    EXPECT_EQ(lim.try_acquire(now(), p), Status::kOk);
    return p;
  }
  uint32_t effective() const { return lim.snapshot().effective_limit; }
};
using NoSourceClocks = ::testing::Types<NoSource32, NoSource64>;
TYPED_TEST_SUITE(NoUsageSource, NoSourceClocks);

TYPED_TEST(NoUsageSource, ARejectionPausesStepsHeadroomAndRecoversWithDemand) {
  this->configure(0);
  Permit p[4];
  for (auto& x : p) x = this->take();
  ASSERT_EQ(this->lim.release(p[0], this->now(), TestFixture::Out::rejected()), Status::kOk);
  ASSERT_EQ(this->lim.release(p[1], this->now(), TestFixture::Out::rejected()), Status::kOk);
  auto s = this->lim.snapshot();
  EXPECT_EQ(s.counters.episodes, 1u);  // two rejections, one episode
  EXPECT_EQ(s.headroom, 1u);
  EXPECT_EQ(s.headroom_rejected, 1u);
  EXPECT_EQ(s.headroom_foreign, 0u);
  EXPECT_EQ(s.effective_limit, 3u);
  EXPECT_TRUE(s.paused);
  Permit q;
  EXPECT_EQ(this->lim.try_acquire(this->now(), q), Status::kPaused);
  // After the pause, one probe; it ends well and the limiter opens to L - H.
  this->port.advance(100);
  this->lim.poll(this->now());
  const Permit probe = this->take();
  EXPECT_TRUE(this->lim.snapshot().half_open);
  EXPECT_EQ(this->lim.try_acquire(this->now(), q), Status::kPaused);  // the probe is out
  ASSERT_EQ(this->lim.release(probe, this->now()), Status::kOk);
  EXPECT_FALSE(this->lim.snapshot().half_open);
  const Permit again = this->take();  // the effective limit 3: p[2], p[3] and this one
  EXPECT_EQ(this->lim.try_acquire(this->now(), q), Status::kNoSlot);
  Ticket waiter;
  ASSERT_EQ(this->lim.enqueue(this->now(), waiter), Status::kOk);  // demand
  this->port.advance(899);  // the recovery time runs from the step, 999 ago
  this->lim.poll(this->now());
  EXPECT_EQ(this->effective(), 3u);
  this->port.advance(1);  // recover_after since the step, with demand and no rejection
  this->lim.poll(this->now());
  EXPECT_EQ(this->effective(), 4u);
  EXPECT_EQ(this->lim.state(waiter), TicketState::kGranted);
  s = this->lim.snapshot();
  EXPECT_EQ(s.headroom, 0u);
  EXPECT_EQ(s.counters.headroom_steps_down, 1u);
  (void)again;
}

// With nothing to learn from, a rejection soon after a release leaves the cooldown where it
// was configured (with a usage source and no reading it would be lag evidence): the
// limiter cannot tell our lag from usage it cannot see, and H_rejected covers both.
TYPED_TEST(NoUsageSource, TheCooldownStaysTheConfiguredOne) {
  this->configure(50);
  Permit p[4];
  for (auto& x : p) x = this->take();
  ASSERT_EQ(this->lim.release(p[0], this->now()), Status::kOk);
  ASSERT_EQ(this->lim.release(p[1], this->now()), Status::kOk);
  this->port.advance(60);  // past the cooldown: both slots free
  const Permit r = this->take();
  this->port.advance(10);
  ASSERT_EQ(this->lim.release(r, this->now(), TestFixture::Out::rejected()), Status::kOk);
  this->port.advance(100);
  this->lim.poll(this->now());
  const auto s = this->lim.snapshot();
  EXPECT_EQ(s.cooldown, typename TestFixture::Tick(50));
  EXPECT_EQ(s.effective_cooldown, typename TestFixture::Tick(50));
  EXPECT_EQ(s.learned_release_lag, typename TestFixture::Tick(0));
  EXPECT_EQ(s.counters.release_lag_from_rejections, 0u);
  EXPECT_EQ(s.counters.readings, 0u);
  EXPECT_FALSE(s.has_reading);
  EXPECT_EQ(s.headroom_rejected, 1u);
}

// The granter frees records whose cooldown has ended whenever it looks, as it does with a
// usage source, not only when a grant needs one (here none can be made: grants are paused).
TYPED_TEST(NoUsageSource, TheGranterFreesEndedCooldownsWhenItLooks) {
  this->configure(10);
  const Permit a = this->take();
  const Permit b = this->take();
  ASSERT_EQ(this->lim.release(b, this->now()), Status::kOk);
  ASSERT_EQ(this->lim.pause_for(1000, this->now()), Status::kOk);
  this->port.advance(20);                       // b's cooldown is over
  ASSERT_EQ(this->lim.snapshot().cooling, 1u);  // nobody has looked yet
  Ticket waiter;
  ASSERT_EQ(this->lim.enqueue(this->now(), waiter), Status::kOk);  // the granter looks
  const auto s = this->lim.snapshot();
  EXPECT_EQ(s.cooling, 0u);
  EXPECT_EQ(s.held, 1u);
  EXPECT_EQ(this->lim.state(waiter), TicketState::kWaiting);  // paused
  this->lim.resume();
  this->lim.poll(this->now());
  EXPECT_EQ(this->lim.state(waiter), TicketState::kGranted);
  ASSERT_EQ(this->lim.release(a, this->now()), Status::kOk);
}

}  // namespace
}  // namespace slotgate::test
