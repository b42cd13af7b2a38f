// The FreeRTOS test firmware: real tasks of different priorities and a real interrupt (the tick
// hook) on slotgate's FreeRTOS port, under QEMU. A controller task at the highest priority runs
// the checks one after another and prints "N passed, N failed" over semihosting.
//
//   order     four tasks of priorities 2, 4, 1, 3 queue in that order behind a held slot and
//             are granted in that order (the queue decides, not the scheduler); each grant
//             notifies its task alone
//   lanes     the same four tasks queue in two lanes (odd ones in the higher) and are granted
//             the higher lane first, each lane in the order queued
//   timeout   a task that times out while queued leaves no slot and no ticket behind
//   gate      a task waits while the usage source (fed by its own task) reports the upstream
//             at its cap, and is granted by the limiter's own re-poll once it reports room
//   stress    four tasks acquire with timeouts while the interrupt releases permits (marking
//             every fifth a 429) and queues for slots of its own; an independent count checks the
//             limit on every grant; the tick count wraps during the run
#include <stdint.h>

#include <atomic>

#include "FreeRTOS.h"
#include "checker.hpp"
#include "freertos_support.hpp"
#include "semihost.hpp"
#include "slotgate/ports/freertos.hpp"
#include "slotgate/ports/freertos_usage.hpp"
#include "slotgate/ring.hpp"
#include "task.h"

