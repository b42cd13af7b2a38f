// A fleet end to end: a real redis-server, the test upstream and three slotgate-gateway
// processes sharing one key, all started by the test on free loopback ports, under load from
// more clients than the cap. Sampled throughout: the sum of the claims in Redis and the
// upstream's own count, neither ever past the cap; a gateway killed with SIGKILL, and Redis
// stopped past the TTL and restarted, in the middle of it; and another client on the key,
// whose sessions the fleet leaves alone when its gateways read the upstream's usage.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../support/gateway_process.hpp"
#include "../support/http_load.hpp"
#include "../support/promtool.hpp"
#include "../support/redis_process.hpp"
#include "../support/upstream_process.hpp"

namespace {

using namespace std::chrono_literals;
using slotgate::test::drive;
using slotgate::test::Gateway;
using slotgate::test::Load;
using slotgate::test::Redis;
using slotgate::test::Upstream;
using Clock = std::chrono::steady_clock;

constexpr int kCap = 4;
constexpr auto kTtl = 2000ms;
constexpr auto kRenew = kTtl / 4;  // the member's default renewal period
constexpr int kSessionMs = 200;

// Polls `pred` every 20 ms for at most `limit`; how long it took, or -1 ms if it never held.
template <class Pred>
std::chrono::milliseconds time_until(std::chrono::milliseconds limit, Pred pred) {
  const auto t0 = Clock::now();
  while (!pred()) {
    if (Clock::now() - t0 > limit) return -1ms;
    std::this_thread::sleep_for(20ms);
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
}

// The sum of the claims in the ledger, and the most it has been since the sampler started.
class ClaimSampler {
 public:
  explicit ClaimSampler(const Redis& redis) : redis_(redis) {
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        const long sum = claims(redis_);
        if (sum >= 0) max_ = std::max(max_.load(), sum);
        ++samples_;
        std::this_thread::sleep_for(10ms);
      }
    });
  }
  ~ClaimSampler() {
    stop_ = true;
    thread_.join();
  }
  static long claims(const Redis& redis) {
    if (!redis.ping()) return -1;
    const std::string all = redis.run({"HVALS", "{slotgate:fleet-e2e}:claims"});
    long sum = 0;
    size_t at = 0;
    while (at < all.size()) {
      size_t end = all.find(' ', at);
      if (end == std::string::npos) end = all.size();
      sum += std::stol(all.substr(at, end - at));
      at = end + 1;
    }
    return sum;
  }
  long max() const { return max_.load(); }
  long samples() const { return samples_.load(); }

 private:
  const Redis& redis_;
  std::atomic<bool> stop_{false};
  std::atomic<long> max_{0};
  std::atomic<long> samples_{0};
  std::thread thread_;
};

// Three gateways on one key in front of the test upstream, leased before each test starts.
class FleetOf3 : public ::testing::Test {
 protected:
  explicit FleetOf3(std::vector<std::string> upstream_flags) : up(std::move(upstream_flags)) {}
  // More lines for every gateway's config.
  virtual std::string gateway_extra() const { return ""; }
  void SetUp() override {
    ASSERT_TRUE(redis.ping());
    ASSERT_GT(up.port(), 0);
    for (int i = 0; i < 3; ++i) start_gateway(i);
    // A new ledger settles for one TTL; then every gateway holds a lease.
    for (auto& g : gateways)
      ASSERT_GE(
          time_until(10s, [&] { return g->metric("slotgate_fleet_state{state=\"leased\"}") == 1; })
              .count(),
          0)
          << g->metrics();
  }

  void start_gateway(int i) {
    gateways.push_back(std::make_unique<Gateway>(
        "upstream = " + up.url() + "\nkey = key\ncap = " + std::to_string(kCap) +
        "\nqueue_timeout_ms = 30000\nfleet_redis = " + redis.address() +
        "\nfleet_name = fleet-e2e\nfleet_id = gw" + std::to_string(i) +
        "\nfleet_ttl_ms = " + std::to_string(kTtl.count()) + "\n" + gateway_extra()));
    ASSERT_GT(gateways.back()->port(), 0) << gateways.back()->process().err();
  }
  std::vector<int> ports() const {
    std::vector<int> p;
    for (const auto& g : gateways)
      if (g) p.push_back(g->port());
    return p;
  }
  double shares(const std::vector<size_t>& which) const {
    double sum = 0;
    for (size_t i : which) sum += gateways[i]->metric("slotgate_fleet_share");
    return sum;
  }
  void expect_never_over_the_cap() {
    EXPECT_LE(up.ledger("max_billed"), kCap);
    EXPECT_EQ(up.ledger("over_cap"), 0);
    EXPECT_EQ(up.ledger("rejected"), 0);
  }

