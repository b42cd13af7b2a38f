// The ring under many producers and consumers: every element arrives exactly once, and each
// consumer sees each producer's elements in the order they were pushed.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "slotgate/ring.hpp"
#include "stress_config.hpp"

namespace slotgate::test {
namespace {

TEST(RingStress, EveryElementOnceAndInProducerOrder) {
  constexpr int kProducers = 3, kConsumers = 3;
  const uint32_t per_producer = static_cast<uint32_t>(stress_rounds(100000));
  Ring<uint64_t, 8> ring;
  std::vector<std::vector<uint8_t>> seen(kProducers, std::vector<uint8_t>(per_producer, 0));
  std::atomic<uint64_t> popped{0};
  std::atomic<int> order_violations{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (uint32_t i = 0; i < per_producer; ++i) {
        const uint64_t v = (uint64_t(p) << 32) | i;
        while (!ring.try_push(v)) std::this_thread::yield();
      }
    });
  }
  const uint64_t total = uint64_t(kProducers) * per_producer;
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&] {
      std::vector<int64_t> last(kProducers, -1);
      uint64_t v = 0;
      while (popped.load() < total) {
        if (!ring.try_pop(v)) {
          std::this_thread::yield();
          continue;
        }
        const int p = static_cast<int>(v >> 32);
        const int64_t i = static_cast<int64_t>(v & 0xFFFFFFFFu);
        if (i <= last[p]) order_violations.fetch_add(1);
        last[p] = i;
        seen[p][i] += 1;  // each index is written by the one consumer that popped it
        popped.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(order_violations.load(), 0);
  uint64_t once = 0;
  for (auto& s : seen)
    for (uint8_t n : s) once += (n == 1);
  EXPECT_EQ(once, total);
  uint64_t rest = 0;
  EXPECT_FALSE(ring.try_pop(rest));
}

}  // namespace
}  // namespace slotgate::test
