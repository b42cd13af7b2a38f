#include "proxy.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <limits>
#include <memory>
#include <optional>
#include <type_traits>

#include "client_watch.hpp"
#include "slotgate/http/retry_after.hpp"

namespace gateway {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using slotgate::Status;

namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr auto kClientIdle = std::chrono::seconds(120);  // between requests on a connection

uint64_t now_ns() {
  return Limiter::port_type::now();
}
std::chrono::milliseconds ms(uint32_t n) {
  return std::chrono::milliseconds(n);
}

slotgate::Config<uint64_t> limiter_config(const Config& c) {
  auto lc = slotgate::Config<uint64_t>::recommended(c.cap, 1000000000u);
  const auto ns = [](uint64_t n) { return n * 1000000u; };
  lc.cooldown = ns(c.cooldown_ms);
  lc.default_pause = ns(c.default_pause_ms);
  lc.gate.staleness = ns(c.usage_staleness_ms);
  lc.gate.max_age = ns(c.usage_max_age_ms);
  return lc;
}

// Headers that belong to one connection (RFC 9110 §7.6.1), not forwarded either way.
bool hop_by_hop(bhttp::field f, beast::string_view name) {
  switch (f) {
    case bhttp::field::connection:
    case bhttp::field::keep_alive:
    case bhttp::field::proxy_connection:
    case bhttp::field::proxy_authenticate:
    case bhttp::field::proxy_authorization:
    case bhttp::field::te:
    case bhttp::field::trailer:
    case bhttp::field::transfer_encoding:
    case bhttp::field::upgrade:
      return true;
    default:
      return beast::iequals(name, "keep-alive");
  }
}

// A Retry-After the core accepts: whole seconds, at most a day.
Limiter::outcome_type rejected_outcome(const bhttp::fields& headers) {
  const auto it = headers.find(bhttp::field::retry_after);
  if (it == headers.end()) return Limiter::outcome_type::rejected();
  const auto v = it->value();
  const auto d = slotgate::http::parse_retry_after(std::string_view(v.data(), v.size()),
                                                   std::chrono::system_clock::now());
  if (!d) return Limiter::outcome_type::rejected();
  const uint64_t s = std::min<uint64_t>(static_cast<uint64_t>(d->count()), 86400);
  return Limiter::outcome_type::rejected_retry_after(s * 1000000000u);
}

template <class T>
struct Counted {  // a gauge up for as long as the scope lasts
  explicit Counted(std::atomic<T>& g) : gauge(g) { gauge.fetch_add(1, std::memory_order_relaxed); }
  ~Counted() { gauge.fetch_sub(1, std::memory_order_relaxed); }
  std::atomic<T>& gauge;
};

}  // namespace

Gateway::Gateway(net::io_context& io, const Config& config,
                 std::shared_ptr<slotgate::http::UsageSource> source)
    : config_(config),
      source_(std::move(source)),
      // In a fleet the readings go to the member, which passes them to the ledger: the local
      // limit is this gateway's share, and a gate would count the peers' sessions against it.
      limiter_(io.get_executor(), config.fleet() ? nullptr : source_),
      tls_(net::ssl::context::tls_client) {
  status_ = limiter_.configure(limiter_config(config_));
  if (status_ == Status::kOk) {
    Limiter::lane_config_type lanes;
    lanes.age = uint64_t(config_.priority_age_ms) * 1000000u;
    status_ = limiter_.configure_lanes(lanes);
  }
  if (status_ == Status::kOk && config_.fleet()) {
    slotgate::fleet::Options o;
    o.redis_host = config_.fleet_redis_host;
    o.redis_port = config_.fleet_redis_port;
    o.redis_password = config_.fleet_redis_password;
    o.name = config_.fleet_name;
    o.id = config_.fleet_id;
    o.cap = config_.cap;
    o.floor = config_.fleet_floor;
    o.ttl = ms(config_.fleet_ttl_ms);
    if (source_) {
      // The member's functions hold the source, so it lives as long as they do.
      auto feed = source_;
      o.read_usage = [feed](uint32_t& sessions, std::chrono::milliseconds& age) {
        slotgate::UsageReading<uint64_t> r;
        if (!feed->read(r)) return false;
        const uint64_t now = now_ns();
        sessions = r.sessions;
        age = std::chrono::milliseconds(now > r.sampled_at ? (now - r.sampled_at) / 1000000u : 0);
        return true;
      };
      if (!config_.usage_url.empty()) o.refresh_usage = [feed] { feed->request_refresh(); };
    }
    fleet_ = std::make_unique<FleetMember>(limiter_, o);  // the limit is 0 until its first lease
  }
  if (config_.upstream_ca_file.empty()) {
    tls_.set_default_verify_paths();
  } else {
    beast::error_code ec;
    tls_.load_verify_file(config_.upstream_ca_file, ec);
    if (ec) tls_error_ = config_.upstream_ca_file + ": " + ec.message();
  }
  tls_.set_verify_mode(net::ssl::verify_peer);
}

