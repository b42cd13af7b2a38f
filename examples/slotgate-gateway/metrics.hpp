// What the gateway counts, and /metrics: the limiter's snapshot, the usage source's answers and
// the gateway's own counters in the Prometheus text format.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <array>
#include <atomic>
#include <string>

#include "slotgate/lanes.hpp"
#include "slotgate/snapshot.hpp"

namespace slotgate::http {
class UsageSource;
}
namespace slotgate::fleet {
struct MemberStatus;
}

namespace gateway {

// Why a request got no permit (the gateway answers 503, or nothing to a client that left).
enum class Refusal : uint8_t { kQueueFull, kQueueTimeout, kClosed, kClientGone, kCount };
// Where a proxied request failed upstream (the gateway answers 502 or 504, or cuts the stream).
enum class UpstreamFailure : uint8_t { kResolve, kConnect, kSend, kHeader, kBody, kCount };
// Where a client went away with a permit held or asked for.
enum class Phase : uint8_t { kQueued, kUpstream, kCount };

const char* to_string(Refusal r);
const char* to_string(UpstreamFailure f);
const char* to_string(Phase p);

// Time from a request's arrival to its permit, in seconds.
class WaitHistogram {
 public:
  static constexpr double kBounds[] = {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5,
                                       1,      2.5,   5,     10,   30,   60,  120};
  static constexpr size_t kBuckets = sizeof kBounds / sizeof kBounds[0];

  void observe(uint64_t ns) {
    const double s = static_cast<double>(ns) / 1e9;
    size_t i = 0;
    while (i < kBuckets && s > kBounds[i]) ++i;
    // relaxed: statistics; a scrape may see one observation's count before its sum.
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  }
  // Observations in bucket i alone (i == kBuckets: above the last bound).
  uint64_t in_bucket(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  double sum_seconds() const {
    return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  }

 private:
  std::atomic<uint64_t> counts_[kBuckets + 1] = {};
  std::atomic<uint64_t> sum_ns_{0};
};

// The gateway's own counters, from any thread (relaxed: each is a statistic on its own).
struct Stats {
  std::atomic<uint64_t> requests{0};        // proxied requests read from clients
  std::atomic<uint64_t> responses[6] = {};  // by status class: [1] 1xx .. [5] 5xx
  std::atomic<uint64_t> upstream_429{0};
  std::atomic<uint64_t> refused[static_cast<size_t>(Refusal::kCount)] = {};
  std::atomic<uint64_t> upstream_failures[static_cast<size_t>(UpstreamFailure::kCount)] = {};
  std::atomic<uint64_t> clients_gone[static_cast<size_t>(Phase::kCount)] = {};
  std::atomic<uint64_t> passive_offers{0};
  std::atomic<uint64_t> upstream_connected{0};  // upstream connections opened
  std::atomic<uint64_t> upstream_reused{0};     // requests sent on a kept upstream connection
  std::atomic<uint64_t> upstream_retries{0};    // ... sent again on a new one (upstream_link.hpp)
  std::atomic<int64_t> connections{0};          // client connections open
  std::atomic<int64_t> in_upstream{0};          // requests with a permit, talking to the upstream
  std::atomic<int64_t> upstream_kept{0};        // idle upstream connections kept for their clients
  WaitHistogram wait;

  void count(Refusal r) { refused[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed); }
  void count(UpstreamFailure f) {
    upstream_failures[static_cast<size_t>(f)].fetch_add(1, std::memory_order_relaxed);
  }
  void count(Phase p) {
    clients_gone[static_cast<size_t>(p)].fetch_add(1, std::memory_order_relaxed);
  }
  void response(unsigned status) {
    if (status >= 100 && status < 600)
      responses[status / 100].fetch_add(1, std::memory_order_relaxed);
  }
};

// The limiter's two lanes: [0] normal, [1] high.
using Lanes = std::array<slotgate::LaneSnapshot<uint64_t>, 2>;

// The whole /metrics body. `source` may be null (no usage endpoint), `fleet` too (no fleet),
// `lanes` too (no priority header configured).
std::string render_metrics(const slotgate::Snapshot<uint64_t>& s, const Stats& stats,
                           const slotgate::http::UsageSource* source,
                           const slotgate::fleet::MemberStatus* fleet, const Lanes* lanes);

}  // namespace gateway
