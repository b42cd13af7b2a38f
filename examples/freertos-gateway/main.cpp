// A FreeRTOS gateway on slotgate. The upstream, reached through a modem, allows two sessions at
// once; four worker tasks want sessions; the network interrupt ends them.
//
//   worker tasks   take a slot (slotgate::freertos::acquire_for), then ask the modem task to
//                  open a session on it. A refusal is the upstream's 429: the worker releases
//                  with a rejected outcome, and slotgate pauses and holds headroom back.
//   modem task     owns the upstream's sockets: opens sessions, says how many are open.
//   usage task     the usage source's feeder: when the limiter asks, it asks the modem how
//                  many sockets are open and publishes the answer (UsagePort::publish).
//   network IRQ    CMSDK timer 0 (IRQ 8 on mps2-an385) ends the oldest session: closes its
//                  socket and releases its permit, in the interrupt.
//   heartbeat task polls by the limiter's next deadline, so that days with nobody waiting
//                  leave nothing stale (the tick wraps).
//
// It runs a fixed number of sessions, prints what happened over semihosting and exits with 0
// if the modem never had to refuse a session (slotgate kept to the cap) and every request was
// served. Built with the FreeRTOS test firmware; run under qemu-system-arm -M mps2-an385. Built
// with -DGATEWAY_LIMIT=4 (a limit above the upstream's cap) it shows what slotgate prevents: the
// modem refuses sessions, and the run fails.
#include <stdint.h>

#include <atomic>

#include "FreeRTOS.h"
#include "freertos_support.hpp"
#include "queue.h"
#include "semihost.hpp"
#include "slotgate/ports/freertos.hpp"
#include "slotgate/ports/freertos_usage.hpp"
#include "task.h"