namespace {

namespace rt = slotgate::freertos;
using slotgate::Permit;
using slotgate::Status;

constexpr uint32_t kWorkers = 4;
constexpr UBaseType_t kControllerPriority = 6;
constexpr UBaseType_t kFeederPriority = 5;
// The order the order check queues the workers in: neither ascending nor descending priority,
// so neither scheduling order can pass for the queue's.
constexpr UBaseType_t kWorkerPriority[kWorkers] = {2, 4, 1, 3};
constexpr uint32_t kStressLimit = 2;
constexpr uint32_t kStressMinRounds = 150;  // per worker
constexpr TickType_t kStressMaxTicks = 20000;

using L = rt::Limiter<4, 8>;
using UL = rt::UsageLimiter<4, 8>;
// What the port promises, checked where it is built.
static_assert(L::kInterruptSafe, "freertos: the limiter's calls may run in an interrupt");
static_assert(!L::kLockFree, "freertos: notifications mask interrupts, so not lock-free");
static_assert(slotgate::PortTraits<rt::Port<8>>::targeted_wakeups, "a wake-up per waiter");

rt::Port<8> g_order_port;
L g_order(g_order_port);  // limit 1: order, wake-ups, timeouts
rt::Port<8> g_lanes_port;
rt::Limiter<4, 8, 2> g_lanes(g_lanes_port);  // limit 1, two lanes
rt::Port<8> g_stress_port;
L g_stress(g_stress_port);  // limit kStressLimit, with the interrupt
rt::UsagePort<8> g_gate_port;
UL g_gate(g_gate_port);  // limit 2 behind the usage gate

// Permits out, counted apart from the limiter: incremented on every grant (checked against the
// limit there), decremented before every release.
struct Census {
  std::atomic<uint32_t> held{0};
  std::atomic<uint32_t> max{0};
  std::atomic<uint32_t> over{0};
  void grant(uint32_t limit) {
    const uint32_t h = held.fetch_add(1) + 1;
    if (h > limit) over.fetch_add(1);
    uint32_t m = max.load();
    while (h > m && !max.compare_exchange_weak(m, h)) {
    }
  }
  void release() { held.fetch_sub(1); }
};
Census g_order_census, g_stress_census, g_gate_census;

enum Command : uint32_t { kOrder = 1, kLanes, kTimeout, kGate, kStress };

TaskHandle_t g_controller = nullptr;
TaskHandle_t g_workers[kWorkers] = {};
std::atomic<uint32_t> g_bad{0};  // a status no check expected

// order
std::atomic<uint32_t> g_order_log[kWorkers];
std::atomic<uint32_t> g_order_len{0};
// lanes
std::atomic<uint32_t> g_lanes_log[kWorkers];
std::atomic<uint32_t> g_lanes_len{0};
// timeout
std::atomic<Status> g_timeout_status{Status::kOk};
std::atomic<uint32_t> g_timeout_told{0};  // "you are queued" calls, and in which task
std::atomic<TaskHandle_t> g_timeout_told_in{nullptr};
// gate
std::atomic<uint32_t> g_upstream{0};  // what the upstream reports in flight
std::atomic<Status> g_gate_status{Status::kOk};
std::atomic<uint32_t> g_gate_upstream_at_grant{99};
// stress
std::atomic<bool> g_stop{false};
std::atomic<bool> g_isr_on{false};
std::atomic<bool> g_isr_takes{false};
std::atomic<uint32_t> g_rounds[kWorkers];
std::atomic<uint32_t> g_grants{0}, g_timeouts{0};
std::atomic<uint32_t> g_isr_releases{0}, g_isr_rejections{0}, g_isr_grants{0}, g_isr_bad{0};
slotgate::Ring<Permit, 8, rt::Atomics>
    g_to_isr;                       // permits the workers hand to the interrupt to release
std::atomic<uint32_t> g_handed{0};  // ... counted
// The interrupt's own ticket and permit: touched only by the interrupt.
slotgate::Ticket g_isr_ticket;
Permit g_isr_permit;
std::atomic<bool> g_isr_busy{false};  // it holds a ticket or a permit
std::atomic<uint32_t> g_isr_timeouts{0};

void order_run(uint32_t w) {
  Permit p;
  const Status s = rt::acquire(g_order, p);
  if (s != Status::kOk) {
    g_bad.fetch_add(1);
    return;
  }
  g_order_census.grant(1);
  g_order_log[g_order_len.fetch_add(1) % kWorkers].store(w);
  vTaskDelay(2);
  g_order_census.release();
  if (g_order.release(p, rt::Port<8>::now()) != Status::kOk) g_bad.fetch_add(1);
}

void lanes_run(uint32_t w) {
  rt::PermitGuard<rt::Limiter<4, 8, 2>> guard;
  if (rt::acquire(g_lanes, guard, slotgate::Lane(w % 2)) != Status::kOk) {
    g_bad.fetch_add(1);
    return;
  }
  g_order_census.grant(1);
  g_lanes_log[g_lanes_len.fetch_add(1) % kWorkers].store(w);
  vTaskDelay(2);
  g_order_census.release();
}  // the guard releases

void timeout_run() {
  Permit p;
  const Status s = rt::acquire_for(g_order, 5, p, [] {
    g_timeout_told.fetch_add(1);
    g_timeout_told_in.store(xTaskGetCurrentTaskHandle());
  });
  g_timeout_status.store(s);
  if (s == Status::kOk) (void)g_order.release(p, rt::Port<8>::now());
}

void gate_run() {
  rt::PermitGuard<UL> guard;
  const Status s = rt::acquire_for(g_gate, 2000, guard);
  g_gate_status.store(s);
  if (s != Status::kOk) return;
  g_gate_census.grant(2);
  g_gate_upstream_at_grant.store(g_upstream.load());
  g_gate_census.release();
}  // the guard releases

void stress_run(uint32_t w) {
  for (uint32_t round = 0; !g_stop.load(); ++round) {
    const TickType_t timeout = 1 + (round * 7 + w * 3) % 12;
    Permit p;
    const Status s = rt::acquire_for(g_stress, timeout, p);
    if (s == Status::kTimedOut) {
      g_timeouts.fetch_add(1);
    } else if (s != Status::kOk) {
      g_bad.fetch_add(1);
    } else {
      g_stress_census.grant(kStressLimit);
      g_grants.fetch_add(1);
      if (round % 3 == 1 && g_to_isr.try_push(p)) {
        g_handed.fetch_add(1);  // the interrupt releases it on its next tick
      } else {
        if (round % 3 == 0) vTaskDelay(round % 2);
        g_stress_census.release();
        if (g_stress.release(p, rt::Port<8>::now()) != Status::kOk) g_bad.fetch_add(1);
      }
    }
    g_rounds[w].fetch_add(1);
  }
}

void worker(void* arg) {
  const uint32_t w = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(arg));
  for (;;) {
    uint32_t command = 0;
    (void)xTaskNotifyWaitIndexed(0, 0, ~0u, &command, portMAX_DELAY);
    switch (command) {
      case kOrder:
        order_run(w);
        break;
      case kLanes:
        lanes_run(w);
        break;
      case kTimeout:
        timeout_run();
        break;
      case kGate:
        gate_run();
        break;
      case kStress:
        stress_run(w);
        break;
      default:
        g_bad.fetch_add(1);
    }
    (void)xTaskNotifyGiveIndexed(g_controller, 0);
  }
}

// The usage source's feeder: asked by the limiter, it "asks the upstream" (g_upstream) and
// publishes the answer, dated when it asked.
void feeder(void*) {
  for (;;) {
    if (!g_gate_port.wait_for_request(portMAX_DELAY)) continue;
    const TickType_t asked = rt::Port<8>::now();
    g_gate_port.publish(g_upstream.load(), asked);
  }
}

