// The store-buffering pair of a cooldown's end and an enqueue: whoever frees a cooled record
// (SlotTable::reclaim_cooled's seq_cst CAS) then looks at the word for waiters; the enqueue
// announces itself (seq_cst CAS) and its granter looks for a free record. At least one sees
// the other, or the waiter sleeps beside a free slot.
#include "litmus.hpp"

static litmus::Slots g_slots;
static litmus::Admission g_adm{1};
static bool g_kicked = false;
static bool g_found = false;

static void* reclaimer(void*) {
  SLOTGATE_ASSUME(g_slots.reclaim_cooled(10) == 1);
  g_kicked = litmus::CW::queued(g_adm.word_sc()) != 0;
  return nullptr;
}

static void* enqueuer(void*) {
  assert(g_adm.announce());
  g_found = g_slots.try_claim(1) != litmus::Slots::kNone;
  return nullptr;
}

int main() {
  slotgate::Status why = slotgate::Status::kOk;
  const slotgate::Permit p = litmus::claim(g_slots, 1, false);
  assert(g_slots.release(p, 2, 5, 0, why) == slotgate::detail::SlotRelease::kCooling);
  litmus::run_pair(reclaimer, enqueuer);
  assert(g_kicked || g_found);
  return 0;
}
