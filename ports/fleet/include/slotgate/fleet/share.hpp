// The fleet member's arithmetic, without Redis: what it asks for, and how long a lease it
// renewed at a given moment surely lasts.
#pragma once

#include <stdint.h>

#include <chrono>

namespace slotgate::fleet {

// What the local limiter shows of demand.
struct Demand {
  uint32_t held = 0;     // permits out
  uint32_t cooling = 0;  // released slots the upstream may still count
  uint32_t queued = 0;   // callers waiting
  uint32_t in_use() const noexcept { return held + cooling; }
};

// The slots a member asks the ledger for: the whole cap while callers wait (the ledger splits it
// fairly among those who also ask); otherwise what it has in use (held and cooling), so the rest
// goes back to the others at once. Never less than the floor. A caller that then finds no slot
// waits for one renewal (the member renews at once when callers start to wait).
inline uint32_t want_for(Demand d, uint32_t cap, uint32_t floor) noexcept {
  uint32_t w = d.queued > 0 ? cap : d.in_use();
  if (w > cap) w = cap;
  return w < floor ? floor : w;
}

// The lease a renewal sent at `sent` got lasts, in Redis time, until Redis ran the script plus
// the TTL: no earlier than sent + ttl on our clock. A margin takes off what clocks may drift
// apart over one TTL (and then some): the member gives up its share a little early, never late.
inline std::chrono::steady_clock::time_point lease_end(std::chrono::steady_clock::time_point sent,
                                                       std::chrono::milliseconds ttl) noexcept {
  return sent + ttl - ttl / 50;
}

}  // namespace slotgate::fleet