namespace {

namespace rt = slotgate::freertos;
using slotgate::Permit;
using slotgate::Status;

constexpr uint32_t kSockets = 2;  // the upstream's cap on concurrent sessions
#ifndef GATEWAY_LIMIT
#define GATEWAY_LIMIT kSockets
#endif
constexpr uint32_t kLimit = GATEWAY_LIMIT;  // what the limiter is told
constexpr uint32_t kWorkers = 4;
constexpr uint32_t kRequestsPerWorker = 25;
constexpr uint32_t kSessionEndEveryUs = 1500;  // the network interrupt's period

using Limiter = rt::UsageLimiter<8, 8>;
rt::UsagePort<8> g_port;
Limiter g_limiter(g_port);

// ---- the modem: the upstream's sockets -----------------------------------------------------

struct Socket {
  bool open = false;
  uint32_t opened = 0;  // sequence number: the network ends the oldest first
  Permit permit;
  TaskHandle_t worker = nullptr;
};
Socket g_sockets[kSockets];  // the modem task and the network interrupt, in critical sections
uint32_t g_opened = 0;
std::atomic<uint32_t> g_most_open{0};
std::atomic<uint32_t> g_refused{0};

struct ModemRequest {
  enum Kind : uint8_t { kOpen, kCount } kind;
  TaskHandle_t from;
  Permit permit;
};
constexpr uint32_t kOpenedBit = 1, kRefusedBit = 2, kEndedBit = 4;  // the worker's replies

StaticQueue_t g_modem_queue_memory;
uint8_t g_modem_queue_storage[8 * sizeof(ModemRequest)];
QueueHandle_t g_modem_queue = nullptr;

uint32_t open_sockets() {
  uint32_t n = 0;
  for (const Socket& s : g_sockets) n += s.open ? 1 : 0;
  return n;
}

void modem_task(void*) {
  for (;;) {
    ModemRequest r;
    if (xQueueReceive(g_modem_queue, &r, portMAX_DELAY) != pdPASS) continue;
    if (r.kind == ModemRequest::kCount) {
      taskENTER_CRITICAL();
      const uint32_t n = open_sockets();
      taskEXIT_CRITICAL();
      (void)xTaskNotifyIndexed(r.from, 0, n, eSetValueWithOverwrite);
      continue;
    }
    bool opened = false;
    taskENTER_CRITICAL();
    for (Socket& s : g_sockets) {
      if (s.open) continue;
      s = Socket{true, ++g_opened, r.permit, r.from};
      opened = true;
      break;
    }
    const uint32_t n = open_sockets();
    taskEXIT_CRITICAL();
    if (n > g_most_open.load()) g_most_open.store(n);
    if (!opened) g_refused.fetch_add(1);
    (void)xTaskNotifyIndexed(r.from, 0, opened ? kOpenedBit : kRefusedBit, eSetBits);
  }
}

// ---- the network interrupt: a session ends -------------------------------------------------

volatile uint32_t* const kTimer0 = reinterpret_cast<volatile uint32_t*>(0x40000000u);

void start_network_interrupt() {
  const uint32_t reload = configCPU_CLOCK_HZ / 1000000u * kSessionEndEveryUs;
  kTimer0[2] = reload;   // RELOAD
  kTimer0[1] = reload;   // VALUE
  kTimer0[0] = 1u | 8u;  // CTRL: enable, interrupt enable
  // Below configMAX_SYSCALL_INTERRUPT_PRIORITY: it calls the limiter and FromISR functions.
  reinterpret_cast<volatile uint8_t*>(0xE000E400u)[8] = 0xA0;    // NVIC IPR
  *reinterpret_cast<volatile uint32_t*>(0xE000E100u) = 1u << 8;  // NVIC ISER0
}

void end_oldest_session() {
  kTimer0[3] = 1;  // INTCLEAR
  Socket ended;
  const UBaseType_t saved = taskENTER_CRITICAL_FROM_ISR();
  Socket* oldest = nullptr;
  for (Socket& s : g_sockets)
    if (s.open && (oldest == nullptr || s.opened < oldest->opened)) oldest = &s;
  if (oldest != nullptr) {
    ended = *oldest;
    oldest->open = false;
  }
  taskEXIT_CRITICAL_FROM_ISR(saved);
  if (!ended.open) return;
  // The session is over upstream: its slot goes back, and a waiting worker is granted it.
  (void)g_limiter.release(ended.permit, rt::Port<8>::now());
  BaseType_t woken = pdFALSE;
  (void)xTaskNotifyIndexedFromISR(ended.worker, 0, kEndedBit, eSetBits, &woken);
  portYIELD_FROM_ISR(woken);
}

}  // namespace

extern "C" void IRQ_Handler() {
  uint32_t ipsr = 0;
  __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
  if (ipsr == 16 + 8) end_oldest_session();
}

