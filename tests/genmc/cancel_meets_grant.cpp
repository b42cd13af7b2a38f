// TicketTable::retire's failure order: a cancel that loses to a grant acts on the word its
// failed CAS read. A queued ticket is granted permit {0, 5} by the granter while its owner
// cancels: the owner read it Waiting, its retire fails on the grant, and (as the limiter's
// resolve does) it reads the permit to give the slot back. It must read {0, 5}: the reloaded
// word pairs with grant's release only if the CAS acquires (GenMC reads a failed CAS with its
// success order, so the program is about both: acq_rel, and acquire on failure).
#include "litmus.hpp"

static litmus::Tickets g_tickets;
static uint32_t g_index, g_generation;

static void* granter(void*) {
  slotgate::Ticket t;
  t.index = g_index;
  t.generation = g_generation;
  uint32_t w = 0;
  SLOTGATE_ASSUME(g_tickets.check(t, w) == slotgate::Status::kOk);
  g_tickets.grant(t.index, w, slotgate::Permit{0, 5});
  return nullptr;
}

static void* canceller(void*) {
  slotgate::Ticket t;
  t.index = g_index;
  t.generation = g_generation;
  uint32_t w = 0;
  SLOTGATE_ASSUME(g_tickets.check(t, w) == slotgate::Status::kOk);
  SLOTGATE_ASSUME(slotgate::detail::TicketWord::phase(w) ==
                  slotgate::detail::TicketPhase::kWaiting);
  const bool won = g_tickets.retire(t.index, w);
  SLOTGATE_ASSUME(!won);  // only the cancel that loses to the grant is of interest
  SLOTGATE_ASSUME(slotgate::detail::TicketWord::phase(w) ==
                  slotgate::detail::TicketPhase::kGranted);
  const slotgate::Permit p = g_tickets.permit(t.index);
  assert(p.slot == 0 && p.generation == 5);
  return nullptr;
}

int main() {
  slotgate::Ticket t;
  const bool ok = g_tickets.allocate(slotgate::Deadline<uint32_t>::none(), t);
  assert(ok);
  g_index = t.index;
  g_generation = t.generation;
  g_tickets.publish(t.index);
  litmus::run_pair(granter, canceller);
  return 0;
}
