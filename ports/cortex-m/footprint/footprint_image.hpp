// What the footprint images share: the start-up that copies .data and clears .bss, and one
// call of every operation of a limiter (the blocking acquire included), its inputs and results
// going through a volatile so that nothing is folded away.
#pragma once

#include <stdint.h>

#include "slotgate/acquire.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/ticks.hpp"

extern "C" {
extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
}

namespace footprint {

inline void init_memory() {
  const uint32_t* src = &__data_load;
  for (uint32_t* dst = &__data_start; dst < &__data_end;) *dst++ = *src++;
  for (uint32_t* dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
}

// The operations an image uses, in the order a firmware would add them: the fast path alone
// (configure, try_acquire, release), then poll, the queue (enqueue, claim, cancel, state), the
// blocking acquire, control (the release with an outcome, set_limit, pause_for, resume, close),
// and the snapshot. scripts/footprint builds an image at each step (SLOTGATE_FOOTPRINT_UPTO).
enum class Uses { kFastPath = 1, kPoll, kQueue, kBlocking, kControl, kEverything };

template <Uses kUpTo, class L>
void use_operations(L& limiter, volatile uint32_t& sink) {
  const uint32_t now = sink;
  typename L::config_type c;
  c.limit = sink;
  c.cooldown = sink;
  limiter.configure(c);
  slotgate::Permit p;
  slotgate::Ticket t;
  sink = static_cast<uint32_t>(limiter.try_acquire(now, p));
  // One release: a plain one on the fast path, the one with an outcome once control is in.
  if constexpr (kUpTo >= Uses::kControl)
    sink = static_cast<uint32_t>(limiter.release(p, now, L::outcome_type::rejected()));
  else
    sink = static_cast<uint32_t>(limiter.release(p, now));
  if constexpr (kUpTo >= Uses::kPoll) sink = limiter.poll(now).next.at;
  if constexpr (kUpTo >= Uses::kQueue) {
    sink = static_cast<uint32_t>(limiter.enqueue(now, t));
    sink = static_cast<uint32_t>(limiter.claim(t, p));
    sink = static_cast<uint32_t>(limiter.cancel(t, now));
    sink = static_cast<uint32_t>(limiter.state(t));
  }
  if constexpr (kUpTo >= Uses::kBlocking)
    sink = static_cast<uint32_t>(
        slotgate::acquire_until(limiter, slotgate::Deadline<uint32_t>::at_tick(sink), p));
  if constexpr (kUpTo >= Uses::kControl) {
    sink = static_cast<uint32_t>(limiter.set_limit(sink, now));
    sink = static_cast<uint32_t>(limiter.pause_for(sink, now));
    limiter.resume();
    limiter.close();
  }
  if constexpr (kUpTo >= Uses::kEverything) sink = limiter.snapshot().held;
}

template <class L>
void use_every_operation(L& limiter, volatile uint32_t& sink) {
  use_operations<Uses::kEverything>(limiter, sink);
}

}  // namespace footprint
