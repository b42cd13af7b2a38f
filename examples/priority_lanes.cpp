// Two lanes on one key: six batch workers always want another long session, two interactive
// workers make short ones now and then. Interactive callers queue in the higher lane, so they
// wait for the next free slot, not behind the batch queue; aging (a minute here) keeps batch
// from starving. Run it: it prints each class's waits and each lane's figures, and exits
// non-zero if a request failed or the cap was ever passed.
#include <slotgate/limiter.hpp>
#include <slotgate/ports/posix.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using Port = slotgate::posix::Port;
using Limiter = slotgate::Limiter<Port, /*MaxSlots=*/4, /*MaxWaiters=*/16, /*Lanes=*/2>;
constexpr slotgate::Lane kBatch{0}, kInteractive{1};
constexpr uint32_t kCap = 2;

int main() {
  Port port;
  Limiter limiter(port);
  auto cfg = Limiter::recommended_config(kCap);
  cfg.cooldown = 0;  // this demo's "upstream" stops counting a session when it ends
  if (limiter.configure(cfg) != slotgate::Status::kOk) return 1;
  if (limiter.configure_lanes(Limiter::lane_config_type::recommended(Port::kTicksPerSecond)) !=
      slotgate::Status::kOk)
    return 1;

  std::atomic<int> open{0}, over{0}, failed{0};
  std::mutex mu;
  std::vector<double> waits[2];  // ms, by lane
  auto session = [&](slotgate::Lane lane, std::chrono::milliseconds length) {
    const auto asked = std::chrono::steady_clock::now();
    slotgate::posix::PermitGuard<Limiter> permit;
    if (slotgate::posix::acquire_for(limiter, 30s, permit, lane) != slotgate::Status::kOk) {
      ++failed;
      return;
    }
    const double waited =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - asked).count();
    {
      std::lock_guard<std::mutex> lock(mu);
      waits[lane.index].push_back(waited);
    }
    if (++open > int(kCap)) ++over;
    std::this_thread::sleep_for(length);  // the upstream call
    --open;
  };  // the guard releases

  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int w = 0; w < 6; ++w)
    workers.emplace_back([&] {
      while (!stop) session(kBatch, 40ms);
    });
  std::vector<std::thread> people;
  for (int w = 0; w < 2; ++w)
    people.emplace_back([&] {
      for (int i = 0; i < 6; ++i) {
        std::this_thread::sleep_for(25ms);
        session(kInteractive, 10ms);
      }
    });
  for (auto& t : people) t.join();
  stop = true;
  for (auto& t : workers) t.join();

  const char* names[] = {"batch", "interactive"};
  for (uint32_t l = 0; l < 2; ++l) {
    auto& w = waits[l];
    std::sort(w.begin(), w.end());
    Limiter::lane_snapshot_type s;
    limiter.lane_snapshot(slotgate::Lane(l), Port::now(), s);
    std::printf(
        "%-11s %3zu sessions, wait median %5.1f ms, max %5.1f ms | lane %u: queued %llu, "
        "granted from the queue %llu\n",
        names[l], w.size(), w.empty() ? 0.0 : w[w.size() / 2], w.empty() ? 0.0 : w.back(), l,
        static_cast<unsigned long long>(s.queued), static_cast<unsigned long long>(s.granted));
  }
  std::printf("failed %d, times over the cap %d\n", failed.load(), over.load());
  return failed == 0 && over == 0 && waits[1].size() == 12 ? 0 : 1;
}
