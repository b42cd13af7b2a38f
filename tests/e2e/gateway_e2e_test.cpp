// End to end on real sockets: real HTTP clients through slotgate-gateway to slotgate-upstream,
// both started by the test on free loopback ports. The upstream's own ledger is the judge: the
// most sessions it billed at once, its 429s, the admissions that took it past its cap.
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdio.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../support/closing_upstream.hpp"
#include "../support/gateway_process.hpp"
#include "../support/http_load.hpp"
#include "../support/promtool.hpp"
#include "../support/test_certificate.hpp"
#include "../support/upstream_process.hpp"

namespace {

using slotgate::test::ClosingUpstream;
using slotgate::test::drive;
using slotgate::test::eventually;
using slotgate::test::Gateway;
using slotgate::test::Load;
using slotgate::test::make_test_certificate;
using slotgate::test::promtool_accepts;
using slotgate::test::TempDir;
using slotgate::test::Upstream;
using Clock = std::chrono::steady_clock;

constexpr int kCap = 4;
// A provider that starts counting a session 100 ms late and goes on counting it 150 ms after
// it ends: a client that trusts its own count overshoots it.
const std::vector<std::string> kLaggingUpstream = {"--cap", std::to_string(kCap), "--lag-in-ms",
                                                   "100",   "--lag-out-ms",       "150"};

std::string gateway_config(const Upstream& up, const std::string& extra) {
  return "upstream = " + up.url() + "\nkey = key\n" + extra;
}

TEST(GatewayEndToEnd, ManyStreamingClientsNeverTakeTheUpstreamPastItsCap) {
  Upstream up(kLaggingUpstream);
  ASSERT_GT(up.port(), 0);
  Gateway gw(gateway_config(
      up, "cap = 4\nqueue_timeout_ms = 20000\nusage_url = " + up.url() + "/usage\n"));
  ASSERT_GT(gw.port(), 0) << gw.process().err();
  // A wait past 20 s (five times the longest this load needs) would be a 503: a stalled
  // limiter fails the test rather than slowing it.
  Load load;
  drive(gw.port(), 40, std::chrono::seconds(6), 200, load);
  printf(
      "through the gateway: %d requests, %d whole streams; upstream billed at most %ld at "
      "once, %ld 429s, %ld admissions past the cap\n",
      load.requests.load(), load.ok.load(), up.ledger("max_billed"), up.ledger("rejected"),
      up.ledger("over_cap"));
  EXPECT_GE(load.requests.load(), 40);
  EXPECT_EQ(load.ok.load(), load.requests.load()) << "every client request answered in full";
  EXPECT_LE(up.ledger("max_billed"), kCap);
  EXPECT_EQ(up.ledger("rejected"), 0);
  EXPECT_EQ(up.ledger("over_cap"), 0);
  EXPECT_GT(up.ledger("admitted"), 0);

  // What the gateway says of it, checked by a real parser of the exposition format.
  const std::string metrics = gw.metrics();
  EXPECT_TRUE(promtool_accepts(metrics));
  EXPECT_NE(metrics.find("slotgate_gateway_wait_seconds_bucket{le=\"+Inf\"} " +
                         std::to_string(load.requests.load())),
            std::string::npos)
      << metrics;
  EXPECT_TRUE(eventually([&] { return gw.metric("slotgate_permits_held") == 0; }));
  EXPECT_EQ(gw.metric("slotgate_gateway_upstream_429_total"), 0);
}

// The proof that the test above can fail: the same load through the same proxy with a limit
// that never binds (a pass-through) takes the upstream past its cap.
TEST(GatewayEndToEnd, APassThroughTakesTheSameUpstreamPastItsCap) {
  Upstream up(kLaggingUpstream);
  ASSERT_GT(up.port(), 0);
  Gateway gw(gateway_config(up, "cap = 64\ncooldown_ms = 0\nqueue_timeout_ms = 60000\n"));
  ASSERT_GT(gw.port(), 0) << gw.process().err();
  Load load;
  drive(gw.port(), 40, std::chrono::seconds(3), 200, load);
  printf(
      "pass-through: %d requests, %d 429s; upstream billed at most %ld at once, %ld "
      "admissions past the cap\n",
      load.requests.load(), load.rejected.load(), up.ledger("max_billed"), up.ledger("over_cap"));
  EXPECT_GT(up.ledger("max_billed"), kCap);
  EXPECT_GT(up.ledger("over_cap"), 0);
  EXPECT_GT(up.ledger("rejected"), 0);
  EXPECT_GT(load.rejected.load(), 0) << "the upstream's 429s reach the clients";
}

TEST(GatewayEndToEnd, ClientsThatLeaveMidStreamOrWhileQueuedLeakNoPermit) {
  Upstream up({"--cap", std::to_string(kCap), "--lag-out-ms", "50"});
  ASSERT_GT(up.port(), 0);
  Gateway gw(gateway_config(up, "cap = 4\nqueue_timeout_ms = 60000\n"));
  ASSERT_GT(gw.port(), 0) << gw.process().err();
  std::atomic<int> streamed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 16; ++i)
    clients.emplace_back([&] {
      httplib::Client c("127.0.0.1", gw.port());
      c.set_read_timeout(1, 0);  // one that is still queued after a second leaves
      // A minute-long stream, left after its first event.
      auto r = c.Get("/v1/session?ms=60000&stream=1", [&](const char*, size_t) {
        ++streamed;
        return false;
      });
      EXPECT_FALSE(r);  // cancelled by the receiver, or timed out
    });
  for (auto& t : clients) t.join();
  EXPECT_GE(streamed.load(), kCap);
  EXPECT_TRUE(eventually([&] {
    return gw.metric("slotgate_permits_held") == 0 && gw.metric("slotgate_queued") == 0;
  })) << gw.metrics();
  EXPECT_TRUE(eventually([&] { return up.ledger("current") == 0; }))
      << "the gateway ended the upstream sessions of the clients that left";
  EXPECT_GE(gw.metric("slotgate_gateway_clients_gone_total{phase=\"upstream\"}"), kCap);
  EXPECT_GE(gw.metric("slotgate_gateway_clients_gone_total{phase=\"queued\"}"), 1);
  // Every slot is usable again: as many streams as the cap at once.
  Load load;
  drive(gw.port(), kCap, std::chrono::milliseconds(0), 100, load);
  EXPECT_EQ(load.ok.load(), kCap);
  EXPECT_EQ(up.ledger("rejected"), 0);
}

