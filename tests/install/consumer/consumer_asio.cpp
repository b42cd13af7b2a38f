// An installed slotgate::asio: one asynchronous acquire on an io_context.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <slotgate/ports/asio.hpp>

int main() {
  boost::asio::io_context io;
  slotgate::asio::Limiter<4, 16> limiter(io.get_executor());
  slotgate::asio::Limiter<4, 16>::config_type c;
  c.limit = 2;
  if (limiter.configure(c) != slotgate::Status::kOk) return 1;
  bool granted = false;
  slotgate::asio::async_acquire(
      limiter, std::chrono::seconds(1),
      [&](boost::system::error_code ec, auto guard) { granted = !ec && guard.holds(); });
  io.run();
  std::printf("asio consumer: %s\n", granted ? "granted" : "refused");
  return granted ? 0 : 1;
}
