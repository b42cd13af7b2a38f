// Two grants while a lowered limit still has a record out above it (`shrink`): each takes a
// record below the limit (seq_cst CAS), then counts the taken records (SlotTable::taken, seq_cst
// loads) and gives its record back if they exceed the limit. Of two counting at once, at least
// one sees the other: never more records taken than the limit allows.
#include "litmus.hpp"

using Slots3 = slotgate::detail::SlotTable<slotgate::StdAtomics, uint32_t, uint32_t, 3>;
static Slots3 g_slots;
static bool g_granted[2] = {false, false};

static void* grant(void* arg) {
  const int me = arg == nullptr ? 0 : 1;
  const uint32_t i = g_slots.try_claim(2);  // the lowered limit: 2
  SLOTGATE_ASSUME(i != Slots3::kNone);
  g_granted[me] = g_slots.taken() <= 2;
  if (g_granted[me])
    g_slots.finish_claim(i, 2, false);
  else
    g_slots.abort_claim(i);
  return nullptr;
}

int main() {
  // Three records held, the limit lowered to 2; records 0 and 1 end, record 2 stays out.
  slotgate::Status why = slotgate::Status::kOk;
  const slotgate::Permit a = litmus::claim(g_slots, 1, false, 3);
  const slotgate::Permit b = litmus::claim(g_slots, 1, false, 3);
  litmus::claim(g_slots, 1, false, 3);
  assert(g_slots.release(a, 1, 0, 0, why) == slotgate::detail::SlotRelease::kFreed);
  assert(g_slots.release(b, 1, 0, 0, why) == slotgate::detail::SlotRelease::kFreed);
  pthread_t ta, tb;
  pthread_create(&ta, nullptr, grant, nullptr);
  pthread_create(&tb, nullptr, grant, &g_slots);
  pthread_join(ta, nullptr);
  pthread_join(tb, nullptr);
  assert(!(g_granted[0] && g_granted[1]));
  return 0;
}
