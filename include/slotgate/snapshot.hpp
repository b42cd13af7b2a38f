// A consistent-enough picture of a limiter: each field was true at some instant during the
// call that produced it; fields read apart may disagree by the operations that ran meanwhile.
#pragma once

#include <stdint.h>

#include "slotgate/usage.hpp"

namespace slotgate {

// Monotonic counters (they wrap at the port's counter width: 2^32 on microcontrollers).
struct Counters {
  uint64_t granted = 0;                 // permits issued, fast path and queue together
  uint64_t fast_path = 0;               // ... of which by try_acquire
  uint64_t from_queue = 0;              // ... of which to queued tickets
  uint64_t released = 0;                // releases honoured
  uint64_t cancelled = 0;               // tickets cancelled while waiting
  uint64_t grants_returned = 0;         // cancels that lost to a grant and gave the slot back
  uint64_t timed_out = 0;               // tickets whose deadline passed
  uint64_t closed_waiters = 0;          // tickets failed by close()
  uint64_t reclaimed = 0;               // permits reclaimed past max_hold
  uint64_t rejected_by_upstream = 0;    // releases reported as rejected (429)
  uint64_t queue_full = 0;              // enqueues refused for want of a ticket record
  uint64_t bad_releases = 0;            // releases refused (invalid, stale, reclaimed)
  uint64_t no_slot = 0;                 // try_acquire refused: every slot held
  uint64_t held_back_cooldown = 0;      // grants held back because slots were cooling
  uint64_t held_back_gate = 0;          // ... by the usage gate
  uint64_t held_back_headroom = 0;      // ... by adaptive headroom
  uint64_t held_back_pause = 0;         // ... by a pause
  uint64_t held_back_probe = 0;         // ... because the half-open probe is out
  uint64_t waiters_ahead = 0;           // try_acquire refused to barge past queued waiters
  uint64_t clock_regressions = 0;       // times a poll saw time go backwards
  uint64_t wakeups = 0;                 // waiters woken for their own ticket (granted, timed
                                        // out, closed): one per grant to a sleeping waiter
  uint64_t poll_wakeups = 0;            // times a waiter was asked to poll again (a deadline
                                        // may have moved, a pause ended, a reading came)
  uint64_t claim_rescans = 0;           // slot-record scans that found none free (claimants racing)
  uint64_t readings = 0;                // usage readings taken in
  uint64_t bad_readings = 0;            // readings ignored: implausible, from the future, older
  uint64_t refresh_requests = 0;        // times the port was asked for a fresh reading
  uint64_t headroom_steps_up = 0;       // times H was raised
  uint64_t headroom_steps_down = 0;     // times H recovered by one
  uint64_t episodes = 0;                // rejection episodes started
  uint64_t probes = 0;                  // half-open probes granted
  uint64_t release_lag_samples = 0;     // evidence taken for the release lag
  uint64_t visibility_lag_samples = 0;  // ... for the visibility lag
  uint64_t release_lag_from_rejections = 0;  // release-lag evidence that came from a 429
};

template <class Tick>
struct Snapshot {
  uint32_t limit = 0;            // L, as configured
  uint32_t effective_limit = 0;  // what grants are checked against now: L - H without a usable
                                 // reading, L - H_rejected with one (the gate counts foreign)
  uint32_t headroom = 0;         // H
  HeadroomReason headroom_reason = HeadroomReason::kNone;
  Tick headroom_since = 0;             // when H last changed (meaningful when headroom > 0)
  uint32_t limit_before_headroom = 0;  // L when H last rose from 0
  uint32_t headroom_rejected = 0;      // the part of H due to upstream rejections
  uint32_t headroom_foreign = 0;       // the part of H due to foreign usage in readings
  Tick headroom_recovery = 0;          // how long H_rejected now waits to step down: recover_after,
                                       // doubled by each rejection that came soon after a step down
  uint32_t foreign_seen = 0;           // foreign sessions the last fresh readings all showed
  Tick foreign_hold = 0;      // with readings stale, how long foreign headroom holds a step
  uint32_t foreign_peak = 0;  // the most foreign sessions seen while the latest usage lasted
  Tick foreign_away_for = 0;  // how long foreign usage was seen to stay away before it returned
  uint32_t held = 0;          // permits out (including granted, unclaimed tickets)
  uint32_t cooling = 0;       // released slots still counting against the limit
  uint32_t queued = 0;        // tickets in the wait queue
  uint32_t tickets_outstanding = 0;  // ticket records in use (queued + unresolved)
  bool closed = false;
  bool paused = false;
  Tick paused_until = 0;  // meaningful when paused
  Tick cooldown = 0;      // as configured: the floor of the effective cooldown
  Tick max_hold = 0;
  // Rejection episodes (a 429 starts one): half-open once its pause is over; the probe out.
  bool half_open = false;
  bool probe_out = false;
  Tick backoff = 0;                   // the pause the latest episode took
  uint32_t consecutive_episodes = 0;  // episodes in a row (what the backoff doubled for)
  Tick episode_started_at = 0;        // when the latest one started
  // Learned lag: the evidence-based estimates and what the limiter uses (the longer of the
  // estimate and the configured floor).
  Tick learned_release_lag = 0;
  Tick learned_visibility_lag = 0;
  Tick effective_cooldown = 0;
  Tick effective_visibility_lag = 0;
  bool has_reading = false;       // a usage reading was taken in
  uint32_t reading_sessions = 0;  // its session count
  Tick reading_sampled_at = 0;    // when it was true (reading age = now - this)
  uint32_t reading_missing = 0;   // our live sessions it was seen not to count yet
  bool gate_open = true;          // no usable reading: grants rest on cooldown alone
  uint32_t gate_budget = 0;       // grants the current reading still allows (when not open)
  uint32_t gate_room = 0;  // slots the gate kept free beyond the reading when it last judged:
                           // room for other clients and H_rejected, overlapping where they
                           // stand for the same usage (0 while the gate is open)
  Counters counters;
};

}  // namespace slotgate
