// The asio port: async_acquire on a real io_context — grants, waiting, timeouts, cancellation
// (racing a grant too), close, destruction, many waiters on one thread, use_future.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "slotgate/ports/asio.hpp"

namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using slotgate::Status;
using L = slotgate::asio::Limiter<8, 64>;
using Guard = L::guard_type;

// What one async_acquire completed with.
struct Result {
  bool done = false;
  boost::system::error_code ec;
  Guard guard;
};

auto into(Result& r) {
  return [&r](boost::system::error_code ec, Guard g) {
    r.done = true;
    r.ec = ec;
    r.guard = std::move(g);
  };
}

class AsyncAcquire : public ::testing::Test {
 protected:
  void SetUp() override { configure(1); }
  void configure(uint32_t limit, std::chrono::nanoseconds cooldown = 0ns) {
    L::config_type c;
    c.limit = limit;
    c.cooldown = slotgate::asio::Port<8, 64>::from(cooldown);
    ASSERT_EQ(lim->configure(c), Status::kOk);
  }
  // Runs what is ready now, without waiting for timers.
  void settle() {
    io.restart();
    io.poll();
  }
  slotgate::Snapshot<uint64_t> snap() { return lim->snapshot(); }

  net::io_context io;
  std::unique_ptr<L> lim = std::make_unique<L>(io.get_executor());
};

TEST_F(AsyncAcquire, GrantsAtOnceWhenASlotIsFree) {
  Result r;
  slotgate::asio::async_acquire(*lim, 1s, into(r));
  EXPECT_FALSE(r.done) << "never completes inside the initiating call";
  settle();
  ASSERT_TRUE(r.done);
  EXPECT_FALSE(r.ec);
  EXPECT_TRUE(r.guard.holds());
  EXPECT_EQ(snap().held, 1u);
  r.guard.release();
  EXPECT_EQ(snap().held, 0u);
}

TEST_F(AsyncAcquire, WaitsWithoutPollingAndIsGrantedOnRelease) {
  Result first, second;
  slotgate::asio::async_acquire(*lim, into(first));
  slotgate::asio::async_acquire(*lim, into(second));
  settle();
  ASSERT_TRUE(first.done);
  EXPECT_FALSE(second.done);
  EXPECT_EQ(snap().queued, 1u);
  // Nothing is scheduled while it waits without a deadline: no busy polling.
  io.restart();
  EXPECT_EQ(io.poll(), 0u);
  first.guard.release();  // from the test's thread: posts one check to the strand
  settle();
  ASSERT_TRUE(second.done);
  EXPECT_FALSE(second.ec);
  EXPECT_TRUE(second.guard.holds());
  EXPECT_EQ(snap().held, 1u);
  EXPECT_EQ(snap().counters.wakeups, 1u);
}

// "You are queued": when_queued(f) runs f once, inside the initiating call, for an operation
// queued instead of granted; never for one granted at once.
TEST_F(AsyncAcquire, WhenQueuedTellsAtOnceAndOnlyTheQueued) {
  Result first, second;
  int first_told = 0, second_told = 0;
  slotgate::asio::async_acquire(*lim, slotgate::asio::when_queued([&] { ++first_told; }),
                                into(first));
  EXPECT_EQ(first_told, 0) << "granted by the fast path: never queued";
  slotgate::asio::async_acquire(*lim, 1s, slotgate::asio::when_queued([&] { ++second_told; }),
                                into(second));
  EXPECT_EQ(second_told, 1) << "told inside the initiating call";
  EXPECT_FALSE(second.done);
  settle();
  ASSERT_TRUE(first.done);
  EXPECT_FALSE(second.done);
  first.guard.release();
  settle();
  ASSERT_TRUE(second.done);
  EXPECT_FALSE(second.ec);
  EXPECT_EQ(second_told, 1);
  EXPECT_EQ(first_told, 0);
}

