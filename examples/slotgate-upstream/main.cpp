// slotgate-upstream: a test upstream on loopback that caps concurrent sessions per key the way
// providers do (see ledger.hpp), over HTTP:
//
//   POST|GET /v1/session?ms=N[&stream=1]   a session held N ms (default 100); with stream=1 an
//                                          SSE body, one event per 20 ms; 429 with Retry-After
//                                          past the cap; every answer carries the counter in
//                                          current-concurrent-requests
//   GET /usage                             {"usage":{"concurrent_sessions":N}}, cached
//   GET /ledger                            {"max_billed":..,"current":..,"admitted":..,
//                                          "rejected":..,"over_cap":..,"cap":..}
//   GET /faults/KIND                       a usage answer gone wrong, for clients' tests:
//                                          status_500, not_json, no_field, not_a_number,
//                                          negative, not_whole, absurd, huge (a 1 MiB body),
//                                          slow (the right answer, 3 s late)
//
// Authorization: Bearer KEY selects the key's ledger (401 without). With --tls-cert and
// --tls-key (PEM files) it serves HTTPS instead. It prints "listening on 127.0.0.1:PORT" once
// it accepts, and its ledger when SIGINT or SIGTERM stops it.
#include <httplib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ledger.hpp"

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Keys {
  upstream::Settings settings;
  std::mutex mu;
  std::map<std::string, std::unique_ptr<upstream::Key>> by_name;
  upstream::Key& get(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu);
    auto& k = by_name[name];
    if (!k) k = std::make_unique<upstream::Key>(settings);
    return *k;
  }
};

std::string bearer(const httplib::Request& req) {
  const std::string h = req.get_header_value("Authorization");
  return h.rfind("Bearer ", 0) == 0 ? h.substr(7) : std::string();
}

std::string tally_json(const upstream::Tally& t, uint32_t cap) {
  char buf[256];
  snprintf(buf, sizeof buf,
           "{\"max_billed\":%u,\"current\":%u,\"admitted\":%llu,\"rejected\":%llu,"
           "\"over_cap\":%llu,\"cap\":%u}",
           t.max_billed, t.current, static_cast<unsigned long long>(t.admitted),
           static_cast<unsigned long long>(t.rejected), static_cast<unsigned long long>(t.over_cap),
           cap);
  return buf;
}

bool flag(const char* arg, const char* name, const char* value, std::string& out) {
  if (strcmp(arg, name) != 0) return false;
  if (!value || *value == '\0') {
    fprintf(stderr, "slotgate-upstream: %s needs a file\n", name);
    exit(2);
  }
  out = value;
  return true;
}