// ---- the controller's helpers ------------------------------------------------------------------

void command(uint32_t w, Command c) {
  (void)xTaskNotifyIndexed(g_workers[w], 0, c, eSetValueWithOverwrite);
}

// Waits for `n` workers to report done, each within `ticks`.
bool await_done(uint32_t n, TickType_t ticks) {
  for (uint32_t i = 0; i < n; ++i)
    if (ulTaskNotifyTakeIndexed(0, pdFALSE, ticks) == 0) return false;
  return true;
}

// Looks at `pred` once a tick, for at most `ticks`: the state the next step needs, not a time.
template <class Pred>
bool wait_until(Pred pred, TickType_t ticks) {
  for (TickType_t t = 0; t < ticks; ++t) {
    if (pred()) return true;
    vTaskDelay(1);
  }
  return pred();
}

TickType_t now() {
  return rt::Port<8>::now();
}

// ---- the checks --------------------------------------------------------------------------------

void order_check(Checker& check) {
  L::config_type c;
  c.limit = 1;
  check(g_order.configure(c) == Status::kOk, "order: configure");
  Permit held;
  check(g_order.try_acquire(now(), held) == Status::kOk, "order: the controller takes the slot");
  g_order_census.grant(1);
  for (uint32_t w = 0; w < kWorkers; ++w) {
    command(w, kOrder);
    const bool queued = wait_until([&] { return g_order_port.blocked() == w + 1; }, 100);
    check(queued, "order: each task queues and blocks in turn");
  }
  check(g_order.snapshot().queued == kWorkers, "order: four tickets queued");
  const uint32_t before = g_order_port.notifications();
  g_order_census.release();
  check(g_order.release(held, now()) == Status::kOk, "order: release the controller's slot");
  check(g_order_port.notifications() == before + 1, "order: one release notifies one task");
  check(await_done(kWorkers, 500), "order: every task is granted and done");
  bool fifo = g_order_len.load() == kWorkers;
  for (uint32_t i = 0; i < kWorkers && fifo; ++i) fifo = g_order_log[i].load() == i;
  check(fifo, "order: granted in the order queued, whatever the priorities");
#ifdef SLOTGATE_FAIL_ON_PURPOSE
  // What a scheduler would do: highest priority first. Must fail: the queue decides.
  bool by_priority = true;
  for (uint32_t i = 1; i < kWorkers; ++i)
    by_priority = by_priority && kWorkerPriority[g_order_log[i - 1].load()] >
                                     kWorkerPriority[g_order_log[i].load()];
  check(by_priority, "order (fails on purpose): granted by priority");
#endif
  check(g_order_port.notifications() == before + kWorkers, "order: one notification per grant");
  check(g_order_port.woken() == kWorkers, "order: each task woke once, by its grant");
  check(g_order_census.over.load() == 0, "order: never more than the limit held");
  check(g_order_port.waiting() == 0, "order: the waiter table is empty");
}

void lanes_check(Checker& check) {
  rt::Limiter<4, 8, 2>::config_type c;
  c.limit = 1;
  check(g_lanes.configure(c) == Status::kOk, "lanes: configure");
  Permit held;
  check(g_lanes.try_acquire(now(), held) == Status::kOk, "lanes: the controller takes the slot");
  g_order_census.grant(1);
  for (uint32_t w = 0; w < kWorkers; ++w) {
    command(w, kLanes);
    const bool queued = wait_until([&] { return g_lanes_port.blocked() == w + 1; }, 100);
    check(queued, "lanes: each task queues and blocks in turn");
  }
  g_order_census.release();
  check(g_lanes.release(held, now()) == Status::kOk, "lanes: release the controller's slot");
  check(await_done(kWorkers, 500), "lanes: every task is granted and done");
  // Workers 1 and 3 queued in lane 1, 0 and 2 in lane 0: 1, 3, then 0, 2.
  const uint32_t want[kWorkers] = {1, 3, 0, 2};
  bool ordered = g_lanes_len.load() == kWorkers;
  for (uint32_t i = 0; i < kWorkers && ordered; ++i) ordered = g_lanes_log[i].load() == want[i];
  check(ordered, "lanes: the higher lane first, each lane in the order queued");
  check(g_lanes_port.woken() == kWorkers, "lanes: each task woke once, by its grant");
  check(g_order_census.over.load() == 0, "lanes: never more than the limit held");
  check(g_lanes.snapshot().tickets_outstanding == 0, "lanes: no ticket left behind");
}

