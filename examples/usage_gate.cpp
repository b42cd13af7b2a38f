// The usage gate, worked: a provider whose `GET /usage` answers
//     {"usage": {"concurrent_sessions": 3, ...}}
// and caps each key at 4 concurrent sessions. Its counter lags (a session keeps counting for
// ~350 ms after it ends) and another client shares the key.
//
// Here the provider is simulated in-process so the example runs anywhere; in a gateway,
// `http_get_usage` is your HTTP client call (blocking is fine: it runs on the poller's thread).
#include <slotgate/limiter.hpp>
#include <slotgate/ports/posix.hpp>
#include <slotgate/ports/posix_usage.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using Port = slotgate::posix::Port;
using Limiter = slotgate::Limiter<Port, 8, 64>;

// ---- a stand-in for the provider -------------------------------------------------------------
std::atomic<int> g_upstream{1};  // one session of another client on the same key
std::string http_get_usage() {
  std::this_thread::sleep_for(20ms);  // the round trip
  return "{\"usage\": {\"concurrent_sessions\": " + std::to_string(g_upstream.load()) + "}}";
}
void upstream_session() {
  ++g_upstream;
  std::this_thread::sleep_for(100ms);  // generation
  std::thread([] {                     // the provider stops counting it ~350 ms later
    std::this_thread::sleep_for(350ms);
    --g_upstream;
  })
      .detach();
}

// ---- the part a gateway writes -----------------------------------------------------------------
// Blocking fetch: GET /usage, pick usage.concurrent_sessions; false on any failure.
bool fetch_concurrent_sessions(uint32_t& sessions) {
  const std::string body = http_get_usage();
  const char* key = std::strstr(body.c_str(), "\"concurrent_sessions\":");
  if (key == nullptr) return false;
  char* end = nullptr;
  const long v = std::strtol(key + std::strlen("\"concurrent_sessions\":"), &end, 10);
  if (end == key || v < 0) return false;
  sessions = static_cast<uint32_t>(v);
  return true;
}

int main() {
  Port port;
  auto usage = slotgate::posix::UsagePoller::start(port, fetch_concurrent_sessions);  // attached
  Limiter limiter(port);
  // The cap is all we know; the library learns the lags (README, "The policy").
  const auto cfg = Limiter::recommended_config(4);
  if (limiter.configure(cfg) != slotgate::Status::kOk) return 1;

  // Take a first reading before admitting anyone: until one arrives the gate is open and the
  // limiter runs on cooldown alone, which cannot know about the other client.
  usage->request_refresh();
  while (usage->fetches() == 0) std::this_thread::sleep_for(1ms);
  limiter.poll(Port::now());

  std::atomic<int> peak{0};
  std::vector<std::thread> agents;
  for (int a = 0; a < 6; ++a) {
    agents.emplace_back([&] {
      for (int i = 0; i < 3; ++i) {
        slotgate::posix::PermitGuard<Limiter> permit;
        if (slotgate::posix::acquire_for(limiter, 30s, permit) != slotgate::Status::kOk) return;
        int seen = g_upstream.load() + 1;
        for (int p = peak.load(); seen > p && !peak.compare_exchange_weak(p, seen);) {
        }
        upstream_session();
      }
    });
  }
  for (auto& t : agents) t.join();
  const auto s = limiter.snapshot();
  std::printf(
      "peak upstream count %d (cap 4); %llu readings; foreign sessions seen %u; learned release "
      "lag %.0f ms\n",
      peak.load(), static_cast<unsigned long long>(s.counters.readings), s.foreign_seen,
      double(s.learned_release_lag) / 1e6);
  std::this_thread::sleep_for(400ms);  // let the simulated provider's timers finish
  return peak.load() <= 4 ? 0 : 1;
}
