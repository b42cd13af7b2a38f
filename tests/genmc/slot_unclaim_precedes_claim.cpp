// SlotTable::unclaim's store (release): a record given back is claimed again after it. A
// claims the record at t=5 and gives it back; B claims it at t=7. B's lease (100 ticks, over
// after 107) must run from 7: B's writes come after A's in their modification order, which
// only the release orders.
#include "litmus.hpp"

static litmus::Slots g_slots;
static std::atomic<bool> g_given_back{false};

static void* first(void*) {
  const slotgate::Permit p = litmus::claim(g_slots, 5, true);
  g_slots.unclaim(p);
  g_given_back.store(true, std::memory_order_relaxed);  // only marks that it happened
  return nullptr;
}

static void* second(void*) {
  SLOTGATE_ASSUME(g_given_back.load(std::memory_order_relaxed));
  litmus::claim(g_slots, 7, false);
  return nullptr;
}

int main() {
  litmus::run_pair(first, second);
  const auto d = g_slots.next_deadline(100, 0);  // the lease ends 100 after the grant
  assert(d.set && d.at == 108);
  return 0;
}
