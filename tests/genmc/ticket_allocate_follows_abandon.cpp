// TicketTable::allocate's CAS (acquire) and abandon's store (release): a record's next owner
// writes its deadline after the last owner's. A takes the one record (deadline 50) and
// abandons it; B takes it (deadline 70) and publishes it. The waiting ticket's deadline must
// be 70.
#include "litmus.hpp"

static litmus::Tickets g_tickets;
static std::atomic<bool> g_abandoned{false};

static void* first(void*) {
  slotgate::Ticket t;
  const bool ok = g_tickets.allocate(slotgate::Deadline<uint32_t>::at_tick(50), t);
  assert(ok);
  g_tickets.abandon(t.index);
  g_abandoned.store(true, std::memory_order_relaxed);  // only marks that it happened
  return nullptr;
}

static void* second(void*) {
  SLOTGATE_ASSUME(g_abandoned.load(std::memory_order_relaxed));
  slotgate::Ticket t;
  // (The flag orders nothing: an allocate that still finds the record taken is not explored.)
  SLOTGATE_ASSUME(g_tickets.allocate(slotgate::Deadline<uint32_t>::at_tick(70), t));
  g_tickets.publish(t.index);
  return nullptr;
}

int main() {
  litmus::run_pair(first, second);
  const auto d = g_tickets.next_deadline(0);
  assert(d.set && d.at == 70);
  return 0;
}
