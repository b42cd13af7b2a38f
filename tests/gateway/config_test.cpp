// The gateway's config file, its URLs and the exposition format, and the binary's answer to a
// bad config: exit status 2 and a message naming the file, the line and the key.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "../support/child_process.hpp"
#include "config.hpp"
#include "exposition.hpp"

namespace {

using gateway::Config;
using gateway::parse_config;
using gateway::parse_url;
using gateway::Url;

const std::string kMinimal = "upstream = https://api.example.com/v1\ncap = 4\n";

TEST(GatewayConfig, AMinimalConfigTakesTheDefaults) {
  Config c;
  std::string error;
  ASSERT_TRUE(parse_config(kMinimal, "gw.conf", c, error)) << error;
  EXPECT_EQ(c.cap, 4u);
  EXPECT_TRUE(c.upstream.tls);
  EXPECT_EQ(c.upstream.host, "api.example.com");
  EXPECT_EQ(c.upstream.port, "443");
  EXPECT_EQ(c.upstream.path, "/v1");
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 8080);
  EXPECT_EQ(c.metrics_path, "/metrics");
  EXPECT_TRUE(c.usage_url.empty());
  EXPECT_EQ(c.upstream_idle_ms, 30000u);  // upstream connections kept by default
}

TEST(GatewayConfig, EverySettingIsRead) {
  const std::string text =
      "# a comment\n"
      "listen = [::1]:9000   # trailing comment\n"
      "upstream = http://127.0.0.1:8081\n"
      "key = sk-test\n"
      "cap = 8\n"
      "queue_size = 16\n"
      "queue_timeout_ms = 500\n"
      "cooldown_ms = 400\n"
      "default_pause_ms = 2000\n"
      "upstream_timeout_ms = 1000\n"
      "connect_timeout_ms = 300\n"
      "upstream_idle_ms = 0\n"
      "body_limit_bytes = 1024\n"
      "threads = 2\n"
      "drain_timeout_ms = 50\n"
      "metrics_path = /internal/metrics\n"
      "usage_url = http://127.0.0.1:8081/usage\n"
      "usage_json_path = tts_requests.active\n"
      "usage_staleness_ms = 10000\n"
      "usage_max_age_ms = 60000\n"
      "passive_header = current-concurrent-requests\n"
      "priority_header = X-Priority\n"
      "priority_value = interactive\n"
      "priority_age_ms = 20000\n";
  Config c;
  std::string error;
  ASSERT_TRUE(parse_config(text, "gw.conf", c, error)) << error;
  EXPECT_EQ(c.listen_host, "::1");
  EXPECT_EQ(c.listen_port, 9000);
  EXPECT_FALSE(c.upstream.tls);
  EXPECT_EQ(c.upstream.authority(), "127.0.0.1:8081");
  EXPECT_EQ(c.key, "sk-test");
  EXPECT_EQ(c.cap, 8u);
  EXPECT_EQ(c.queue_size, 16u);
  EXPECT_EQ(c.queue_timeout_ms, 500u);
  EXPECT_EQ(c.cooldown_ms, 400u);
  EXPECT_EQ(c.default_pause_ms, 2000u);
  EXPECT_EQ(c.upstream_timeout_ms, 1000u);
  EXPECT_EQ(c.connect_timeout_ms, 300u);
  EXPECT_EQ(c.upstream_idle_ms, 0u);
  EXPECT_EQ(c.body_limit_bytes, 1024u);
  EXPECT_EQ(c.threads, 2u);
  EXPECT_EQ(c.drain_timeout_ms, 50u);
  EXPECT_EQ(c.metrics_path, "/internal/metrics");
  EXPECT_EQ(c.usage_url, "http://127.0.0.1:8081/usage");
  EXPECT_EQ(c.usage_json_path, "tts_requests.active");
  EXPECT_EQ(c.usage_staleness_ms, 10000u);
  EXPECT_EQ(c.usage_max_age_ms, 60000u);
  EXPECT_EQ(c.passive_header, "current-concurrent-requests");
  EXPECT_EQ(c.priority_header, "X-Priority");
  EXPECT_EQ(c.priority_value, "interactive");
  EXPECT_EQ(c.priority_age_ms, 20000u);
}

