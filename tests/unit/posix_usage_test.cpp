// The posix usage helper: a blocking fetch never blocks the limiter, fetches never overlap,
// requests during a fetch merge into one more, and a failed fetch leaves no reading.
#include "slotgate/ports/posix_usage.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "slotgate/limiter.hpp"

namespace slotgate::posix {
namespace {

using namespace std::chrono_literals;
using L = Limiter<Port, 4, 8>;

// A fetch the test opens and closes by hand: it blocks until let through (at most 2 s, so a
// broken test cannot hang CI).
class Gatekeeper {
 public:
  bool fetch(uint32_t& sessions) {
    std::unique_lock<std::mutex> lock(m_);
    ++entered_;
    const int now_in = ++inside_;
    if (now_in > max_inside_) max_inside_ = now_in;
    cv_.notify_all();
    cv_.wait_for(lock, 2s, [&] { return open_; });
    --inside_;
    sessions = sessions_;
    return ok_;
  }
  void open(uint32_t sessions, bool ok = true) {
    std::lock_guard<std::mutex> lock(m_);
    open_ = true;
    sessions_ = sessions;
    ok_ = ok;
    cv_.notify_all();
  }
  void close() {
    std::lock_guard<std::mutex> lock(m_);
    open_ = false;
  }
  void wait_entered(int n) {
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [&] { return entered_ >= n; });
  }
  int max_inside() {
    std::lock_guard<std::mutex> lock(m_);
    return max_inside_;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false;
  bool ok_ = true;
  uint32_t sessions_ = 0;
  int entered_ = 0, inside_ = 0, max_inside_ = 0;
};

void wait_fetches(const UsagePoller& p, uint64_t n) {
  while (p.fetches() < n) std::this_thread::yield();
}

TEST(UsagePoller, ABlockedFetchNeverBlocksTheLimiter) {
  Gatekeeper gk;  // before the port, which keeps the poller and its fetch
  Port port;
  UsagePoller& poller = *UsagePoller::start(port, [&](uint32_t& s) { return gk.fetch(s); });
  L lim(port);
  L::config_type c;
  c.limit = 2;
  c.gate.max_age = Port::from(10s);
  ASSERT_EQ(lim.configure(c), Status::kOk);

  poller.request_refresh();
  gk.wait_entered(1);  // the fetch is now blocked inside the upstream call
  Permit p[2];
  EXPECT_EQ(lim.try_acquire(Port::now(), p[0]), Status::kOk);
  Ticket t;
  ASSERT_EQ(lim.enqueue(Port::now(), t), Status::kOk);  // granted at once: one slot left
  for (int i = 0; i < 100; ++i) lim.poll(Port::now());
  EXPECT_FALSE(lim.snapshot().has_reading);
  UsageReading<uint64_t> r;
  EXPECT_FALSE(poller.read(r));
  gk.open(1);
  wait_fetches(poller, 1);
  ASSERT_TRUE(poller.read(r));
  EXPECT_EQ(r.sessions, 1u);
  lim.poll(Port::now());
  EXPECT_TRUE(lim.snapshot().has_reading);
  EXPECT_EQ(lim.claim(t, p[1]), Status::kOk);
}

TEST(UsagePoller, FetchesNeverOverlapAndRequestsMerge) {
  Gatekeeper gk;  // before the port, which keeps the poller and its fetch
  Port port;
  UsagePoller& poller = *UsagePoller::start(port, [&](uint32_t& s) { return gk.fetch(s); });
  poller.request_refresh();
  gk.wait_entered(1);
  // Many requests from many threads while the first fetch is blocked...
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      for (int k = 0; k < 1000; ++k) poller.request_refresh();
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(poller.fetches(), 0u);
  gk.open(2);
  // ...make exactly one more fetch.
  wait_fetches(poller, 2);
  EXPECT_FALSE(poller.refresh_pending());
  EXPECT_EQ(gk.max_inside(), 1);
  EXPECT_EQ(poller.fetches(), 2u);
  // And concurrent requests with fetches running never overlap them either.
  std::vector<std::thread> more;
  for (int i = 0; i < 4; ++i)
    more.emplace_back([&] {
      for (int k = 0; k < 2000; ++k) poller.request_refresh();
    });
  for (auto& t : more) t.join();
  poller.request_refresh();
  while (poller.refresh_pending()) std::this_thread::yield();
  EXPECT_EQ(gk.max_inside(), 1);
}

TEST(UsagePoller, AFailedFetchLeavesNoReading) {
  Gatekeeper gk;  // before the port, which keeps the poller and its fetch
  Port port;
  UsagePoller& poller = *UsagePoller::start(port, [&](uint32_t& s) { return gk.fetch(s); });
  gk.open(3);
  poller.request_refresh();
  wait_fetches(poller, 1);
  UsageReading<uint64_t> r;
  ASSERT_TRUE(poller.read(r));
  gk.open(0, /*ok=*/false);
  poller.request_refresh();
  wait_fetches(poller, 2);
  EXPECT_FALSE(poller.read(r));
  EXPECT_EQ(poller.failures(), 1u);
}

TEST(UsagePoller, AReadingFromTheFetchAdmitsAHeldWaiter) {
  Gatekeeper gk;  // before the port, which keeps the poller and its fetch
  Port port;
  UsagePoller& poller = *UsagePoller::start(port, [&](uint32_t& s) { return gk.fetch(s); });
  L lim(port);
  L::config_type c;
  c.limit = 4;
  c.gate.max_age = Port::from(60s);
  c.gate.repoll_interval = Port::from(5ms);
  c.headroom.track_foreign = false;
  ASSERT_EQ(lim.configure(c), Status::kOk);
  gk.open(4);  // the upstream is full (someone else's sessions)
  poller.request_refresh();
  wait_fetches(poller, 1);
  lim.poll(Port::now());
  ASSERT_FALSE(lim.snapshot().gate_open);
  Status got = Status::kPending;
  std::thread waiter([&] {
    Permit p;
    got = acquire_for(lim, 30s, p);  // held by the gate until a reading says otherwise
    if (got == Status::kOk) lim.release(p, Port::now());
  });
  while (lim.snapshot().queued == 0) std::this_thread::yield();
  gk.open(3);  // the next fetch the waiter asks for shows a free session
  waiter.join();
  EXPECT_EQ(got, Status::kOk);
  EXPECT_GE(poller.fetches(), 2u);
}

// The port keeps every source it was given: dropping the caller's handle, or attaching another
// source, never leaves the limiter reading one that is gone.
TEST(UsagePoller, ThePortKeepsItsSourcesAlive) {
  Gatekeeper gk, gk2;  // before the port, which keeps both pollers
  Port port;
  std::weak_ptr<UsagePoller> first;
  {
    auto p = UsagePoller::start(port, [&](uint32_t& s) { return gk.fetch(s); });
    first = p;
  }
  ASSERT_FALSE(first.expired());
  gk.open(2);
  port.request_usage_refresh();
  wait_fetches(*first.lock(), 1);
  UsageReading<uint64_t> r;
  ASSERT_TRUE(port.read_usage(r));
  EXPECT_EQ(r.sessions, 2u);

  gk2.open(3);
  auto second = UsagePoller::start(port, [&](uint32_t& s) { return gk2.fetch(s); });
  EXPECT_FALSE(first.expired()) << "replaced, but kept until the port goes";
  port.request_usage_refresh();
  wait_fetches(*second, 1);
  ASSERT_TRUE(port.read_usage(r));
  EXPECT_EQ(r.sessions, 3u);
  EXPECT_EQ(first.lock()->fetches(), 1u) << "the replaced source fetches no more";
  port.attach_usage(nullptr);
  EXPECT_FALSE(port.read_usage(r));
}

}  // namespace
}  // namespace slotgate::posix
