// Counts heap allocations in the benchmark process (operator new and malloc), so every
// slotgate benchmark can report that it made none.
#pragma once

#include <cstdint>

namespace bench {
uint64_t allocations() noexcept;
}  // namespace bench
