// How many atomic read-modify-writes the uncontended paths take, counted exactly by running the
// real code through an atomics policy that counts every RMW (a failed CAS counts too: it is a
// locked instruction all the same).
#include <gtest/gtest.h>

#include <atomic>

#include "slotgate/limiter.hpp"
#include "slotgate/ports/sim.hpp"

namespace slotgate::test {
namespace {

thread_local int g_rmw = 0;

template <class T>
class CountingAtomic : public std::atomic<T> {
  using Base = std::atomic<T>;

 public:
  using Base::Base;
  T fetch_add(T v, std::memory_order m) noexcept {
    ++g_rmw;
    return Base::fetch_add(v, m);
  }
  T fetch_sub(T v, std::memory_order m) noexcept {
    ++g_rmw;
    return Base::fetch_sub(v, m);
  }
  T exchange(T v, std::memory_order m) noexcept {
    ++g_rmw;
    return Base::exchange(v, m);
  }
  bool compare_exchange_weak(T& e, T d, std::memory_order s, std::memory_order f) noexcept {
    ++g_rmw;
    return Base::compare_exchange_weak(e, d, s, f);
  }
  bool compare_exchange_strong(T& e, T d, std::memory_order s, std::memory_order f) noexcept {
    ++g_rmw;
    return Base::compare_exchange_strong(e, d, s, f);
  }
};

struct CountingAtomics {
  template <class T>
  using atomic = CountingAtomic<T>;
  template <class T>
  using var = PlainVar<T>;
  template <class T>
  static constexpr bool always_lock_free = std::atomic<T>::is_always_lock_free;
  static constexpr bool kLockFree = true;
};

using Port = sim::Port<uint32_t, uint32_t, CountingAtomics>;
using L = Limiter<Port, 8, 16>;

struct RmwCount : ::testing::Test {
  Port port{100};
  L lim{port};
  void configure(uint32_t cooldown) {
    L::config_type c;
    c.limit = 4;
    c.cooldown = cooldown;
    ASSERT_EQ(lim.configure(c), Status::kOk);
  }
  template <class F>
  int count(F&& f) {
    g_rmw = 0;
    f();
    return g_rmw;
  }
};

TEST_F(RmwCount, FastPathWithoutCooldownIsOnePlusOne) {
  configure(0);
  Permit p;
  EXPECT_EQ(count([&] { ASSERT_EQ(lim.try_acquire(port.now(), p), Status::kOk); }), 1);
  EXPECT_EQ(count([&] { ASSERT_EQ(lim.release(p, port.now()), Status::kOk); }), 1);
}

TEST_F(RmwCount, FastPathWithCooldownIsOnePlusOneThenOneToReclaim) {
  L::config_type c;
  c.limit = 1;
  c.cooldown = 10;
  ASSERT_EQ(lim.configure(c), Status::kOk);
  Permit p;
  EXPECT_EQ(count([&] { ASSERT_EQ(lim.try_acquire(port.now(), p), Status::kOk); }), 1);
  EXPECT_EQ(count([&] { ASSERT_EQ(lim.release(p, port.now()), Status::kOk); }), 1);
  port.advance(10);
  // The next acquirer frees the cooled record (1) and takes it (1), on the fast path.
  EXPECT_EQ(count([&] { ASSERT_EQ(lim.try_acquire(port.now(), p), Status::kOk); }), 2);
}

// With the gate binding, a grant spends a credit in the word: its record and the word (2); the
// release frees the record alone (1).
TEST_F(RmwCount, GatedGrantIsTwoPlusOne) {
  configure(0);
  port.set_usage(1, port.now());
  L::config_type c;
  c.limit = 4;
  c.gate.max_age = 1000;
  ASSERT_EQ(lim.configure(c), Status::kOk);
  lim.poll(port.now());  // takes the reading in: budget 3
  ASSERT_FALSE(lim.snapshot().gate_open);
  Permit p;
  EXPECT_EQ(count([&] { ASSERT_EQ(lim.try_acquire(port.now(), p), Status::kOk); }), 2);
  EXPECT_EQ(count([&] { ASSERT_EQ(lim.release(p, port.now()), Status::kOk); }), 1);
}

TEST_F(RmwCount, RefusalsTakeNoRmwOnTheHotWord) {
  configure(0);
  Permit p[4];
  for (auto& x : p) ASSERT_EQ(lim.try_acquire(port.now(), x), Status::kOk);
  Permit extra;
  // Only the statistics counter of the refusal is bumped.
  EXPECT_EQ(count([&] { ASSERT_EQ(lim.try_acquire(port.now(), extra), Status::kNoSlot); }), 1);
}

}  // namespace
}  // namespace slotgate::test