std::string Gateway::metrics() const {
  const slotgate::fleet::MemberStatus fleet =
      fleet_ ? fleet_->status() : slotgate::fleet::MemberStatus{};
  const bool priority = !config_.priority_header.empty();
  Lanes lanes;
  if (priority) {
    const uint64_t now = now_ns();
    (void)limiter_.lane_snapshot(kNormalLane, now, lanes[0]);
    (void)limiter_.lane_snapshot(kHighLane, now, lanes[1]);
  }
  return render_metrics(limiter_.snapshot(), stats_, source_.get(), fleet_ ? &fleet : nullptr,
                        priority ? &lanes : nullptr);
}

// The lane a request waits in: the higher one when it carries the priority header's value. The
// header is the gateway's own: it is not sent upstream.
slotgate::Lane Gateway::lane_of(Request& req) const {
  if (config_.priority_header.empty()) return kNormalLane;
  const auto it = req.find(config_.priority_header);
  if (it == req.end()) return kNormalLane;
  const bool high = beast::iequals(it->value(), config_.priority_value);
  req.erase(config_.priority_header);
  return high ? kHighLane : kNormalLane;
}

std::string Gateway::retry_after_seconds() const {
  const auto s = limiter_.snapshot();
  const uint64_t now = now_ns();
  if (s.paused && s.paused_until > now)
    return std::to_string((s.paused_until - now + 999999999u) / 1000000000u);
  return "1";
}

void Gateway::end_connections(bool idle_only) {
  draining_.store(true, std::memory_order_relaxed);  // relaxed: looked at between requests
  std::lock_guard<std::mutex> lock(connections_mu_);
  for (const auto& c : connections_)
    net::post(c->ex, [c, idle_only] {
      beast::error_code ignored;
      if (c->client != nullptr && (!idle_only || c->idle)) c->client->close(ignored);
      if (c->upstream != nullptr && !idle_only) c->upstream->close(ignored);
    });
}

net::awaitable<bool> Gateway::respond(beast::tcp_stream& client, unsigned status, std::string body,
                                      bool keep_alive, std::string retry_after,
                                      const char* content_type) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::server, "slotgate-gateway");
  res.set(bhttp::field::content_type, content_type);
  if (!retry_after.empty()) res.set(bhttp::field::retry_after, retry_after);
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  client.expires_after(std::chrono::seconds(30));
  auto [ec, n] = co_await bhttp::async_write(client, res, kTuple);
  stats_.response(status);
  co_return !ec;
}

