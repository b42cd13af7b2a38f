// asio::BasicLimiter: the asio limiter without a usage source. It shares the waiter table and
// async_acquire with asio::Limiter (async_acquire_test.cpp runs those in full); here, that the
// gate is compiled out, and that waiting, hand-off, time-outs, the cooldown's timer and
// destruction work on it too.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>

#include "slotgate/ports/asio.hpp"

namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using slotgate::Status;
using B = slotgate::asio::BasicLimiter<8, 64>;
using Full = slotgate::asio::Limiter<8, 64>;
using Guard = B::guard_type;

static_assert(!slotgate::HasUsageSource<slotgate::asio::BasicPort<8, 64>>::value,
              "BasicPort has no usage source");
static_assert(slotgate::HasUsageSource<slotgate::asio::Port<8, 64>>::value, "Port has one");
static_assert(sizeof(B) < sizeof(Full), "the gate's state is compiled out");

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

class BasicAsync : public ::testing::Test {
 protected:
  void SetUp() override { configure(1); }
  void configure(uint32_t limit, std::chrono::nanoseconds cooldown = 0ns) {
    B::config_type c;
    c.limit = limit;
    c.cooldown = slotgate::asio::BasicPort<8, 64>::from(cooldown);
    ASSERT_EQ(lim->configure(c), Status::kOk);
  }
  void settle() {
    io.restart();
    io.poll();
  }

  net::io_context io;
  std::unique_ptr<B> lim = std::make_unique<B>(io.get_executor());
};

TEST_F(BasicAsync, GrantsAndHandsOffOnRelease) {
  Result first, second;
  slotgate::asio::async_acquire(*lim, into(first));
  slotgate::asio::async_acquire(*lim, into(second));
  settle();
  ASSERT_TRUE(first.done);
  EXPECT_FALSE(first.ec);
  EXPECT_TRUE(first.guard.holds());
  EXPECT_FALSE(second.done) << "one slot: the second waits";
  EXPECT_EQ(lim->port().waiting(), 1u);
  first.guard.release();  // posts the waiter's check
  settle();
  ASSERT_TRUE(second.done);
  EXPECT_FALSE(second.ec);
  EXPECT_TRUE(second.guard.holds());
  EXPECT_EQ(lim->port().waiting(), 0u);
}

TEST_F(BasicAsync, TimesOutAndLeavesNothingBehind) {
  Result held, late;
  slotgate::asio::async_acquire(*lim, into(held));
  slotgate::asio::async_acquire(*lim, 20ms, into(late));
  io.run_for(2s);  // the limiter's timer fires at the deadline; then nothing is left to run
  ASSERT_TRUE(late.done);
  EXPECT_EQ(late.ec, slotgate::make_error_code(Status::kTimedOut));
  EXPECT_FALSE(late.guard.holds());
  const auto s = lim->snapshot();
  EXPECT_EQ(s.held, 1u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.tickets_outstanding, 0u);
}

TEST_F(BasicAsync, TheTimerGrantsWhenACooldownEnds) {
  configure(1, 30ms);
  Result held, next;
  slotgate::asio::async_acquire(*lim, into(held));
  slotgate::asio::async_acquire(*lim, 5s, into(next));
  settle();
  ASSERT_TRUE(held.guard.holds());
  held.guard.release();
  settle();
  EXPECT_FALSE(next.done) << "the slot cools first";
  io.restart();
  while (!next.done && io.run_one_for(5s) != 0) {
  }
  ASSERT_TRUE(next.done);
  EXPECT_FALSE(next.ec);
  EXPECT_TRUE(next.guard.holds());
}

TEST_F(BasicAsync, DestroyingTheLimiterAbortsWhatWaits) {
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

}  // namespace
