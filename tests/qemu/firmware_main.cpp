// The test firmware: the core's scenarios on a virtual clock, then the limiter driven by real
// interrupts. Prints "N passed, N failed" over semihosting; the exit code says which.
#include <stdint.h>

#include "../scenarios/core_scenarios.hpp"
#include "checker.hpp"
#include "semihost.hpp"
#include "slotgate/limiter.hpp"
#include "slotgate/ports/cortex_m.hpp"
#include "slotgate/ring.hpp"

namespace {

using slotgate::Permit;
using slotgate::Status;
namespace cm = slotgate::cortex_m;

// ---- the interrupt test ----------------------------------------------------------------------
// Main acquires permits and hands them to the SysTick handler, which releases them (and now and
// then acquires and releases one of its own). An independent counter checks the limit.
constexpr uint32_t kLimit = 3;
constexpr uint32_t kRounds = 3000;
constexpr uint32_t kStartTick = 0xFFFFFFFFu - 1000u;  // the tick wraps during the run

using L = slotgate::Limiter<cm::Port, 8, 16>;
// What the port promises, checked where it is built: every call may run in an interrupt; the
// core is lock-free where the processor has exclusives (not on ARMv6-M).
static_assert(L::kInterruptSafe, "cortex-m: the limiter is interrupt-safe");
static_assert(L::kLockFree == cm::kHasExclusives, "cortex-m: lock-free exactly with LDREX/STREX");

cm::Port g_port;
L g_limiter(g_port);
slotgate::Ring<Permit, 8, cm::Atomics> g_handoff;
std::atomic<uint32_t> g_held{0};  // permits out, counted independently of the limiter
std::atomic<uint32_t> g_max_held{0};
std::atomic<uint32_t> g_bad{0};         // releases or acquires that went wrong
std::atomic<uint32_t> g_isr_grants{0};  // permits the interrupt handler took itself
std::atomic<bool> g_running{false};

// The blocking test: the handler releases a permit at a given tick, which must wake main from
// WFI inside acquire_until.
L g_block(g_port);
Permit g_block_permit;
std::atomic<uint32_t> g_block_release_at{0};
std::atomic<bool> g_block_armed{false};
std::atomic<uint32_t> g_block_released{0};

void note_held(uint32_t held) {
  // relaxed: main and the handler both update these; the handler cannot be preempted by main.
  if (held > g_max_held.load(std::memory_order_relaxed))
    g_max_held.store(held, std::memory_order_relaxed);
}

}  // namespace

extern "C" void SysTick_Handler() {
  cm::on_systick();
  const uint32_t now = cm::Port::now();
  if (g_block_armed.load(std::memory_order_acquire) &&
      slotgate::Ticks<uint32_t>::reached(g_block_release_at.load(std::memory_order_relaxed), now)) {
    g_block_armed.store(false, std::memory_order_relaxed);
    if (g_block.release(g_block_permit, now) == Status::kOk)
      g_block_released.store(now, std::memory_order_release);
  }
  if (!g_running.load(std::memory_order_acquire)) return;
  Permit p;
  if (g_handoff.try_pop(p)) {
    g_held.fetch_sub(1, std::memory_order_relaxed);
    if (g_limiter.release(p, now) != Status::kOk) g_bad.fetch_add(1, std::memory_order_relaxed);
  }
  if (now % 7 == 0 && g_limiter.try_acquire(now, p) == Status::kOk) {
    note_held(g_held.fetch_add(1, std::memory_order_relaxed) + 1);
    g_isr_grants.fetch_add(1, std::memory_order_relaxed);
    g_held.fetch_sub(1, std::memory_order_relaxed);
    if (g_limiter.release(p, now) != Status::kOk) g_bad.fetch_add(1, std::memory_order_relaxed);
  }
  g_limiter.poll(now);
}