net::awaitable<void> Gateway::serve(tcp::socket socket) {
  Counted<int64_t> open(stats_.connections);
  // A relayed stream goes out event by event: no event waits for the client's ACK of the last.
  beast::error_code nodelay_ec;
  socket.set_option(tcp::no_delay(true), nodelay_ec);
  beast::tcp_stream client(std::move(socket));
  const auto conn = std::make_shared<Connection>(client.get_executor());
  conn->client = &client.socket();
  {
    std::lock_guard<std::mutex> lock(connections_mu_);
    connections_.insert(conn);
  }
  struct Unregister {
    Gateway& g;
    std::shared_ptr<Connection> c;
    ~Unregister() {
      std::lock_guard<std::mutex> lock(g.connections_mu_);
      c->client = nullptr;
      g.connections_.erase(c);
    }
  } unregister{*this, conn};

  beast::flat_buffer buffer;
  KeptUpstream kept(stats_.upstream_kept);  // kept between this client's requests
  while (!draining_.load(std::memory_order_relaxed)) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(config_.body_limit_bytes);
    client.expires_after(kClientIdle);
    conn->idle = buffer.size() == 0;
    auto [ec, n] = co_await bhttp::async_read(client, buffer, parser, kTuple);
    conn->idle = false;
    if (ec == bhttp::error::body_limit) {
      co_await respond(client, 413, "request body too large\n", false);
      break;
    }
    if (ec) break;  // the client closed, timed out, or sent what is not HTTP
    client.expires_never();
    Request req = parser.release();
    const bool keep = req.keep_alive();
    bool ok = false;
    if (req.target() == config_.metrics_path)
      ok = co_await respond(client, 200, metrics(), keep, {},
                            "text/plain; version=0.0.4; charset=utf-8");
    else
      ok = co_await proxy(client, req, *conn, kept);
    if (!ok || !keep) break;
  }
  beast::error_code ignored;
  client.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

net::awaitable<bool> Gateway::proxy(beast::tcp_stream& client, Request& req, Connection& conn,
                                    KeptUpstream& kept) {
  stats_.requests.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
  const uint64_t arrived = now_ns();
  const bool keep = req.keep_alive();
  const auto watch = std::make_shared<ClientWatch>(client.socket());
  struct StopWatch {
    ClientWatch& w;
    ~StopWatch() { w.stop(); }
  } stop_watch{*watch};
  watch->start();

  // A permit: at once, or after a wait in the limiter's queue.
  Limiter::guard_type permit;
  slotgate::Permit p;
  const Status first = limiter_.try_acquire(now_ns(), p);
  if (first == Status::kOk) {
    permit = Limiter::guard_type(limiter_, p);
  } else if (!slotgate::is_transient(first)) {
    stats_.count(Refusal::kClosed);
    co_return co_await respond(client, 503, "closed\n", keep, "1");
  } else if (waiting_.load(std::memory_order_relaxed) >= config_.queue_size) {
    stats_.count(Refusal::kQueueFull);  // relaxed above: a bound, not a handshake
    co_return co_await respond(client, 503, "queue full\n", keep, retry_after_seconds());
  } else {
    Counted<uint32_t> in_queue(waiting_);
    if (fleet_) fleet_->nudge();  // demand rose: the fleet member asks for more at once
    auto [ec, granted] =
        co_await slotgate::asio::async_acquire(limiter_, ms(config_.queue_timeout_ms), lane_of(req),
                                               net::bind_cancellation_slot(watch->slot(), kTuple));
    if (ec) {
      if (watch->gone() || ec == net::error::operation_aborted) {
        stats_.count(Refusal::kClientGone);
        stats_.count(Phase::kQueued);
        co_return false;
      }
      const Refusal r = ec == Status::kTimedOut    ? Refusal::kQueueTimeout
                        : ec == Status::kQueueFull ? Refusal::kQueueFull
                                                   : Refusal::kClosed;
      stats_.count(r);
      co_return co_await respond(client, 503, std::string(to_string(r)) + "\n", keep,
                                 retry_after_seconds());
    }
    permit = std::move(granted);
  }
  stats_.wait.observe(now_ns() - arrived);

  Counted<int64_t> upstream(stats_.in_upstream);
  if (config_.upstream.tls)
    co_return co_await exchange(kept.tls, client, req, permit, *watch, conn);
  co_return co_await exchange(kept.plain, client, req, permit, *watch, conn);
}

