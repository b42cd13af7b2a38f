// The port contract: what a platform supplies to the core, checked at compile time.
//
// A Port is a type with
//   using tick_type = <unsigned integer>;     // the clock's unit; 32-bit wraps are fine
//   using word_type = <unsigned integer>;     // the control word (uint32_t on MCUs, uint64_t
//                                             // on servers when MaxSlots / MaxWaiters are large)
//   using counter_type = <unsigned integer>;  // statistics counters
//   using atomics = <atomics policy>;         // see atomics.hpp; usually slotgate::StdAtomics
//   void notify() noexcept;                   // something a poll should see changed (a
//                                             // deadline may be earlier, a pause ended, a
//                                             // reading came): make at least one waiter poll
//                                             // again soon. Called from whatever thread (or
//                                             // interrupt) made the change
//
// and, optionally, a wake-up per waiter (without it the core calls notify() instead):
//   void notify_waiter(uint32_t waiter) noexcept;  // the ticket with this index was granted,
//                                             // timed out or closed: wake its owner
//
// and, optionally, the wait contract that slotgate::acquire_until (acquire.hpp) blocks on; a
// port without it offers no blocking acquire. `waiter` is the caller's ticket index:
//   static tick_type now() noexcept;          // the clock
//   void begin_wait(uint32_t waiter) noexcept;  // a waiter arrives (it will poll before it
//                                             // sleeps)
//   uint32_t wait_token(uint32_t waiter) noexcept;  // read before looking at the ticket; a
//                                             // notify_waiter(waiter) or a notify() meant for
//                                             // this waiter moves it on
//   void wait(uint32_t waiter, uint32_t token, Deadline<tick_type> poll_at,
//             Deadline<tick_type> own) noexcept;  // sleep unless the token moved on, at most
//                                             // until `own` (the ticket's deadline), and until
//                                             // `poll_at` (the limiter's next deadline) if this
//                                             // waiter is the one that polls for the others
//   bool end_wait(uint32_t waiter) noexcept;  // the waiter leaves (granted, timed out,
//                                             // closed); true if it was the poller and let the
//                                             // role go: the caller then calls hand_off if the
//                                             // limiter has a deadline
//   void hand_off(uint32_t waiter) noexcept;  // give the role to another waiter, waking it
// and, optionally, a spin before sleeping:
//   static constexpr int kAcquireSpins = ...;  // looks at the ticket before the first sleep
//   static void relax() noexcept;             // between those looks (a yield, a pause)
//
// and, optionally, Pigweed-style facts the core's own contracts depend on (checked by
// PortTraits; a port that does not state them is taken to promise neither):
//   static constexpr bool kNotifyInterruptSafe = ...;  // notify*() may run in an interrupt
//   static constexpr bool kNotifyLockFree = ...;       // notify*() takes no lock
//
// and, optionally, a usage source (both or neither; the usage gate, the learned lags and
// headroom's foreign part are compiled in only with them, state and code):
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

#include <stdint.h>

#include <type_traits>
#include <utility>

#include "slotgate/ticks.hpp"
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

template <class Port, class = void>
struct HasNotifyWaiter : std::false_type {};

template <class Port>
struct HasNotifyWaiter<
    Port, std::void_t<decltype(std::declval<Port&>().notify_waiter(std::declval<uint32_t>()))>>
    : std::true_type {};

template <class Port, class = void>
struct HasWaitContract : std::false_type {};

template <class Port>
struct HasWaitContract<
    Port,
    std::void_t<
        decltype(Port::now()), decltype(std::declval<Port&>().begin_wait(std::declval<uint32_t>())),
        decltype(std::declval<Port&>().wait_token(std::declval<uint32_t>())),
        decltype(std::declval<Port&>().wait(std::declval<uint32_t>(), std::declval<uint32_t>(),
                                            std::declval<Deadline<typename Port::tick_type>>(),
                                            std::declval<Deadline<typename Port::tick_type>>())),
        decltype(std::declval<Port&>().end_wait(std::declval<uint32_t>())),
        decltype(std::declval<Port&>().hand_off(std::declval<uint32_t>()))>> : std::true_type {};

