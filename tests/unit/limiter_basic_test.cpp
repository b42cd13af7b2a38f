// Fast path, release, permits, limits and close.
#include "limiter_fixture.hpp"

namespace slotgate::test {
namespace {

template <class C>
using Basic = LimiterTest<C>;
TYPED_TEST_SUITE(Basic, Clocks);

TYPED_TEST(Basic, GrantsUpToTheLimitThenRefuses) {
  this->configure(3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kNoSlot);
  const auto s = this->snap();
  EXPECT_EQ(s.held, 3u);
  EXPECT_EQ(s.counters.granted, 3u);
  EXPECT_EQ(s.counters.fast_path, 3u);
  EXPECT_EQ(s.counters.no_slot, 1u);
}

// would_admit: a look for a caller choosing between spinning and queuing. It says what
// try_acquire would find, and changes and counts nothing.
TYPED_TEST(Basic, WouldAdmitSaysWhatTryAcquireWouldFind) {
  this->configure(2, /*cooldown=*/100);
  EXPECT_TRUE(this->lim.would_admit(this->now()));
  const Permit a = this->take();
  const Permit b = this->take();
  const auto before = this->snap().counters;
  EXPECT_FALSE(this->lim.would_admit(this->now()));  // every slot held
  ASSERT_EQ(this->release(a), Status::kOk);
  EXPECT_FALSE(this->lim.would_admit(this->now()));   // cooling
  EXPECT_TRUE(this->lim.would_admit(this->at(100)));  // its cooldown over by then
  const auto after = this->snap().counters;
  EXPECT_EQ(after.no_slot, before.no_slot);
  EXPECT_EQ(after.held_back_cooldown, before.held_back_cooldown);
  EXPECT_EQ(after.granted, before.granted);
  const Ticket t = this->wait();
  EXPECT_FALSE(this->lim.would_admit(this->at(100)));  // a waiter queued: no barging
  EXPECT_EQ(this->lim.cancel(t, this->now()), Status::kOk);
  EXPECT_EQ(this->lim.pause_for(50, this->now()), Status::kOk);
  EXPECT_FALSE(this->lim.would_admit(this->at(40)));  // paused
  this->advance(100);  // the pause over too (try_acquire would clear it on its way)
  EXPECT_TRUE(this->lim.would_admit(this->now()));
  EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_EQ(this->release(b), Status::kOk);
}

TYPED_TEST(Basic, PermitsAreDistinct) {
  this->configure(4);
  const Permit a = this->take(), b = this->take(), c = this->take(), d = this->take();
  EXPECT_NE(a.slot, b.slot);
  EXPECT_NE(a.slot, c.slot);
  EXPECT_NE(a.slot, d.slot);
  EXPECT_NE(b.slot, c.slot);
  EXPECT_NE(b.slot, d.slot);
  EXPECT_NE(c.slot, d.slot);
}

TYPED_TEST(Basic, ReleaseWithoutCooldownFreesAtOnce) {
  this->configure(1);
  const Permit p = this->take();
  EXPECT_EQ(this->try_take(), Status::kNoSlot);
  EXPECT_EQ(this->release(p), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_EQ(this->snap().counters.released, 1u);
}

TYPED_TEST(Basic, SecondReleaseIsReportedAndChangesNothing) {
  this->configure(2);
  const Permit p = this->take();
  const Permit q = this->take();
  ASSERT_EQ(this->release(p), Status::kOk);
  const auto before = this->snap();
  EXPECT_EQ(this->release(p), Status::kStalePermit);
  const auto after = this->snap();
  EXPECT_EQ(after.held, before.held);
  EXPECT_EQ(after.held, 1u);
  EXPECT_EQ(after.counters.released, 1u);
  EXPECT_EQ(after.counters.bad_releases, 1u);
  // The slot's next holder is not disturbed by the stale permit either.
  Permit r = this->take();
  for (size_t i = 0; i < TestFixture::kSlots && r.slot != p.slot; ++i) {
    ASSERT_EQ(this->release(r), Status::kOk);
    r = this->take();
  }
  ASSERT_EQ(r.slot, p.slot);
  EXPECT_NE(r.generation, p.generation);
  EXPECT_EQ(this->release(p), Status::kStalePermit);
  EXPECT_EQ(this->snap().held, 2u);
  EXPECT_EQ(this->release(r), Status::kOk);
  EXPECT_EQ(this->release(q), Status::kOk);
  EXPECT_EQ(this->snap().held, 0u);
}

TYPED_TEST(Basic, ForgedAndDefaultPermitsAreRefused) {
  this->configure(2);
  const Permit p = this->take();
  EXPECT_EQ(this->release(Permit{}), Status::kInvalidPermit);
  EXPECT_EQ(this->release(Permit{99, 1}), Status::kInvalidPermit);
  EXPECT_EQ(this->release(Permit{p.slot, 0}), Status::kInvalidPermit);
  EXPECT_EQ(this->release(Permit{p.slot, p.generation + 1}), Status::kStalePermit);
  const Permit other_slot{p.slot == 0 ? 1u : 0u, p.generation};
  EXPECT_EQ(this->release(other_slot), Status::kStalePermit);
  EXPECT_EQ(this->snap().held, 1u);
  EXPECT_EQ(this->snap().counters.bad_releases, 5u);
  EXPECT_EQ(this->release(p), Status::kOk);
}

TYPED_TEST(Basic, RaisingTheLimitLetsWaitersInAtOnce) {
  this->configure(1);
  this->take();
  const Ticket a = this->wait();
  const Ticket b = this->wait();
  EXPECT_EQ(this->lim.state(a), TicketState::kWaiting);
  ASSERT_EQ(this->lim.set_limit(3, this->now()), Status::kOk);
  EXPECT_EQ(this->lim.state(a), TicketState::kGranted);
  EXPECT_EQ(this->lim.state(b), TicketState::kGranted);
  this->claim_ok(a);
  this->claim_ok(b);
  EXPECT_EQ(this->snap().held, 3u);
  EXPECT_EQ(this->snap().limit, 3u);
}

TYPED_TEST(Basic, LoweringTheLimitRetiresSlotsAsTheyFree) {
  this->configure(3);
  const Permit a = this->take(), b = this->take(), c = this->take();
  ASSERT_EQ(this->lim.set_limit(1, this->now()), Status::kOk);
  EXPECT_EQ(this->snap().held, 3u);  // permits out stay valid
  EXPECT_EQ(this->release(a), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kNoSlot);
  EXPECT_EQ(this->release(b), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kNoSlot);
  EXPECT_EQ(this->release(c), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kOk);
  EXPECT_EQ(this->try_take(), Status::kNoSlot);
}

// A waiter queued under a lowered limit that still has records out above it: the granter
// takes a free record below the limit, finds the taken records over it and gives the record
// back; that must end its run (it once kicked itself again on every give-back, forever), and
// the waiter is granted once enough above the limit has ended.
TYPED_TEST(Basic, AWaiterUnderALoweredLimitWaitsForRecordsAboveIt) {
  this->configure(4);
  const Permit a = this->take(), b = this->take(), c = this->take(), d = this->take();
  ASSERT_EQ(this->lim.set_limit(2, this->now()), Status::kOk);
  EXPECT_EQ(this->release(a), Status::kOk);  // a record below the new limit is free again
  const Ticket t = this->wait();             // returns: the granter's run ended
  EXPECT_EQ(this->lim.state(t), TicketState::kWaiting);  // b, c, d: 3 out, over 2
  EXPECT_EQ(this->release(c), Status::kOk);
  EXPECT_EQ(this->lim.state(t), TicketState::kWaiting);  // b, d: 2 out, the limit
  EXPECT_EQ(this->release(d), Status::kOk);
  EXPECT_EQ(this->lim.state(t), TicketState::kGranted);
  this->claim_ok(t);
  EXPECT_EQ(this->snap().held, 2u);
  EXPECT_EQ(this->release(b), Status::kOk);
}

TYPED_TEST(Basic, CloseFailsWaitersAndRefusesNewcomers) {
  this->configure(1);
  const Permit p = this->take();
  const Ticket a = this->wait();
  const Ticket b = this->wait();
  this->lim.close();
  EXPECT_EQ(this->lim.state(a), TicketState::kClosed);
  Permit out;
  EXPECT_EQ(this->lim.claim(a, out), Status::kClosed);
  EXPECT_FALSE(out.valid());
  EXPECT_EQ(this->lim.cancel(b, this->now()), Status::kClosed);
  EXPECT_EQ(this->lim.claim(a, out), Status::kStaleTicket);
  EXPECT_EQ(this->try_take(), Status::kClosed);
  Ticket t;
  EXPECT_EQ(this->lim.enqueue(this->now(), t), Status::kClosed);
  EXPECT_FALSE(t.valid());
  // Permits out are still released normally, and the slot is not handed to anyone.
  EXPECT_EQ(this->release(p), Status::kOk);
  const auto s = this->snap();
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.held, 0u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.tickets_outstanding, 0u);
  EXPECT_EQ(s.counters.closed_waiters, 2u);
  this->lim.close();  // idempotent
  EXPECT_EQ(this->snap().counters.closed_waiters, 2u);
}

TYPED_TEST(Basic, SnapshotCountsPathsSeparately) {
  this->configure(1);
  const Permit p = this->take();
  const Ticket t = this->wait();
  ASSERT_EQ(this->release(p), Status::kOk);
  this->claim_ok(t);
  const auto s = this->snap();
  EXPECT_EQ(s.counters.granted, 2u);
  EXPECT_EQ(s.counters.fast_path, 1u);
  EXPECT_EQ(s.counters.from_queue, 1u);
}

}  // namespace
}  // namespace slotgate::test
