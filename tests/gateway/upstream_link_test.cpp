// The kept upstream connection's rules on real loopback sockets: a connection the peer closed is
// not used again, nor one idle past the limit; which requests may be sent twice.
#include "upstream_link.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using gateway::still_open;
using gateway::UpstreamLink;

struct Pair {  // a connected client and server socket on loopback
  explicit Pair(net::io_context& io)
      : acceptor(io, {net::ip::address_v4::loopback(), 0}),
        server(io),
        client(std::make_unique<beast::tcp_stream>(io)) {
    client->socket().connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }
  tcp::acceptor acceptor;
  tcp::socket server;
  std::unique_ptr<beast::tcp_stream> client;
};

// Waits (up to 5 s) until something (data or the end of the stream) reaches `s`.
bool arrived(tcp::socket& s) {
  pollfd p{s.native_handle(), POLLIN, 0};
  return ::poll(&p, 1, 5000) == 1;
}

TEST(UpstreamLink, AConnectionThePeerClosedIsNotOpen) {
  net::io_context io;
  Pair p(io);
  EXPECT_TRUE(still_open(p.client->socket()));
  p.server.close();
  ASSERT_TRUE(arrived(p.client->socket()));
  EXPECT_FALSE(still_open(p.client->socket()));
}

TEST(UpstreamLink, AConnectionWithBytesNobodyAskedForIsNotReused) {
  net::io_context io;
  Pair p(io);
  net::write(p.server, net::buffer("HTTP/1.1 200 OK\r\n", 17));
  ASSERT_TRUE(arrived(p.client->socket()));
  EXPECT_FALSE(still_open(p.client->socket()));
}

TEST(UpstreamLink, TakesAKeptConnectionOnlyWhileOpenAndIdleLessThanTheLimit) {
  using namespace std::chrono_literals;
  net::io_context io;  // outlives the link: its timer and streams run on it
  std::atomic<int64_t> kept{0};
  UpstreamLink<beast::tcp_stream> link(kept);
  EXPECT_EQ(link.take(1h), nullptr);  // nothing kept
  Pair a(io);
  beast::tcp_stream* raw = a.client.get();
  link.keep(std::move(a.client), 1h);
  EXPECT_EQ(kept.load(), 1);
  EXPECT_EQ(link.take(1h).get(), raw);
  EXPECT_EQ(kept.load(), 0);
  EXPECT_EQ(link.take(1h), nullptr);  // taken: kept no more

  Pair b(io);
  link.keep(std::move(b.client), 1h);
  EXPECT_EQ(link.take(0s), nullptr);  // idle past the limit
  EXPECT_EQ(kept.load(), 0);

  Pair c(io);
  raw = c.client.get();
  link.keep(std::move(c.client), 1h);
  c.server.close();
  ASSERT_TRUE(arrived(raw->socket()));
  EXPECT_EQ(link.take(1h), nullptr);  // the upstream closed it meanwhile
  EXPECT_EQ(kept.load(), 0);
}

TEST(UpstreamLink, AConnectionNotTakenWithinItsIdleLimitIsClosed) {
  using namespace std::chrono_literals;
  net::io_context io;
  std::atomic<int64_t> kept{0};
  UpstreamLink<beast::tcp_stream> link(kept);
  Pair p(io);
  link.keep(std::move(p.client), 20ms);
  EXPECT_EQ(kept.load(), 1);
  EXPECT_EQ(io.run_one(), 1u);  // the idle limit's timer: the one thing pending
  EXPECT_EQ(kept.load(), 0);
  ASSERT_TRUE(arrived(p.server));
  char c;
  boost::system::error_code ec;
  p.server.read_some(net::buffer(&c, 1), ec);
  EXPECT_EQ(ec, net::error::eof) << "the upstream sees the connection closed";
  EXPECT_EQ(link.take(1h), nullptr);

  // Kept again, and taken before its limit: the first timer's stale end changes nothing.
  Pair q(io);
  beast::tcp_stream* raw = q.client.get();
  link.keep(std::move(q.client), 1h);
  EXPECT_EQ(link.take(1h).get(), raw);
}

TEST(UpstreamLink, IdempotentMethodsAndRequestsWithAnIdempotencyKeyMayGoTwice) {
  bhttp::request<bhttp::string_body> r;
  for (auto v : {bhttp::verb::get, bhttp::verb::head, bhttp::verb::options, bhttp::verb::put,
                 bhttp::verb::delete_}) {
    r.method(v);
    EXPECT_TRUE(gateway::replayable(r)) << bhttp::to_string(v);
  }
  for (auto v : {bhttp::verb::post, bhttp::verb::patch}) {
    r.method(v);
    EXPECT_FALSE(gateway::replayable(r)) << bhttp::to_string(v);
  }
  r.method(bhttp::verb::post);
  r.set("idempotency-key", "k-1");
  EXPECT_TRUE(gateway::replayable(r));
}

}  // namespace
