// Shared by the GenMC litmus programs: two threads on pthreads (GenMC does not model
// <thread>), and the tables under test on the standard atomics policy.
#pragma once

#include <assert.h>
#include <pthread.h>
#include <stdint.h>

#include "slotgate/atomics.hpp"
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
using Tickets = slotgate::detail::TicketTable<slotgate::StdAtomics, uint32_t, 1>;

// Run a and b on two threads and wait for both.
inline void run_pair(void* (*a)(void*), void* (*b)(void*)) {
  pthread_t ta, tb;
  pthread_create(&ta, nullptr, a, nullptr);
  pthread_create(&tb, nullptr, b, nullptr);
  pthread_join(ta, nullptr);
  pthread_join(tb, nullptr);
}

}  // namespace litmus
