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
// read() is lock-free (a seqlock it retries only while a reading is being written, which is a
// few stores); request_refresh() is one exchange and at most one sem_post: both never block.
#pragma once

#include <errno.h>
#include <semaphore.h>
#include <stdint.h>

#include <atomic>
#include <functional>
#include <thread>
#include <utility>

#include "slotgate/ports/posix.hpp"

namespace slotgate::posix {

class UsagePoller final : public UsageSource {
 public:
  // Blocking: returns the upstream's in-flight session count, or false on any failure (network
  // error, non-200, a body without the field).
  using Fetch = std::function<bool(uint32_t& sessions)>;

  // Starts the fetch thread and attaches itself to `port`. No fetch runs until requested.
  UsagePoller(Port& port, Fetch fetch) : port_(port), fetch_(std::move(fetch)) {
    sem_init(&wake_, 0, 0);
    thread_ = std::thread([this] { run(); });
    port_.attach_usage(this);
  }
  // Detaches, then waits for a fetch under way to finish. Blocking.
  ~UsagePoller() {
    port_.attach_usage(nullptr);
    stop_.store(true, std::memory_order_release);  // pairs with the acquire in run()
    sem_post(&wake_);
    thread_.join();
    sem_destroy(&wake_);
  }
  UsagePoller(const UsagePoller&) = delete;
  UsagePoller& operator=(const UsagePoller&) = delete;

  bool read(UsageReading<uint64_t>& out) const noexcept override {
    for (;;) {
      // A seqlock without fences: the version is odd while a reading is being written.
      const uint32_t v1 = version_.load(std::memory_order_acquire);  // pairs with publish's last
      if (v1 & 1u) continue;
      // acquire x3: a value from the next write carries its odd version with it, so the
      // re-check below sees that version and we retry.
      const bool valid = valid_.load(std::memory_order_acquire);
      UsageReading<uint64_t> r;
      r.sessions = sessions_.load(std::memory_order_acquire);
      r.sampled_at = at_.load(std::memory_order_acquire);
      if (version_.load(std::memory_order_relaxed) != v1) continue;  // ordered by the acquires
      if (valid) out = r;
      return valid;
    }
  }

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
      publish(ok, sessions, started);
      if (!ok) failures_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
      fetches_.fetch_add(1, std::memory_order_release);            // pairs with fetches()' acquire
      port_.notify();
    }
  }

  void publish(bool valid, uint32_t sessions, uint64_t at) noexcept {
    const uint32_t v = version_.load(std::memory_order_relaxed);  // one writer: this thread
    version_.store(v + 1, std::memory_order_relaxed);  // ordered by the release stores below
    // release x3: pair with read()'s acquire loads.
    valid_.store(valid, std::memory_order_release);
    sessions_.store(sessions, std::memory_order_release);
    at_.store(at, std::memory_order_release);
    version_.store(v + 2, std::memory_order_release);  // pairs with read()'s first load
  }

  Port& port_;
  Fetch fetch_;
  sem_t wake_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> requested_{false};
  std::atomic<uint32_t> version_{0};
  std::atomic<bool> valid_{false};
  std::atomic<uint32_t> sessions_{0};
  std::atomic<uint64_t> at_{0};
  std::atomic<uint64_t> fetches_{0};
  std::atomic<uint64_t> failures_{0};
};

}  // namespace slotgate::posix
