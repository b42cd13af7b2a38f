// The store-buffering pair of a fast-path grant and a lowered limit. The grant looks at the word
// (fast, lim 2), takes record 1 (seq_cst CAS) and looks again (Admission::word_sc); lowering
// the limit to 1 sets `shrink` in the same CAS (seq_cst), then settle_shrink scans the records
// at or above the new limit (seq_cst loads) and clears the flag if none is taken. Either the
// grant's second look sees the lower limit (and gives the record back), or the scan sees
// record 1 taken (and `shrink` stays): never a record granted at or above lim with the flag
// clear, which would let grants below lim run past the cap uncounted.
#include "litmus.hpp"

static litmus::Slots2 g_slots;
static litmus::Admission g_adm{2};
static bool g_granted = false;

static void* granter(void*) {
  g_granted = litmus::fast_grant(g_adm, g_slots, 2, 1);  // record 0 is held
  return nullptr;
}

static void* lowerer(void*) {
  g_adm.set_limit(1);
  g_adm.sync_limit([](uint32_t) { return 0u; },
                   [](size_t from) { return g_slots.taken_from(from); });
  return nullptr;
}

int main() {
  litmus::claim(g_slots, 1, false);  // record 0, held throughout
  litmus::run_pair(granter, lowerer);
  const uint32_t w = g_adm.word_sc();
  assert(!g_granted || litmus::CW::shrinking(w));
  return 0;
}
