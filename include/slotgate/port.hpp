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
// and, optionally, a usage source (both or neither; the gate is compiled in only with them):
//   bool read_usage(UsageReading<tick_type>& out) noexcept;  // the latest cached reading, or
//                                             // false for none; never waits for I/O
//   void request_usage_refresh() noexcept;    // start a fetch in the background if none runs;
//                                             // returns at once; requests may merge
// and, with a usage source, optionally
//   uint32_t usage_version() const noexcept;  // changes with every reading written (odd while
//                                             // one is being written, as UsageCell's does): lets
//                                             // the fast path see a new reading with one load
//                                             // instead of reading and comparing it
// and, optionally, the clock's rate, for Config::recommended and the ports' conversions:
//   static constexpr uint64_t kTicksPerSecond = ...;
//
// The core never reads a clock: every operation that needs the time takes `now` from the
// caller, so the same core runs on a virtual clock, SysTick or CLOCK_MONOTONIC. A port's
// helpers (blocking acquire, RAII guards) read the clock and call the core.
#pragma once

#include <type_traits>
#include <utility>

#include "slotgate/usage.hpp"

namespace slotgate {

template <class Port, class = void>
struct HasUsageSource : std::false_type {};

template <class Port>
struct HasUsageSource<Port,
                      std::void_t<decltype(std::declval<Port&>().read_usage(
                                      std::declval<UsageReading<typename Port::tick_type>&>())),
                                  decltype(std::declval<Port&>().request_usage_refresh())>>
    : std::true_type {};

template <class Port, class = void>
struct HasUsageVersion : std::false_type {};

template <class Port>
struct HasUsageVersion<Port, std::void_t<decltype(std::declval<const Port&>().usage_version())>>
    : std::true_type {};

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
