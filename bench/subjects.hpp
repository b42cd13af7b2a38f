// What slotgate is compared with, apart from the standard and third-party libraries:
//   MutexCondvarSemaphore  the semaphore people write by hand (barging: a releaser's next
//                          acquire may overtake a woken waiter)
//   FifoFairSemaphore      a semaphore that grants strictly in arrival order, as slotgate
//                          does: ticket-ordered waiters on a mutex, one condition variable each
//   VyukovReference        Dmitry Vyukov's bounded MPMC queue, plainly, as published
//   Slotgate*              the library's configurations under test
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "slotgate/limiter.hpp"
#include "slotgate/ports/posix.hpp"
#include "slotgate/ports/sim.hpp"

namespace bench {

class MutexCondvarSemaphore {
 public:
  explicit MutexCondvarSemaphore(int n) : count_(n) {}
  bool try_acquire() {
    std::lock_guard<std::mutex> l(m_);
    if (count_ == 0) return false;
    --count_;
    return true;
  }
  void acquire() {
    std::unique_lock<std::mutex> l(m_);
    cv_.wait(l, [&] { return count_ > 0; });
    --count_;
  }
  void release() {
    {
      std::lock_guard<std::mutex> l(m_);
      ++count_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int count_;
};

class FifoFairSemaphore {
 public:
  explicit FifoFairSemaphore(int n) : count_(n) {}
  void acquire() {
    std::unique_lock<std::mutex> l(m_);
    if (count_ > 0 && head_ == nullptr) {
      --count_;
      return;
    }
    Waiter me;
    if (tail_ != nullptr)
      tail_->next = &me;
    else
      head_ = &me;
    tail_ = &me;
    me.cv.wait(l, [&] { return me.granted; });
  }
  void release() {
    std::lock_guard<std::mutex> l(m_);
    Waiter* w = head_;
    if (w == nullptr) {
      ++count_;
      return;
    }
    head_ = w->next;
    if (head_ == nullptr) tail_ = nullptr;
    w->granted = true;
    // Under the lock: once it is released the waiter may return and its node be gone.
    w->cv.notify_one();
  }

 private:
  struct Waiter {
    std::condition_variable cv;
    Waiter* next = nullptr;
    bool granted = false;
  };
  std::mutex m_;
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  int count_;
};

template <class T, size_t N>
class VyukovReference {
  static_assert((N & (N - 1)) == 0, "power of two");
  struct Cell {
    std::atomic<size_t> seq;
    T data;
  };

 public:
  VyukovReference() {
    for (size_t i = 0; i < N; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }
  bool try_push(const T& v) {
    Cell* c;
    size_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      c = &cells_[pos & (N - 1)];
      const intptr_t dif = intptr_t(c->seq.load(std::memory_order_acquire)) - intptr_t(pos);
      if (dif == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (dif < 0) {
        return false;
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
    c->data = v;
    c->seq.store(pos + 1, std::memory_order_release);
    return true;
  }
  bool try_pop(T& v) {
    Cell* c;
    size_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      c = &cells_[pos & (N - 1)];
      const intptr_t dif = intptr_t(c->seq.load(std::memory_order_acquire)) - intptr_t(pos + 1);
      if (dif == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (dif < 0) {
        return false;
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
    v = c->data;
    c->seq.store(pos + N, std::memory_order_release);
    return true;
  }

 private:
  alignas(64) Cell cells_[N];
  alignas(64) std::atomic<size_t> head_{0};
  alignas(64) std::atomic<size_t> tail_{0};
};

// The limiter as a server uses it (posix port; on BasicPort, without a usage source, see
// uncontended_pair.hpp), and with a virtual clock for the gated and cooldown cases, where time
// must move by a known amount per operation.
using PosixLimiter = slotgate::Limiter<slotgate::posix::Port, 8, 64>;
// The operations each callgrind function in icount*.cpp does (icount prints it as
// ops_per_function; scripts/bench divides by it).
constexpr int kIcountOps = 10000;
using SimPort = slotgate::sim::Port<uint64_t, uint64_t>;
using SimLimiter = slotgate::Limiter<SimPort, 8, 64>;

}  // namespace bench
