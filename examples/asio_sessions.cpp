// slotgate on an Asio event loop: 16 coroutines share an upstream that allows 4 sessions at
// once. Each waits for a slot (at most 2 s), holds it across its "upstream call" (a timer),
// and releases it when its scope ends; a 429 is reported as a rejected outcome. One thread,
// no thread per waiter. C++20 (coroutines); the port itself is C++17.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <slotgate/ports/asio.hpp>

namespace net = boost::asio;
using namespace std::chrono_literals;
// No usage endpoint here: BasicLimiter, which leaves the usage gate out (with one, name
// slotgate::asio::Limiter and hand it the source).
using Limiter = slotgate::asio::BasicLimiter</*MaxSlots=*/8, /*MaxWaiters=*/64>;

int in_flight = 0, most_in_flight = 0, served = 0;

net::awaitable<int> call_upstream(int id) {  // stands in for an HTTP request
  net::steady_timer t(co_await net::this_coro::executor, 20ms + 5ms * (id % 3));
  co_await t.async_wait(net::use_awaitable);
  co_return id == 7 ? 429 : 200;
}

net::awaitable<void> request(Limiter& limiter, int id) {
  auto [ec, permit] =
      co_await slotgate::asio::async_acquire(limiter, 2s, net::as_tuple(net::use_awaitable));
  if (ec) {  // timed_out, closed, queue_full (category "slotgate")
    std::printf("request %d: no slot: %s\n", id, ec.message().c_str());
    co_return;
  }
  if (++in_flight > most_in_flight) most_in_flight = in_flight;
  const int status = co_await call_upstream(id);
  --in_flight;
  ++served;
  if (status == 429) permit.release(Limiter::outcome_type::rejected());  // pause, hold back
}  // the permit is released here otherwise

int main() {
  net::io_context io;
  Limiter limiter(io.get_executor());
  Limiter::config_type c;
  c.limit = 4;
  c.cooldown = Limiter::port_type::from(50ms);  // the upstream counts a session a while longer
  c.default_pause = Limiter::port_type::from(100ms);
  if (limiter.configure(c) != slotgate::Status::kOk) return 1;
  for (int id = 0; id < 16; ++id) net::co_spawn(io, request(limiter, id), net::detached);
  io.run();
  const auto s = limiter.snapshot();
  std::printf("served %d requests, at most %d in flight (limit 4), %llu queued grants\n", served,
              most_in_flight, static_cast<unsigned long long>(s.counters.from_queue));
  return served == 16 && most_in_flight <= 4 ? 0 : 1;
}