// Two lanes on a real io_context: the higher lane's operation is granted first, though it
// started last; a lane the limiter does not have completes with invalid_argument.
TEST(AsyncLanes, TheHigherLaneIsGrantedFirst) {
  using L2 = slotgate::asio::Limiter<2, 8, 2>;
  using G2 = L2::guard_type;
  net::io_context io;
  L2 lim(io.get_executor());
  L2::config_type c;
  c.limit = 1;
  ASSERT_EQ(lim.configure(c), Status::kOk);
  std::vector<int> order;
  G2 held, low, high;
  auto into2 = [&order](int who, G2& g) {
    return [&order, who, &g](boost::system::error_code ec, G2 granted) {
      EXPECT_FALSE(ec);
      order.push_back(who);
      g = std::move(granted);
    };
  };
  slotgate::asio::async_acquire(lim, into2(0, held));
  int told = 0;
  slotgate::asio::async_acquire(lim, 10s, slotgate::Lane(0),
                                slotgate::asio::when_queued([&] { ++told; }), into2(1, low));
  slotgate::asio::async_acquire(lim, slotgate::Lane(1), into2(2, high));
  EXPECT_EQ(told, 1);
  io.restart();
  io.poll();
  ASSERT_EQ(order, std::vector<int>({0}));
  held.release();
  io.restart();
  io.poll();
  ASSERT_EQ(order, std::vector<int>({0, 2}));
  high.release();
  io.restart();
  io.poll();
  ASSERT_EQ(order, std::vector<int>({0, 2, 1}));
  low.release();
  boost::system::error_code bad;
  slotgate::asio::async_acquire(lim, slotgate::Lane(2),
                                [&](boost::system::error_code ec, G2) { bad = ec; });
  io.restart();
  io.poll();
  EXPECT_EQ(bad, slotgate::make_error_code(Status::kInvalidArgument));
  EXPECT_EQ(lim.snapshot().tickets_outstanding, 0u);
}

TEST_F(AsyncAcquire, TimesOutAndLeavesNothingBehind) {
  Result held, late;
  slotgate::asio::async_acquire(*lim, into(held));
  slotgate::asio::async_acquire(*lim, 20ms, into(late));
  io.run_for(2s);  // the limiter's timer fires at the deadline; then nothing is left to run
  ASSERT_TRUE(late.done);
  EXPECT_EQ(late.ec, slotgate::make_error_code(Status::kTimedOut));
  EXPECT_EQ(late.ec.category().name(), std::string("slotgate"));
  EXPECT_FALSE(late.guard.holds());
  const auto s = snap();
  EXPECT_EQ(s.held, 1u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.tickets_outstanding, 0u);
}

TEST_F(AsyncAcquire, AZeroTimeoutOnlyTries) {
  Result held, tried;
  slotgate::asio::async_acquire(*lim, into(held));
  slotgate::asio::async_acquire(*lim, 0s, into(tried));
  settle();
  ASSERT_TRUE(tried.done);
  EXPECT_EQ(tried.ec, slotgate::make_error_code(Status::kNoSlot));
  EXPECT_EQ(snap().tickets_outstanding, 0u);
}

TEST_F(AsyncAcquire, CancelledWhileWaitingItIsGone) {
  Result held, waiting;
  net::cancellation_signal signal;
  slotgate::asio::async_acquire(*lim, into(held));
  slotgate::asio::async_acquire(*lim, net::bind_cancellation_slot(signal.slot(), into(waiting)));
  settle();
  ASSERT_FALSE(waiting.done);
  signal.emit(net::cancellation_type::total);
  settle();
  ASSERT_TRUE(waiting.done);
  EXPECT_EQ(waiting.ec, net::error::operation_aborted);
  EXPECT_EQ(snap().tickets_outstanding, 0u);
  EXPECT_EQ(snap().counters.cancelled, 1u);
}

