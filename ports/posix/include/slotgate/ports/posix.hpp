// The `posix` port: CLOCK_MONOTONIC in nanoseconds, and blocking helpers for threads.
//
//   slotgate::posix::Port                the port type (64-bit ticks and control word)
//   UsagePoller                          turns a blocking usage fetch into the port's
//                                        nonblocking usage source (posix_usage.hpp)
//   acquire_for(limiter, timeout, permit)  blocks until granted, timed out or closed
//   acquire(limiter, permit)               blocks until granted or closed
//   PermitGuard                          releases its permit when it goes out of scope
//
// No background thread: a blocked caller sleeps until its ticket is granted (another thread's
// release or poll notifies the port) or until the limiter's next deadline, then polls itself.
#pragma once

#include <stdint.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "slotgate/atomics.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/status.hpp"
#include "slotgate/ticks.hpp"
#include "slotgate/usage.hpp"

namespace slotgate::posix {

// A cached usage reading, kept fresh on request by whoever implements it (UsagePoller).
class UsageSource {
 public:
  // The latest reading, or false for none. Must never wait for I/O.
  virtual bool read(UsageReading<uint64_t>& out) const noexcept = 0;
  // Start a fetch if none runs; return at once.
  virtual void request_refresh() noexcept = 0;
  // Changes with every reading written, odd while one is being written (as UsageCell's).
  virtual uint32_t version() const noexcept = 0;

 protected:
  ~UsageSource() = default;
};

class Port {
 public:
  using tick_type = uint64_t;  // nanoseconds of CLOCK_MONOTONIC
  using word_type = uint64_t;
  using counter_type = uint64_t;
  using atomics = StdAtomics;
  static constexpr uint64_t kTicksPerSecond = 1000000000u;  // for Limiter::recommended_config

  Port() noexcept = default;
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

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

  // Wake every sleeper. Lock-free when nobody sleeps (one RMW and one load); otherwise it takes
  // the sleepers' mutex briefly. Not for signal handlers.
  void notify() noexcept {
    // seq_cst: pairs with the seq_cst increment of sleepers_ in wait() (a store-load pair:
    // either we see the sleeper, or the sleeper sees the new epoch).
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) == 0) return;
    { std::lock_guard<std::mutex> lock(mutex_); }
    cv_.notify_all();
  }

  // Give the port a usage source (nullptr: none; the limiter then runs on cooldown alone). The
  // source must outlive its use by the limiter. Wait-free.
  void attach_usage(UsageSource* source) noexcept {
    usage_.store(source, std::memory_order_release);  // pairs with the acquire in read_usage
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

  // The wake-up count; read it before checking for the awaited condition, then wait on it.
  uint32_t epoch() const noexcept { return epoch_.load(std::memory_order_seq_cst); }

  // Sleep until notify() moves the epoch past `seen`, or until `until` (if set). Blocking.
  void wait(uint32_t seen, Deadline<tick_type> until) noexcept {
    sleepers_.fetch_add(1, std::memory_order_seq_cst);  // seq_cst: see notify()
    {
      std::unique_lock<std::mutex> lock(mutex_);
      while (epoch_.load(std::memory_order_seq_cst) == seen) {
        if (!until.set) {
          cv_.wait(lock);
          continue;
        }
        const tick_type t = now();
        if (Ticks<tick_type>::reached(until.at, t)) break;
        cv_.wait_for(lock, std::chrono::nanoseconds(until.at - t));
      }
    }
    sleepers_.fetch_sub(1, std::memory_order_seq_cst);
  }

 private:
  std::atomic<uint32_t> epoch_{0};
  std::atomic<uint32_t> sleepers_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::atomic<UsageSource*> usage_{nullptr};
};

// How many times acquire looks at its ticket, yielding in between, before it sleeps.
inline constexpr int kAcquireSpins = 64;

