// The gateway's config file: `key = value` lines, `#` comments. Every problem is reported with
// the file, the line and the key, and the gateway exits 2 (see main.cpp).
#pragma once

#include <stdint.h>

#include <string>

namespace gateway {

// A URL the gateway talks to: http or https, a host, a port, a path prefix.
struct Url {
  bool tls = false;
  std::string host;
  std::string port;  // as a service name for the resolver: "443", "8080"
  std::string path;  // without a trailing '/': "" or "/openai"
  // Host header value: the host, with the port unless it is the scheme's default.
  std::string authority() const;
};

// Parses "http://host[:port][/path]" or "https://...". False (and `why`) if it is not one.
bool parse_url(const std::string& text, Url& out, std::string& why);

struct Config {
  // Where clients connect: an IPv4 or IPv6 address and a port (0: any free port).
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
  Url upstream;               // the provider's base URL; a request's target is appended
  std::string key;            // sent upstream as "Authorization: Bearer KEY"; empty: the client's
  uint32_t cap = 0;           // the provider's concurrent-session cap for the key
  uint32_t queue_size = 256;  // callers waiting at most; past it, 503 at once
  uint32_t queue_timeout_ms = 30000;      // a caller waiting this long gets 503
  uint32_t cooldown_ms = 350;             // how long the provider counts a session after it ends
  uint32_t default_pause_ms = 1000;       // pause after a 429 without Retry-After
  uint32_t upstream_timeout_ms = 300000;  // for the response to start, and between its chunks
  uint32_t connect_timeout_ms = 10000;    // to connect (and handshake) upstream
  // A client connection's upstream connection is kept for its next request while idle less
  // than this (0: a new upstream connection for every request). See upstream_link.hpp.
  uint32_t upstream_idle_ms = 30000;
  // PEM certificates to verify https upstreams (and the usage endpoint) against, instead of
  // the system's CA store: a private CA, a corporate proxy's.
  std::string upstream_ca_file;
  uint32_t body_limit_bytes = 8u << 20;   // a larger request body gets 413
  uint32_t threads = 1;                   // event-loop threads
  uint32_t drain_timeout_ms = 10000;      // on SIGTERM: streams get this long to finish
  std::string metrics_path = "/metrics";  // the Prometheus endpoint, on the listen address
  // The provider's usage endpoint (optional): GET with the key, the count at a JSON path or
  // in a header of its answer.
  std::string usage_url;
  std::string usage_json_path = "usage.concurrent_sessions";
  std::string usage_header;
  uint32_t usage_staleness_ms = 0;  // the endpoint may serve a count this old (as documented)
  uint32_t usage_max_age_ms = 30000;
  // A header of proxied responses that carries the count (e.g. current-concurrent-requests).
  std::string passive_header;
  // Priority (optional): a request whose `priority_header` holds `priority_value` waits in the
  // limiter's higher lane, ahead of every other waiting request (README, "Priority lanes");
  // one waiting longer than `priority_age_ms` is served as if it were high too (0: never).
  std::string priority_header;
  std::string priority_value = "high";
  uint32_t priority_age_ms = 60000;
  // A fleet (optional): gateways sharing one key lease shares of `cap` from Redis.
  std::string fleet_redis_host;  // set from fleet_redis = host:port
  uint16_t fleet_redis_port = 0;
  std::string fleet_redis_password;  // from fleet_redis_password_env
  std::string fleet_name;            // the ledger's name; empty: the upstream's host:port
  std::string fleet_id;              // this gateway in the ledger; empty: host:pid:random
  uint32_t fleet_ttl_ms = 10000;
  uint32_t fleet_floor = 0;
  bool fleet() const { return !fleet_redis_host.empty(); }
};

// The gateway's compile-time sizes: the largest cap and queue the config may ask for.
inline constexpr uint32_t kMaxCap = 256;
inline constexpr uint32_t kMaxQueue = 4096;

// Reads `path` into `out`. False with `error` naming the file, the line and the key.
bool load_config(const std::string& path, Config& out, std::string& error);

// The same from text (`name` stands for the file in messages).
bool parse_config(const std::string& text, const std::string& name, Config& out,
                  std::string& error);

}  // namespace gateway
