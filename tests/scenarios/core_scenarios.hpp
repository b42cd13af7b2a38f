// The core's rules as plain scenarios, runnable anywhere: the host's GoogleTest suite and the
// Cortex-M firmware under QEMU both run them. A scenario reports through `check(ok, what)`.
// Every scenario starts its 32-bit virtual clock 100 ticks below the wraparound, so the
// cooldowns, leases, deadlines and pauses in it cross the wrap.
#pragma once

#include <stdint.h>

#include "slotgate/limiter.hpp"
#include "slotgate/ports/sim.hpp"

namespace slotgate::scenarios {

template <class Atomics>
struct Env {
  using Port = sim::Port<uint32_t, uint32_t, Atomics>;
  using L = Limiter<Port, 8, 16>;
  Port port{0xFFFFFFFFu - 100u};
  L lim{port};
  uint32_t now() const { return port.now(); }
  void advance(uint32_t d) { port.advance(d); }
  void configure(uint32_t limit, uint32_t cooldown = 0, uint32_t max_hold = 0) {
    typename L::config_type c;
    c.limit = limit;
    c.cooldown = cooldown;
    c.max_hold = max_hold;
    c.default_pause = 50;
    c.gate.max_age = 1000;
    c.headroom.track_foreign = false;
    lim.configure(c);
  }
  Status take(Permit& p) { return lim.try_acquire(now(), p); }
};

#define SLOTGATE_CHECK(cond) check((cond), #cond)

template <class A, class Check>
void fast_grant_and_release(Check& check) {
  Env<A> e;
  e.configure(2);
  Permit a, b, c;
  SLOTGATE_CHECK(e.take(a) == Status::kOk);
  SLOTGATE_CHECK(e.take(b) == Status::kOk);
  SLOTGATE_CHECK(e.take(c) == Status::kNoSlot);
  SLOTGATE_CHECK(e.lim.release(a, e.now()) == Status::kOk);
  SLOTGATE_CHECK(e.lim.release(a, e.now()) == Status::kStalePermit);
  SLOTGATE_CHECK(e.lim.release(Permit{}, e.now()) == Status::kInvalidPermit);
  SLOTGATE_CHECK(e.lim.snapshot().held == 1);
  SLOTGATE_CHECK(e.take(c) == Status::kOk);
}

template <class A, class Check>
void fifo_and_no_barging(Check& check) {
  Env<A> e;
  e.configure(1, 10);
  Permit p, q;
  Ticket t[3];
  SLOTGATE_CHECK(e.take(p) == Status::kOk);
  for (auto& x : t) SLOTGATE_CHECK(e.lim.enqueue(e.now(), x) == Status::kOk);
  for (int i = 0; i < 3; ++i) {
    SLOTGATE_CHECK(e.lim.release(p, e.now()) == Status::kOk);
    e.advance(10);  // the cooldown ends, and the fast path must not take the slot
    SLOTGATE_CHECK(e.take(q) == Status::kWaitersAhead);
    e.lim.poll(e.now());
    for (int j = i + 1; j < 3; ++j) SLOTGATE_CHECK(e.lim.state(t[j]) == TicketState::kWaiting);
    SLOTGATE_CHECK(e.lim.claim(t[i], p) == Status::kOk);
  }
}

template <class A, class Check>
void cooldown_holds_the_slot(Check& check) {
  Env<A> e;
  e.configure(1, 200);
  Permit p;
  SLOTGATE_CHECK(e.take(p) == Status::kOk);
  SLOTGATE_CHECK(e.lim.release(p, e.now()) == Status::kOk);
  e.advance(199);
  SLOTGATE_CHECK(e.take(p) == Status::kNoSlot);
  e.advance(1);
  SLOTGATE_CHECK(e.take(p) == Status::kOk);
  SLOTGATE_CHECK(e.lim.set_cooldown(20) == Status::kOk);  // applies to the next release
  SLOTGATE_CHECK(e.lim.release(p, e.now()) == Status::kOk);
  e.advance(20);
  SLOTGATE_CHECK(e.take(p) == Status::kOk);
}

template <class A, class Check>
void lease_reclaim_grants_the_next_waiter(Check& check) {
  Env<A> e;
  e.configure(1, 0, 300);
  Permit stuck, p;
  Ticket t;
  SLOTGATE_CHECK(e.take(stuck) == Status::kOk);
  SLOTGATE_CHECK(e.lim.enqueue(e.now(), t) == Status::kOk);
  e.advance(300);  // held for exactly max_hold: not yet longer
  e.lim.poll(e.now());
  SLOTGATE_CHECK(e.lim.state(t) == TicketState::kWaiting);
  e.advance(1);
  e.lim.poll(e.now());
  SLOTGATE_CHECK(e.lim.claim(t, p) == Status::kOk);
  SLOTGATE_CHECK(e.lim.release(stuck, e.now()) == Status::kReclaimed);
  SLOTGATE_CHECK(e.lim.snapshot().held == 1);
}

template <class A, class Check>
void deadlines_cancel_and_close(Check& check) {
  Env<A> e;
  e.configure(1);
  Permit p, q;
  Ticket late, gone, shut;
  SLOTGATE_CHECK(e.take(p) == Status::kOk);
  SLOTGATE_CHECK(e.lim.enqueue(e.now(), late, Deadline<uint32_t>::at_tick(e.now() + 150)) ==
                 Status::kOk);
  SLOTGATE_CHECK(e.lim.enqueue(e.now(), gone) == Status::kOk);
  SLOTGATE_CHECK(e.lim.enqueue(e.now(), shut) == Status::kOk);
  SLOTGATE_CHECK(e.lim.poll(e.now()).next.at == e.now() + 150);
  e.advance(150);
  e.lim.poll(e.now());
  SLOTGATE_CHECK(e.lim.claim(late, q) == Status::kTimedOut);
  SLOTGATE_CHECK(e.lim.cancel(gone, e.now()) == Status::kOk);
  SLOTGATE_CHECK(e.lim.cancel(gone, e.now()) == Status::kStaleTicket);
  e.lim.close();
  SLOTGATE_CHECK(e.lim.claim(shut, q) == Status::kClosed);
  SLOTGATE_CHECK(e.take(q) == Status::kClosed);
  SLOTGATE_CHECK(e.lim.release(p, e.now()) == Status::kOk);
  SLOTGATE_CHECK(e.lim.snapshot().tickets_outstanding == 0);
}

template <class A, class Check>
void cancel_after_grant_returns_the_slot(Check& check) {
  Env<A> e;
  e.configure(1);
  Permit p, q;
  Ticket a, b;
  SLOTGATE_CHECK(e.take(p) == Status::kOk);
  SLOTGATE_CHECK(e.lim.enqueue(e.now(), a) == Status::kOk);
  SLOTGATE_CHECK(e.lim.enqueue(e.now(), b) == Status::kOk);
  SLOTGATE_CHECK(e.lim.release(p, e.now()) == Status::kOk);
  SLOTGATE_CHECK(e.lim.cancel(a, e.now()) == Status::kGrantReturned);
  SLOTGATE_CHECK(e.lim.claim(b, q) == Status::kOk);
}

template <class A, class Check>
void queue_full_is_explicit(Check& check) {
  Env<A> e;
  e.configure(1);
  Permit p;
  Ticket t[16], extra;
  SLOTGATE_CHECK(e.take(p) == Status::kOk);
  for (auto& x : t) SLOTGATE_CHECK(e.lim.enqueue(e.now(), x) == Status::kOk);
  SLOTGATE_CHECK(e.lim.enqueue(e.now(), extra) == Status::kQueueFull);
  SLOTGATE_CHECK(e.lim.cancel(t[5], e.now()) == Status::kOk);
  SLOTGATE_CHECK(e.lim.enqueue(e.now(), extra) == Status::kOk);
}

template <class A, class Check>
void rejection_pauses_and_steps_headroom(Check& check) {
  Env<A> e;
  e.configure(4);
  Permit p[3];
  for (auto& x : p) SLOTGATE_CHECK(e.take(x) == Status::kOk);
  for (auto& x : p) {
    const auto o = Env<A>::L::outcome_type::rejected();
    SLOTGATE_CHECK(e.lim.release(x, e.now(), o) == Status::kOk);
  }
  SLOTGATE_CHECK(e.lim.snapshot().headroom == 1);  // one pause, one step
  SLOTGATE_CHECK(e.take(p[0]) == Status::kPaused);
  e.advance(50);
  SLOTGATE_CHECK(e.take(p[0]) == Status::kOk);
}

template <class A, class Check>
void usage_gate_budget(Check& check) {
  Env<A> e;
  e.configure(4);
  e.advance(1);
  e.port.set_usage(1, e.now());  // L - 3
  e.lim.poll(e.now());
  Permit p;
  for (int i = 0; i < 3; ++i) SLOTGATE_CHECK(e.take(p) == Status::kOk);
  SLOTGATE_CHECK(e.take(p) == Status::kGated);
  e.advance(1001);  // the reading ages out: cooldown alone
  SLOTGATE_CHECK(e.take(p) == Status::kOk);
}

// Sixty days with nobody but a poller that sleeps until each next deadline (the heartbeat: the
// clock is 32-bit): the cooled slot, the pause and the old reading are over, as on a clock that
// never wraps (tests/unit/long_idle_test.cpp compares the two at length).
template <class A, class Check>
void long_idle_with_a_poller(Check& check) {
  Env<A> e;
  e.configure(2, 350);
  e.port.set_usage(0, e.now());
  e.lim.poll(e.now());
  Permit a, b;
  SLOTGATE_CHECK(e.take(a) == Status::kOk);
  SLOTGATE_CHECK(e.take(b) == Status::kOk);
  SLOTGATE_CHECK(e.lim.release(a, e.now()) == Status::kOk);
  SLOTGATE_CHECK(e.lim.release(b, e.now(), Env<A>::L::outcome_type::rejected()) == Status::kOk);
  uint32_t polls = 0;
  for (uint32_t day = 0; day < 60; ++day) {
    for (uint32_t left = 86400000u; left != 0;) {
      const auto r = e.lim.poll(e.now());
      ++polls;
      uint32_t step = left;
      if (r.next.set && Ticks<uint32_t>::before(e.now(), r.next.at) && r.next.at - e.now() < step)
        step = r.next.at - e.now();
      e.advance(step);
      left -= step;
    }
  }
  e.lim.poll(e.now());
  const auto s = e.lim.snapshot();
  SLOTGATE_CHECK(s.cooling == 0 && !s.paused && s.gate_open);
  SLOTGATE_CHECK(polls < 200);               // days apart, not ticks
  SLOTGATE_CHECK(e.take(a) == Status::kOk);  // the half-open probe
}

template <class A, class Check>
void run_all(Check& check) {
  fast_grant_and_release<A>(check);
  fifo_and_no_barging<A>(check);
  cooldown_holds_the_slot<A>(check);
  lease_reclaim_grants_the_next_waiter<A>(check);
  deadlines_cancel_and_close<A>(check);
  cancel_after_grant_returns_the_slot<A>(check);
  queue_full_is_explicit<A>(check);
  rejection_pauses_and_steps_headroom<A>(check);
  usage_gate_budget<A>(check);
  long_idle_with_a_poller<A>(check);
}

#undef SLOTGATE_CHECK

}  // namespace slotgate::scenarios