// Block until a permit is granted, the deadline passes (kTimedOut) or the limiter closes
// (kClosed); kQueueFull if the wait queue has no room. Blocking; never from a signal handler.
template <class Limiter>
Status acquire_until(Limiter& limiter, Deadline<Port::tick_type> deadline, Permit& out) noexcept {
  Port& port = limiter.port();
  Port::tick_type now = port.now();
  Status s = limiter.try_acquire(now, out);
  if (s == Status::kOk || !is_transient(s)) return s;
  if (deadline.set && Ticks<Port::tick_type>::reached(deadline.at, now)) return Status::kTimedOut;
  Ticket ticket;
  s = limiter.enqueue(now, ticket, deadline);
  if (s != Status::kOk) return s;
  // A hand-off usually comes within microseconds; going to sleep and being woken costs tens.
  // Look a few times, yielding, before sleeping (as futex-based semaphores do).
  for (int spin = 0; spin < kAcquireSpins; ++spin) {
    s = limiter.claim(ticket, out);
    if (s != Status::kPending) return s;
    std::this_thread::yield();
  }
  for (;;) {
    const uint32_t seen = port.epoch();  // before looking, so no wake-up slips between
    s = limiter.claim(ticket, out);
    if (s != Status::kPending) return s;
    const auto polled = limiter.poll(port.now());
    s = limiter.claim(ticket, out);
    if (s != Status::kPending) return s;
    port.wait(seen, polled.next);
  }
}

template <class Limiter, class Rep, class Period>
Status acquire_for(Limiter& limiter, std::chrono::duration<Rep, Period> timeout,
                   Permit& out) noexcept {
  return acquire_until(limiter,
                       Deadline<Port::tick_type>::at_tick(Port::now() + Port::from(timeout)), out);
}

template <class Limiter>
Status acquire(Limiter& limiter, Permit& out) noexcept {
  return acquire_until(limiter, Deadline<Port::tick_type>::none(), out);
}

// Owns one permit and releases it (outcome ok) when destroyed, unless released explicitly
// with an outcome first. Move-only.
template <class Limiter>
class PermitGuard {
 public:
  PermitGuard() noexcept = default;
  PermitGuard(Limiter& limiter, Permit permit) noexcept : limiter_(&limiter), permit_(permit) {}
  PermitGuard(PermitGuard&& o) noexcept : limiter_(o.limiter_), permit_(o.permit_) {
    o.permit_ = Permit{};
  }
  PermitGuard& operator=(PermitGuard&& o) noexcept {
    if (this != &o) {
      release();
      limiter_ = o.limiter_;
      permit_ = o.permit_;
      o.permit_ = Permit{};
    }
    return *this;
  }
  PermitGuard(const PermitGuard&) = delete;
  PermitGuard& operator=(const PermitGuard&) = delete;
  ~PermitGuard() { release(); }

  // Release now with an outcome (e.g. Outcome::rejected() after a 429). kInvalidPermit if the
  // guard holds nothing. Lock-free.
  Status release(typename Limiter::outcome_type outcome = Limiter::outcome_type::ok()) noexcept {
    if (limiter_ == nullptr || !permit_.valid()) return Status::kInvalidPermit;
    const Permit p = permit_;
    permit_ = Permit{};
    return limiter_->release(p, limiter_->port().now(), outcome);
  }

  bool holds() const noexcept { return permit_.valid(); }
  explicit operator bool() const noexcept { return holds(); }
  Permit permit() const noexcept { return permit_; }

 private:
  Limiter* limiter_ = nullptr;
  Permit permit_{};
};

// acquire_for that hands back a guard.
template <class Limiter, class Rep, class Period>
Status acquire_for(Limiter& limiter, std::chrono::duration<Rep, Period> timeout,
                   PermitGuard<Limiter>& guard) noexcept {
  Permit p;
  const Status s = acquire_for(limiter, timeout, p);
  if (s == Status::kOk) guard = PermitGuard<Limiter>(limiter, p);
  return s;
}

}  // namespace slotgate::posix
