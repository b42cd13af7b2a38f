// The atomics policy: every shared variable of the core is declared through it, so a model
// checker (or a port for a core without compare-and-swap) can run the real code.
//
// A policy is a type with
//   - `atomic<T>`: the subset of std::atomic the core uses (load, store, compare_exchange_weak /
//     _strong, fetch_add, fetch_sub, each with an explicit std::memory_order);
//   - `var<T>`: a plain, non-atomic cell with load() / store(), for data that the algorithm
//     already orders through an atomic (a model checker uses it to detect data races);
//   - `always_lock_free<T>`: what the core static_asserts on;
//   - `kLockFree`: false for a policy that masks interrupts instead (ARMv6-M has no CAS).
#pragma once

#include <atomic>

namespace slotgate {

// A non-atomic cell. Whoever accesses it must be ordered by some atomic's acquire/release.
template <class T>
class PlainVar {
 public:
  constexpr PlainVar() noexcept = default;
  constexpr explicit PlainVar(T v) noexcept : value_(v) {}
  T load() const noexcept { return value_; }
  void store(T v) noexcept { value_ = v; }

 private:
  T value_{};
};

struct StdAtomics {
  template <class T>
  using atomic = std::atomic<T>;

  template <class T>
  using var = PlainVar<T>;

  template <class T>
  static constexpr bool always_lock_free = std::atomic<T>::is_always_lock_free;

  static constexpr bool kLockFree = true;
};

}  // namespace slotgate
