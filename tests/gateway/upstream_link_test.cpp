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
  net::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(net::ip::address_v4::loopback(), 0)};
  tcp::socket server{io};
  std::unique_ptr<beast::tcp_stream> client = std::make_unique<beast::tcp_stream>(io);
  Pair() {
    client->socket().connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }
  // Waits (up to 5 s) until what the server did reaches the client's socket.
  bool arrived() {
    pollfd p{client->socket().native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 5000) == 1;
  }
};

TEST(UpstreamLink, AConnectionThePeerClosedIsNotOpen) {
  Pair p;
  EXPECT_TRUE(still_open(p.client->socket()));
  p.server.close();
  ASSERT_TRUE(p.arrived());
  EXPECT_FALSE(still_open(p.client->socket()));
}

TEST(UpstreamLink, AConnectionWithBytesNobodyAskedForIsNotReused) {
  Pair p;
  net::write(p.server, net::buffer("HTTP/1.1 200 OK\r\n", 17));
  ASSERT_TRUE(p.arrived());
  EXPECT_FALSE(still_open(p.client->socket()));
}

TEST(UpstreamLink, TakesAKeptConnectionOnlyWhileOpenAndIdleLessThanTheLimit) {
  using namespace std::chrono_literals;
  UpstreamLink<beast::tcp_stream> link;
  EXPECT_EQ(link.take(1h), nullptr);  // nothing kept
  {
    Pair p;
    beast::tcp_stream* kept = p.client.get();
    link.keep(std::move(p.client));
    EXPECT_EQ(link.take(1h).get(), kept);
    EXPECT_EQ(link.take(1h), nullptr);  // taken: kept no more
  }
  {
    Pair p;
    link.keep(std::move(p.client));
    EXPECT_EQ(link.take(0s), nullptr);  // idle past the limit
  }
  {
    Pair p;
    auto* raw = p.client.get();
    link.keep(std::move(p.client));
    p.server.close();
    pollfd q{raw->socket().native_handle(), POLLIN, 0};
    ASSERT_EQ(::poll(&q, 1, 5000), 1);
    EXPECT_EQ(link.take(1h), nullptr);  // the upstream closed it meanwhile
  }
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
