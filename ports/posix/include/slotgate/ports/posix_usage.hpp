// UsagePoller: the upstream's usage endpoint (GET /usage, a concurrency header, ...) behind the
// posix port's nonblocking usage source.
//
// You give it a *blocking* fetch function; it runs it on a thread of its own and serves the
// cached result without blocking:
//   - at most one fetch runs at a time;
//   - requests that arrive during a fetch merge into one more fetch after it;
//   - a fetch that fails (returns false) leaves "no reading" until one succeeds;
//   - a reading's sampled_at is the fetch's start: the upstream's answer was true at some
//     instant after it, so grants made since are counted as possibly missing (the safe side);
//   - after each fetch the port is notified, so waiters re-poll and take the reading in.
// read() is lock-free (a UsageCell); request_refresh() is one exchange and at most one
// sem_post: both never block.
//
// Lifetime: UsagePoller::start attaches the poller to a port, which keeps it until the port is
// destroyed; the fetch thread stops then. So the limiter never reads a poller that is gone,
// and the fetch function (and what it refers to) must live as long as the port.
#pragma once

#include <errno.h>
#include <semaphore.h>
#include <stdint.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <utility>

#include "slotgate/ports/posix.hpp"
#include "slotgate/usage_cell.hpp"

namespace slotgate::posix {

class UsagePoller final : public UsageSource {
 public:
  // Blocking: returns the upstream's in-flight session count, or false on any failure (network
  // error, non-200, a body without the field).
  using Fetch = std::function<bool(uint32_t& sessions)>;

  // A poller with its fetch thread started, attached to `port` (which keeps it). No fetch runs
  // until requested.
  static std::shared_ptr<UsagePoller> start(Port& port, Fetch fetch) {
    std::shared_ptr<UsagePoller> p(new UsagePoller(port, std::move(fetch)));
    port.attach_usage(p);
    return p;
  }
  // Run by the port's destructor: waits for a fetch under way to finish. Blocking.
  ~UsagePoller() {
    stop_.store(true, std::memory_order_release);  // pairs with the acquire in run()
    sem_post(&wake_);
    thread_.join();
    sem_destroy(&wake_);
  }
  UsagePoller(const UsagePoller&) = delete;
  UsagePoller& operator=(const UsagePoller&) = delete;

  bool read(UsageReading<uint64_t>& out) const noexcept override { return cell_.read(out); }
  uint32_t version() const noexcept override { return cell_.version(); }

  void request_refresh() noexcept override {
    // acq_rel: pairs with the fetch thread's exchange; only the request that finds none
    // pending wakes it, which is what merges requests.
    if (!requested_.exchange(true, std::memory_order_acq_rel)) sem_post(&wake_);
  }

  // Fetches run so far, and how many failed. Wait-free.
  uint64_t fetches() const noexcept { return fetches_.load(std::memory_order_acquire); }
  uint64_t failures() const noexcept { return failures_.load(std::memory_order_relaxed); }
  // True while a request waits for the fetch thread. Wait-free.
  bool refresh_pending() const noexcept { return requested_.load(std::memory_order_acquire); }

 private:
  UsagePoller(Port& port, Fetch fetch) : port_(port), fetch_(std::move(fetch)) {
    sem_init(&wake_, 0, 0);
    thread_ = std::thread([this] { run(); });
  }

  void run() {
    for (;;) {
      while (sem_wait(&wake_) != 0 && errno == EINTR) {
      }
      if (stop_.load(std::memory_order_acquire)) return;  // pairs with the destructor
      // Clear before fetching, so a request during the fetch asks for one more.
      if (!requested_.exchange(false, std::memory_order_acq_rel)) continue;  // pairs with above
      const uint64_t started = Port::now();
      uint32_t sessions = 0;
      const bool ok = fetch_(sessions);
      cell_.write(ok, sessions, started);
      if (!ok) failures_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
      fetches_.fetch_add(1, std::memory_order_release);            // pairs with fetches()' acquire
      port_.notify();
    }
  }

  Port& port_;
  Fetch fetch_;
  sem_t wake_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> requested_{false};
  UsageCell<uint64_t> cell_;
  std::atomic<uint64_t> fetches_{0};
  std::atomic<uint64_t> failures_{0};
};

}  // namespace slotgate::posix
