// The `posix` port: CLOCK_MONOTONIC in nanoseconds, and a parking spot per waiter (Linux).
//
//   slotgate::posix::Port                the port type (64-bit ticks and control word), with
//                                        a usage source attached at run time
//   slotgate::posix::BasicPort           the same without a usage source: a limiter on it
//                                        compiles out the usage gate, the learned lags and
//                                        headroom's foreign part (smaller, a shorter fast path)
//   UsagePoller                          turns a blocking usage fetch into the port's
//                                        nonblocking usage source (posix_usage.hpp)
//   acquire_for(limiter, timeout, permit)  the core's blocking acquire (slotgate/acquire.hpp)
//                                        with a std::chrono timeout
//   acquire(limiter, permit), PermitGuard  the core's, named here too
//
// No background thread and no lock. A waiter parks on its own futex word (ticket index modulo
// kParkingSpots); a grant, timeout or close of its ticket wakes that word alone. One waiter at
// a time, the newest, is the poller: it also sleeps towards the limiter's next deadline and is
// the one notify() wakes, and it hands the role on when it leaves.
#pragma once

#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "slotgate/acquire.hpp"
#include "slotgate/atomics.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/status.hpp"
#include "slotgate/ticks.hpp"
#include "slotgate/usage.hpp"
#include "slotgate/usage_source.hpp"

namespace slotgate::posix {

// A cached usage reading, kept fresh on request by whoever implements it (UsagePoller).
using UsageSource = slotgate::UsageSource<uint64_t>;

// Clock, wake-ups and the wait contract; no usage source (Port adds one).
class BasicPort {
 public:
  using tick_type = uint64_t;  // nanoseconds of CLOCK_MONOTONIC
  using word_type = uint64_t;
  using counter_type = uint64_t;
  using atomics = StdAtomics;
  static constexpr uint64_t kTicksPerSecond = 1000000000u;  // for Limiter::recommended_config
  // notify() and notify_waiter() take no lock (atomics and at most one futex call) and are not
  // for signal handlers; the limiter's calls are therefore lock-free here, not interrupt-safe.
  static constexpr bool kNotifyInterruptSafe = false;
  static constexpr bool kNotifyLockFree = true;
  // Waiters with ticket index i park on spot i % kParkingSpots: with more waiters than that,
  // two share a word and a wake-up for one wakes both (each re-reads its ticket).
  static constexpr uint32_t kParkingSpots = 1024;
  // How often acquire looks at its ticket before it parks, with a CPU pause in between: a
  // hand-off between running threads takes about a microsecond. Yielding instead keeps more
  // threads runnable than there are cores, and the queue then never empties.
  static constexpr int kAcquireSpins = 256;

  BasicPort() noexcept = default;
  BasicPort(const BasicPort&) = delete;
  BasicPort& operator=(const BasicPort&) = delete;

