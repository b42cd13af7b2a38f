// The least code that keeps what slotgate's permits promise, with nothing else on the path: the
// floor under slotgate/try_acquire_release. Each step is one slotgate takes on its fast path,
// reduced to its atomics (same orders, same record layout in one cache line), with the promise
// it keeps:
//
//   acquire  1. look at the control word      no barging past queued waiters; pause, close,
//                                              a lowered limit and the gate refuse here
//            2. CAS a free record to claimed   generation-checked permits; the records are the
//                                              only count of occupancy
//            3. look at the control word again a waiter that queued (or a pause that began)
//                                              between 1 and 2 is not passed over: the
//                                              store-buffering pair with an enqueue
//            4. stamp, count, publish held     the grant time leases and learned lags read
//            5. move the scan hint             the next grant takes another record
//   release  6. read the record               only the holder's release is evidence
//            7. note the release time          the history the learned lags read
//            8. CAS held to free               double and stale releases refused
//            9. look at the control word       a queued waiter is granted the freed slot
//
// No policy: no cooldown, no gate, no probe, no statistics beyond the per-record count.
// Single-threaded use only (a bench subject): the point is what the steps cost, not their
// interleavings, which the model suite checks on the real code.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace bench {

class ProtocolFloor {
 public:
  struct Permit {
    uint32_t slot = 0;
    uint32_t gen = 0;
  };
  static constexpr uint32_t kSlots = 4;

  bool acquire(uint64_t now, Permit& out) noexcept {
    const uint64_t c = control_.load(std::memory_order_seq_cst);  // 1
    if (!fast(c)) return false;
    uint32_t i = hint_.load(std::memory_order_relaxed);
    if (i >= kSlots) i = 0;
    Record& r = records_[i];
    uint32_t w = r.word.load(std::memory_order_seq_cst);  // 2
    if ((w & kPhaseMask) != kFree) return false;
    const uint32_t gen = (w >> kGenShift) + 1;
    if (!r.word.compare_exchange_strong(w, (gen << kGenShift) | kClaiming,
                                        std::memory_order_seq_cst, std::memory_order_relaxed))
      return false;
    if (!fast(control_.load(std::memory_order_seq_cst))) {  // 3
      r.word.exchange((gen << kGenShift) | kFree, std::memory_order_seq_cst);
      return false;
    }
    r.granted_at.store(now, std::memory_order_relaxed);  // 4
    r.grants.store(r.grants.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    r.word.store((gen << kGenShift) | kHeld, std::memory_order_release);
    const uint32_t next = (i + 1) % kSlots;  // 5
    if (hint_.load(std::memory_order_relaxed) != next) hint_.store(next, std::memory_order_relaxed);
    out = Permit{i, gen};
    return true;
  }

  bool release(Permit p, uint64_t now) noexcept {
    Record& r = records_[p.slot];
    uint32_t held = (p.gen << kGenShift) | kHeld;
    if (r.word.load(std::memory_order_relaxed) == held) {               // 6
      const uint32_t n = r.released_n.load(std::memory_order_relaxed);  // 7
      r.released[n % 4].store(now, std::memory_order_relaxed);
      r.released_n.store(n + 1, std::memory_order_relaxed);
    }
    if (!r.word.compare_exchange_strong(held, p.gen << kGenShift,  // 8
                                        std::memory_order_seq_cst, std::memory_order_acquire))
      return false;
    if (queued(control_.load(std::memory_order_seq_cst))) kicks_ = kicks_ + 1;  // 9
    return true;
  }

  uint64_t kicks() const noexcept { return kicks_; }

 private:
  static constexpr uint32_t kFree = 0, kClaiming = 1, kHeld = 2, kPhaseMask = 7, kGenShift = 4;
  // A word with nothing queued, no pause and an open gate admits on the fast path.
  static bool fast(uint64_t c) noexcept { return (c & 0xFFF0u) == 0; }
  static bool queued(uint64_t c) noexcept { return (c & 0xFF00u) != 0; }

  struct alignas(64) Record {
    std::atomic<uint32_t> word{0};
    std::atomic<uint32_t> released_n{0};
    std::atomic<uint64_t> granted_at{0};
    std::atomic<uint64_t> grants{0};
    std::atomic<uint64_t> released[4]{};
  };
  alignas(64) std::atomic<uint64_t> control_{kSlots};
  Record records_[kSlots];
  alignas(64) std::atomic<uint32_t> hint_{0};
  uint64_t kicks_ = 0;
};

}  // namespace bench
