// The atomics policy that runs the real core under Relacy: every atomic is an rl::atomic and
// every plain cell an rl::var, so Relacy explores their interleavings and memory orders and
// reports data races. (Relacy's own std replacement does not build with libstdc++ 12, so the
// core's std-style calls are mapped here.)
#pragma once

// Standard headers first: Relacy's macros ($, and its std overrides) break them otherwise.
#include <stddef.h>
#include <stdint.h>

#include <atomic>
#include <limits>
#include <type_traits>

// Relacy redefines the std::memory_order names as macros: keep the real values first.
namespace slotgate::model::orders {
constexpr std::memory_order kRelaxed = std::memory_order_relaxed;
constexpr std::memory_order kConsume = std::memory_order_consume;
constexpr std::memory_order kAcquire = std::memory_order_acquire;
constexpr std::memory_order kRelease = std::memory_order_release;
constexpr std::memory_order kAcqRel = std::memory_order_acq_rel;
}  // namespace slotgate::model::orders

// clang-format off
#include <relacy/relacy.hpp>
// clang-format on

namespace slotgate::model {

inline rl::memory_order map(std::memory_order mo) {
  if (mo == orders::kRelaxed) return rl::mo_relaxed;
  if (mo == orders::kConsume || mo == orders::kAcquire) return rl::mo_acquire;
  if (mo == orders::kRelease) return rl::mo_release;
  if (mo == orders::kAcqRel) return rl::mo_acq_rel;
  return rl::mo_seq_cst;
}

template <class T>
class Atomic {
 public:
  Atomic() : a_(T()) {}
  Atomic(T v) : a_(v) {}  // NOLINT: mirrors std::atomic
  // (Not copyable: Relacy's rl::atomic is not. `= delete` cannot be spelt here: Relacy
  // redefines `delete` to track memory.)

  T load(std::memory_order mo) const { return a_.load(map(mo), $); }
  void store(T v, std::memory_order mo) { a_.store(v, map(mo), $); }
  T exchange(T v, std::memory_order mo) { return a_.exchange(v, map(mo), $); }
  bool compare_exchange_weak(T& e, T d, std::memory_order s, std::memory_order f) {
    return a_.compare_exchange_weak(e, d, map(s), $, map(f), $);
  }
  bool compare_exchange_strong(T& e, T d, std::memory_order s, std::memory_order f) {
    return a_.compare_exchange_strong(e, d, map(s), $, map(f), $);
  }
  T fetch_add(T v, std::memory_order mo) { return a_.fetch_add(v, map(mo), $); }
  T fetch_sub(T v, std::memory_order mo) { return a_.fetch_sub(v, map(mo), $); }

 private:
  mutable rl::atomic<T> a_;
};

template <class T>
class Var {
 public:
  Var() : v_(T()) {}
  explicit Var(T v) : v_(v) {}
  T load() const { return v_($); }
  void store(T v) { v_($) = v; }

 private:
  mutable rl::var<T> v_;
};

struct RelacyAtomics {
  template <class T>
  using atomic = Atomic<T>;
  template <class T>
  using var = Var<T>;
  template <class T>
  static constexpr bool always_lock_free = true;
  static constexpr bool kLockFree = true;
};

// A port for the model: 32-bit ticks and words; notify only counts.
struct Port {
  using tick_type = uint32_t;
  using word_type = uint32_t;
  using counter_type = uint32_t;
  using atomics = RelacyAtomics;
  void notify() noexcept {}
};

}  // namespace slotgate::model