bool flag(const char* arg, const char* name, const char* value, int64_t& out) {
  if (strcmp(arg, name) != 0) return false;
  char* end = nullptr;
  const long long v = value ? strtoll(value, &end, 10) : -1;
  if (!value || *end != '\0' || v < 0) {
    fprintf(stderr, "slotgate-upstream: %s needs a whole number >= 0\n", name);
    exit(2);
  }
  out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // SIGINT and SIGTERM stop the server from a thread of its own (sigwait): the server's own
  // threads, started later, inherit the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  Keys keys;
  int64_t port = 0, cap = 4, foreign = 0, threads = 128;
  std::string tls_cert, tls_key;
  upstream::Settings& s = keys.settings;
  for (int i = 1; i < argc; i += 2) {
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (!(flag(argv[i], "--port", v, port) || flag(argv[i], "--cap", v, cap) ||
          flag(argv[i], "--lag-in-ms", v, s.lag_in_ms) ||
          flag(argv[i], "--lag-out-ms", v, s.lag_out_ms) ||
          flag(argv[i], "--staleness-ms", v, s.staleness_ms) ||
          flag(argv[i], "--retry-after-s", v, s.retry_after_s) ||
          flag(argv[i], "--foreign", v, foreign) ||
          flag(argv[i], "--foreign-on-ms", v, s.foreign_on_ms) ||
          flag(argv[i], "--foreign-off-ms", v, s.foreign_off_ms) ||
          flag(argv[i], "--threads", v, threads) || flag(argv[i], "--tls-cert", v, tls_cert) ||
          flag(argv[i], "--tls-key", v, tls_key))) {
      fprintf(stderr,
              "usage: slotgate-upstream [--port N] [--cap N] [--lag-in-ms N] [--lag-out-ms N]\n"
              "       [--staleness-ms N] [--retry-after-s N] [--foreign N --foreign-on-ms N\n"
              "       --foreign-off-ms N] [--threads N] [--tls-cert FILE --tls-key FILE]\n");
      return 2;
    }
  }
  if (cap < 1) {
    fprintf(stderr, "slotgate-upstream: --cap must be at least 1\n");
    return 2;
  }
  s.cap = static_cast<uint32_t>(cap);
  s.foreign = static_cast<uint32_t>(foreign);
  if (tls_cert.empty() != tls_key.empty()) {
    fprintf(stderr, "slotgate-upstream: --tls-cert and --tls-key go together\n");
    return 2;
  }

  std::unique_ptr<httplib::Server> holder;
  if (tls_cert.empty()) {
    holder = std::make_unique<httplib::Server>();
  } else {
    auto tls = std::make_unique<httplib::SSLServer>(tls_cert.c_str(), tls_key.c_str());
    if (!tls->is_valid()) {
      fprintf(stderr, "slotgate-upstream: cannot use %s and %s as its certificate and key\n",
              tls_cert.c_str(), tls_key.c_str());
      return 2;
    }
    holder = std::move(tls);
  }
  httplib::Server& server = *holder;
  // Headers and body are written apiece: without this a kept connection's answer waits for
  // the client's delayed ACK (40 ms), as no real provider's does.
  server.set_tcp_nodelay(true);
  // One thread per open session: the streams are long and the clients many.
  server.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };

  server.Get("/usage", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string key = bearer(req);
    if (key.empty()) return void(res.status = 401);
    res.set_content("{\"usage\":{\"concurrent_sessions\":" +
                        std::to_string(keys.get(key).usage(now_ms())) + "}}",
                    "application/json");
  });
  server.Get("/ledger", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string key = req.has_param("key") ? req.get_param_value("key") : bearer(req);
    res.set_content(tally_json(keys.get(key).tally(now_ms()), s.cap), "application/json");
  });
  const auto session = [&](const httplib::Request& req, httplib::Response& res) {
    const std::string key = bearer(req);
    if (key.empty()) return void(res.status = 401);
    upstream::Key& k = keys.get(key);
    const int64_t id = k.admit(now_ms());
    res.set_header("current-concurrent-requests", std::to_string(k.counted(now_ms())));
    if (id < 0) {
      res.status = 429;
      res.set_header("Retry-After", std::to_string(s.retry_after_s));
      res.set_content("{\"error\":\"concurrency limit reached\"}", "application/json");
      return;
    }
    const int64_t ms = req.has_param("ms") ? atoll(req.get_param_value("ms").c_str()) : 100;
    if (req.get_param_value("stream") == "1") {
      const int64_t until = now_ms() + ms;
      res.set_chunked_content_provider(
          "text/event-stream",
          [until, n = 0](size_t, httplib::DataSink& sink) mutable {
            if (now_ms() >= until) {
              sink.write("data: [DONE]\n\n", 14);
              sink.done();
              return true;
            }
            const std::string ev = "data: " + std::to_string(n++) + "\n\n";
            if (!sink.write(ev.data(), ev.size())) return false;  // the client went away
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            return true;
          },
          [&k, id](bool) { k.end(id, now_ms()); });  // done or disconnected: the session ends
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    k.end(id, now_ms());
    res.set_content("{\"ok\":true}", "application/json");
  };
  server.Get(R"(/faults/(\w+))", [](const httplib::Request& req, httplib::Response& res) {
    const std::string kind = req.matches[1];
    const auto body = [&](const std::string& count) {
      res.set_content("{\"usage\":{\"concurrent_sessions\":" + count + "}}", "application/json");
    };
    if (kind == "status_500") {
      res.status = 500;
      res.set_content("{\"usage\":{\"concurrent_sessions\":1}}", "application/json");
    } else if (kind == "not_json") {
      res.set_content("<html>502 Bad Gateway</html>", "text/html");
    } else if (kind == "no_field") {
      res.set_content("{\"usage\":{\"plan\":\"pro\"}}", "application/json");
    } else if (kind == "not_a_number") {
      body("\"3\"");
    } else if (kind == "negative") {
      body("-1");
    } else if (kind == "not_whole") {
      body("1.5");
    } else if (kind == "absurd") {
      body("1000000000");
    } else if (kind == "huge") {
      res.set_content("{\"pad\":\"" + std::string(1 << 20, 'x') + "\"}", "application/json");
    } else if (kind == "slow") {
      std::this_thread::sleep_for(std::chrono::seconds(3));
      body("1");
    } else {
      res.status = 404;
    }
  });
  server.Get("/v1/session", session);
  server.Post("/v1/session", session);

  const int bound =
      port == 0 ? server.bind_to_any_port("127.0.0.1")
                : (server.bind_to_port("127.0.0.1", static_cast<int>(port)) ? static_cast<int>(port)
                                                                            : -1);
  if (bound < 0) {
    fprintf(stderr, "slotgate-upstream: cannot listen on 127.0.0.1:%lld\n",
            static_cast<long long>(port));
    return 1;
  }
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    // stop() before listening has begun does nothing: a signal that came that early waits.
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    server.stop();
  });
  stopper.detach();
  printf("listening on 127.0.0.1:%d\n", bound);
  fflush(stdout);
  server.listen_after_bind();
  for (auto& [name, k] : keys.by_name)
    printf("key %s: %s\n", name.c_str(), tally_json(k->tally(now_ms()), s.cap).c_str());
  return 0;
}