TEST(GatewayConfig, TheKeyCanComeFromTheEnvironment) {
  setenv("SLOTGATE_TEST_KEY", "sk-env", 1);
  Config c;
  std::string error;
  ASSERT_TRUE(parse_config(kMinimal + "key_env = SLOTGATE_TEST_KEY\n", "gw.conf", c, error))
      << error;
  EXPECT_EQ(c.key, "sk-env");
}

TEST(GatewayConfig, AFleetGatewayTakesAUsageEndpointForItsMember) {
  Config c;
  std::string error;
  ASSERT_TRUE(parse_config(kMinimal + "fleet_redis = 127.0.0.1:6379\nusage_url = http://a/usage\n",
                           "gw.conf", c, error))
      << error;
  EXPECT_TRUE(c.fleet());
  EXPECT_EQ(c.usage_url, "http://a/usage");
}

struct Bad {
  const char* name;
  std::string text;
  std::string message;  // what the error must say, file and line included
};

class BadConfig : public ::testing::TestWithParam<Bad> {};

TEST_P(BadConfig, SaysWhereAndWhichKey) {
  Config c;
  std::string error;
  EXPECT_FALSE(parse_config(GetParam().text, "gw.conf", c, error));
  EXPECT_NE(error.find(GetParam().message), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Mistakes, BadConfig,
    ::testing::Values(
        Bad{"UnknownKey", kMinimal + "capp = 4\n", "gw.conf:3: capp: not a setting"},
        Bad{"NoEquals", kMinimal + "cap 4\n", "gw.conf:3: expected key = value"},
        Bad{"CapZero", "upstream = http://a\ncap = 0\n", "gw.conf:2: cap: '0' is not a whole"},
        Bad{"CapHuge", "upstream = http://a\ncap = 100000\n", "gw.conf:2: cap:"},
        Bad{"CapNotANumber", "upstream = http://a\ncap = four\n", "gw.conf:2: cap:"},
        Bad{"NoCap", "upstream = http://a\n", "gw.conf: cap: missing"},
        Bad{"NoUpstream", "cap = 2\n", "gw.conf: upstream: missing"},
        Bad{"UpstreamNotAUrl", "upstream = api.example.com\ncap = 2\n", "gw.conf:1: upstream:"},
        Bad{"UpstreamWithCredentials", "upstream = http://u:p@host\ncap = 2\n",
            "gw.conf:1: upstream: no credentials"},
        Bad{"UpstreamBadPort", "upstream = http://host:99999\ncap = 2\n", "gw.conf:1: upstream:"},
        Bad{"Twice", kMinimal + "cap = 3\n", "gw.conf:3: cap: given twice"},
        Bad{"BadListen", kMinimal + "listen = 8080\n", "gw.conf:3: listen:"},
        Bad{"BadMetricsPath", kMinimal + "metrics_path = metrics\n", "gw.conf:3: metrics_path:"},
        Bad{"BadJsonPath", kMinimal + "usage_json_path = a..b\n", "gw.conf:3: usage_json_path:"},
        Bad{"BadHeader", kMinimal + "passive_header = a b\n", "gw.conf:3: passive_header:"},
        Bad{"BadPriorityHeader", kMinimal + "priority_header = x:y\n",
            "gw.conf:3: priority_header:"},
        Bad{"EmptyPriorityValue", kMinimal + "priority_value =\n", "gw.conf:3: priority_value:"},
        Bad{"HeaderWithoutUrl", kMinimal + "usage_header = x-count\n",
            "gw.conf: usage_header: needs usage_url"},
        Bad{"UnsetEnv", kMinimal + "key_env = SLOTGATE_TEST_NOT_SET\n", "gw.conf:3: key_env:"},
        Bad{"KeyAndKeyEnv", kMinimal + "key = a\nkey_env = PATH\n", "key: give key or key_env"},
        Bad{"ZeroThreads", kMinimal + "threads = 0\n", "gw.conf:3: threads:"},
        Bad{"UpstreamIdleTooLong", kMinimal + "upstream_idle_ms = 3600001\n",
            "gw.conf:3: upstream_idle_ms:"},
        Bad{"UnreadableCaFile", kMinimal + "upstream_ca_file = /nonexistent/ca.pem\n",
            "gw.conf:3: upstream_ca_file: cannot read '/nonexistent/ca.pem'"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(GatewayUrl, SchemesPortsAndPaths) {
  Url u;
  std::string why;
  ASSERT_TRUE(parse_url("http://[::1]:8080/base/", u, why)) << why;
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, "8080");
  EXPECT_EQ(u.path, "/base");
  EXPECT_EQ(u.authority(), "[::1]:8080");
  ASSERT_TRUE(parse_url("https://example.com", u, why)) << why;
  EXPECT_EQ(u.authority(), "example.com");
  EXPECT_EQ(u.path, "");
  EXPECT_FALSE(parse_url("ftp://example.com", u, why));
  EXPECT_FALSE(parse_url("http://", u, why));
  EXPECT_FALSE(parse_url("http://host/a?b", u, why));
}

TEST(Exposition, NumbersLabelsAndHelpAreWrittenAsTheFormatSays) {
  using gateway::Exposition;
  EXPECT_EQ(Exposition::number(3), "3");
  EXPECT_EQ(Exposition::number(0.25), "0.25");
  EXPECT_EQ(Exposition::number(1.0 / 0.0), "+Inf");
  EXPECT_EQ(Exposition::number(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(Exposition::number(0.0 / 0.0), "NaN");
  Exposition e;
  e.family("x_total", "counter", "a \\ and a\nnewline");
  e.sample("x_total", {{"why", "a \"quoted\" \\ value\n"}}, 7);
  EXPECT_EQ(e.text(),
            "# HELP x_total a \\\\ and a\\nnewline\n"
            "# TYPE x_total counter\n"
            "x_total{why=\"a \\\"quoted\\\" \\\\ value\\n\"} 7\n");
}

// The example config in the source tree is a valid config.
TEST(GatewayConfig, TheShippedExampleParses) {
  setenv("PROVIDER_API_KEY", "sk-example", 1);
  Config c;
  std::string error;
  ASSERT_TRUE(gateway::load_config(SLOTGATE_GATEWAY_EXAMPLE_CONFIG, c, error)) << error;
  EXPECT_EQ(c.key, "sk-example");
  EXPECT_EQ(c.cap, 4u);
}

// The binary itself: a bad config is exit status 2 with the key named; --check says ok.
TEST(GatewayBinary, ABadConfigExitsWithStatus2AndNamesTheKey) {
  slotgate::test::TempDir dir;
  const std::string bad = dir.write("bad.conf", kMinimal + "queue_timeout_ms = soon\n");
  slotgate::test::Child run({SLOTGATE_GATEWAY_BINARY, bad});
  EXPECT_EQ(run.wait(), 2);
  EXPECT_NE(run.err().find("bad.conf:3: queue_timeout_ms:"), std::string::npos) << run.err();

  slotgate::test::Child missing({SLOTGATE_GATEWAY_BINARY, dir.path() + "/none.conf"});
  EXPECT_EQ(missing.wait(), 2);
  EXPECT_NE(missing.err().find("cannot read"), std::string::npos) << missing.err();

  const std::string good = dir.write("good.conf", kMinimal);
  slotgate::test::Child check({SLOTGATE_GATEWAY_BINARY, "--check", good});
  EXPECT_EQ(check.wait(), 0);
  EXPECT_NE(check.out().find("ok"), std::string::npos);

  slotgate::test::Child no_args({SLOTGATE_GATEWAY_BINARY});
  EXPECT_EQ(no_args.wait(), 2);
}

}  // namespace
