// The grant token hands the granter's state to its next holder. The granter's front entry
// (Granter::front_) is relaxed and touched only by the token holder: the token's CASes alone
// order it. A holds the token, sets the front, drops a waiter from the count (a relaxed mark in
// the word, as the granter makes it) and lets the token go (Admission::finish); B takes the
// token (Admission::kick). If the word B replaced shows A's mark with the token free, A had let
// go: B must see A's front, or a popped entry would be skipped. Shows kick's acquire half and
// finish's release half.
#include <atomic>

#include "litmus.hpp"

static litmus::Admission g_adm{2};
static std::atomic<uint32_t> g_front{0};

static void* first(void*) {
  uint32_t replaced = 0;
  SLOTGATE_ASSUME(g_adm.kick(replaced));  // A takes the token
  g_front.store(7, std::memory_order_relaxed);
  g_adm.dequeued();
  SLOTGATE_ASSUME(g_adm.finish());  // no one asked for another run: let go
  return nullptr;
}

static void* next(void*) {
  uint32_t replaced = 0;
  SLOTGATE_ASSUME(g_adm.kick(replaced));  // B takes the token
  SLOTGATE_ASSUME(litmus::CW::queued(replaced) == 0 && !litmus::CW::token(replaced));
  assert(g_front.load(std::memory_order_relaxed) == 7);
  return nullptr;
}

int main() {
  SLOTGATE_ASSUME(g_adm.announce());  // one waiter queued before either thread starts
  litmus::run_pair(first, next);
  return 0;
}