  // CLOCK_MONOTONIC in ns. Wait-free (a vDSO call), not for signal handlers.
  static tick_type now() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<tick_type>(ts.tv_sec) * 1000000000u + static_cast<tick_type>(ts.tv_nsec);
  }
  static constexpr tick_type from_ms(uint64_t ms) noexcept { return ms * 1000000u; }
  static constexpr tick_type from_us(uint64_t us) noexcept { return us * 1000u; }
  template <class Rep, class Period>
  static constexpr tick_type from(std::chrono::duration<Rep, Period> d) noexcept {
    return static_cast<tick_type>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  }
  static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
  }

  // ---- the core's wake-ups -------------------------------------------------------------------

  // The ticket at `waiter` changed: wake its owner. Lock-free: two atomics, and one futex call
  // when the owner is parked.
  void notify_waiter(uint32_t waiter) noexcept {
    poke(spot(waiter));
  }

  // Something a poll should see changed: wake the poller. Lock-free, as notify_waiter.
  void notify() noexcept {
    // An RMW, not a load: the change the core made before this (possibly a relaxed store)
    // against the role RMWs of begin_wait / wait_token / wait / end_wait, made before their
    // owner looks at the limiter. Either ours comes later in the role's modification order
    // (we read that owner's role), or theirs does and acquires our release (their look sees
    // the change). A load would need a fence (which ThreadSanitizer does not model).
    const uint32_t p = poller_.fetch_add(0, std::memory_order_seq_cst);
    if (p != kNoPoller)
      poke(spots_[p]);
    else
      hand_role_on(kParkingSpots - 1);
  }

  // ---- the wait contract (port.hpp) ----------------------------------------------------------

  // The newest waiter takes the poller role: the oldest are granted first, so the role moves
  // least this way. Lock-free.
  void begin_wait(uint32_t waiter) noexcept {
    // seq_cst: the role store of the Dekker pair described in notify().
    poller_.exchange(waiter % kParkingSpots, std::memory_order_seq_cst);
  }

  // Read before looking at the ticket. Takes the poller role if nobody holds it. Lock-free.
  uint32_t wait_token(uint32_t waiter) noexcept {
    uint32_t none = kNoPoller;
    // seq_cst: as in begin_wait (no effect when someone holds the role).
    poller_.compare_exchange_strong(none, waiter % kParkingSpots, std::memory_order_seq_cst,
                                    std::memory_order_seq_cst);
    // seq_cst: pairs with the RMW on the word in poke(): if this load reads the value before
    // that RMW, the change poke() announces may be missed by our look at the ticket, and then
    // the futex call sees the word moved on; if it reads after, our look sees the change.
    return spot(waiter).word.load(std::memory_order_seq_cst);
  }

  // Park until the token moves on, until `own`, and (as the poller) until `poll_at`; returns
  // at once if the role turned out to be free (the caller polls again first). Blocking.
  void wait(uint32_t waiter, uint32_t token, Deadline<tick_type> poll_at,
            Deadline<tick_type> own) noexcept {
    const uint32_t mine = waiter % kParkingSpots;
    Spot& s = spots_[mine];
    // seq_cst x2: the sleeper counts against poke()'s load (either it sees us and wakes the
    // word, or our futex call sees the word moved on) and against end_wait's scan (either it
    // hands us the role, or we see the role free below).
    s.sleepers.fetch_add(1, std::memory_order_seq_cst);
    sleeping_.fetch_add(1, std::memory_order_seq_cst);
    uint32_t p = poller_.load(std::memory_order_seq_cst);
    const bool took =
        p == kNoPoller && poller_.compare_exchange_strong(p, mine, std::memory_order_seq_cst,
                                                          std::memory_order_seq_cst);
    if (!took) {
      Deadline<tick_type> until = own;
      if (p == mine) until.merge(poll_at);
      park(s, token, until);
    }
    sleeping_.fetch_sub(1, std::memory_order_relaxed);   // relaxed: a hint for end_wait's scan
    s.sleepers.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a stale count costs a wake
  }

  // The waiter leaves. True if it held the poller role, which it has now let go: the caller
  // then looks for a limiter deadline and, if there is one, calls hand_off so that another
  // waiter polls for it. (Without a deadline nobody need poll until a notify(), which gives
  // the free role to a parked waiter: a grant to the poller then costs no second wake-up.)
  // Lock-free.
  bool end_wait(uint32_t waiter) noexcept {
    uint32_t me = waiter % kParkingSpots;
    // seq_cst: a role RMW of the pair in notify(): either the caller's look at the limiter
    // after this sees a change, or the change's notify() saw the role free and handed it on.
    return poller_.compare_exchange_strong(me, kNoPoller, std::memory_order_seq_cst,
                                           std::memory_order_relaxed);
  }

  // Give the free poller role to a parked waiter and wake it to poll. Lock-free.
  void hand_off(uint32_t waiter) noexcept {
    hand_role_on(waiter % kParkingSpots);
  }

  // ---- observing (tests, benchmarks) ---------------------------------------------------------

  // Waiters inside wait() (about to park, parked or just woken). Wait-free.
  uint32_t sleeping() const noexcept {
    return sleeping_.load(std::memory_order_seq_cst);
  }
  // Futex wake calls made (each for a parked waiter), and waiters that returned from a park
  // other than by timing out: with 64 parked, one grant makes one of each. Wait-free.
  uint64_t wake_calls() const noexcept {
    return wake_calls_.load(std::memory_order_relaxed);
  }
  uint64_t woken() const noexcept {
    return woken_.load(std::memory_order_relaxed);
  }

 private:
  static constexpr uint32_t kNoPoller = 0xFFFFFFFFu;

  struct Spot {
    std::atomic<uint32_t> word{0};      // the futex word: moves on with every wake-up
    std::atomic<uint32_t> sleepers{0};  // waiters in wait() on this spot
  };
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) &&
                    std::atomic<uint32_t>::is_always_lock_free,
                "a futex word is a plain 32-bit integer");

  Spot& spot(uint32_t waiter) noexcept {
    return spots_[waiter % kParkingSpots];
  }

  // Give the free role to a parked waiter, looking from the spot after `from` round to `from`
  // itself (another waiter may share it), and wake it to poll.
  void hand_role_on(uint32_t from) noexcept {
    // seq_cst: against wait()'s sleeper counts: either we see a sleeper here, or it sees the
    // role free and takes it itself.
    if (sleeping_.load(std::memory_order_seq_cst) == 0) return;
    for (uint32_t n = 1; n <= kParkingSpots; ++n) {
      const uint32_t j = (from + n) % kParkingSpots;
      if (spots_[j].sleepers.load(std::memory_order_seq_cst) == 0) continue;
      uint32_t none = kNoPoller;
      // seq_cst: a role store like begin_wait's. Fails if another waiter took the role.
      if (poller_.compare_exchange_strong(none, j, std::memory_order_seq_cst,
                                          std::memory_order_relaxed))
        poke(spots_[j]);
      return;
    }
  }

  static uint32_t* futex_word(Spot& s) noexcept {
    return reinterpret_cast<uint32_t*>(&s.word);
  }

  void poke(Spot& s) noexcept {
    // seq_cst (a release among others): whatever the core changed before this (the ticket's
    // CAS) happens before the look of a waiter whose token read sees the new word (see
    // wait_token).
    s.word.fetch_add(1, std::memory_order_seq_cst);
    // seq_cst: see wait().
    if (s.sleepers.load(std::memory_order_seq_cst) == 0) return;
    syscall(SYS_futex, futex_word(s), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
    wake_calls_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
  }

  // One futex wait: returns on a wake-up, a moved word, a signal or `until`.
  void park(Spot& s, uint32_t token, Deadline<tick_type> until) noexcept {
    timespec at{};
    if (until.set) {
      const tick_type t = now();
      if (Ticks<tick_type>::reached(until.at, t)) return;
      at.tv_sec = static_cast<time_t>(until.at / 1000000000u);
      at.tv_nsec = static_cast<long>(until.at % 1000000000u);
    }
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time: our ticks, unconverted.
    const long r = syscall(SYS_futex, futex_word(s), FUTEX_WAIT_BITSET_PRIVATE, token,
                           until.set ? &at : nullptr, nullptr, FUTEX_BITSET_MATCH_ANY);
    if (r == 0) woken_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
  }

  Spot spots_[kParkingSpots];
  std::atomic<uint32_t> poller_{kNoPoller};  // the poller's spot
  std::atomic<uint32_t> sleeping_{0};
  std::atomic<uint64_t> wake_calls_{0};
  std::atomic<uint64_t> woken_{0};
};

