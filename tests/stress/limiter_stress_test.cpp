// The limiter under more threads than cores, checked against independent bookkeeping:
//   - held permits never exceed the limit at any instant (a separate counter, not the
//     limiter's own);
//   - every ticket is resolved exactly once, and the limiter's counters agree with the owners';
//   - waiters are granted in FIFO order: when a ticket is granted, no ticket enqueued before it
//     is still waiting;
//   - no wake-up is lost: in the run without polling, waiters only ever learn of grants made by
//     other threads' releases and cancels;
//   - nothing leaks: at the end every slot and ticket record is free and the limit is grantable.
// The same harness also runs on a 16-bit tick, which wraps every 65536 ticks: the heartbeat's
// passes (detail/heartbeat.hpp) then run among the other threads' grants and releases.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "slotgate/limiter.hpp"
#include "slotgate/ports/sim.hpp"
#include "stress_config.hpp"

namespace slotgate::test {
namespace {

constexpr uint32_t kLimit = 3;

struct Tally {
  uint64_t tickets = 0, granted = 0, timed_out = 0, cancelled = 0, returned = 0, fast = 0;
  void add(const Tally& o) {
    tickets += o.tickets;
    granted += o.granted;
    timed_out += o.timed_out;
    cancelled += o.cancelled;
    returned += o.returned;
    fast += o.fast;
  }
};

template <class Tick>
class Harness {
  using Port = sim::Port<Tick, uint64_t>;
  using L = Limiter<Port, 8, 16>;

 public:
  // `scale`: ticks per tick of the default run, so that time passes faster.
  Harness(bool polling, Tick cooldown, uint32_t scale = 1) : polling_(polling), scale_(scale) {
    typename L::config_type c;
    c.limit = kLimit;
    c.cooldown = cooldown;
    EXPECT_EQ(lim_.configure(c), Status::kOk);
    order_.reserve(1 << 20);
  }

  void run(int threads, int rounds) {
    std::vector<std::thread> pool;
    std::vector<Tally> tallies(threads);
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([this, t, rounds, &tallies] { worker(t, rounds, tallies[t]); });
    for (auto& th : pool) th.join();
    for (auto& t : tallies) total_.add(t);
  }

  void check_end_state() {
    EXPECT_EQ(over_limit_.load(), 0) << "held permits exceeded the limit";
    EXPECT_EQ(fifo_violations_.load(), 0) << "a ticket was granted ahead of an earlier waiter";
    EXPECT_EQ(lost_wakeups_.load(), 0) << "a waiter was never granted";
    EXPECT_LE(max_held_.load(), kLimit);
    const auto s = lim_.snapshot();
    EXPECT_EQ(total_.tickets,
              total_.granted + total_.timed_out + total_.cancelled + total_.returned);
    EXPECT_EQ(s.counters.timed_out, total_.timed_out);
    EXPECT_EQ(s.counters.cancelled, total_.cancelled);
    EXPECT_EQ(s.counters.grants_returned, total_.returned);
    EXPECT_EQ(s.counters.from_queue, total_.granted + total_.returned);
    EXPECT_EQ(s.counters.fast_path, total_.fast);
    EXPECT_EQ(s.counters.released, total_.granted + total_.fast);
    EXPECT_EQ(s.counters.bad_releases, 0u);
    // Let every cooldown and deadline end (both are a few ticks), then nothing may be left.
    port_.advance(1000);
    lim_.poll(port_.now());
    const auto e = lim_.snapshot();
    EXPECT_EQ(e.held, 0u);
    EXPECT_EQ(e.cooling, 0u);
    EXPECT_EQ(e.queued, 0u);
    EXPECT_EQ(e.tickets_outstanding, 0u);
    Permit p[kLimit];
    for (auto& x : p) EXPECT_EQ(lim_.try_acquire(port_.now(), x), Status::kOk);
    Permit extra;
    EXPECT_EQ(lim_.try_acquire(port_.now(), extra), Status::kNoSlot);
  }

  const Tally& total() const { return total_; }
  uint64_t ticks_passed() const { return ticks_passed_.load(); }

 private:
  void hold(Permit p, Tally&) {
    const uint32_t now_held = held_.fetch_add(1) + 1;
    if (now_held > kLimit) over_limit_.fetch_add(1);
    uint32_t m = max_held_.load();
    while (now_held > m && !max_held_.compare_exchange_weak(m, now_held)) {
    }
    std::this_thread::yield();
    held_.fetch_sub(1);
    EXPECT_EQ(lim_.release(p, port_.now()), Status::kOk);
  }

  // After ticket number `seq` was granted: no earlier ticket may still be waiting.
  void check_fifo(size_t seq) {
    std::lock_guard<std::mutex> lock(order_mu_);
    const size_t from = seq > 64 ? seq - 64 : 0;
    for (size_t j = from; j < seq; ++j)
      if (lim_.state(order_[j]) == TicketState::kWaiting) fifo_violations_.fetch_add(1);
  }

