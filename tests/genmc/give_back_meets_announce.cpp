// The store-buffering pair of a grant that gives its record back and an enqueue: a fast-path
// grant whose second look at the word refuses gives the record back (SlotTable::abort_claim's
// seq_cst exchange) and then looks at the word for waiters (Admission::word_sc); the enqueue
// announces itself (seq_cst CAS) and its granter looks for a free record. At least one sees
// the other, or the waiter sleeps beside a free slot.
#include "litmus.hpp"

static litmus::Slots g_slots;
static litmus::Admission g_adm{1};
static bool g_kicked = false;
static bool g_found = false;

static void* giver(void*) {
  const uint32_t i = g_slots.try_claim(1);
  SLOTGATE_ASSUME(i == 0);
  g_slots.abort_claim(i);
  g_kicked = litmus::CW::queued(g_adm.word_sc()) != 0;  // after_free: run the granter?
  return nullptr;
}

static void* enqueuer(void*) {
  assert(g_adm.announce());
  g_found = g_slots.try_claim(1) != litmus::Slots::kNone;  // the granter's look
  return nullptr;
}

int main() {
  litmus::run_pair(giver, enqueuer);
  assert(g_kicked || g_found);
  return 0;
}