TEST(GatewayEndToEnd, AFullQueueAnd503AtOnceAWaitPastTheTimeout503Later) {
  Upstream up({"--cap", "1", "--lag-out-ms", "0"});
  ASSERT_GT(up.port(), 0);
  Gateway gw(gateway_config(up, "cap = 1\nqueue_size = 1\nqueue_timeout_ms = 300\n"));
  ASSERT_GT(gw.port(), 0) << gw.process().err();
  std::thread holder([&] { EXPECT_EQ(gw.client().Get("/v1/session?ms=3000")->status, 200); });
  ASSERT_TRUE(eventually([&] { return gw.metric("slotgate_permits_held") == 1; }));
  int waited_status = 0;
  std::string waited_retry_after, waited_body;
  std::thread waiter([&] {
    auto r = gw.client().Get("/v1/session?ms=10");
    if (!r) return;
    waited_status = r->status;
    waited_body = r->body;
    waited_retry_after = r->get_header_value("Retry-After");
  });
  ASSERT_TRUE(eventually([&] { return gw.metric("slotgate_queued") == 1; }));
  auto full = gw.client().Get("/v1/session?ms=10");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 503);
  EXPECT_EQ(full->body, "queue full\n");
  EXPECT_FALSE(full->get_header_value("Retry-After").empty());
  waiter.join();
  EXPECT_EQ(waited_status, 503);
  EXPECT_EQ(waited_body, "queue_timeout\n");
  EXPECT_FALSE(waited_retry_after.empty());
  holder.join();
  EXPECT_EQ(gw.metric("slotgate_gateway_refused_total{reason=\"queue_full\"}"), 1);
  EXPECT_EQ(gw.metric("slotgate_gateway_refused_total{reason=\"queue_timeout\"}"), 1);
  EXPECT_EQ(up.ledger("admitted"), 1) << "only the holder reached the upstream";
}

