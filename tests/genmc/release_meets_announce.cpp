// The store-buffering pair of a release and an enqueue: a release frees its record (seq_cst
// CAS) and then looks at the word for waiters (Admission::word_sc); an enqueue announces itself
// in the word (seq_cst CAS) and the granter it runs then looks for a free record
// (SlotTable::try_claim's seq_cst load). At least one must see the other, or the waiter sleeps
// beside a free slot: a lost wake-up. With COUNTED_FOR set, the release also folds the session
// into the record's carry, and frees the record with end_session's exchange instead.
#include "litmus.hpp"

#ifndef COUNTED_FOR
#define COUNTED_FOR 0
#endif

static litmus::Slots2 g_slots;
static litmus::Admission g_adm{1};
static slotgate::Permit g_held;
static bool g_kicked = false;
static bool g_found = false;

static void* releaser(void*) {
  slotgate::Status why = slotgate::Status::kOk;
  const auto r = g_slots.release(g_held, 2, 0, COUNTED_FOR, why);
  assert(r == slotgate::detail::SlotRelease::kFreed);
  g_kicked = litmus::CW::queued(g_adm.word_sc()) != 0;  // after_free: run the granter?
  return nullptr;
}

static void* enqueuer(void*) {
  assert(g_adm.announce());
  g_found = g_slots.try_claim(1) != litmus::Slots2::kNone;  // the granter's look
  return nullptr;
}

int main() {
  g_held = litmus::claim(g_slots, 1, false);
  litmus::run_pair(releaser, enqueuer);
  assert(g_kicked || g_found);
  return 0;
}