namespace {

// ---- the usage source's feeder ---------------------------------------------------------------

void usage_task(void*) {
  for (;;) {
    if (!g_port.wait_for_request(portMAX_DELAY)) continue;
    const TickType_t asked = rt::Port<8>::now();
    const ModemRequest r{ModemRequest::kCount, xTaskGetCurrentTaskHandle(), Permit{}};
    uint32_t sessions = 0;
    if (xQueueSend(g_modem_queue, &r, rt::ms_to_ticks(50)) == pdPASS &&
        xTaskNotifyWaitIndexed(0, 0, ~0u, &sessions, rt::ms_to_ticks(50)) == pdPASS)
      g_port.publish(sessions, asked);
    else
      g_port.publish_none();  // the modem did not answer: no reading, cooldown alone
  }
}

// ---- the workers -------------------------------------------------------------------------------

TaskHandle_t g_report = nullptr;
std::atomic<uint32_t> g_served{0}, g_timeouts{0}, g_failures{0};

void worker_task(void*) {
  for (uint32_t i = 0; i < kRequestsPerWorker; ++i) {
    Permit permit;
    const Status s = rt::acquire_for(g_limiter, rt::ms_to_ticks(2000), permit);
    if (s == Status::kTimedOut) {
      g_timeouts.fetch_add(1);
      continue;
    }
    if (s != Status::kOk) {
      g_failures.fetch_add(1);
      continue;
    }
    const ModemRequest r{ModemRequest::kOpen, xTaskGetCurrentTaskHandle(), permit};
    (void)xQueueSend(g_modem_queue, &r, portMAX_DELAY);
    uint32_t bits = 0;
    while ((bits & (kRefusedBit | kEndedBit)) == 0) {
      uint32_t got = 0;
      (void)xTaskNotifyWaitIndexed(0, 0, ~0u, &got, portMAX_DELAY);
      bits |= got;
    }
    if (bits & kRefusedBit) {
      // The upstream said 429: tell the limiter, which pauses and holds a slot back.
      (void)g_limiter.release(permit, rt::Port<8>::now(), Limiter::outcome_type::rejected());
      continue;
    }
    g_served.fetch_add(1);  // the interrupt released the permit when the session ended
  }
  (void)xTaskNotifyGiveIndexed(g_report, 0);
  vTaskSuspend(nullptr);
}

void report_task(void*) {
  start_network_interrupt();  // from a task: the scheduler runs, so its FromISR calls may too
  for (uint32_t n = 0; n < kWorkers; ++n) (void)ulTaskNotifyTakeIndexed(0, pdFALSE, portMAX_DELAY);
  const auto snap = g_limiter.snapshot();
  semihost::write("freertos-gateway: ");
  semihost::write_uint(g_served.load());
  semihost::write(" sessions served, ");
  semihost::write_uint(g_timeouts.load());
  semihost::write(" timed out waiting, ");
  semihost::write_uint(g_refused.load());
  semihost::write(" refused by the upstream; at most ");
  semihost::write_uint(g_most_open.load());
  semihost::write(" of ");
  semihost::write_uint(kSockets);
  semihost::write(" sockets open; ");
  semihost::write_uint(static_cast<uint32_t>(snap.counters.from_queue));
  semihost::write(" grants from the queue, ");
  semihost::write_uint(static_cast<uint32_t>(snap.counters.readings));
  semihost::write(" usage readings\n");
  const bool ok = g_refused.load() == 0 && g_failures.load() == 0 &&
                  g_served.load() == kWorkers * kRequestsPerWorker && snap.held == 0;
  semihost::exit(ok);
}

// ---- the heartbeat -----------------------------------------------------------------------------

// TickType_t wraps (32 bits here): a gateway that may go days with nobody waiting still polls
// by the limiter's next deadline, which is never further than the heartbeat, or the times it
// stored come to read as the future (README, "Long idle on a narrow tick"). Waiting tasks poll
// while they wait; this one, at the lowest priority, only covers the rest.
void heartbeat_task(void*) {
  for (;;) {
    const TickType_t now = rt::Port<8>::now();
    const auto r = g_limiter.poll(now);
    vTaskDelay(r.next.set ? TickType_t(r.next.at - now) : portMAX_DELAY);
  }
}

using freertos_support::TaskMemory;
TaskMemory<512> g_modem_memory, g_usage_memory, g_report_memory, g_heartbeat_memory;
TaskMemory<512> g_worker_memory[kWorkers];

}  // namespace

int main() {
  Limiter::config_type c;
  c.limit = kLimit;
  c.default_pause = rt::ms_to_ticks(100);  // after a 429
  c.max_pause = rt::ms_to_ticks(5000);
  c.gate.max_age = rt::ms_to_ticks(1000);  // the modem's count is exact and fresh
  c.gate.repoll_interval = rt::ms_to_ticks(20);
  if (g_limiter.configure(c) != Status::kOk) return 1;
  g_modem_queue =
      xQueueCreateStatic(8, sizeof(ModemRequest), g_modem_queue_storage, &g_modem_queue_memory);
  (void)g_modem_memory.start(modem_task, "modem", 4);
  (void)g_usage_memory.start(usage_task, "usage", 3);
  g_report = g_report_memory.start(report_task, "report", 5);
  for (auto& w : g_worker_memory) (void)w.start(worker_task, "worker", 2);
  (void)g_heartbeat_memory.start(heartbeat_task, "heartbeat", 1);
  vTaskStartScheduler();
  return 1;
}
