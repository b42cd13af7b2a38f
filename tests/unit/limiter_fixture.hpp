// Shared fixture: every limiter test runs on two virtual clocks — a 32-bit one that starts just
// below its wraparound (so every duration in the test crosses it) and a 64-bit one.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <vector>

#include "slotgate/limiter.hpp"
#include "slotgate/ports/sim.hpp"

namespace slotgate {
inline void PrintTo(Status s, std::ostream* os) {
  *os << to_string(s);
}
}  // namespace slotgate

namespace slotgate::test {

struct Wrap32 {
  using Port = sim::Port<uint32_t, uint32_t>;
  static constexpr uint32_t kStart = 0xFFFFFFFFu - 500u;  // wraps 500 ticks into the test
};
struct Wide64 {
  using Port = sim::Port<uint64_t, uint64_t>;
  static constexpr uint64_t kStart = 1000;
};

template <class Clock>
class LimiterTest : public ::testing::Test {
 protected:
  using Port = typename Clock::Port;
  using Tick = typename Port::tick_type;
  static constexpr size_t kSlots = 4;
  static constexpr size_t kWaiters = 8;
  using L = Limiter<Port, kSlots, kWaiters>;
  using Out = typename L::outcome_type;
  using DL = typename L::deadline_type;

  Port port{Clock::kStart};
  L lim{port};

  Tick now() const { return port.now(); }
  void advance(Tick d) { port.advance(d); }
  Tick at(Tick offset) const { return Tick(port.now() + offset); }

  void configure(uint32_t limit, Tick cooldown = 0, Tick max_hold = 0, Tick pause = 0) {
    typename L::config_type c;
    c.limit = limit;
    c.cooldown = cooldown;
    c.max_hold = max_hold;
    c.default_pause = pause;
    ASSERT_EQ(lim.configure(c), Status::kOk);
  }
  Permit take() {
    Permit p;
    EXPECT_EQ(lim.try_acquire(now(), p), Status::kOk);
    EXPECT_TRUE(p.valid());
    return p;
  }
  Permit take_unchecked() {
    Permit p;
    lim.try_acquire(now(), p);
    return p;
  }
  Status try_take() {
    Permit p;
    const Status s = lim.try_acquire(now(), p);
    if (s == Status::kOk) held_.push_back(p);
    return s;
  }
  Ticket wait(DL deadline = DL::none()) {
    Ticket t;
    EXPECT_EQ(lim.enqueue(now(), t, deadline), Status::kOk);
    EXPECT_TRUE(t.valid());
    return t;
  }
  Permit claim_ok(Ticket t) {
    Permit p;
    EXPECT_EQ(lim.claim(t, p), Status::kOk);
    EXPECT_TRUE(p.valid());
    return p;
  }
  Status release(Permit p, Out o = Out::ok()) { return lim.release(p, now(), o); }
  typename L::snapshot_type snap() const { return lim.snapshot(); }
  typename L::poll_result poll() { return lim.poll(now()); }

  std::vector<Permit> held_;
};

using Clocks = ::testing::Types<Wrap32, Wide64>;

}  // namespace slotgate::test
