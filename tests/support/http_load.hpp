// Load for the end-to-end tests: real HTTP clients, each on its own thread and keep-alive
// connection, sending streamed sessions to the test upstream's /v1/session through whatever
// listens on the given ports (gateways, or the upstream itself).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace slotgate::test {

struct Load {
  std::atomic<int> requests{0};
  std::atomic<int> ok{0};           // 200 with the whole stream ([DONE] at its end)
  std::atomic<int> ok_in_time{0};   // ... of which ended before the load's deadline
  std::atomic<int> rejected{0};     // 429 passed on from the upstream
  std::atomic<int> unavailable{0};  // 503 from a gateway
  std::atomic<int> other{0};        // anything else, or no answer
};

// `clients` threads, client i on ports[i % ports.size()], each sending streamed sessions of
// `ms` until `duration` has passed (each sends at least one); every request is waited for to
// its end.
inline void drive(const std::vector<int>& ports, int clients, std::chrono::milliseconds duration,
                  int ms, Load& load) {
  const auto until = std::chrono::steady_clock::now() + duration;
  const std::string target = "/v1/session?ms=" + std::to_string(ms) + "&stream=1";
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i)
    threads.emplace_back([&, port = ports[static_cast<size_t>(i) % ports.size()]] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(60, 0);
      c.set_connection_timeout(10, 0);
      do {
        std::string body;
        auto r = c.Get(target.c_str(), [&](const char* d, size_t n) {
          body.append(d, n);
          return true;
        });
        ++load.requests;
        if (!r) {
          ++load.other;
        } else if (r->status == 200 && body.find("data: [DONE]") != std::string::npos) {
          ++load.ok;
          if (std::chrono::steady_clock::now() <= until) ++load.ok_in_time;
        } else if (r->status == 429) {
          ++load.rejected;
        } else if (r->status == 503) {
          ++load.unavailable;
        } else {
          ++load.other;
        }
      } while (std::chrono::steady_clock::now() < until);
    });
  for (auto& t : threads) t.join();
}

inline void drive(int port, int clients, std::chrono::milliseconds duration, int ms, Load& load) {
  drive(std::vector<int>{port}, clients, duration, ms, load);
}

}  // namespace slotgate::test
