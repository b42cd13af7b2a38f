#include "slotgate/ring.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace slotgate {
namespace {

TEST(Ring, StartsEmptyAndReportsCapacity) {
  Ring<int, 4> r;
  int v = -1;
  EXPECT_FALSE(r.try_pop(v));
  EXPECT_EQ(v, -1);
  EXPECT_EQ(r.size_approx(), 0u);
  EXPECT_EQ(r.capacity(), 4u);
}

TEST(Ring, IsFifo) {
  Ring<int, 8> r;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(r.try_push(i));
  for (int i = 0; i < 5; ++i) {
    int v = -1;
    ASSERT_TRUE(r.try_pop(v));
    EXPECT_EQ(v, i);
  }
}

TEST(Ring, RefusesWhenFullAndKeepsContents) {
  Ring<int, 4> r;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(r.try_push(i));
  EXPECT_FALSE(r.try_push(99));
  EXPECT_EQ(r.size_approx(), 4u);
  int v = -1;
  ASSERT_TRUE(r.try_pop(v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(r.try_push(4));
  for (int want = 1; want <= 4; ++want) {
    ASSERT_TRUE(r.try_pop(v));
    EXPECT_EQ(v, want);
  }
  EXPECT_FALSE(r.try_pop(v));
}

TEST(Ring, SurvivesManyLaps) {
  Ring<uint32_t, 4> r;
  uint32_t next_in = 0, next_out = 0;
  for (int round = 0; round < 10000; ++round) {
    const int n = 1 + round % 4;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(r.try_push(next_in++));
    for (int i = 0; i < n; ++i) {
      uint32_t v = 0;
      ASSERT_TRUE(r.try_pop(v));
      ASSERT_EQ(v, next_out++);
    }
  }
  EXPECT_EQ(r.size_approx(), 0u);
}

struct Wide {
  uint64_t a;
  uint32_t b;
};

TEST(Ring, CarriesTriviallyCopyableStructs) {
  Ring<Wide, 2> r;
  ASSERT_TRUE(r.try_push(Wide{1, 2}));
  Wide w{};
  ASSERT_TRUE(r.try_pop(w));
  EXPECT_EQ(w.a, 1u);
  EXPECT_EQ(w.b, 2u);
}

TEST(Ring, HeadAndTailSitOnSeparateCacheLines) {
  using R = Ring<uint32_t, 4>;
  EXPECT_GE(sizeof(R), 3 * kCacheLine);
  EXPECT_EQ(alignof(R) % kCacheLine, 0u);
}

}  // namespace
}  // namespace slotgate