// A request marked high goes ahead of one that queued before it. Shown failing without
// priority_header: then the two go in the order they queued.
TEST(GatewayEndToEnd, APriorityRequestGoesAheadOfOneQueuedBeforeIt) {
  for (const bool priority : {true, false}) {
    SCOPED_TRACE(priority ? "priority_header set" : "no priority_header");
    Upstream up({"--cap", "1", "--lag-out-ms", "0"});
    ASSERT_GT(up.port(), 0);
    Gateway gw(gateway_config(up, std::string("cap = 1\ncooldown_ms = 0\n") +
                                      (priority ? "priority_header = X-Priority\n" : "")));
    ASSERT_GT(gw.port(), 0) << gw.process().err();
    std::thread holder([&] { EXPECT_EQ(gw.client().Get("/v1/session?ms=1500")->status, 200); });
    ASSERT_TRUE(eventually([&] { return gw.metric("slotgate_permits_held") == 1; }));
    std::mutex mu;
    std::vector<std::string> done;
    auto request = [&](const std::string& who, httplib::Headers headers) {
      return std::thread([&, who, headers] {
        auto r = gw.client().Get("/v1/session?ms=10", headers);
        EXPECT_TRUE(r && r->status == 200) << who;
        std::lock_guard<std::mutex> lock(mu);
        done.push_back(who);
      });
    };
    std::thread normal = request("normal", {});
    ASSERT_TRUE(eventually([&] { return gw.metric("slotgate_queued") == 1; }));
    std::thread high = request("high", {{"X-Priority", "high"}});
    ASSERT_TRUE(eventually([&] { return gw.metric("slotgate_queued") == 2; }));
    holder.join();
    normal.join();
    high.join();
    if (priority) {
      EXPECT_EQ(done, std::vector<std::string>({"high", "normal"}));
      EXPECT_EQ(gw.metric("slotgate_lane_granted_total{lane=\"high\"}"), 1);
      EXPECT_EQ(gw.metric("slotgate_lane_granted_total{lane=\"normal\"}"), 1);
      EXPECT_EQ(gw.metric("slotgate_lane_waiting{lane=\"high\"}"), 0);
      EXPECT_TRUE(promtool_accepts(gw.metrics()));
    } else {
      EXPECT_EQ(done, std::vector<std::string>({"normal", "high"}));
      EXPECT_EQ(gw.metrics().find("slotgate_lane_"), std::string::npos);
    }
    EXPECT_EQ(up.ledger("rejected"), 0);
  }
}

TEST(GatewayEndToEnd, AnUpstream429PausesTheGatewayForItsRetryAfter) {
  // Another client holds the whole cap: every request of ours is refused, Retry-After: 2.
  Upstream up({"--cap", "2", "--foreign", "2", "--retry-after-s", "2"});
  ASSERT_GT(up.port(), 0);
  Gateway gw(gateway_config(up, "cap = 2\nqueue_timeout_ms = 300\n"));
  ASSERT_GT(gw.port(), 0) << gw.process().err();
  auto first = gw.client().Get("/v1/session?ms=10");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 429) << "the upstream's answer reaches the client";
  EXPECT_EQ(first->get_header_value("Retry-After"), "2");
  EXPECT_EQ(gw.metric("slotgate_paused"), 1);
  EXPECT_EQ(gw.metric("slotgate_upstream_rejections_total"), 1);
  EXPECT_EQ(gw.metric("slotgate_headroom{reason=\"rejected\"}"), 1);
  // Within the pause the gateway does not ask the upstream again: the caller waits, then 503.
  auto second = gw.client().Get("/v1/session?ms=10");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 503);
  const int retry_after = std::stoi(second->get_header_value("Retry-After"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 2);
  EXPECT_EQ(up.ledger("rejected"), 1);
  EXPECT_EQ(gw.metric("slotgate_gateway_upstream_429_total"), 1);
}

TEST(GatewayEndToEnd, SigtermLetsAStreamFinishThenExits) {
  Upstream up({"--cap", "2", "--lag-out-ms", "0"});
  ASSERT_GT(up.port(), 0);
  Gateway gw(gateway_config(up, "cap = 2\ndrain_timeout_ms = 5000\n"));
  ASSERT_GT(gw.port(), 0) << gw.process().err();
  int status = 0;
  std::string body;
  std::thread client([&] {
    auto r = gw.client().Get("/v1/session?ms=600&stream=1");
    if (!r) return;
    status = r->status;
    body = r->body;
  });
  ASSERT_TRUE(eventually([&] { return gw.metric("slotgate_permits_held") == 1; }));
  gw.process().signal(SIGTERM);
  EXPECT_EQ(gw.process().wait(), 0);
  client.join();
  EXPECT_EQ(status, 200);
  EXPECT_NE(body.find("data: [DONE]"), std::string::npos);
  EXPECT_FALSE(gw.client().Get("/metrics")) << "no longer listening";
}

