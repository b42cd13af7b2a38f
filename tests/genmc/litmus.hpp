// Shared by the GenMC litmus programs: two threads on pthreads (GenMC does not model
// <thread>), and the tables under test on the standard atomics policy.
#pragma once

#include <assert.h>
#include <pthread.h>
#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/detail/admission.hpp"
#include "slotgate/detail/control_word.hpp"
#include "slotgate/detail/slot_table.hpp"
#include "slotgate/detail/ticket_table.hpp"

#ifdef __has_include
#if __has_include(<genmc.h>)
#include <genmc.h>
#define SLOTGATE_ASSUME(c) __VERIFIER_assume(c)
#endif
#endif
#ifndef SLOTGATE_ASSUME
#define SLOTGATE_ASSUME(c) ((void)(c))
#endif

namespace litmus {

using Slots = slotgate::detail::SlotTable<slotgate::StdAtomics, uint32_t, uint32_t, 1>;
using Slots2 = slotgate::detail::SlotTable<slotgate::StdAtomics, uint32_t, uint32_t, 2>;
// The control word for two slots and two queue entries, and admission over it (the whole
// limiter is beyond what GenMC compiles: the store-buffering pairs are shown on its parts, each
// thread making the calls the limiter makes, in its order).
using CW = slotgate::detail::ControlWord<uint32_t, 2, 2>;
using Admission = slotgate::detail::Admission<slotgate::StdAtomics, uint32_t, uint32_t, CW>;
using Tickets = slotgate::detail::TicketTable<slotgate::StdAtomics, uint32_t, 1>;

// Take a record below `range` (the one record, by default) and grant it at `now`, as a grant does
// (a claim, then its commit). An execution where the record was not yet seen free is of no
// interest: pruned.
template <class Table>
slotgate::Permit claim(Table& slots, uint32_t now, bool from_queue, size_t range = 1) {
  const uint32_t i = slots.try_claim(range);
  SLOTGATE_ASSUME(i != Table::kNone);
  return slots.finish_claim(i, now, from_queue);
}

// A fast-path grant at `now` as the limiter makes it: look at the word, take a record below its
// limit, look again; the grant stands only if the word still allows it, else the record goes
// back. Executions where the first look refuses, or where a record other than `record` (kNone:
// any) is taken, are pruned.
template <class Table>
bool fast_grant(Admission& adm, Table& slots, uint32_t now, uint32_t record = Table::kNone) {
  const uint32_t before = adm.word_sc();
  SLOTGATE_ASSUME(CW::fast(before));
  const uint32_t i = slots.try_claim(CW::lim(before));
  SLOTGATE_ASSUME(i != Table::kNone && (record == Table::kNone || i == record));
  const uint32_t after = adm.word_sc();
  const bool granted = CW::fast(after) && i < CW::lim(after);
  if (granted)
    slots.finish_claim(i, now, false);
  else
    slots.abort_claim(i);
  return granted;
}

// Run a and b on two threads and wait for both.
inline void run_pair(void* (*a)(void*), void* (*b)(void*)) {
  pthread_t ta, tb;
  pthread_create(&ta, nullptr, a, nullptr);
  pthread_create(&tb, nullptr, b, nullptr);
  pthread_join(ta, nullptr);
  pthread_join(tb, nullptr);
}

}  // namespace litmus
