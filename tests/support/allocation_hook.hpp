// Replaces the process's malloc family and operator new/delete: every heap allocation is
// counted, and while allocations are forbidden one ends the process with a message and exit
// code 70. The no-allocation test forbids; the benchmarks count.
#pragma once

#include <cstdint>

namespace allocation_hook {
uint64_t count() noexcept;
void forbid(bool on) noexcept;
}  // namespace allocation_hook
