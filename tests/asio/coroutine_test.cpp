// The asio port from C++20 coroutines: co_await async_acquire with use_awaitable, the guard
// held across suspensions and released when the coroutine's scope ends, errors as exceptions
// or, with as_tuple, as values; cancellation through awaitable operators' cancellation.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <vector>

#include "slotgate/ports/asio.hpp"

namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using namespace net::experimental::awaitable_operators;
using slotgate::Status;
using L = slotgate::asio::Limiter<4, 64>;

struct Counts {
  int holding = 0, most = 0, done = 0, timed_out = 0;
};

net::awaitable<void> session(L& lim, Counts& c, std::chrono::milliseconds hold) {
  auto guard = co_await slotgate::asio::async_acquire(lim, 5s, net::use_awaitable);
  c.most = std::max(c.most, ++c.holding);
  net::steady_timer t(co_await net::this_coro::executor, hold);
  co_await t.async_wait(net::use_awaitable);  // the permit is held across the suspension
  --c.holding;
  ++c.done;
}  // the guard releases

class AsyncAcquireCoroutines : public ::testing::Test {
 protected:
  void configure(uint32_t limit) {
    L::config_type cfg;
    cfg.limit = limit;
    ASSERT_EQ(lim.configure(cfg), Status::kOk);
  }
  net::io_context io;
  L lim{io.get_executor()};
};

TEST_F(AsyncAcquireCoroutines, SessionsHoldTheirPermitAcrossSuspensions) {
  configure(3);
  Counts c;
  for (int i = 0; i < 24; ++i) net::co_spawn(io, session(lim, c, 2ms), net::detached);
  io.run_for(30s);
  EXPECT_EQ(c.done, 24);
  EXPECT_EQ(c.most, 3);
  EXPECT_EQ(lim.snapshot().held, 0u);
}

TEST_F(AsyncAcquireCoroutines, ErrorsAsValuesWithAsTuple) {
  configure(1);
  boost::system::error_code second_ec;
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        auto held = co_await slotgate::asio::async_acquire(lim, 1s, net::use_awaitable);
        auto [ec, guard] =
            co_await slotgate::asio::async_acquire(lim, 10ms, net::as_tuple(net::use_awaitable));
        second_ec = ec;
        EXPECT_FALSE(guard.holds());
      },
      net::detached);
  io.run_for(10s);
  EXPECT_EQ(second_ec, slotgate::make_error_code(Status::kTimedOut));
  EXPECT_EQ(lim.snapshot().held, 0u);
}

// `acquire || timer`: the timer wins, and the awaitable operator cancels the acquire, which
// leaves nothing queued.
TEST_F(AsyncAcquireCoroutines, AwaitableOperatorsCancelTheLoser) {
  configure(1);
  bool timer_won = false;
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        auto held = co_await slotgate::asio::async_acquire(lim, 1s, net::use_awaitable);
        net::steady_timer t(co_await net::this_coro::executor, 10ms);
        auto r = co_await (slotgate::asio::async_acquire(lim, net::use_awaitable) ||
                           t.async_wait(net::use_awaitable));
        timer_won = r.index() == 1;
      },
      net::detached);
  io.run_for(10s);
  EXPECT_TRUE(timer_won);
  const auto s = lim.snapshot();
  EXPECT_EQ(s.held, 0u);
  EXPECT_EQ(s.tickets_outstanding, 0u);
  EXPECT_EQ(s.counters.cancelled, 1u);
}

}  // namespace