void timeout_check(Checker& check) {
  Permit held;
  check(g_order.try_acquire(now(), held) == Status::kOk, "timeout: the controller takes the slot");
  command(1, kTimeout);
  check(await_done(1, 200), "timeout: the task comes back");
  check(g_timeout_status.load() == Status::kTimedOut, "timeout: it timed out in the queue");
  check(g_timeout_told.load() == 1 && g_timeout_told_in.load() == g_workers[1],
        "timeout: told once, in its own task, that it was queued");
  const auto snap = g_order.snapshot();
  check(snap.held == 1 && snap.queued == 0 && snap.tickets_outstanding == 0,
        "timeout: no slot and no ticket left behind");
  check(g_order_port.waiting() == 0, "timeout: the waiter table is empty");
  check(g_order.release(held, now()) == Status::kOk, "timeout: release the controller's slot");
  Permit again, third;
  check(g_order.try_acquire(now(), again) == Status::kOk, "timeout: the one slot is free again");
  check(g_order.try_acquire(now(), third) == Status::kNoSlot, "timeout: and there is only one");
  check(g_order.release(again, now()) == Status::kOk, "timeout: release it");
}

void gate_check(Checker& check) {
  UL::config_type c;
  c.limit = 2;
  c.gate.max_age = 10000;
  c.gate.repoll_interval = 20;
  c.headroom.track_foreign = false;
  check(g_gate.configure(c) == Status::kOk, "gate: configure");
  g_upstream.store(2);  // another client holds both sessions the key allows
  const uint32_t v0 = g_gate_port.usage_version();
  g_gate_port.request_usage_refresh();
  check(wait_until([&] { return g_gate_port.usage_version() != v0; }, 100),
        "gate: the feeder task publishes a reading when asked");
  Permit p;
  check(g_gate.try_acquire(now(), p) == Status::kGated, "gate: a reading at the cap refuses");
  command(0, kGate);
  check(wait_until([] { return g_gate_port.blocked() == 1; }, 100), "gate: the task waits");
  g_upstream.store(0);  // the other client is done; nobody tells the limiter
  check(await_done(1, 1000), "gate: the task comes back");
  check(g_gate_status.load() == Status::kOk, "gate: granted once the upstream has room");
  check(g_gate_upstream_at_grant.load() == 0, "gate: not granted before the upstream had room");
  check(g_gate_port.requests() >= 2, "gate: the limiter asked again while it held the waiter");
  check(g_gate.snapshot().held == 0, "gate: the guard released the permit");
}

void stress_check(Checker& check) {
  L::config_type c;
  c.limit = kStressLimit;
  c.default_pause = 3;
  c.max_pause = 20;
  c.headroom.recover_after = 30;
  check(g_stress.configure(c) == Status::kOk, "stress: configure");
  const TickType_t t0 = now();
  check(t0 > 0x80000000u, "stress: starts before the tick wraps");
  g_isr_takes.store(true);
  g_isr_on.store(true);
  for (uint32_t w = 0; w < kWorkers; ++w) command(w, kStress);
  bool wrapped = false, enough = false;
  for (TickType_t waited = 0; waited < kStressMaxTicks && !enough; waited += 10) {
    vTaskDelay(10);
    const TickType_t t = now();
    wrapped = wrapped || t < t0;
    enough = wrapped && t >= 200;
    for (uint32_t w = 0; w < kWorkers; ++w)
      enough = enough && g_rounds[w].load() >= kStressMinRounds;
  }
  check(wrapped, "stress: the tick wrapped during the run");
  check(enough, "stress: every task ran its rounds");
  g_stop.store(true);
  check(await_done(kWorkers, 2000), "stress: every task stops");
  g_isr_takes.store(false);
  check(wait_until([] { return g_isr_releases.load() == g_handed.load() && !g_isr_busy.load(); },
                   100),
        "stress: the interrupt released what it was handed");
  g_isr_on.store(false);
  check(g_stress_census.over.load() == 0, "stress: never more than the limit held, on any grant");
  check(g_stress_census.max.load() >= 1, "stress: slots were held");
  check(g_bad.load() == 0 && g_isr_bad.load() == 0, "stress: every acquire and release succeeded");
  check(g_isr_releases.load() > 0 && g_isr_rejections.load() > 0,
        "stress: the interrupt released permits and marked 429s");
  check(g_isr_grants.load() > 0, "stress: the interrupt queued and was granted slots of its own");
  check(g_grants.load() >= kWorkers * kStressMinRounds / 4, "stress: tasks were granted");
  const auto snap = g_stress.snapshot();
  check(snap.held == 0 && snap.queued == 0 && snap.tickets_outstanding == 0,
        "stress: nothing held, queued or outstanding at the end");
  check(snap.counters.rejected_by_upstream > 0, "stress: the limiter saw the 429s");
  check(g_stress_port.waiting() == 0, "stress: the waiter table is empty");
  semihost::write("stress: ");
  semihost::write_uint(g_grants.load());
  semihost::write(" grants, ");
  semihost::write_uint(g_timeouts.load());
  semihost::write(" timeouts, ");
  semihost::write_uint(g_isr_releases.load());
  semihost::write(" released by the interrupt (");
  semihost::write_uint(g_isr_rejections.load());
  semihost::write(" as 429s), ");
  semihost::write_uint(g_isr_grants.load());
  semihost::write(" granted to it (");
  semihost::write_uint(g_isr_timeouts.load());
  semihost::write(" of its tickets timed out), most held at once ");
  semihost::write_uint(g_stress_census.max.load());
  semihost::write("\n");
}

