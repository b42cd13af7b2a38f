// The judged version's pair (UsageGate::publish_judged's release, pending(version)'s acquire),
// and why weakening it breaks nothing under RC11 or IMM. The port holds a reading (version 2)
// that leaves no room; the gate was open. The granter binds the gate to it
// (Admission::set_credit: close, census, budget 0) and then publishes the version as judged.
// The fast path looks at the word (open), finds the version judged, takes a record and looks
// again, as GrantPath::take does. Having seen the version judged, its second look must see
// the gate closed: no grant. With the pair relaxed this still holds: a look that precedes the
// close in the single total order has its claim seen by the census, which comes before the
// publication, so reading the version would close a cycle of program order and reads-from
// (load buffering), which both models forbid and C++ does not: the pair stays in the code.
// Publishing before closing breaks it at once (the program is not vacuous).
#include "litmus.hpp"
#include "slotgate/detail/usage_gate.hpp"

using Gate = slotgate::detail::UsageGate<slotgate::StdAtomics, uint32_t, uint32_t>;

static litmus::Slots2 g_slots;
static litmus::Admission g_adm{2};
static Gate g_gate;  // constant-initialized: no constructor runs
static constexpr uint32_t kVersion = 2;
static bool g_granted = false;

static void* fast_path(void*) {
  const uint32_t before = g_adm.word_sc();
  SLOTGATE_ASSUME(litmus::CW::fast(before));
  // Executions where the version is not yet judged take the slow path: pruned.
  SLOTGATE_ASSUME(!g_gate.pending(kVersion));
  const uint32_t i = g_slots.try_claim(litmus::CW::lim(before));
  SLOTGATE_ASSUME(i != litmus::Slots2::kNone);
  const uint32_t after = g_adm.word_sc();
  g_granted = litmus::CW::fast(after) && i < litmus::CW::lim(after);
  if (g_granted)
    g_slots.finish_claim(i, 1, false);
  else
    g_slots.abort_claim(i);
  return nullptr;
}

static void* granter(void*) {
  g_adm.set_credit([](uint32_t) {
    (void)g_slots.gate_census(0, 0, 0, 2);
    return 0u;  // the reading leaves no room
  });
  g_gate.publish_judged(kVersion, true, slotgate::UsageReading<uint32_t>{2, 0});
  return nullptr;
}

int main() {
  litmus::run_pair(fast_path, granter);
  assert(!g_granted);
  return 0;
}
