// Size erasure (SLOTGATE_SIZE_ERASURE): erased slot tables of any capacity share one class of
// code, SlotRecords<..., 0>, over the records their first base holds; without erasure each
// capacity has its own, the records inline. Both are the same table to their callers. The
// limiter suites run erased as well (slotgate_erased_tests).
#include <gtest/gtest.h>

#include <cstdint>
#include <type_traits>

#include "slotgate/atomics.hpp"
#include "slotgate/detail/slot_table.hpp"

namespace slotgate::detail {
namespace {

template <size_t N, bool Erased>
using Table = SlotTable<StdAtomics, uint32_t, uint32_t, N, Erased>;
using Shared = SlotRecords<StdAtomics, uint32_t, uint32_t, 0>;

static_assert(std::is_base_of<Shared, Table<3, true>>::value &&
                  std::is_base_of<Shared, Table<5, true>>::value,
              "erased tables of any capacity share one copy of the code");
static_assert(
    !std::is_base_of<Shared, Table<3, false>>::value &&
        std::is_base_of<SlotRecords<StdAtomics, uint32_t, uint32_t, 3>, Table<3, false>>::value,
    "without erasure each capacity has its own code");
static_assert(
    std::is_same<Table<3, kSizeErasure>, SlotTable<StdAtomics, uint32_t, uint32_t, 3>>::value,
    "the profile's setting picks the default");

// Fill every record, refuse one more, free one and take it again: the capacity is the
// storage's, whichever class of code runs.
template <class T>
void fills_to_capacity(T& table, size_t capacity) {
  Permit held[8];
  for (size_t i = 0; i < capacity; ++i) {
    const uint32_t slot = table.try_claim(capacity);
    ASSERT_NE(slot, T::kNone) << "record " << i;
    held[i] = table.finish_claim(slot, 10, false);
  }
  EXPECT_EQ(table.try_claim(capacity), T::kNone);
  EXPECT_EQ(table.taken(), capacity);
  Status why = Status::kOk;
  EXPECT_EQ(table.release(held[1], 20, 0, 0, why), SlotRelease::kFreed);
  EXPECT_EQ(table.release(held[1], 21, 0, 0, why), SlotRelease::kRejected);  // a double release
  EXPECT_EQ(why, Status::kStalePermit);
  EXPECT_EQ(table.taken(), capacity - 1);
  EXPECT_NE(table.try_claim(capacity), T::kNone);
  EXPECT_EQ(table.taken(), capacity);
}

TEST(SizeErasure, ErasedTablesOfTwoCapacitiesRunTheSharedCode) {
  Table<3, true> three;
  Table<5, true> five;
  Shared& a = three;
  Shared& b = five;
  fills_to_capacity(a, 3);
  fills_to_capacity(b, 5);
}

TEST(SizeErasure, TablesWithTheirRecordsInlineBehaveTheSame) {
  Table<3, false> three;
  Table<5, false> five;
  fills_to_capacity(three, 3);
  fills_to_capacity(five, 5);
}

TEST(SizeErasure, AnErasedTableNeverReachesPastItsStorage) {
  // A range beyond the capacity (a limit above MaxSlots never reaches the table, but the table
  // does not rely on it) stays within the records the table was handed.
  using Two = Table<2, true>;
  Two two;
  EXPECT_NE(two.try_claim(64), Two::kNone);
  EXPECT_NE(two.try_claim(64), Two::kNone);
  EXPECT_EQ(two.try_claim(64), Two::kNone);
  EXPECT_EQ(two.taken(), 2u);
}

}  // namespace
}  // namespace slotgate::detail