// The release grants the waiter before the strand sees the cancellation: the grant goes back.
TEST_F(AsyncAcquire, ACancellationThatLosesToAGrantGivesTheSlotBack) {
  Result held, waiting;
  net::cancellation_signal signal;
  slotgate::asio::async_acquire(*lim, into(held));
  slotgate::asio::async_acquire(*lim, net::bind_cancellation_slot(signal.slot(), into(waiting)));
  settle();
  signal.emit(net::cancellation_type::terminal);  // posts the withdrawal first
  held.guard.release();                           // the core grants the ticket right now
  settle();
  ASSERT_TRUE(waiting.done);
  EXPECT_EQ(waiting.ec, net::error::operation_aborted);
  EXPECT_FALSE(waiting.guard.holds());
  EXPECT_EQ(snap().held, 0u) << "the grant that won the race went back";
  EXPECT_EQ(snap().counters.grants_returned, 1u);
}

// The other order: the grant's check reaches the strand first and completes the operation;
// the cancellation then finds nothing to do.
TEST_F(AsyncAcquire, ACancellationAfterTheGrantCompletedChangesNothing) {
  Result held, waiting;
  net::cancellation_signal signal;
  slotgate::asio::async_acquire(*lim, into(held));
  slotgate::asio::async_acquire(*lim, net::bind_cancellation_slot(signal.slot(), into(waiting)));
  settle();
  held.guard.release();
  settle();
  ASSERT_TRUE(waiting.done);
  EXPECT_FALSE(waiting.ec);
  signal.emit(net::cancellation_type::terminal);  // the slot was cleared: no effect
  settle();
  EXPECT_TRUE(waiting.guard.holds());
  EXPECT_EQ(snap().held, 1u);
}

// Cancellations racing releases on two threads, many times: every operation completes once,
// and the count always returns to zero.
TEST_F(AsyncAcquire, CancellationsRacingGrantsLeakNothing) {
  configure(2);
  constexpr int kRounds = 400;
  std::atomic<int> completed{0}, granted{0};
  auto work = net::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  for (int round = 0; round < kRounds; ++round) {
    // Two holders, then two waiters with cancellation; release the holders from this thread
    // while the strand emits the cancellations.
    std::vector<std::promise<Guard>> holders(2);
    for (auto& h : holders)
      slotgate::asio::async_acquire(*lim, [&h](boost::system::error_code ec, Guard g) {
        EXPECT_FALSE(ec);
        h.set_value(std::move(g));
      });
    std::vector<Guard> held;
    for (auto& h : holders) held.push_back(h.get_future().get());
    auto signals = std::make_shared<std::vector<net::cancellation_signal>>(2);
    std::promise<void> queued;
    net::post(lim->get_executor(), [&, signals] {
      for (auto& s : *signals)
        slotgate::asio::async_acquire(
            *lim, 5s,
            net::bind_cancellation_slot(s.slot(), [&](boost::system::error_code ec, Guard) {
              completed.fetch_add(1);
              if (!ec) granted.fetch_add(1);
            }));
      queued.set_value();
    });
    queued.get_future().get();
    net::post(lim->get_executor(), [signals] {
      for (auto& s : *signals) s.emit(net::cancellation_type::terminal);
    });
    for (auto& g : held) g.release();
    // Both waiters complete, one way or the other.
    while (completed.load() < 2 * (round + 1)) std::this_thread::yield();
  }
  std::promise<slotgate::Snapshot<uint64_t>> last;
  net::post(lim->get_executor(), [&] { last.set_value(lim->snapshot()); });
  const auto s = last.get_future().get();
  work.reset();
  runner.join();
  EXPECT_EQ(completed.load(), 2 * kRounds);
  EXPECT_EQ(s.held, 0u);
  EXPECT_EQ(s.tickets_outstanding, 0u);
  EXPECT_EQ(s.counters.granted,
            2u * kRounds + static_cast<uint64_t>(granted.load()) + s.counters.grants_returned);
}

TEST_F(AsyncAcquire, CloseFailsEveryWaiter) {
  Result held;
  std::vector<Result> waiting(5);
  slotgate::asio::async_acquire(*lim, into(held));
  for (auto& w : waiting) slotgate::asio::async_acquire(*lim, into(w));
  settle();
  lim->close();
  settle();
  for (auto& w : waiting) {
    ASSERT_TRUE(w.done);
    EXPECT_EQ(w.ec, slotgate::make_error_code(Status::kClosed));
  }
  EXPECT_EQ(snap().tickets_outstanding, 0u);
}

