// Proves the core allocates nothing: once armed, any operator new or malloc in this process
// aborts it. The scenario drives every operation of the limiter and the ring, from two
// threads (created before arming). `--allocate-once` allocates after arming, to prove the
// hook really fires (that run must fail).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "../support/allocation_hook.hpp"

#include "slotgate/limiter.hpp"
#include "slotgate/ports/sim.hpp"

namespace {

using Port = slotgate::sim::Port<uint32_t, uint32_t>;
using L1 = slotgate::Limiter<Port, 8, 16>;
using L3 = slotgate::Limiter<Port, 8, 16, 3>;  // with lanes
using slotgate::Permit;
using slotgate::Status;
using slotgate::Ticket;

int g_failed = 0;
int g_passed = 0;
void check(bool ok, const char* what) {
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    fprintf(stderr, "FAILED: %s\n", what);
  }
}

// Every operation of the limiter, on a clock that crosses its wraparound.
template <class L>
void scenario(L& lim, Port& port) {
  typename L::config_type c;
  c.limit = 2;
  c.cooldown = 100;
  c.max_hold = 1000;
  c.default_pause = 50;
  check(lim.configure(c) == Status::kOk, "configure");
  Permit a, b, x;
  check(lim.try_acquire(port.now(), a) == Status::kOk, "try_acquire a");
  check(lim.try_acquire(port.now(), b) == Status::kOk, "try_acquire b");
  check(lim.try_acquire(port.now(), x) == Status::kNoSlot, "no slot");
  Ticket t1, t2;
  check(lim.enqueue(port.now(), t1) == Status::kOk, "enqueue t1");
  check(lim.enqueue(port.now(), t2, L::deadline_type::at_tick(port.now() + 10),
                    slotgate::Lane(L::kLanes - 1)) == Status::kOk,
        "enqueue t2 (in the top lane)");
  if constexpr (L::kLanes > 1) {
    auto lanes = L::lane_config_type::recommended(1000);
    lanes.share_window = 4;
    lanes.min_share[0] = 1;
    check(lim.configure_lanes(lanes) == Status::kOk, "configure_lanes");
    typename L::lane_snapshot_type ls;
    check(lim.lane_snapshot(slotgate::Lane(L::kLanes - 1), port.now(), ls) == Status::kOk &&
              ls.waiting == 1,
          "lane_snapshot");
  }
  check(lim.release(a, port.now()) == Status::kOk, "release a");
  check(lim.release(a, port.now()) == Status::kStalePermit, "double release");
  port.advance(100);
  lim.poll(port.now());
  check(lim.claim(t1, x) == Status::kOk, "claim t1");
  Permit none;
  check(lim.claim(t2, none) == Status::kTimedOut, "t2 timed out");
  check(lim.release(b, port.now(), L::outcome_type::rejected()) == Status::kOk, "rejected");
  check(lim.try_acquire(port.now(), b) == Status::kPaused, "paused");
  port.advance(2000);
  lim.poll(port.now());
  check(lim.release(x, port.now()) == Status::kReclaimed, "lease reclaimed");
  check(lim.set_limit(3, port.now()) == Status::kOk, "set_limit");
  check(lim.pause_until(port.now() + 10, port.now()) == Status::kOk, "pause_until");
  lim.resume();
  Ticket t3;
  check(lim.enqueue(port.now(), t3) == Status::kOk, "enqueue t3");
  check(lim.cancel(t3, port.now()) == Status::kGrantReturned, "cancel granted");
  const auto s = lim.snapshot();
  check(s.counters.granted >= 3, "snapshot");
  slotgate::Ring<uint32_t, 8> ring;
  uint32_t v = 0;
  check(ring.try_push(7) && ring.try_pop(v) && v == 7, "ring");
  lim.close();
  check(lim.try_acquire(port.now(), b) == Status::kClosed, "closed");
}

}  // namespace

int main(int argc, char** argv) {
  const bool allocate_once = argc > 1 && strcmp(argv[1], "--allocate-once") == 0;
  static Port port(0xFFFFFFFFu - 1000u);
  static L1 lim(port);
  static Port port2(0);
  static L1 lim2(port2);
  static Port port3(0xFFFFFFFFu - 1000u);
  static L3 lim3(port3);
  std::atomic<int> go{0};
  std::thread helper([&] {
    while (go.load() == 0) {
    }
    for (int i = 0; i < 10000; ++i) {
      Permit p;
      if (lim2.try_acquire(port2.now(), p) == Status::kOk) lim2.release(p, port2.now());
      lim2.poll(port2.now());
    }
    go.store(2);
  });

  allocation_hook::forbid(true);
  if (allocate_once) {
    void* volatile p = malloc(16);
    free(p);
  }
  go.store(1);
  scenario(lim, port);
  scenario(lim3, port3);
  for (int i = 0; i < 10000; ++i) {
    Ticket t;
    if (lim2.enqueue(port2.now(), t) == Status::kOk) lim2.cancel(t, port2.now());
  }
  while (go.load() != 2) {
  }
  allocation_hook::forbid(false);
  helper.join();
  printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
