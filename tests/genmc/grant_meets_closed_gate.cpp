// The store-buffering pair of a fast-path grant and the gate closing. The grant looks at the
// word (fast: gate open), takes a record (seq_cst CAS) and looks again (Admission::word_sc);
// the granter, binding the gate to a reading, first closes it (credit 0, seq_cst CAS) and then
// counts our sessions (SlotTable::gate_census, seq_cst loads) to set the budget. Either the
// grant's second look sees the gate closed (and gives the record back), or the census sees
// the record taken: a budget never counts a grant it missed.
#include "litmus.hpp"

static litmus::Slots2 g_slots;
static litmus::Admission g_adm{2};
static bool g_granted = false;
static uint32_t g_counted = 0;

static void* granter(void*) {
  g_granted = litmus::fast_grant(g_adm, g_slots, 2);
  return nullptr;
}

static void* gate(void*) {
  // A reading allows one more session: the budget is 1 less what the census counts.
  g_adm.set_credit([](uint32_t) {
    g_counted = g_slots.gate_census(0, 0, 0, 2).nonfree;
    return g_counted >= 1 ? 0u : 1u;
  });
  return nullptr;
}

int main() {
  litmus::run_pair(granter, gate);
  const uint32_t w = g_adm.word_sc();
  // Our grant is counted, or the gate's credit did not count on it being absent.
  assert(!g_granted || g_counted == 1 || litmus::CW::credit(w) == 0);
  return 0;
}
