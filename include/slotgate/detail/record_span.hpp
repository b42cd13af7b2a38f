// Where a table's records live (see SLOTGATE_SIZE_ERASURE in slotgate/config.hpp): inline, N of
// them, their count a constant the table's loops are compiled for; or, with N == 0, in storage
// the table is handed, their count a value, so that one copy of the table's code serves every
// capacity (ETL-style size erasure). Either way the table indexes them the same.
#pragma once

#include <stddef.h>

namespace slotgate::detail {

template <class Record, size_t N>
class RecordSpan {
 public:
  RecordSpan() noexcept = default;
  Record& operator[](size_t i) noexcept { return records_[i]; }
  const Record& operator[](size_t i) const noexcept { return records_[i]; }
  static constexpr size_t size() noexcept { return N; }

 private:
  Record records_[N];
};

template <class Record>
class RecordSpan<Record, 0> {
 public:
  // `records`: `count` records, alive for as long as the span is used.
  RecordSpan(Record* records, size_t count) noexcept : records_(records), count_(count) {}
  Record& operator[](size_t i) noexcept { return records_[i]; }
  const Record& operator[](size_t i) const noexcept { return records_[i]; }
  size_t size() const noexcept { return count_; }

 private:
  Record* const records_;
  const size_t count_;
};

}  // namespace slotgate::detail