void controller(void*) {
  Checker check;
  order_check(check);
  lanes_check(check);
  timeout_check(check);
  gate_check(check);
  stress_check(check);
  check(g_bad.load() == 0, "no unexpected status anywhere");
  // The margin its stack kept (the overflow check fails the run only once it is gone).
  semihost::write("controller stack never used: ");
  semihost::write_uint(static_cast<uint32_t>(uxTaskGetStackHighWaterMark(nullptr)));
  semihost::write(" words\n");
  semihost::exit(check.report());
}

// ---- tasks, statically allocated ---------------------------------------------------------------

using freertos_support::TaskMemory;
// Stacks in words; the micro:bit has 16 KiB of RAM for everything. The controller's 320 words
// had come down to its last 4 on M0 (the run prints what it never used), where any change
// to an inlining decision overflowed them now and then: 384 keeps a margin.
#ifdef SLOTGATE_FREERTOS_SMALL_RAM
TaskMemory<384> g_controller_memory;
TaskMemory<160> g_feeder_memory;
TaskMemory<288> g_worker_memory[kWorkers];
#else
TaskMemory<1024> g_controller_memory;
TaskMemory<512> g_feeder_memory;
TaskMemory<512> g_worker_memory[kWorkers];
#endif

}  // namespace

// The tick interrupt: releases what the workers handed it (every fifth as a 429), and now and
// then queues for a slot itself, claims it on a later tick and holds it for one.
extern "C" void vApplicationTickHook() {
  if (!g_isr_on.load()) return;
  const TickType_t t = rt::Port<8>::now();
  Permit p;
  if (g_to_isr.try_pop(p)) {
    const uint32_t n = g_isr_releases.fetch_add(1) + 1;
    const bool rejected = n % 5 == 0;
    g_isr_rejections.fetch_add(rejected ? 1 : 0);
    g_stress_census.release();
    const auto outcome =
        rejected ? L::outcome_type::rejected_retry_after(2) : L::outcome_type::ok();
    if (g_stress.release(p, t, outcome) != Status::kOk) g_isr_bad.fetch_add(1);
  }
  if (g_isr_permit.valid()) {
    g_stress_census.release();
    if (g_stress.release(g_isr_permit, t) != Status::kOk) g_isr_bad.fetch_add(1);
    g_isr_permit = Permit{};
  } else if (g_isr_ticket.valid()) {
    // Queued behind the tasks, as they are: no barging from an interrupt either.
    (void)g_stress.poll(t);
    const Status s = g_stress.claim(g_isr_ticket, g_isr_permit);
    if (s == Status::kOk) {
      g_stress_census.grant(kStressLimit);
      g_isr_grants.fetch_add(1);
    } else if (s == Status::kTimedOut) {
      g_isr_timeouts.fetch_add(1);
    } else if (s != Status::kPending) {
      g_isr_bad.fetch_add(1);
    }
    if (s != Status::kPending) g_isr_ticket = slotgate::Ticket{};
  } else if (g_isr_takes.load() && t % 7 == 0) {
    const auto deadline = L::deadline_type::at_tick(t + 10);
    if (g_stress.enqueue(t, g_isr_ticket, deadline) != Status::kOk) g_isr_bad.fetch_add(1);
  }
  g_isr_busy.store(g_isr_permit.valid() || g_isr_ticket.valid());
}

int main() {
  g_controller = g_controller_memory.start(controller, "ctl", kControllerPriority);
  (void)g_feeder_memory.start(feeder, "feed", kFeederPriority);
  for (uint32_t w = 0; w < kWorkers; ++w)
    g_workers[w] = g_worker_memory[w].start(worker, "work", kWorkerPriority[w],
                                            reinterpret_cast<void*>(static_cast<uintptr_t>(w)));
  vTaskStartScheduler();
  semihost::write("FAILED: the scheduler returned\n");
  return 1;
}
