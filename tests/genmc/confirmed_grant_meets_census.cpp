// A confirmed grant publishes its record's claim to the census that reads the word after it:
// A takes a record (seq_cst CAS) and confirms the grant on the word, spending a gate credit
// (Admission::confirm); B, setting the gate's budget (Admission::set_credit), reads the word
// and counts our sessions (SlotTable::gate_census). If B's word shows A's credit spent, its
// census counts A's record, or the budget it sets would let one more through.
#include "litmus.hpp"

static litmus::Slots2 g_slots;
static litmus::Admission g_adm{2};

static void* granter(void*) {
  const uint32_t i = g_slots.try_claim(2);
  SLOTGATE_ASSUME(i != litmus::Slots2::kNone);
  uint32_t c = g_adm.word();
  bool probe = false;
  SLOTGATE_ASSUME(g_adm.confirm(c, probe));
  g_slots.finish_claim(i, 2, false);
  return nullptr;
}

static void* budget(void*) {
  g_adm.set_credit([](uint32_t c) {
    const uint32_t counted = g_slots.gate_census(0, 0, 0, 2).nonfree;
    if (litmus::CW::credit(c) == 1) assert(counted == 1);  // A's grant is in the word
    return 2u - counted;
  });
  return nullptr;
}

int main() {
  g_adm.set_credit([](uint32_t) { return 2u; });  // a reading allows two: the gate binds
  litmus::run_pair(granter, budget);
  return 0;
}
