// Eight workers share an upstream that allows 4 concurrent sessions and keeps counting a
// session for ~350 ms after it ends. Run it: every line shows how many sessions were open.
#include <slotgate/limiter.hpp>
#include <slotgate/ports/posix.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
// No usage endpoint here: the port without a usage source, so the limiter compiles out the usage
// gate and what only readings feed (slotgate::posix::Port takes one; see usage_gate.cpp).
using Port = slotgate::posix::BasicPort;
using Limiter = slotgate::Limiter<Port, /*MaxSlots=*/8, /*MaxWaiters=*/32>;

int main() {
  Port port;
  Limiter limiter(port);
  auto cfg = Limiter::recommended_config(4);  // the upstream's cap; the rest as recommended
  cfg.max_hold = Port::from(30s);             // reclaim a slot whose holder got stuck
  if (limiter.configure(cfg) != slotgate::Status::kOk) return 1;

  std::atomic<int> open{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; i < 3; ++i) {
        slotgate::posix::PermitGuard<Limiter> permit;
        const auto s = slotgate::posix::acquire_for(limiter, 10s, permit);
        if (s != slotgate::Status::kOk) {
          std::printf("worker %d: %s\n", w, slotgate::to_string(s));
          return;
        }
        std::printf("worker %d: session %d starts, %d open\n", w, i, ++open);
        std::this_thread::sleep_for(100ms);  // the upstream call
        --open;
        // The guard releases here; permit.release(Limiter::outcome_type::rejected()) would
        // report a 429 instead.
      }
    });
  }
  for (auto& t : workers) t.join();
  const auto s = limiter.snapshot();
  std::printf("granted %llu (%llu at once, %llu after waiting)\n",
              static_cast<unsigned long long>(s.counters.granted),
              static_cast<unsigned long long>(s.counters.fast_path),
              static_cast<unsigned long long>(s.counters.from_queue));
  return 0;
}