// The posix port with a usage source (a UsagePoller, or any UsageSource): the limiter's usage
// gate, learned lags and foreign headroom are compiled in, and run on cooldown alone until a
// source is attached.
class Port : public BasicPort {
 public:
  // Give the port a usage source (nullptr: none; the limiter then runs on cooldown alone). The
  // port keeps every source it was given until it is destroyed itself, so a limiter on this
  // port can never read a source that is gone (a source replaced or detached stays idle until
  // then). Takes a mutex: not for interrupt or signal handlers.
  void attach_usage(std::shared_ptr<UsageSource> source) {
    {
      std::lock_guard<std::mutex> lock(kept_mu_);
      if (source) kept_.push_back(source);
    }
    usage_.store(source.get(), std::memory_order_release);  // pairs with the acquire in read_usage
  }
  // The port contract's usage source: nonblocking. The virtual call is off the fast path: the
  // limiter consults it only when it judges the gate.
  bool read_usage(UsageReading<tick_type>& out) noexcept {
    const UsageSource* s = usage_.load(std::memory_order_acquire);  // pairs with attach_usage
    return s != nullptr && s->read(out);
  }
  // One load behind the source: lets the fast path see a new reading cheaply.
  uint32_t usage_version() const noexcept {
    const UsageSource* s = usage_.load(std::memory_order_acquire);  // pairs with attach_usage
    return s != nullptr ? s->version() : 0;
  }
  void request_usage_refresh() noexcept {
    UsageSource* s = usage_.load(std::memory_order_acquire);  // pairs with attach_usage
    if (s != nullptr) s->request_refresh();
  }

 private:
  std::atomic<UsageSource*> usage_{nullptr};
  // Destroyed before the base, so a source's thread finds the rest of the port alive as it
  // stops.
  std::mutex kept_mu_;
  std::vector<std::shared_ptr<UsageSource>> kept_;
};

using slotgate::acquire;
using slotgate::acquire_until;
using slotgate::PermitGuard;

// acquire_until with a std::chrono timeout from now, into a Permit or a PermitGuard; a Lane
// and `on_queued` may follow, as in slotgate/acquire.hpp. Blocking; never from a signal
// handler.
template <class Limiter, class Rep, class Period, class Into, class... Args>
Status acquire_for(Limiter& limiter, std::chrono::duration<Rep, Period> timeout, Into& into,
                   Args&&... args) noexcept {
  return slotgate::acquire_for(limiter, Port::from(timeout), into, static_cast<Args&&>(args)...);
}

}  // namespace slotgate::posix
