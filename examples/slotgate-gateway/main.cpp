// slotgate-gateway: a streaming reverse proxy that holds one permit per upstream request, so the
// provider behind it never sees more concurrent sessions than its cap.
//
//   slotgate-gateway CONFIG          serve until SIGINT or SIGTERM
//   slotgate-gateway --check CONFIG  read the config, say what is wrong, exit
//
// It prints "listening on ADDRESS:PORT" once it accepts (with `listen = 127.0.0.1:0` the port
// is a free one). On SIGINT or SIGTERM it stops accepting, answers waiting requests 503, lets
// streams finish for `drain_timeout_ms`, then cuts what is left. Exit status: 0 after a signal,
// 2 for a bad config (the message names the file, the line and the key), 1 if it cannot listen.
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config.hpp"
#include "proxy.hpp"

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);

int usage() {
  fprintf(stderr, "usage: slotgate-gateway [--check] CONFIG\n");
  return 2;
}

// The usage source the config asks for: an endpoint (with passive readings beside it if a
// header is named too), passive readings alone, or none.
bool make_source(const gateway::Config& c, std::shared_ptr<slotgate::http::UsageSource>& out,
                 std::string& error) {
  if (c.usage_url.empty() && c.passive_header.empty()) return true;
  slotgate::http::SourceOptions o;
  o.url = c.usage_url;
  o.bearer_token = c.key;
  o.json_path = c.usage_json_path;
  o.header = c.usage_header;
  o.passive_only = c.usage_url.empty();
  o.ca_file = c.upstream_ca_file;
  out = slotgate::http::UsageSource::make(o, error);
  return out != nullptr;
}

net::awaitable<void> accept_loop(tcp::acceptor& acceptor, gateway::Gateway& gw,
                                 net::io_context& io) {
  for (;;) {
    // Each connection on a strand of its own: its coroutine and the watch of its client.
    auto [ec, socket] = co_await acceptor.async_accept(net::make_strand(io), kTuple);
    if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;  // a connection that failed before we took it (too many files, ...)
    const auto ex = socket.get_executor();
    net::co_spawn(ex, gw.serve(std::move(socket)), net::detached);
  }
}

// After a stop signal: no new connections or grants, streams finish within the drain time.
net::awaitable<void> drain(tcp::acceptor& acceptor, gateway::Gateway& gw, uint32_t drain_ms) {
  boost::system::error_code ignored;
  acceptor.close(ignored);
  gw.close_limiter();
  gw.end_connections(true);
  net::steady_timer t(co_await net::this_coro::executor);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_ms);
  while (gw.connections() > 0 && std::chrono::steady_clock::now() < until) {
    t.expires_after(std::chrono::milliseconds(20));
    co_await t.async_wait(kTuple);
  }
  gw.end_connections(false);
}

}  // namespace

int main(int argc, char** argv) {
  bool check_only = false;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--check") == 0)
      check_only = true;
    else if (path.empty() && argv[i][0] != '-')
      path = argv[i];
    else
      return usage();
  }
  if (path.empty()) return usage();

  gateway::Config config;
  std::string error;
  if (!gateway::load_config(path, config, error)) {
    fprintf(stderr, "slotgate-gateway: %s\n", error.c_str());
    return 2;
  }
  std::shared_ptr<slotgate::http::UsageSource> source;
  if (!make_source(config, source, error)) {
    fprintf(stderr, "slotgate-gateway: %s: usage: %s\n", path.c_str(), error.c_str());
    return 2;
  }
  if (check_only) {
    printf("%s: ok\n", path.c_str());
    return 0;
  }
  signal(SIGPIPE, SIG_IGN);  // a client gone mid-write is an error code, not a signal

  net::io_context io(static_cast<int>(config.threads));
  gateway::Gateway gw(io, config, source);
  if (!gw.tls_error().empty()) {
    fprintf(stderr, "slotgate-gateway: %s: upstream_ca_file: %s\n", path.c_str(),
            gw.tls_error().c_str());
    return 2;
  }
  if (gw.status() != slotgate::Status::kOk) {
    fprintf(stderr, "slotgate-gateway: %s: the limiter refused the settings (%s)\n", path.c_str(),
            slotgate::to_string(gw.status()));
    return 2;
  }

  tcp::acceptor acceptor(io);
  boost::system::error_code ec;
  const auto address = net::ip::make_address(config.listen_host, ec);
  if (ec) {
    fprintf(stderr, "slotgate-gateway: %s: listen: '%s' is not an address\n", path.c_str(),
            config.listen_host.c_str());
    return 2;
  }
  const tcp::endpoint at(address, config.listen_port);
  if (acceptor.open(at.protocol(), ec), !ec) {
    acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    acceptor.bind(at, ec);
  }
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    fprintf(stderr, "slotgate-gateway: cannot listen on %s:%u: %s\n", config.listen_host.c_str(),
            config.listen_port, ec.message().c_str());
    return 1;
  }
  const tcp::endpoint bound = acceptor.local_endpoint();
  printf("listening on %s:%u\n", bound.address().to_string().c_str(), bound.port());
  fflush(stdout);

  net::co_spawn(io, accept_loop(acceptor, gw, io), net::detached);
  net::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code e, int) {
    if (e) return;
    net::co_spawn(io, drain(acceptor, gw, config.drain_timeout_ms), net::detached);
  });

  std::vector<std::thread> more;
  for (uint32_t i = 1; i < config.threads; ++i) more.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : more) t.join();
  return 0;
}
