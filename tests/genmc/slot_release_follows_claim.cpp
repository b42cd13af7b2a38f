// SlotTable::release's CAS (acquire): the session's end is read after its start. A claims the
// one record at t=5; B, holding the permit A made, releases it at t=100 with a 10-tick
// cooldown. B must read the grant time A wrote (5, which the learned lag's rejection evidence
// uses), and the record cools until 110.
#include "litmus.hpp"

static litmus::Slots g_slots;

static void* claimer(void*) {
  const slotgate::Permit p = litmus::claim(g_slots, 5, false);
  assert(p.slot == 0);
  return nullptr;
}

static void* releaser(void*) {
  slotgate::Status why = slotgate::Status::kOk;
  const slotgate::Permit p{0, 1};  // the permit the claim makes
  uint32_t granted = 0;
  const auto r = g_slots.release(p, 100, 10, 0, why, &granted);
  SLOTGATE_ASSUME(r != slotgate::detail::SlotRelease::kRejected);  // after the claim
  assert(granted == 5);
  return nullptr;
}

int main() {
  litmus::run_pair(claimer, releaser);
  const auto d = g_slots.next_deadline(0, 0);
  assert(d.set && d.at == 110);
  return 0;
}