// A client that keeps its connection has its requests sent on one upstream connection, as long
// as the upstream keeps it (the test upstream closes one after five requests).
TEST(GatewayEndToEnd, AKeepAliveClientsRequestsShareAnUpstreamConnection) {
  Upstream up({"--cap", "4", "--lag-out-ms", "0"});
  ASSERT_GT(up.port(), 0);
  Gateway gw(gateway_config(up, "cap = 4\ncooldown_ms = 0\n"));
  ASSERT_GT(gw.port(), 0) << gw.process().err();
  auto c = gw.client();
  c.set_keep_alive(true);
  for (int i = 0; i < 8; ++i) {
    auto r = c.Get(i % 2 == 0 ? "/v1/session?ms=5" : "/v1/session?ms=5&stream=1");
    ASSERT_TRUE(r && r->status == 200) << i;
  }
  EXPECT_EQ(gw.metric("slotgate_gateway_upstream_sent_total{connection=\"new\"}"), 2);
  EXPECT_EQ(gw.metric("slotgate_gateway_upstream_sent_total{connection=\"kept\"}"), 6);
  EXPECT_EQ(gw.metric("slotgate_gateway_upstream_resent_total"), 0);
  EXPECT_EQ(gw.metric("slotgate_gateway_upstream_kept_connections"), 1);
  EXPECT_TRUE(promtool_accepts(gw.metrics()));

  // A kept connection idle past upstream_idle_ms is closed, the client's own still open.
  Gateway brief(gateway_config(up, "cap = 4\ncooldown_ms = 0\nupstream_idle_ms = 200\n"));
  ASSERT_GT(brief.port(), 0) << brief.process().err();
  auto b = brief.client();
  b.set_keep_alive(true);
  ASSERT_TRUE(b.Get("/v1/session?ms=5"));
  EXPECT_TRUE(
      eventually([&] { return brief.metric("slotgate_gateway_upstream_kept_connections") == 0; }));
  EXPECT_EQ(brief.metric("slotgate_gateway_connections"), 2);  // the client, and this scrape
  EXPECT_EQ(gw.metric("slotgate_gateway_upstream_kept_connections"), 1) << "30 s not past";
  auto again = b.Get("/v1/session?ms=5");  // on a new upstream connection
  ASSERT_TRUE(again && again->status == 200);
  EXPECT_EQ(brief.metric("slotgate_gateway_upstream_sent_total{connection=\"new\"}"), 2);

  // Without keeping (upstream_idle_ms = 0), every request opens a connection of its own.
  Gateway each(gateway_config(up, "cap = 4\ncooldown_ms = 0\nupstream_idle_ms = 0\n"));
  ASSERT_GT(each.port(), 0) << each.process().err();
  auto d = each.client();
  d.set_keep_alive(true);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(d.Get("/v1/session?ms=5")) << i;
  EXPECT_EQ(each.metric("slotgate_gateway_upstream_sent_total{connection=\"new\"}"), 8);
  EXPECT_EQ(each.metric("slotgate_gateway_upstream_sent_total{connection=\"kept\"}"), 0);
}

// An upstream that closes a kept connection as a request arrives on it: a request that may go
// twice (a GET, or a POST with an Idempotency-Key) goes again on a new connection and the client
// never sees the failure; a POST without one is not sent twice and gets 502.
TEST(GatewayEndToEnd, ARequestOnAKeptConnectionTheUpstreamClosedGoesAgainIfItMay) {
  ClosingUpstream up;
  ASSERT_GT(up.port(), 0);
  Gateway gw("upstream = " + up.url() + "\nkey = key\ncap = 4\ncooldown_ms = 0\n");
  ASSERT_GT(gw.port(), 0) << gw.process().err();
  auto c = gw.client();
  c.set_keep_alive(true);
  const auto status = [](const httplib::Result& r) { return r ? r->status : -1; };
  EXPECT_EQ(status(c.Get("/a")), 200);  // a new connection, answered and kept
  EXPECT_EQ(status(c.Get("/b")), 200);  // dropped on the kept one, answered on a new one
  EXPECT_EQ(gw.metric("slotgate_gateway_upstream_resent_total"), 1);
  const auto dropped = c.Post("/c", "x", "text/plain");  // dropped, not sent twice
  EXPECT_EQ(status(dropped), 502);
  if (dropped) {
    EXPECT_EQ(dropped->body.rfind("upstream: response: ", 0), 0u) << dropped->body;
  }
  EXPECT_EQ(up.dropped(), 2);
  EXPECT_EQ(status(c.Post("/d", "x", "text/plain")), 200);  // on a new connection
  EXPECT_EQ(status(c.Post("/e", httplib::Headers{{"Idempotency-Key", "e-1"}}, "x", "text/plain")),
            200);
  EXPECT_EQ(gw.metric("slotgate_gateway_upstream_resent_total"), 2);
  EXPECT_EQ(gw.metric("slotgate_gateway_upstream_failures_total{stage=\"header\"}"), 1);
  EXPECT_EQ(up.answered(), 4);
  EXPECT_EQ(up.dropped(), 3);
  EXPECT_EQ(up.connections(), 4);
  EXPECT_TRUE(eventually([&] { return gw.metric("slotgate_permits_held") == 0; }));
}

