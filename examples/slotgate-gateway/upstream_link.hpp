// The upstream connection a client connection keeps between its requests.
//
// A client that keeps its connection open (HTTP keep-alive, as SDKs do) has its requests sent
// on one upstream connection too: the resolve, the TCP connect and the TLS handshake are paid
// once, not per request. The kept connection belongs to the client connection alone and lives
// on its strand, like everything else the client's coroutine touches, so nothing is shared
// between threads; it goes when the client connection does.
//
// A kept connection is used again only if the upstream said it may be (a whole response, not
// `Connection: close`, not a body ended by closing), it has been idle less than
// `upstream_idle_ms`, and the upstream has not closed it meanwhile (a peek finds no end of
// stream pending); one idle that long is closed then. An upstream may still close it just as a
// request goes out: a request whose send fails on a kept connection, or which gets no byte of an
// answer on one and may be replayed (an idempotent method, or an Idempotency-Key header), goes once
// more on a new connection. Any other failure is the client's 502, as without keeping.
#pragma once

#include <errno.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <memory>
#include <optional>

namespace gateway {

// True while the peer has not closed `s` and sent nothing unasked: an idle HTTP connection.
// A peek that does not wait.
inline bool still_open(boost::asio::ip::tcp::socket& s) {
  if (!s.is_open()) return false;
  char c;
  const ssize_t n = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// A request the gateway may send twice when the first try got nothing back (RFC 9110 §9.2.2's
// idempotent methods; a client's Idempotency-Key says the same of any method).
template <class Body>
bool replayable(const boost::beast::http::request<Body>& req) {
  namespace bhttp = boost::beast::http;
  switch (req.method()) {
    case bhttp::verb::get:
    case bhttp::verb::head:
    case bhttp::verb::options:
    case bhttp::verb::trace:
    case bhttp::verb::put:
    case bhttp::verb::delete_:
      return true;
    default:
      return req.find("Idempotency-Key") != req.end();
  }
}

// One kept upstream connection of a stream type (plain TCP, or TLS over it). A connection kept
// and not taken again within its idle limit is closed then, on the client connection's strand
// (the stream's executor), so an idle client does not hold an idle upstream connection for
// longer than that. `kept` counts the connections kept now, for /metrics.
template <class Stream>
class UpstreamLink {
 public:
  using Clock = std::chrono::steady_clock;

  explicit UpstreamLink(std::atomic<int64_t>& kept) : state_(std::make_shared<State>(kept)) {}
  ~UpstreamLink() { state_->drop(); }
  UpstreamLink(const UpstreamLink&) = delete;
  UpstreamLink& operator=(const UpstreamLink&) = delete;

  // The kept connection if it may be used again now, else null (a stale one is closed).
  std::unique_ptr<Stream> take(Clock::duration max_idle) {
    std::unique_ptr<Stream> s = state_->release();
    if (s && (Clock::now() - state_->since >= max_idle ||
              !still_open(boost::beast::get_lowest_layer(*s).socket())))
      s.reset();
    return s;
  }
  // Keep `s` for the next request: its last response was read whole and the upstream keeps it
  // open. Closed if not taken within `max_idle`.
  void keep(std::unique_ptr<Stream> s, Clock::duration max_idle) {
    State& st = *state_;
    st.drop();
    st.timer.emplace(s->get_executor());
    st.kept = std::move(s);
    st.since = Clock::now();
    st.gauge.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    st.timer->expires_after(max_idle);
    // The handler may run after this link is gone (a timer that fired just before): it holds
    // the state weakly, and a later keep makes it stale.
    st.timer->async_wait([weak = std::weak_ptr<State>(state_),
                          generation = ++st.generation](const boost::system::error_code& ec) {
      const auto alive = weak.lock();
      if (!ec && alive && alive->generation == generation) alive->drop();
    });
  }

 private:
  struct State {
    explicit State(std::atomic<int64_t>& g) : gauge(g) {}
    std::unique_ptr<Stream> release() {
      if (timer) timer->cancel();
      if (kept) gauge.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a statistic
      return std::move(kept);
    }
    void drop() { release().reset(); }

    std::atomic<int64_t>& gauge;
    std::unique_ptr<Stream> kept;
    Clock::time_point since;
    std::optional<boost::asio::steady_timer> timer;
    uint64_t generation = 0;
  };
  std::shared_ptr<State> state_;
};

}  // namespace gateway
