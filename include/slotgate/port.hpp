// The port contract: what a platform supplies to the core, checked at compile time.
//
// A Port is a type with
//   using tick_type = <unsigned integer>;     // the clock's unit; 32-bit wraps are fine
//   using word_type = <unsigned integer>;     // the control word (uint32_t on MCUs, uint64_t
//                                             // on servers when MaxSlots / MaxWaiters are large)
//   using counter_type = <unsigned integer>;  // statistics counters
//   using atomics = <atomics policy>;         // see atomics.hpp; usually slotgate::StdAtomics
//   void notify() noexcept;                   // wake every waiter so it re-reads its ticket and
//                                             // re-polls; called from whatever thread (or
//                                             // interrupt) changed something a waiter awaits
//
// The core never reads a clock: every operation that needs the time takes `now` from the
// caller, so the same core runs on a virtual clock, SysTick or CLOCK_MONOTONIC. A port's
// helpers (blocking acquire, RAII guards) read the clock and call the core.
#pragma once

#include <type_traits>

namespace slotgate {

template <class Port>
struct PortCheck {
  static_assert(std::is_unsigned<typename Port::tick_type>::value,
                "Port::tick_type must be an unsigned integer");
  static_assert(std::is_unsigned<typename Port::word_type>::value,
                "Port::word_type must be an unsigned integer");
  static_assert(std::is_unsigned<typename Port::counter_type>::value,
                "Port::counter_type must be an unsigned integer");
  static_assert(noexcept(std::declval<Port&>().notify()), "Port::notify() must be noexcept");
  static constexpr bool value = true;
};

}  // namespace slotgate