  Redis redis;
  Upstream up;
  std::vector<std::unique_ptr<Gateway>> gateways;
};

class Fleet : public FleetOf3 {
 protected:
  Fleet() : FleetOf3({"--cap", std::to_string(kCap), "--lag-in-ms", "50", "--lag-out-ms", "150"}) {}
};

TEST_F(Fleet, ThreeBusyGatewaysShareTheCapAndNeverPassIt) {
  ClaimSampler sampler(redis);
  Load load;
  drive(ports(), 36, 6s, kSessionMs, load);
  printf(
      "fleet of 3: %d requests, %d whole streams; claims in Redis at most %ld (%ld samples); "
      "upstream billed at most %ld at once\n",
      load.requests.load(), load.ok.load(), sampler.max(), sampler.samples(),
      up.ledger("max_billed"));
  EXPECT_EQ(load.ok.load(), load.requests.load()) << "every request answered in full";
  EXPECT_LE(sampler.max(), kCap);
  EXPECT_GT(sampler.samples(), 100);
  expect_never_over_the_cap();
  for (const auto& g : gateways) {
    EXPECT_GT(g->metric("slotgate_grants_total{path=\"queue\"}") +
                  g->metric("slotgate_grants_total{path=\"fast\"}"),
              0)
        << "every gateway served some";
    EXPECT_EQ(g->metric("slotgate_fleet_peers"), 2);
  }
  EXPECT_TRUE(slotgate::test::promtool_accepts(gateways[0]->metrics()));
}

TEST_F(Fleet, AKilledGatewaysShareIsBackWithTheOthersWithinTtlAndARenewal) {
  ClaimSampler sampler(redis);
  Load load;
  std::thread clients([&] { drive(ports(), 36, 8s, kSessionMs, load); });
  // All busy: the cap split three ways, each holding some.
  ASSERT_GE(time_until(5s,
                       [&] {
                         return shares({0, 1, 2}) == kCap && shares({0}) > 0 && shares({1}) > 0 &&
                                shares({2}) > 0;
                       })
                .count(),
            0);
  gateways[2]->process().signal(SIGKILL);
  const auto back = time_until(10s, [&] { return shares({0, 1}) == kCap; });
  printf(
      "after kill -9 of one gateway, the other two held the whole cap again in %lld ms "
      "(TTL %lld ms, renewal %lld ms)\n",
      static_cast<long long>(back.count()), static_cast<long long>(kTtl.count()),
      static_cast<long long>(kRenew.count()));
  ASSERT_GE(back.count(), 0) << "the dead gateway's share never came back";
  // Within the TTL and one renewal, and the 20 ms look and the metrics scrape on top.
  EXPECT_LE(back, kTtl + kRenew + 200ms);
  clients.join();
  EXPECT_LE(sampler.max(), kCap);
  expect_never_over_the_cap();
}

TEST_F(Fleet, RedisGonePastTheTtlPutsEveryGatewayAtItsFloorAndItsReturnBringsFullUse) {
  ClaimSampler sampler(redis);  // while Redis answers: before the outage and after it
  Load load;
  std::thread clients([&] { drive(ports(), 36, 12s, kSessionMs, load); });
  ASSERT_GE(time_until(5s, [&] { return shares({0, 1, 2}) == kCap; }).count(), 0);
  redis.stop();
  // Within a TTL every gateway is at its floor (0), and stays there while Redis is gone.
  EXPECT_GE(time_until(kTtl + 1s, [&] { return shares({0, 1, 2}) == 0; }).count(), 0);
  std::this_thread::sleep_for(1s);  // Redis stays away past the TTL
  EXPECT_EQ(shares({0, 1, 2}), 0);
  for (const auto& g : gateways) EXPECT_EQ(g->metric("slotgate_fleet_state{state=\"lapsed\"}"), 1);
  const long admitted_before = up.ledger("admitted");
  ASSERT_TRUE(redis.start());  // empty: the ledger settles for a TTL, then splits the cap again
  const auto back = time_until(10s, [&] { return shares({0, 1, 2}) == kCap; });
  EXPECT_GE(back.count(), 0) << "full use again after Redis returned";
  clients.join();
  EXPECT_GT(up.ledger("admitted"), admitted_before);
  EXPECT_EQ(load.ok.load(), load.requests.load()) << "no request failed over the outage";
  EXPECT_LE(sampler.max(), kCap);
  expect_never_over_the_cap();
  EXPECT_GT(gateways[0]->metric("slotgate_fleet_renewal_failures_total{reason=\"connect\"}") +
                gateways[0]->metric("slotgate_fleet_renewal_failures_total{reason=\"io\"}"),
            0);
}