// An https upstream: the gateway verifies it against upstream_ca_file (by name, and by address
// without SNI), keeps its TLS connection for a keep-alive client, and refuses it (502, at
// connect) when it cannot verify it: the system's CA store does not know a self-signed one.
TEST(GatewayEndToEnd, AnHttpsUpstreamIsVerifiedAndItsConnectionKept) {
  TempDir dir;
  const auto cert = make_test_certificate(dir);
  ASSERT_FALSE(cert.cert.empty()) << "openssl could not make a certificate";
  Upstream up({"--cap", "4", "--lag-out-ms", "0", "--tls-cert", cert.cert, "--tls-key", cert.key});
  ASSERT_GT(up.port(), 0);
  const std::string port = std::to_string(up.port());
  for (const std::string host : {"localhost", "127.0.0.1"}) {
    Gateway gw("upstream = https://" + host + ":" + port +
               "\nkey = key\ncap = 4\ncooldown_ms = 0\nupstream_ca_file = " + cert.cert + "\n");
    ASSERT_GT(gw.port(), 0) << gw.process().err();
    auto c = gw.client();
    c.set_keep_alive(true);
    for (int i = 0; i < 6; ++i) {
      auto r = c.Get(i % 2 == 0 ? "/v1/session?ms=5" : "/v1/session?ms=5&stream=1");
      ASSERT_TRUE(r && r->status == 200) << host << " " << i << " " << (r ? r->body : "");
    }
    EXPECT_EQ(gw.metric("slotgate_gateway_upstream_sent_total{connection=\"new\"}"), 2) << host;
    EXPECT_EQ(gw.metric("slotgate_gateway_upstream_sent_total{connection=\"kept\"}"), 4) << host;
  }
  Gateway unverified("upstream = https://localhost:" + port + "\nkey = key\ncap = 4\n");
  ASSERT_GT(unverified.port(), 0) << unverified.process().err();
  auto r = unverified.client().Get("/v1/session?ms=5");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502) << r->body;
  EXPECT_NE(r->body.find("TLS handshake"), std::string::npos) << r->body;
  EXPECT_EQ(unverified.metric("slotgate_gateway_upstream_failures_total{stage=\"connect\"}"), 1);
}

// Not a rule, a figure for the README: what the gateway adds to a request when the limit does
// not bind (cap 64, no cooldown), against the same requests sent to the upstream directly.
TEST(GatewayEndToEnd, AddedLatencyWhenTheLimitDoesNotBind) {
  Upstream up({"--cap", "64", "--lag-out-ms", "0"});
  ASSERT_GT(up.port(), 0);
  Gateway gw(gateway_config(up, "cap = 64\ncooldown_ms = 0\n"));
  ASSERT_GT(gw.port(), 0) << gw.process().err();
  const auto measure = [](httplib::Client& c, int n) {
    std::vector<double> us;
    for (int i = 0; i < n; ++i) {
      const auto t0 = Clock::now();
      auto r = c.Get("/v1/session?ms=0");
      EXPECT_TRUE(r && r->status == 200);
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    return std::make_pair(us[us.size() / 2], us[us.size() * 99 / 100]);
  };
  // Clients that open a connection per request, then clients that keep theirs (the gateway
  // then keeps its upstream connection too, as far as the upstream allows: five requests each).
  for (const bool keep : {false, true}) {
    auto direct = up.client();
    auto through = gw.client();
    direct.set_keep_alive(keep);
    through.set_keep_alive(keep);
    measure(direct, 20);  // warm both
    measure(through, 20);
    const auto [d50, d99] = measure(direct, 300);
    const auto [g50, g99] = measure(through, 300);
    printf(
        "latency, 300 sequential requests, %s: direct p50 %.0f us p99 %.0f us; through the "
        "gateway p50 %.0f us p99 %.0f us; added p50 %.0f us p99 %.0f us\n",
        keep ? "clients keeping their connection" : "a connection per request", d50, d99, g50, g99,
        g50 - d50, g99 - d99);
    const std::string tag = keep ? "_kept" : "";
    RecordProperty("added_p50_us" + tag, static_cast<int>(g50 - d50));
    RecordProperty("added_p99_us" + tag, static_cast<int>(g99 - d99));
  }
}

}  // namespace