template <class Stream>
net::awaitable<bool> Gateway::exchange(UpstreamLink<Stream>& link, beast::tcp_stream& client,
                                       Request& req, Limiter::guard_type& permit,
                                       ClientWatch& watch, Connection& conn) {
  constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  const bool keep = req.keep_alive();
  const bool keep_upstream = config_.upstream_idle_ms != 0;
  const Url& target = config_.upstream;
  std::unique_ptr<Stream> up;
  if (keep_upstream) up = link.take(ms(config_.upstream_idle_ms));
  // A client that leaves ends the upstream exchange: its socket closes, its operation fails.
  beast::tcp_stream* lowest = nullptr;
  watch.on_gone([&lowest] {
    beast::error_code ignored;
    if (lowest != nullptr) lowest->socket().close(ignored);
  });
  struct Detach {
    Connection& c;
    ClientWatch& w;
    ~Detach() {
      c.upstream = nullptr;
      w.on_gone(nullptr);
    }
  } detach{conn, watch};
  const auto failed = [&](UpstreamFailure f, const beast::error_code& ec, const char* what) {
    stats_.count(f);
    return respond(client, ec == beast::error::timeout ? 504 : 502,
                   std::string("upstream: ") + what + ": " + ec.message() + "\n", keep);
  };

  // The request, with the key and without the client's hop-by-hop headers.
  Request out;
  out.method(req.method());
  out.target(target.path + std::string(req.target()));
  out.version(11);
  for (const auto& f : req)
    if (!hop_by_hop(f.name(), f.name_string()) && f.name() != bhttp::field::host &&
        !(f.name() == bhttp::field::authorization && !config_.key.empty()))
      out.insert(f.name_string(), f.value());
  out.set(bhttp::field::host, target.authority());
  if (!config_.key.empty()) out.set(bhttp::field::authorization, "Bearer " + config_.key);
  out.keep_alive(keep_upstream);
  out.body() = std::move(req.body());
  out.prepare_payload();

  // Sent on the kept connection if there is one; sent once more on a new one if that failed
  // before the upstream answered anything and the request may go twice (upstream_link.hpp).
  beast::flat_buffer from_up;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
  uint64_t sent_at = 0;  // a passive reading is true at some instant after this
  // The connection leaves this exchange (to be kept, or closed): nothing here closes it now.
  const auto let_go = [&] {
    lowest = nullptr;
    conn.upstream = nullptr;
    return std::move(up);
  };
  // A second try is on a new connection (up is null then), so it is never retried itself.
  for (;;) {
    const bool reused = up != nullptr;
    if (!reused) {
      if constexpr (kTls)
        up = std::make_unique<Stream>(co_await net::this_coro::executor, tls_);
      else
        up = std::make_unique<Stream>(co_await net::this_coro::executor);
    }
    lowest = &beast::get_lowest_layer(*up);
    conn.upstream = &lowest->socket();
    if (reused) {
      stats_.upstream_reused.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
    } else {
      stats_.upstream_connected.fetch_add(1, std::memory_order_relaxed);
      tcp::resolver resolver(co_await net::this_coro::executor);
      auto [rec, endpoints] = co_await resolver.async_resolve(target.host, target.port, kTuple);
      if (watch.gone()) co_return false;
      if (rec) co_return co_await failed(UpstreamFailure::kResolve, rec, "resolve");
      lowest->expires_after(ms(config_.connect_timeout_ms));
      auto [cec, endpoint] = co_await lowest->async_connect(endpoints, kTuple);
      if (watch.gone()) co_return false;
      if (cec) co_return co_await failed(UpstreamFailure::kConnect, cec, "connect");
      beast::error_code nodelay_ec;  // a request's header and body go out at once
      lowest->socket().set_option(tcp::no_delay(true), nodelay_ec);
      if constexpr (kTls) {
        beast::error_code not_ip;
        (void)net::ip::make_address(target.host, not_ip);
        if (not_ip)  // SNI names a host, never an address (RFC 6066 §3)
          SSL_set_tlsext_host_name(up->native_handle(), target.host.c_str());
        up->set_verify_callback(net::ssl::host_name_verification(target.host));
        auto [hec] = co_await up->async_handshake(net::ssl::stream_base::client, kTuple);
        if (watch.gone()) co_return false;
        if (hec) co_return co_await failed(UpstreamFailure::kConnect, hec, "TLS handshake");
      }
    }
    const auto retry = [&] {
      stats_.upstream_retries.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
      let_go().reset();
    };
    sent_at = now_ns();
    lowest->expires_after(ms(config_.upstream_timeout_ms));
    auto [wec, wn] = co_await bhttp::async_write(*up, out, kTuple);
    if (watch.gone()) co_return false;
    if (wec && reused) {  // a request not sent whole was not taken: send it again
      retry();
      continue;
    }
    if (wec) co_return co_await failed(UpstreamFailure::kSend, wec, "send");
    from_up.clear();
    parser.emplace();
    parser->body_limit(std::numeric_limits<uint64_t>::max());
    if (req.method() == bhttp::verb::head) parser->skip(true);
    auto [hec, hn] = co_await bhttp::async_read_header(*up, from_up, *parser, kTuple);
    if (watch.gone()) {
      stats_.count(Phase::kUpstream);
      co_return false;
    }
    if (hec && reused && !parser->got_some() && replayable(req)) {
      retry();
      continue;
    }
    if (hec) co_return co_await failed(UpstreamFailure::kHeader, hec, "response");
    break;
  }

  // The response's header: a 429 releases the permit as rejected, with its Retry-After.
  auto& res = parser->get();
  // Whether the upstream keeps the connection (read before the response is rewritten for the
  // client).
  const bool upstream_keeps = keep_upstream && res.keep_alive() && !parser->need_eof();
  if (source_ && !config_.passive_header.empty()) {
    const auto it = res.find(config_.passive_header);
    if (it != res.end()) {
      source_->offer(std::string_view(it->value().data(), it->value().size()), sent_at);
      stats_.passive_offers.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
    }
  }
  if (res.result() == bhttp::status::too_many_requests) {
    stats_.upstream_429.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
    permit.release(rejected_outcome(res));
  }

  // The body, relayed as it comes (an SSE stream event by event).
  res.erase(bhttp::field::keep_alive);
  res.erase(bhttp::field::proxy_connection);
  res.keep_alive(keep);
  if (!parser->is_done() && !parser->chunked() && !parser->content_length())
    res.chunked(true);  // an upstream body ended by its connection's close: chunk it
  res.body().data = nullptr;
  res.body().more = !parser->is_done();
  bhttp::response_serializer<bhttp::buffer_body> sr{res};
  const auto client_gone = [&] {
    stats_.count(Phase::kUpstream);
    return false;
  };
  client.expires_after(ms(config_.upstream_timeout_ms));
  auto [whec, whn] = co_await bhttp::async_write_header(client, sr, kTuple);
  if (whec) co_return client_gone();
  char chunk[16384];
  while (!sr.is_done()) {
    if (!parser->is_done()) {
      res.body().data = chunk;
      res.body().size = sizeof chunk;
      lowest->expires_after(ms(config_.upstream_timeout_ms));
      auto [bec, bn] = co_await bhttp::async_read_some(*up, from_up, *parser, kTuple);
      if (bec == bhttp::error::need_buffer) bec = {};
      if (watch.gone()) co_return client_gone();
      if (bec) {
        stats_.count(UpstreamFailure::kBody);
        co_return false;  // the client sees its response cut short: its connection closes
      }
      res.body().size = sizeof chunk - res.body().size;
      // A read that parsed no body bytes (a chunk header alone) must hand the serializer no
      // buffer: an empty one is written as a zero-length chunk, which ends a chunked body.
      res.body().data = res.body().size != 0 ? chunk : nullptr;
      res.body().more = !parser->is_done();
    } else {
      res.body().data = nullptr;
      res.body().size = 0;
      res.body().more = false;
    }
    client.expires_after(ms(config_.upstream_timeout_ms));
    auto [cwe, cwn] = co_await bhttp::async_write(client, sr, kTuple);
    if (cwe == bhttp::error::need_buffer) cwe = {};
    if (cwe) co_return client_gone();
  }
  stats_.response(res.result_int());
  // Kept only with nothing read beyond the response (bytes after it would be parsed as the next
  // response's).
  if (upstream_keeps && parser->is_done() && from_up.size() == 0 && !watch.gone())
    link.keep(let_go(), ms(config_.upstream_idle_ms));
  co_return true;
}

}  // namespace gateway