// Throughput: the fleet, all busy, against one gateway holding the whole cap, on the same
// upstream and load, one after the other in this test.
TEST_F(Fleet, AllBusyTheFleetServesAsMuchAsOneGatewayWithTheWholeCap) {
  constexpr auto kWindow = 10s;
  Load fleet_load;
  drive(ports(), 36, kWindow, kSessionMs, fleet_load);
  gateways.clear();  // stop the fleet; its sessions end
  ASSERT_GE(time_until(5s, [&] { return up.ledger("current") == 0; }).count(), 0);
  Gateway single("upstream = " + up.url() + "\nkey = key\ncap = " + std::to_string(kCap) +
                 "\nqueue_timeout_ms = 30000\n");
  ASSERT_GT(single.port(), 0);
  Load single_load;
  drive(single.port(), 36, kWindow, kSessionMs, single_load);
  const double ratio =
      static_cast<double>(fleet_load.ok_in_time.load()) / single_load.ok_in_time.load();
  printf(
      "in %lld s: the fleet of 3 completed %d sessions, one gateway with the whole cap %d: "
      "%.2f\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(kWindow).count()),
      fleet_load.ok_in_time.load(), single_load.ok_in_time.load(), ratio);
  EXPECT_GE(ratio, 0.9);
  expect_never_over_the_cap();
}

// Another client on the key holds two sessions throughout (the test upstream's own). With the
// upstream's usage endpoint the gateways pass its readings on and the ledger holds those two
// back from the shares; without it the fleet takes the whole cap and runs into them.
constexpr int kTheirs = 2;
constexpr int kLongSessionMs = 500;

class FleetBesideAnotherClient : public FleetOf3 {
 protected:
  FleetBesideAnotherClient()
      : FleetOf3({"--cap", std::to_string(kCap), "--lag-in-ms", "50", "--lag-out-ms", "150",
                  "--foreign", std::to_string(kTheirs)}) {}
};

class FleetReadingUsage : public FleetBesideAnotherClient {
 protected:
  std::string gateway_extra() const override { return "usage_url = " + up.url() + "/usage\n"; }
};

TEST_F(FleetReadingUsage, TheSharesLeaveTheOtherClientsSessionsAndNothingIsRefused) {
  for (const auto& g : gateways)
    ASSERT_GE(
        time_until(10s, [&] { return g->metric("slotgate_fleet_foreign_sessions") == kTheirs; })
            .count(),
        0)
        << g->metrics();
  ClaimSampler sampler(redis);
  Load load;
  drive(ports(), 12, 4s, kLongSessionMs, load);
  printf(
      "fleet of 3 beside another client holding %d: %d requests, %d whole streams; claims in "
      "Redis at most %ld; upstream billed at most %ld at once, %ld refused\n",
      kTheirs, load.requests.load(), load.ok.load(), sampler.max(), up.ledger("max_billed"),
      up.ledger("rejected"));
  EXPECT_GT(load.ok.load(), 0);
  EXPECT_EQ(load.ok.load(), load.requests.load()) << "every request answered in full";
  EXPECT_EQ(sampler.max(), kCap - kTheirs)
      << "the shares take the room left and never reach into the other client's";
  expect_never_over_the_cap();
  EXPECT_TRUE(slotgate::test::promtool_accepts(gateways[0]->metrics()));
}

// The test above, without readings: it fails, which is what makes the one above worth having.
TEST_F(FleetBesideAnotherClient, WithoutReadingsTheFleetRunsIntoTheOtherClient) {
  ClaimSampler sampler(redis);
  Load load;
  drive(ports(), 12, 4s, kLongSessionMs, load);
  printf(
      "the same without readings: %d requests, %d whole streams; claims in Redis at most %ld; "
      "upstream billed at most %ld at once, %ld refused\n",
      load.requests.load(), load.ok.load(), sampler.max(), up.ledger("max_billed"),
      up.ledger("rejected"));
  EXPECT_GT(sampler.max(), kCap - kTheirs) << "the shares reach into the other client's room";
  // The upstream either refuses or, counting late, bills past its cap.
  EXPECT_TRUE(up.ledger("rejected") > 0 || up.ledger("max_billed") > kCap);
  EXPECT_EQ(gateways[0]->metric("slotgate_fleet_foreign_sessions"), 0);
}

}  // namespace
