// TicketTable::retire's CAS (its release half): an owner's reads of its record end before the
// next owner's writes. A's ticket is granted permit {0, 1}; A reads the permit and retires the
// ticket; B takes the record and is granted permit {0, 9}. A must read {0, 1}: without the
// release, A's read may see B's later write (load buffering; run under a model that has it).
#include "litmus.hpp"

static litmus::Tickets g_tickets;
// The first ticket, field by field (GenMC refuses a 64-bit read of a shared two-field struct).
static uint32_t g_first_index, g_first_generation;

static void* owner(void*) {
  slotgate::Ticket first;
  first.index = g_first_index;
  first.generation = g_first_generation;
  uint32_t w = 0;
  if (g_tickets.check(first, w) != slotgate::Status::kOk) return nullptr;
  const slotgate::Permit p = g_tickets.permit(first.index);
  const bool retired = g_tickets.retire(first.index, w);
  assert(retired);
  assert(p.slot == 0 && p.generation == 1);
  return nullptr;
}

static void* next_owner(void*) {
  slotgate::Ticket t;
  SLOTGATE_ASSUME(g_tickets.allocate(slotgate::Deadline<uint32_t>::none(), t));
  g_tickets.publish(t.index);
  uint32_t w = 0;
  const bool ok = g_tickets.check(t, w) == slotgate::Status::kOk;
  assert(ok);
  g_tickets.grant(t.index, w, slotgate::Permit{0, 9});
  return nullptr;
}

int main() {
  slotgate::Ticket first;
  const bool ok = g_tickets.allocate(slotgate::Deadline<uint32_t>::none(), first);
  assert(ok);
  g_first_index = first.index;
  g_first_generation = first.generation;
  g_tickets.publish(first.index);
  uint32_t w = 0;
  g_tickets.check(first, w);
  g_tickets.grant(first.index, w, slotgate::Permit{0, 1});
  litmus::run_pair(owner, next_owner);
  return 0;
}
