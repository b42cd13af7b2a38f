// The reverse proxy: each client connection is a coroutine that reads requests, waits for a
// permit (watching the client meanwhile), forwards the request with the key, and relays the
// response — a streamed body chunk by chunk — holding the permit until the response ends or
// the client leaves.
#pragma once

#include <stdint.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "config.hpp"
#include "metrics.hpp"
#include "slotgate/fleet/member.hpp"
#include "slotgate/http/usage_source.hpp"
#include "slotgate/ports/asio.hpp"
#include "upstream_link.hpp"

namespace gateway {

// Two lanes: requests marked by the priority header wait in the higher one.
using Limiter = slotgate::asio::Limiter<kMaxCap, kMaxQueue, 2>;
inline constexpr slotgate::Lane kNormalLane{0}, kHighLane{1};
using FleetMember = slotgate::fleet::Member<Limiter>;
using Request = boost::beast::http::request<boost::beast::http::string_body>;
class ClientWatch;

// The upstream connections a client connection keeps between its requests: one of the kind
// the upstream's scheme needs.
struct KeptUpstream {
  explicit KeptUpstream(std::atomic<int64_t>& kept) : plain(kept), tls(kept) {}
  UpstreamLink<boost::beast::tcp_stream> plain;
  UpstreamLink<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls;
};

// What the gateway needs of one client connection to end it from another thread (on
// shutdown). The pointers are set and cleared on the connection's strand, where the close that
// end_connections posts runs too.
struct Connection {
  explicit Connection(boost::asio::any_io_executor e) : ex(std::move(e)) {}
  boost::asio::any_io_executor ex;
  boost::asio::ip::tcp::socket* client = nullptr;    // null once the connection is over
  boost::asio::ip::tcp::socket* upstream = nullptr;  // while a request talks to the upstream
  bool idle = false;                                 // waiting for the client's next request
};

class Gateway {
 public:
  // `source`: the usage source (null: none). Configures the limiter from `config`.
  Gateway(boost::asio::io_context& io, const Config& config,
          std::shared_ptr<slotgate::http::UsageSource> source);

  // Serves one client connection until it closes.
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  // The /metrics body.
  std::string metrics() const;

  // Shutting down: waiting requests get 503 at once, new ones too. Streams go on.
  void close_limiter() { limiter_.close(); }
  // Ends client connections: every one, or those idle between requests (and keep-alive
  // connections stop after their current request from now on). Permits go back as the
  // connections' coroutines unwind.
  void end_connections(bool idle_only);
  int64_t connections() const { return stats_.connections.load(std::memory_order_relaxed); }

  Limiter& limiter() { return limiter_; }
  // The fleet member, or null without fleet_redis.
  const FleetMember* fleet() const { return fleet_.get(); }
  // What configuring the limiter said (kOk unless a setting is out of the core's range).
  slotgate::Status status() const { return status_; }
  // Why upstream_ca_file could not be used (empty: it could, or there is none).
  const std::string& tls_error() const { return tls_error_; }

 private:
  // One proxied request. False: the client connection is unusable (it left, or a response
  // was cut short).
  boost::asio::awaitable<bool> proxy(boost::beast::tcp_stream& client, Request& req,
                                     Connection& conn, KeptUpstream& kept);
  // The upstream half, over a plain or a TLS stream.
  template <class Stream>
  boost::asio::awaitable<bool> exchange(UpstreamLink<Stream>& link,
                                        boost::beast::tcp_stream& client, Request& req,
                                        Limiter::guard_type& permit, ClientWatch& watch,
                                        Connection& conn);
  boost::asio::awaitable<bool> respond(boost::beast::tcp_stream& client, unsigned status,
                                       std::string body, bool keep_alive,
                                       std::string retry_after = {},
                                       const char* content_type = "text/plain");
  std::string retry_after_seconds() const;
  slotgate::Lane lane_of(Request& req) const;

  const Config config_;
  std::shared_ptr<slotgate::http::UsageSource> source_;
  Limiter limiter_;
  slotgate::Status status_ = slotgate::Status::kOk;
  std::unique_ptr<FleetMember> fleet_;  // with fleet_redis: leases this gateway's share
  mutable Stats stats_;
  boost::asio::ssl::context tls_;
  std::string tls_error_;
  std::atomic<uint32_t> waiting_{0};  // requests in async_acquire now
  std::atomic<bool> draining_{false};
  std::mutex connections_mu_;
  std::set<std::shared_ptr<Connection>> connections_;
};

}  // namespace gateway
