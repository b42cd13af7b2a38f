// The wait queue: FIFO, no barging, tickets, cancel, queue full.
#include "limiter_fixture.hpp"

namespace slotgate::test {
namespace {

template <class C>
using Queue = LimiterTest<C>;
TYPED_TEST_SUITE(Queue, Clocks);

TYPED_TEST(Queue, EnqueueOnAFreeSlotIsGrantedAtOnce) {
  this->configure(1);
  const Ticket t = this->wait();
  EXPECT_EQ(this->lim.state(t), TicketState::kGranted);
  const Permit p = this->claim_ok(t);
  EXPECT_EQ(this->snap().held, 1u);
  EXPECT_EQ(this->release(p), Status::kOk);
}

TYPED_TEST(Queue, WaitersAreGrantedInFifoOrder) {
  this->configure(1);
  Permit p = this->take();
  Ticket t[5];
  for (auto& x : t) x = this->wait();
  for (int i = 0; i < 5; ++i) {
    for (int j = i; j < 5; ++j) EXPECT_EQ(this->lim.state(t[j]), TicketState::kWaiting) << j;
    ASSERT_EQ(this->release(p), Status::kOk);
    EXPECT_EQ(this->lim.state(t[i]), TicketState::kGranted) << i;
    p = this->claim_ok(t[i]);
  }
  EXPECT_EQ(this->snap().counters.from_queue, 5u);
}

TYPED_TEST(Queue, ClaimWhileWaitingChangesNothing) {
  this->configure(1);
  const Permit p = this->take();
  const Ticket t = this->wait();
  Permit out;
  EXPECT_EQ(this->lim.claim(t, out), Status::kPending);
  EXPECT_EQ(this->lim.claim(t, out), Status::kPending);
  EXPECT_FALSE(out.valid());
  EXPECT_EQ(this->release(p), Status::kOk);
  EXPECT_EQ(this->lim.claim(t, out), Status::kOk);
  EXPECT_EQ(this->lim.claim(t, out), Status::kStaleTicket);
}

TYPED_TEST(Queue, NewcomersDoNotBargePastWaiters) {
  this->configure(1, /*cooldown=*/100);
  const Permit p = this->take();
  ASSERT_EQ(this->release(p), Status::kOk);  // cooling until +100
  const Ticket t = this->wait();
  this->advance(100);  // the cooldown is over but nobody has polled yet
  EXPECT_EQ(this->try_take(), Status::kWaitersAhead);
  EXPECT_EQ(this->snap().counters.waiters_ahead, 1u);
  this->poll();
  EXPECT_EQ(this->lim.state(t), TicketState::kGranted);
  EXPECT_EQ(this->try_take(), Status::kNoSlot);
}

TYPED_TEST(Queue, FullQueueIsAnExplicitError) {
  this->configure(1);
  this->take();
  Ticket t[TestFixture::kWaiters];
  for (auto& x : t) x = this->wait();
  Ticket extra;
  EXPECT_EQ(this->lim.enqueue(this->now(), extra), Status::kQueueFull);
  EXPECT_FALSE(extra.valid());
  EXPECT_EQ(this->snap().counters.queue_full, 1u);
  EXPECT_EQ(this->snap().queued, TestFixture::kWaiters);
  // Cancelling any ticket, even one behind a blocked front, makes room at once.
  EXPECT_EQ(this->lim.cancel(t[3], this->now()), Status::kOk);
  EXPECT_EQ(this->lim.enqueue(this->now(), extra), Status::kOk);
  EXPECT_EQ(this->snap().tickets_outstanding, TestFixture::kWaiters);
}

TYPED_TEST(Queue, ChurnBehindABlockedFrontIsBoundedAndReported) {
  // Cancelled entries behind a waiter that cannot be granted take queue space until the front
  // moves: up to kWaiters of them on top of kWaiters live tickets, then kQueueFull.
  this->configure(1);
  const Permit p = this->take();
  const Ticket front = this->wait();
  int accepted = 0;
  Status last = Status::kOk;
  for (int i = 0; i < 10 * int(TestFixture::kWaiters); ++i) {
    Ticket t;
    last = this->lim.enqueue(this->now(), t);
    if (last != Status::kOk) break;
    ++accepted;
    ASSERT_EQ(this->lim.cancel(t, this->now()), Status::kOk);
  }
  EXPECT_EQ(last, Status::kQueueFull);
  EXPECT_GE(accepted, int(TestFixture::kWaiters));
  // Once the front is served, the dead entries are swept and the queue takes tickets again.
  ASSERT_EQ(this->release(p), Status::kOk);
  this->claim_ok(front);
  EXPECT_EQ(this->snap().queued, 0u);
  Ticket t;
  EXPECT_EQ(this->lim.enqueue(this->now(), t), Status::kOk);
}

TYPED_TEST(Queue, CancelledWaiterIsSkipped) {
  this->configure(1);
  const Permit p = this->take();
  const Ticket a = this->wait(), b = this->wait(), c = this->wait();
  EXPECT_EQ(this->lim.cancel(b, this->now()), Status::kOk);
  EXPECT_EQ(this->lim.state(b), TicketState::kInvalid);
  ASSERT_EQ(this->release(p), Status::kOk);
  const Permit pa = this->claim_ok(a);
  EXPECT_EQ(this->lim.state(c), TicketState::kWaiting);
  ASSERT_EQ(this->release(pa), Status::kOk);
  this->claim_ok(c);
  const auto s = this->snap();
  EXPECT_EQ(s.counters.cancelled, 1u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.tickets_outstanding, 0u);
}

TYPED_TEST(Queue, CancelAfterTheGrantGivesTheSlotBack) {
  this->configure(1);
  const Permit p = this->take();
  const Ticket a = this->wait(), b = this->wait();
  ASSERT_EQ(this->release(p), Status::kOk);
  ASSERT_EQ(this->lim.state(a), TicketState::kGranted);
  EXPECT_EQ(this->lim.cancel(a, this->now()), Status::kGrantReturned);
  // The returned slot goes straight to the next waiter: nothing is lost.
  EXPECT_EQ(this->lim.state(b), TicketState::kGranted);
  const Permit pb = this->claim_ok(b);
  EXPECT_EQ(this->snap().held, 1u);
  EXPECT_EQ(this->snap().counters.grants_returned, 1u);
  EXPECT_EQ(this->release(pb), Status::kOk);
  EXPECT_EQ(this->snap().held, 0u);
}

TYPED_TEST(Queue, CancellingEveryWaiterReopensTheFastPath) {
  this->configure(1, /*cooldown=*/10);
  const Permit p = this->take();
  ASSERT_EQ(this->release(p), Status::kOk);
  const Ticket a = this->wait(), b = this->wait();
  EXPECT_EQ(this->lim.cancel(a, this->now()), Status::kOk);
  EXPECT_EQ(this->lim.cancel(b, this->now()), Status::kOk);
  this->advance(10);
  EXPECT_EQ(this->try_take(), Status::kOk);
}

TYPED_TEST(Queue, BadTicketsAreRefused) {
  this->configure(1);
  Permit out;
  EXPECT_EQ(this->lim.claim(Ticket{}, out), Status::kInvalidTicket);
  EXPECT_EQ(this->lim.cancel(Ticket{}, this->now()), Status::kInvalidTicket);
  EXPECT_EQ(this->lim.claim(Ticket{1000, 1}, out), Status::kInvalidTicket);
  EXPECT_EQ(this->lim.cancel(Ticket{0, 12345}, this->now()), Status::kStaleTicket);
  EXPECT_EQ(this->lim.state(Ticket{0, 12345}), TicketState::kInvalid);
  this->take();
  const Ticket t = this->wait();
  EXPECT_EQ(this->lim.cancel(t, this->now()), Status::kOk);
  EXPECT_EQ(this->lim.cancel(t, this->now()), Status::kStaleTicket);
  EXPECT_EQ(this->lim.claim(t, out), Status::kStaleTicket);
  const auto s = this->snap();
  EXPECT_EQ(s.held, 1u);
  EXPECT_EQ(s.counters.cancelled, 1u);
}

TYPED_TEST(Queue, TicketRecordsAreReusedWithNewGenerations) {
  this->configure(1);
  const Permit p = this->take();
  const Ticket first = this->wait();
  ASSERT_EQ(this->lim.cancel(first, this->now()), Status::kOk);
  const Ticket second = this->wait();
  EXPECT_FALSE(first.index == second.index && first.generation == second.generation);
  EXPECT_EQ(this->lim.cancel(first, this->now()), Status::kStaleTicket);
  EXPECT_EQ(this->lim.state(second), TicketState::kWaiting);
  ASSERT_EQ(this->release(p), Status::kOk);
  this->claim_ok(second);
}

TYPED_TEST(Queue, AGrantWakesItsWaiterAlone) {
  this->configure(1);
  const Permit p = this->take();
  Ticket t[8];
  for (Ticket& x : t) x = this->wait();
  const uint64_t before = this->port.waiter_notifications();
  const uint64_t polls_before = this->port.notifications();
  const uint64_t counted_before = this->lim.snapshot().counters.wakeups;
  ASSERT_EQ(this->release(p), Status::kOk);
  // One release, one wake-up, for the head of the queue; nobody is asked to poll (no cooldown
  // and no lease limit: the grant brings no new deadline).
  EXPECT_EQ(this->port.waiter_notifications(), before + 1);
  EXPECT_EQ(this->port.last_woken(), t[0].index);
  EXPECT_EQ(this->port.notifications(), polls_before);
  EXPECT_EQ(this->lim.snapshot().counters.wakeups, counted_before + 1);
  this->claim_ok(t[0]);
  for (int i = 1; i < 8; ++i) EXPECT_EQ(this->lim.cancel(t[i], this->now()), Status::kOk);
}

TYPED_TEST(Queue, AGrantWithALeaseLimitAlsoWakesThePoller) {
  this->configure(1);
  ASSERT_EQ(this->lim.set_max_hold(1000), Status::kOk);
  const Permit p = this->take();
  const Ticket t = this->wait();
  const uint64_t polls_before = this->port.notifications();
  ASSERT_EQ(this->release(p), Status::kOk);
  // The lease's end is a deadline the poller was not sleeping towards.
  EXPECT_GT(this->port.notifications(), polls_before);
  this->claim_ok(t);
}

TYPED_TEST(Queue, CloseWakesEveryWaiterOnce) {
  this->configure(1);
  this->take();
  Ticket t[4];
  for (Ticket& x : t) x = this->wait();
  const uint64_t before = this->port.waiter_notifications();
  this->lim.close();
  EXPECT_EQ(this->port.waiter_notifications(), before + 4);
  Permit out;
  for (Ticket& x : t) EXPECT_EQ(this->lim.claim(x, out), Status::kClosed);
}

}  // namespace
}  // namespace slotgate::test