namespace detail {
template <class Port, class = void>
struct NotifyInterruptSafe : std::false_type {};
template <class Port>
struct NotifyInterruptSafe<Port, std::void_t<decltype(Port::kNotifyInterruptSafe)>>
    : std::integral_constant<bool, Port::kNotifyInterruptSafe> {};
template <class Port, class = void>
struct NotifyLockFree : std::false_type {};
template <class Port>
struct NotifyLockFree<Port, std::void_t<decltype(Port::kNotifyLockFree)>>
    : std::integral_constant<bool, Port::kNotifyLockFree> {};
template <class Port, class = void>
struct AcquireSpins : std::integral_constant<int, 0> {};
template <class Port>
struct AcquireSpins<Port, std::void_t<decltype(Port::kAcquireSpins), decltype(Port::relax())>>
    : std::integral_constant<int, Port::kAcquireSpins> {};
}  // namespace detail

// What a port promises, with the defaults of a port that says nothing. The limiter's own
// contracts follow: its calls are interrupt-safe only when notify is, and lock-free only when
// notify and the atomics are (Limiter::kInterruptSafe, Limiter::kLockFree).
template <class Port>
struct PortTraits {
  static constexpr bool notify_interrupt_safe = detail::NotifyInterruptSafe<Port>::value;
  static constexpr bool notify_lock_free = detail::NotifyLockFree<Port>::value;
  static constexpr bool targeted_wakeups = HasNotifyWaiter<Port>::value;
  static constexpr bool blocking = HasWaitContract<Port>::value;
  static constexpr int acquire_spins = detail::AcquireSpins<Port>::value;
};

template <class Port, bool = HasNotifyWaiter<Port>::value>
struct NotifyWaiterNoexcept : std::false_type {};
template <class Port>
struct NotifyWaiterNoexcept<Port, true>
    : std::integral_constant<bool, noexcept(std::declval<Port&>().notify_waiter(0u))> {};

template <class Port, bool = HasWaitContract<Port>::value>
struct WaitNoexcept : std::false_type {};
template <class Port>
struct WaitNoexcept<Port, true>
    : std::integral_constant<
          bool,
          noexcept(Port::now())&& noexcept(std::declval<Port&>().begin_wait(0u))&& noexcept(
              std::declval<Port&>().wait_token(
                  0u))&& noexcept(std::declval<Port&>()
                                      .end_wait(
                                          0u))&& noexcept(std::declval<Port&>()
                                                              .hand_off(
                                                                  0u))&& noexcept(std::declval<Port&>()
                                                                                      .wait(
                                                                                          0u,
                                                                                          0u,
                                                                                          std::declval<Deadline<
                                                                                              typename Port::
                                                                                                  tick_type>>(),
                                                                                          std::declval<Deadline<
                                                                                              typename Port::
                                                                                                  tick_type>>()))> {
};

template <class Port>
struct PortCheck {
  static_assert(std::is_unsigned<typename Port::tick_type>::value,
                "Port::tick_type must be an unsigned integer");
  static_assert(std::is_unsigned<typename Port::word_type>::value,
                "Port::word_type must be an unsigned integer");
  static_assert(std::is_unsigned<typename Port::counter_type>::value,
                "Port::counter_type must be an unsigned integer");
  static_assert(noexcept(std::declval<Port&>().notify()), "Port::notify() must be noexcept");
  static_assert(!HasNotifyWaiter<Port>::value || NotifyWaiterNoexcept<Port>::value,
                "Port::notify_waiter() must be noexcept");
  static_assert(!HasWaitContract<Port>::value || WaitNoexcept<Port>::value,
                "the wait contract's functions must be noexcept");
  static_assert(PortTraits<Port>::acquire_spins >= 0, "Port::kAcquireSpins must not be negative");
  static constexpr bool value = true;
};

}  // namespace slotgate
