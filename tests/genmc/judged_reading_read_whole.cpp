// The judged reading's seqlock (UsageGate::publish_judged, and pending() for a port without
// versions): a fast path compares the port's reading with the last one the granter judged, and
// must never take a mix of fields from several judged readings for a match. The granter has
// judged "no reading" (its fields 3 and 100) and now judges (2, 100) and then (3, 150); the
// port holds (3, 100), which none of them is. A mix matches it with `has` from a later one,
// `sessions` from the first or the last, and the time from either of the first two: a weakened
// pair lets the fast path read its field newer than the sequence it checks while no other
// field's pair orders that check. The time's own pair needs a first reading that has a reading
// and another time, (3, 50): judged_reading_read_whole_time.
#include "litmus.hpp"
#include "slotgate/detail/usage_gate.hpp"

using Gate = slotgate::detail::UsageGate<slotgate::StdAtomics, uint32_t, uint32_t>;
using Reading = slotgate::UsageReading<uint32_t>;

#ifndef SLOTGATE_LITMUS_FIRST_AT
#define SLOTGATE_LITMUS_FIRST_AT 100
#define SLOTGATE_LITMUS_FIRST_HAS false
#endif
static constexpr uint32_t kFirstAt = SLOTGATE_LITMUS_FIRST_AT;
static constexpr bool kFirstHas = SLOTGATE_LITMUS_FIRST_HAS;

static Gate g_gate;  // constant-initialized: no constructor runs
static bool g_matched = false;

static void* fast_path(void*) {
  g_matched = !g_gate.pending(true, Reading{3, 100});
  return nullptr;
}

static void* granter(void*) {
  g_gate.publish_judged(4, true, Reading{2, 100});
  g_gate.publish_judged(6, true, Reading{3, 150});
  return nullptr;
}

int main() {
  g_gate.publish_judged(2, kFirstHas, Reading{3, kFirstAt});
  litmus::run_pair(fast_path, granter);
  assert(!g_matched);
  return 0;
}