TEST_F(AsyncAcquire, DestroyingTheLimiterAbortsWhatWaits) {
  Result held, waiting;
  slotgate::asio::async_acquire(*lim, into(held));
  slotgate::asio::async_acquire(*lim, into(waiting));
  settle();
  held.guard.detach();  // the limiter goes away first
  lim.reset();
  settle();
  ASSERT_TRUE(waiting.done);
  EXPECT_EQ(waiting.ec, net::error::operation_aborted);
}

TEST_F(AsyncAcquire, QueueFullIsAnError) {
  using Tiny = slotgate::asio::Limiter<1, 2>;
  Tiny tiny(io.get_executor());
  Tiny::config_type c;
  c.limit = 1;
  ASSERT_EQ(tiny.configure(c), Status::kOk);
  std::vector<boost::system::error_code> ecs;
  std::vector<Tiny::guard_type> guards;
  for (int i = 0; i < 4; ++i)
    slotgate::asio::async_acquire(tiny, [&](boost::system::error_code ec, Tiny::guard_type g) {
      ecs.push_back(ec);
      guards.push_back(std::move(g));
    });
  settle();
  ASSERT_EQ(ecs.size(), 2u);  // the holder, then the one refused; two wait
  EXPECT_FALSE(ecs[0]);
  EXPECT_EQ(ecs[1], slotgate::make_error_code(Status::kQueueFull));
  tiny.close();
  settle();
}

// 64 operations on one io_context thread, four slots: each holds its permit for a timer's
// while; the timer of the limiter drives nothing here (no deadlines), grants come from releases.
TEST_F(AsyncAcquire, ManyWaitersOnOneThread) {
  configure(4);
  constexpr int kOps = 64;
  int done = 0, holding = 0, most = 0;
  std::vector<std::unique_ptr<net::steady_timer>> timers;
  for (int i = 0; i < kOps; ++i) {
    timers.push_back(std::make_unique<net::steady_timer>(io));
    net::steady_timer* t = timers.back().get();
    slotgate::asio::async_acquire(*lim, 10s, [&, t](boost::system::error_code ec, Guard g) {
      ASSERT_FALSE(ec);
      most = std::max(most, ++holding);
      t->expires_after(1ms);
      t->async_wait([&, g = std::move(g)](boost::system::error_code) mutable {
        --holding;
        ++done;
        g.release();
      });
    });
  }
  io.run_for(20s);
  EXPECT_EQ(done, kOps);
  EXPECT_EQ(most, 4);
  EXPECT_EQ(snap().held, 0u);
  EXPECT_EQ(snap().counters.granted, static_cast<uint64_t>(kOps));
}

TEST_F(AsyncAcquire, WorksWithUseFuture) {
  auto work = net::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  std::future<Guard> f = slotgate::asio::async_acquire(*lim, 1s, net::use_future);
  Guard g = f.get();
  EXPECT_TRUE(g.holds());
  std::future<Guard> late = slotgate::asio::async_acquire(*lim, 10ms, net::use_future);
  EXPECT_THROW(late.get(), boost::system::system_error);
  g.release();
  work.reset();
  runner.join();
}

// With a cooldown the freed slot comes back at the cooldown's end: the limiter's timer polls
// then and grants the waiter, with nobody else calling into the limiter.
TEST_F(AsyncAcquire, TheTimerGrantsWhenACooldownEnds) {
  configure(1, 30ms);
  Result first, second;
  slotgate::asio::async_acquire(*lim, into(first));
  slotgate::asio::async_acquire(*lim, 5s, into(second));
  settle();
  first.guard.release();
  settle();
  EXPECT_FALSE(second.done) << "the slot cools first";
  io.restart();
  while (!second.done && io.run_one_for(5s) != 0) {
  }
  ASSERT_TRUE(second.done);
  EXPECT_FALSE(second.ec);
}

}  // namespace