  void worker(int id, int rounds, Tally& tally) {
    std::mt19937 rng(static_cast<uint32_t>(id * 7919 + 1));
    for (int r = 0; r < rounds; ++r) {
      const uint32_t dice = rng() % 100;
      if (polling_ && dice < 3) advance(1 + rng() % 3);
      Permit p;
      if (dice < 40 && lim_.try_acquire(port_.now(), p) == Status::kOk) {
        ++tally.fast;
        hold(p, tally);
        continue;
      }
      // Join the queue. Enqueues are serialised by the test so their order is known.
      Ticket t;
      size_t seq = 0;
      {
        std::lock_guard<std::mutex> lock(order_mu_);
        const bool timed = polling_ && rng() % 4 == 0;
        const auto deadline = timed ? L::deadline_type::at_tick(Tick(port_.now() + rng() % 8))
                                    : L::deadline_type::none();
        const Status s = lim_.enqueue(port_.now(), t, deadline);
        if (s == Status::kQueueFull) continue;
        EXPECT_EQ(s, Status::kOk);
        if (s != Status::kOk) continue;
        seq = order_.size();
        order_.push_back(t);
      }
      ++tally.tickets;
      const bool will_cancel = rng() % 8 == 0;
      const auto started = std::chrono::steady_clock::now();
      for (uint32_t spin = 0;; ++spin) {
        const Status s = lim_.claim(t, p);
        if (s == Status::kOk) {
          ++tally.granted;
          check_fifo(seq);
          hold(p, tally);
          break;
        }
        if (s == Status::kTimedOut) {
          ++tally.timed_out;
          break;
        }
        ASSERT_EQ(s, Status::kPending);
        if (will_cancel && spin == 2) {
          const Status c = lim_.cancel(t, port_.now());
          if (c == Status::kOk) ++tally.cancelled;
          if (c == Status::kGrantReturned) ++tally.returned;
          if (c == Status::kTimedOut) ++tally.timed_out;
          ASSERT_TRUE(c == Status::kOk || c == Status::kGrantReturned || c == Status::kTimedOut)
              << to_string(c);
          break;
        }
        if (polling_) {
          if (spin % 4 == 3) advance(1);
          lim_.poll(port_.now());
        } else if (std::chrono::steady_clock::now() - started > std::chrono::seconds(60)) {
          // Without polling only other threads' releases and cancels can grant us; a minute
          // without a grant while they keep running means a grant request was lost.
          lost_wakeups_.fetch_add(1);
          lim_.cancel(t, port_.now());
          break;
        }
        std::this_thread::yield();
      }
    }
  }

  void advance(uint32_t d) {
    port_.advance(static_cast<Tick>(d * scale_));
    ticks_passed_.fetch_add(d * scale_);
  }

  Port port_{0};
  L lim_{port_};
  const bool polling_;
  const uint32_t scale_;
  std::atomic<uint64_t> ticks_passed_{0};
  std::atomic<uint32_t> held_{0};
  std::atomic<uint32_t> max_held_{0};
  std::atomic<int> over_limit_{0};
  std::atomic<int> fifo_violations_{0};
  std::atomic<int> lost_wakeups_{0};
  std::mutex order_mu_;
  std::vector<Ticket> order_;
  Tally total_;
};

TEST(LimiterStress, InvariantsHoldWithCooldownTimeoutsAndCancels) {
  Harness<uint64_t> h(/*polling=*/true, /*cooldown=*/2);
  h.run(6, stress_rounds(100000));
  h.check_end_state();
  EXPECT_GT(h.total().granted, 0u);
  EXPECT_GT(h.total().timed_out, 0u);
  EXPECT_GT(h.total().cancelled + h.total().returned, 0u);
}

TEST(LimiterStress, NoWakeUpIsLostWithoutPolling) {
  Harness<uint64_t> h(/*polling=*/false, /*cooldown=*/0);
  h.run(6, stress_rounds(100000));
  h.check_end_state();
  EXPECT_GT(h.total().granted, 0u);
}

// Time moves 8 to 24 ticks a step among six threads: the 16-bit tick wraps every few thousand
// steps, and a heartbeat's pass (every 4095 ticks) runs among the others' grants and releases.
TEST(LimiterStress, InvariantsHoldOnAWrappingSixteenBitTick) {
  Harness<uint16_t> h(/*polling=*/true, /*cooldown=*/2, /*scale=*/8);
  h.run(6, stress_rounds(100000));
  h.check_end_state();
  EXPECT_GT(h.total().granted, 0u);
  EXPECT_GT(h.total().timed_out, 0u);
  // At least a few heartbeats, whatever the schedule: the 3 % of steps that move time.
  EXPECT_GT(h.ticks_passed(), 4u * Ticks<uint16_t>::kHeartbeat);
}

}  // namespace
}  // namespace slotgate::test
