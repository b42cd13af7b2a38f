// The posix port: blocking acquire with timeout, hand-off between threads, close, RAII guard,
// and a wake-up per grant: with many threads parked, a release wakes the one it is for.
#include "slotgate/ports/posix.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "slotgate/limiter.hpp"

namespace slotgate::posix {
namespace {

using namespace std::chrono_literals;
using L = Limiter<Port, 4, 8>;
// The posix port's notify takes no lock (atomics and a futex call) and is not for signal
// handlers: the limiter is lock-free here, not interrupt-safe.
static_assert(L::kLockFree && !L::kInterruptSafe, "posix: lock-free, not for signal handlers");
static_assert(PortTraits<Port>::targeted_wakeups && PortTraits<Port>::blocking,
              "posix: a wake-up per waiter and the wait contract");

// A limiter of one slot on a port of type P.
template <class P>
struct OneSlot : ::testing::Test {
  using Lim = Limiter<P, 4, 8>;
  P port;
  Lim lim{port};
  void SetUp() override {
    typename Lim::config_type c;
    c.limit = 1;
    ASSERT_EQ(lim.configure(c), Status::kOk);
  }
};
// The tests below on both posix ports: with a usage source (the gate compiled in, no source
// attached) and without one (BasicPort: the gate compiled out).
template <class P>
using PosixLimiter = OneSlot<P>;
using PosixPorts = ::testing::Types<Port, BasicPort>;
TYPED_TEST_SUITE(PosixLimiter, PosixPorts);
static_assert(HasUsageSource<Port>::value && !HasUsageSource<BasicPort>::value,
              "posix: Port takes a usage source, BasicPort has none");
static_assert(
    sizeof(Limiter<BasicPort, 4, 8>) < sizeof(Limiter<Port, 4, 8>),
    "a limiter on BasicPort compiles out the gate, the learned lags and foreign headroom");

TYPED_TEST(PosixLimiter, AcquireTakesAFreeSlotWithoutWaiting) {
  Permit p;
  ASSERT_EQ(acquire_for(this->lim, 10s, p), Status::kOk);
  EXPECT_TRUE(p.valid());
  EXPECT_EQ(this->lim.release(p, Port::now()), Status::kOk);
}

TYPED_TEST(PosixLimiter, AcquireTimesOutWhenNothingIsReleased) {
  Permit held;
  ASSERT_EQ(acquire_for(this->lim, 1s, held), Status::kOk);
  Permit p;
  EXPECT_EQ(acquire_for(this->lim, 20ms, p), Status::kTimedOut);
  EXPECT_FALSE(p.valid());
  const auto s = this->lim.snapshot();
  EXPECT_EQ(s.counters.timed_out, 1u);
  EXPECT_EQ(s.tickets_outstanding, 0u);
  EXPECT_EQ(s.queued, 0u);
}

TYPED_TEST(PosixLimiter, ReleaseHandsTheSlotToABlockedThread) {
  Permit held;
  ASSERT_EQ(acquire_for(this->lim, 1s, held), Status::kOk);
  std::atomic<bool> got{false};
  Status waited = Status::kPending;
  std::thread waiter([&] {
    Permit p;
    waited = acquire(this->lim, p);  // no timeout: only the release below can end this
    got = true;
    this->lim.release(p, Port::now());
  });
  // Release only once the waiter is queued, so the hand-off (not the fast path) is tested.
  while (this->lim.snapshot().queued == 0) std::this_thread::yield();
  EXPECT_FALSE(got.load());
  ASSERT_EQ(this->lim.release(held, Port::now()), Status::kOk);
  waiter.join();
  EXPECT_EQ(waited, Status::kOk);
  EXPECT_EQ(this->lim.snapshot().counters.from_queue, 1u);
}

// "You are queued": on_queued runs once, in the caller's thread, before it waits; a grant at
// once, a refusal at once, and a wait that times out are told accordingly.
TYPED_TEST(PosixLimiter, OnQueuedRunsOnceWhenTheCallerWaits) {
  Permit held;
  int at_once = 0;
  ASSERT_EQ(acquire_for(this->lim, 1s, held, [&] { ++at_once; }), Status::kOk);
  EXPECT_EQ(at_once, 0) << "granted at once: never queued";
  std::atomic<int> told{0};
  std::atomic<bool> waiting{false};
  std::thread::id told_in;
  Status waited = Status::kPending;
  std::thread waiter([&] {
    PermitGuard<typename TestFixture::Lim> g;
    waited = acquire_for(this->lim, 30s, g, [&] {
      ++told;
      told_in = std::this_thread::get_id();
      EXPECT_EQ(this->lim.snapshot().queued, 1u) << "told once its ticket is queued";
      waiting = true;
    });
    EXPECT_EQ(std::this_thread::get_id(), told_in);
  });
  // Release only once the callback says the waiter is queued (releasing between its enqueue
  // and its first look would grant the ticket as it was taken, which is never "queued").
  // Bounded: were the callback never called, the release still comes and told stays 0.
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  while (!waiting && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  EXPECT_TRUE(waiting.load());
  EXPECT_EQ(this->lim.release(held, Port::now()), Status::kOk);
  waiter.join();
  EXPECT_EQ(waited, Status::kOk);
  EXPECT_EQ(told, 1);

  ASSERT_EQ(acquire_for(this->lim, 1s, held), Status::kOk);
  int timed_out = 0;
  Permit p;
  EXPECT_EQ(acquire_for(this->lim, 20ms, p, [&] { ++timed_out; }), Status::kTimedOut);
  EXPECT_EQ(timed_out, 1) << "it was queued, then timed out";
  this->lim.close();
  int closed = 0;
  EXPECT_EQ(acquire_for(this->lim, 1s, p, [&] { ++closed; }), Status::kClosed);
  EXPECT_EQ(closed, 0) << "refused at once: never queued";
}

// Blocked threads in two lanes: the higher lane's is granted first, though it queued last.
TEST(PosixLanes, BlockedThreadsAreGrantedHighestLaneFirst) {
  Port port;
  Limiter<Port, 1, 8, 2> lanes(port);
  Permit held;
  ASSERT_EQ(acquire_for(lanes, 1s, held), Status::kOk);
  std::atomic<int> order{0};
  int low_turn = 0, high_turn = 0;
  std::atomic<bool> queued[2] = {false, false};
  auto waiter = [&](uint32_t lane, int& turn) {
    return std::thread([&, lane] {
      PermitGuard<Limiter<Port, 1, 8, 2>> g;
      EXPECT_EQ(acquire_for(lanes, 30s, g, Lane(lane), [&] { queued[lane] = true; }), Status::kOk);
      turn = ++order;
    });
  };
  // Bounded waits on the callbacks: were one never called, the test fails instead of hanging.
  const auto wait_for = [](std::atomic<bool>& flag) {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (!flag && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
    return flag.load();
  };
  std::thread low = waiter(0, low_turn);
  ASSERT_TRUE(wait_for(queued[0]));
  std::thread high = waiter(1, high_turn);
  ASSERT_TRUE(wait_for(queued[1]));
  EXPECT_EQ(lanes.release(held, Port::now()), Status::kOk);
  low.join();
  high.join();
  EXPECT_EQ(high_turn, 1);
  EXPECT_EQ(low_turn, 2);
  Permit p;
  EXPECT_EQ(acquire_for(lanes, 1s, p, Lane(2)), Status::kInvalidArgument);
}

TYPED_TEST(PosixLimiter, CloseWakesABlockedThread) {
  Permit held;
  ASSERT_EQ(acquire_for(this->lim, 1s, held), Status::kOk);
  Status waited = Status::kPending;
  std::thread waiter([&] {
    Permit p;
    waited = acquire(this->lim, p);
  });
  while (this->lim.snapshot().queued == 0) std::this_thread::yield();
  this->lim.close();
  waiter.join();
  EXPECT_EQ(waited, Status::kClosed);
  EXPECT_EQ(this->lim.snapshot().tickets_outstanding, 0u);
}

TYPED_TEST(PosixLimiter, CooldownEndIsWaitedForWithoutAnyOtherEvent) {
  typename TestFixture::Lim::config_type c;
  c.limit = 1;
  c.cooldown = Port::from_ms(30);
  ASSERT_EQ(this->lim.configure(c), Status::kOk);
  Permit p;
  ASSERT_EQ(acquire_for(this->lim, 1s, p), Status::kOk);
  const auto released_at = Port::now();
  ASSERT_EQ(this->lim.release(p, released_at), Status::kOk);
  // Nobody else acts: the waiter must wake at the cooldown's end by itself.
  ASSERT_EQ(acquire_for(this->lim, 5s, p), Status::kOk);
  EXPECT_GE(Port::now() - released_at, Port::from_ms(30));
  EXPECT_EQ(this->lim.release(p, Port::now()), Status::kOk);
}

TYPED_TEST(PosixLimiter, GuardReleasesOnScopeExit) {
  {
    PermitGuard<typename TestFixture::Lim> g;
    ASSERT_EQ(acquire_for(this->lim, 1s, g), Status::kOk);
    EXPECT_TRUE(g.holds());
    EXPECT_EQ(this->lim.snapshot().held, 1u);
  }
  EXPECT_EQ(this->lim.snapshot().held, 0u);
  EXPECT_EQ(this->lim.snapshot().counters.released, 1u);
}

TYPED_TEST(PosixLimiter, GuardReleasesOnceWithAnOutcome) {
  PermitGuard<typename TestFixture::Lim> g;
  ASSERT_EQ(acquire_for(this->lim, 1s, g), Status::kOk);
  PermitGuard<typename TestFixture::Lim> moved = std::move(g);
  EXPECT_FALSE(g.holds());
  EXPECT_EQ(moved.release(TestFixture::Lim::outcome_type::rejected_retry_after(Port::from_ms(1))),
            Status::kOk);
  EXPECT_EQ(moved.release(), Status::kInvalidPermit);
  EXPECT_EQ(this->lim.snapshot().counters.rejected_by_upstream, 1u);
  EXPECT_EQ(this->lim.snapshot().counters.released, 1u);
}

// 64 threads park on one slot. One release must wake one thread, the head of the queue: the
// port makes one futex wake call, the core counts one waiter wake-up and asks nobody to poll,
// and the 63 others stay parked. (A port that wakes every sleeper per grant makes 64.)
TEST(PosixWakeUps, SixtyFourParkedThreadsOneReleaseOneWakeUp) {
  constexpr int kThreads = 64;
  using Big = Limiter<Port, 4, 128>;
  Port port;
  Big lim{port};
  Big::config_type c;
  c.limit = 1;
  ASSERT_EQ(lim.configure(c), Status::kOk);
  Permit held;
  ASSERT_EQ(lim.try_acquire(Port::now(), held), Status::kOk);

  std::atomic<int> granted{0}, closed{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> pool;
  for (int i = 0; i < kThreads; ++i)
    pool.emplace_back([&] {
      Permit p;
      const Status s = acquire(lim, p);  // no timeout: only a grant or the close ends it
      if (s == Status::kOk) {
        granted.fetch_add(1);
        while (!done.load()) std::this_thread::yield();
        lim.release(p, Port::now());
      } else if (s == Status::kClosed) {
        closed.fetch_add(1);
      }
    });
  // Every thread counted inside the port's wait (what the port can see of "asleep").
  while (port.sleeping() != kThreads) std::this_thread::yield();
  const auto before = lim.snapshot().counters;
  const uint64_t calls = port.wake_calls(), woken = port.woken();

  ASSERT_EQ(lim.release(held, Port::now()), Status::kOk);
  while (granted.load() == 0) std::this_thread::yield();

  const auto after = lim.snapshot().counters;
  EXPECT_EQ(after.wakeups - before.wakeups, 1u);
  EXPECT_EQ(after.poll_wakeups - before.poll_wakeups, 0u);
  EXPECT_EQ(port.wake_calls() - calls, 1u);
  EXPECT_LE(port.woken() - woken, 1u);  // 0 if the head had not reached the kernel yet
  EXPECT_EQ(port.sleeping(), uint32_t(kThreads - 1));
  EXPECT_EQ(granted.load(), 1);

  lim.close();  // wakes the 63 others, each for its own ticket
  done = true;
  for (auto& t : pool) t.join();
  EXPECT_EQ(closed.load(), kThreads - 1);
  EXPECT_EQ(lim.snapshot().counters.wakeups - after.wakeups, uint64_t(kThreads - 1));
  EXPECT_EQ(lim.snapshot().tickets_outstanding, 0u);
  EXPECT_EQ(port.sleeping(), 0u);
}

// The poller (the newest waiter) leaves by timing out while older waiters sleep with no
// deadline of their own: the role must pass on, or the cooldown's end below is never polled.
TEST(PosixWakeUps, ThePollerRoleOutlivesItsHolder) {
  Port port;
  L lim{port};
  L::config_type c;
  c.limit = 1;
  c.cooldown = Port::from_ms(20);
  ASSERT_EQ(lim.configure(c), Status::kOk);
  Permit held;
  ASSERT_EQ(lim.try_acquire(Port::now(), held), Status::kOk);
  Status first = Status::kPending;
  std::thread older([&] {
    Permit p;
    first = acquire_for(lim, 10s, p);  // a lost role shows as this timing out
    if (first == Status::kOk) lim.release(p, Port::now());
  });
  while (port.sleeping() != 1) std::this_thread::yield();
  Permit q;
  EXPECT_EQ(acquire_for(lim, 30ms, q), Status::kTimedOut);  // the newest, then the poller
  // Released now, the slot cools for 20 ms; only a poll after that grants the older waiter,
  // and nobody but it is left to poll.
  ASSERT_EQ(lim.release(held, Port::now()), Status::kOk);
  older.join();
  EXPECT_EQ(first, Status::kOk);
}

// The posix port with a hook in the spin's relax(), so a test can act at a known turn of a
// blocking acquire's spin, in its own thread: no timing decides what the spin sees.
struct SpinHookPort : Port {
  static inline std::function<void(int)> on_relax;
  static inline int turns = 0;
  static void relax() noexcept {
    ++turns;
    if (on_relax) on_relax(turns);
  }
};

struct SpinBeforeQueuing : OneSlot<SpinHookPort> {
  void SetUp() override {
    OneSlot::SetUp();
    SpinHookPort::turns = 0;
  }
  void TearDown() override { SpinHookPort::on_relax = nullptr; }
};

TEST_F(SpinBeforeQueuing, ASlotFreedWhileTheAcquirerSpinsIsTakenWithoutQueuing) {
  Permit held;
  ASSERT_EQ(lim.try_acquire(Port::now(), held), Status::kOk);
  SpinHookPort::on_relax = [&](int turn) {
    if (turn == 3) {
      EXPECT_EQ(lim.release(held, Port::now()), Status::kOk);
    }
  };
  Permit p;
  int queued = 0;
  ASSERT_EQ(acquire_for(lim, 1s, p, [&] { ++queued; }), Status::kOk);
  EXPECT_EQ(queued, 0);
  const auto k = lim.snapshot().counters;
  EXPECT_EQ(k.from_queue, 0u);  // the fast path granted it: no ticket was taken
  EXPECT_EQ(k.no_slot, 1u);     // the first refusal, once: the looks between count nothing
  EXPECT_EQ(lim.release(p, Port::now()), Status::kOk);
}

TEST_F(SpinBeforeQueuing, AWaiterQueuedMeanwhileIsNotPassedOver) {
  Permit held;
  ASSERT_EQ(lim.try_acquire(Port::now(), held), Status::kOk);
  Ticket first;
  SpinHookPort::on_relax = [&](int turn) {
    if (turn == 1) {
      EXPECT_EQ(lim.enqueue(Port::now(), first), Status::kOk);
    } else if (turn == 2) {
      EXPECT_EQ(lim.release(held, Port::now()), Status::kOk);
    }
  };
  Permit p;
  EXPECT_EQ(acquire_for(lim, 30ms, p), Status::kTimedOut);  // behind `first`, which holds it
  Permit granted;
  EXPECT_EQ(lim.claim(first, granted), Status::kOk);
  EXPECT_EQ(lim.release(granted, Port::now()), Status::kOk);
}

TEST_F(SpinBeforeQueuing, NobodyToSpinForWhenAWaiterIsQueued) {
  Permit held;
  ASSERT_EQ(lim.try_acquire(Port::now(), held), Status::kOk);
  Ticket first;
  ASSERT_EQ(lim.enqueue(Port::now(), first), Status::kOk);
  int queued = 0;
  SpinHookPort::on_relax = [&](int turn) {
    // Already queued behind `first` by the first spin's turn: no spin came before the ticket.
    EXPECT_EQ(queued, 1) << "turn " << turn;
    SpinHookPort::on_relax = nullptr;
  };
  Permit p;
  EXPECT_EQ(acquire_for(lim, 20ms, p, [&] { ++queued; }), Status::kTimedOut);
  EXPECT_EQ(lim.snapshot().counters.waiters_ahead, 1u);
  EXPECT_EQ(lim.cancel(first, Port::now()), Status::kOk);
  EXPECT_EQ(lim.release(held, Port::now()), Status::kOk);
}

}  // namespace
}  // namespace slotgate::posix
