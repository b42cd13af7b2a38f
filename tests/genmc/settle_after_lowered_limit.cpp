// Clearing `shrink` from another thread than the one that lowered the limit. A lowers the limit
// from 2 to 1 while record 1 is held (its scan may see it taken, and leave `shrink` set); B
// releases record 1 and settles (as the granter does after a free while shrinking); C is a
// fast-path grant that read the old limit and takes record 1. B's scan must come after A's
// lowering in the total order (its look at the word acquires it), so that either C's second
// look sees the lower limit or B's scan sees record 1 taken again: never a record granted at or
// above lim with the flag clear.
#include "litmus.hpp"

static litmus::Slots2 g_slots;
static litmus::Admission g_adm{2};
static slotgate::Permit g_one;
static bool g_granted = false;

static bool taken_from(size_t from) {
  return g_slots.taken_from(from);
}

static void* lowerer(void*) {
  g_adm.set_limit(1);
  g_adm.sync_limit([](uint32_t) { return 0u; }, taken_from);
  return nullptr;
}

static void* settler(void*) {
  slotgate::Status why = slotgate::Status::kOk;
  assert(g_slots.release(g_one, 2, 0, 0, why) == slotgate::detail::SlotRelease::kFreed);
  g_adm.settle_shrink(taken_from);
  return nullptr;
}

static void* granter(void*) {
  g_granted = litmus::fast_grant(g_adm, g_slots, 3, 1);
  return nullptr;
}

int main() {
  litmus::claim(g_slots, 1, false, 2);          // record 0, held throughout
  g_one = litmus::claim(g_slots, 1, false, 2);  // record 1
  pthread_t a, b, c;
  pthread_create(&a, nullptr, lowerer, nullptr);
  pthread_create(&b, nullptr, settler, nullptr);
  pthread_create(&c, nullptr, granter, nullptr);
  pthread_join(a, nullptr);
  pthread_join(b, nullptr);
  pthread_join(c, nullptr);
  assert(!g_granted || litmus::CW::shrinking(g_adm.word_sc()));
  return 0;
}