namespace {

void interrupt_test(Checker& check) {
  L::config_type c;
  c.limit = kLimit;
  c.cooldown = 1;
  check(g_limiter.configure(c) == Status::kOk, "configure");
  cm::set_ticks(kStartTick);
  g_running.store(true, std::memory_order_release);
  // Fill the limit before the first tick, so that "the limit was reached" does not depend on
  // how many instructions QEMU runs between ticks (it follows the host's clock, and on a busy
  // host the handler can drain the hand-off faster than main fills it).
  uint32_t rounds = 0;
  for (uint32_t i = 0; i < kLimit; ++i, ++rounds) {
    Permit p;
    if (g_limiter.try_acquire(cm::Port::now(), p) != Status::kOk || !g_handoff.try_push(p)) {
      g_bad.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    note_held(g_held.fetch_add(1, std::memory_order_relaxed) + 1);
  }
  cm::start_systick(3999);  // every 4000 cycles
  while (rounds < kRounds) {
    Permit p;
    const Status s = g_limiter.try_acquire(cm::Port::now(), p);
    if (s == Status::kOk) {
      note_held(g_held.fetch_add(1, std::memory_order_relaxed) + 1);
      if (!g_handoff.try_push(p)) {  // the handler is behind: give it back ourselves
        g_held.fetch_sub(1, std::memory_order_relaxed);
        if (g_limiter.release(p, cm::Port::now()) != Status::kOk)
          g_bad.fetch_add(1, std::memory_order_relaxed);
      }
      ++rounds;
      continue;
    }
    if (s != Status::kNoSlot) g_bad.fetch_add(1, std::memory_order_relaxed);
    g_port.idle(g_limiter.poll(cm::Port::now()).next);
  }
  // Let the handler drain the hand-off, then stop it taking slots (the tick keeps running) and
  // let the last cooldowns end. Stopping it only after the cooldowns ended would let a grant it
  // made in between still be cooling at the check below.
  while (g_handoff.size_approx() != 0) g_port.idle(g_limiter.poll(cm::Port::now()).next);
  g_running.store(false, std::memory_order_release);
  while (g_limiter.snapshot().cooling != 0) g_port.idle(g_limiter.poll(cm::Port::now()).next);
  cm::stop_systick();
  const uint32_t end = cm::Port::now();
  const auto s = g_limiter.snapshot();
  check(g_bad.load() == 0, "every acquire and release from main and the handler succeeded");
  check(g_max_held.load() <= kLimit, "never more than the limit held");
  check(g_max_held.load() == kLimit, "the limit was reached");
  check(s.held == 0 && s.cooling == 0, "nothing left held or cooling");
  check(s.counters.granted == kRounds + g_isr_grants.load(), "every grant accounted for");
  check(g_isr_grants.load() > 0, "the handler acquired too");
  check(end < kStartTick, "the tick counter wrapped during the run");
  semihost::write("interrupt test: ");
  semihost::write_uint(kRounds);
  semihost::write(" rounds, ");
  semihost::write_uint(g_isr_grants.load());
  semihost::write(" grants in the handler, ticks ");
  semihost::write_uint(kStartTick);
  semihost::write(" -> ");
  semihost::write_uint(end);
  semihost::write("\n");
}

// acquire_until sleeps with WFI; a release from the SysTick handler grants the ticket and its
// notify() wakes main. Then a deadline passes with nobody releasing: kTimedOut.
void blocking_test(Checker& check) {
  L::config_type c;
  c.limit = 1;
  check(g_block.configure(c) == Status::kOk, "configure the blocking limiter");
  cm::start_systick(3999);
  check(g_block.try_acquire(cm::Port::now(), g_block_permit) == Status::kOk, "take the only slot");
  const uint32_t start = cm::Port::now();
  g_block_release_at.store(start + 20, std::memory_order_relaxed);
  g_block_armed.store(true, std::memory_order_release);
  Permit p;
  const Status s =
      slotgate::acquire_until(g_block, slotgate::Deadline<uint32_t>::at_tick(start + 1000), p);
  const uint32_t woke = cm::Port::now();
  check(s == Status::kOk, "acquire_until is granted by the handler's release");
  check(g_block_released.load(std::memory_order_acquire) != 0, "the handler released first");
  check(!slotgate::Ticks<uint32_t>::before(woke, start + 20), "not granted before the release");
  check(slotgate::Ticks<uint32_t>::before(woke, start + 1000), "woken well before the deadline");
  // Now nobody releases: the deadline ends the wait.
  Permit q;
  const uint32_t t0 = cm::Port::now();
  const Status timed =
      slotgate::acquire_until(g_block, slotgate::Deadline<uint32_t>::at_tick(t0 + 10), q);
  check(timed == Status::kTimedOut, "acquire_until times out when nothing is released");
  check(!slotgate::Ticks<uint32_t>::before(cm::Port::now(), t0 + 10), "not before its deadline");
  check(g_block.release(p, cm::Port::now()) == Status::kOk, "release the granted permit");
  check(g_block.snapshot().tickets_outstanding == 0, "no ticket left behind");
  cm::stop_systick();
}

// The port's sleep gives the caller back the interrupt mask it had: masked stays masked.
void primask_test(Checker& check) {
  using D = slotgate::Deadline<uint32_t>;
  __asm volatile("cpsid i" ::: "memory");
  g_port.idle(D::at_tick(cm::Port::now()));  // already due: checks and returns
  check(cm::Port::interrupts_masked(), "idle leaves interrupts masked for a masked caller");
  __asm volatile("cpsie i" ::: "memory");
  g_port.idle(D::at_tick(cm::Port::now()));
  check(!cm::Port::interrupts_masked(), "idle leaves interrupts enabled for an unmasked caller");
}

}  // namespace

int main() {
  Checker check;
  slotgate::scenarios::run_all<cm::Atomics>(check);
  interrupt_test(check);
  blocking_test(check);
  primask_test(check);
#ifdef SLOTGATE_FAIL_ON_PURPOSE
  check(false, "a check that fails on purpose (proves a failure fails the test)");
#endif
  return check.report() ? 0 : 1;
}
