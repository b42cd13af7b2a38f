// The release path: ending a permit. Its slot record frees at once, or cools for the
// effective cooldown (detail/slot_table.hpp); a rejected session starts a rejection episode or
// joins the one under way (detail/episodes.hpp), before anything can be granted into the freed
// slot; the half-open probe ending well opens the limiter.
//
// Written over the limiter's parts (detail/parts.hpp: P). Lock-free, no clock (`now` is the
// caller's), interrupt-safe when the port's notify is.
#pragma once

#include <stdint.h>

#include "slotgate/detail/slot_table.hpp"
#include "slotgate/detail/statistics.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/status.hpp"
#include "slotgate/usage.hpp"

namespace slotgate::detail {

template <class P>
struct ReleasePath {
  using tick_type = typename P::tick_type;
  using outcome_type = typename P::outcome_type;
  using CW = typename P::CW;
  using Tk = typename P::Tk;

  static Status release(P& s, Permit p, tick_type now, outcome_type outcome) noexcept {
    if (!p.valid() || p.slot >= P::kMaxSlots) {
      s.stats.count(Event::kBadReleases);
      return Status::kInvalidPermit;
    }
    Status why = Status::kOk;
    const tick_type cooldown = s.view.effective_cooldown();
    tick_type cooling = cooldown;
    if constexpr (P::kHasUsageSource)
      if (s.view.gate().usable_until(now, tick_type(now + cooldown))) cooling = 0;
    // We hold p's only honoured release, so if p is the probe, nobody else ends it.
    const bool probe = s.episodes.is_probe(p);
    tick_type granted = 0;
    const SlotRelease r =
        s.slots.release(p, now, cooling, s.view.counted_for(cooldown), why, &granted);
    if (r == SlotRelease::kRejected) {
      s.stats.count(Event::kBadReleases);
      return why;
    }
    // A rejection first, so that no grant made for the freed slot slips in before the pause;
    // a probe that ended well opens only once its slot is free, so the budget judged then
    // counts it as ended, not as a grant in flight.
    const bool rejected = outcome.kind == outcome_type::Kind::kRejected;
    if (rejected) on_upstream_rejection(s, now, outcome, probe, granted);
    if constexpr (P::kHasUsageSource)
      s.view.request_refresh_if_held(now, true, s.port, s.adm, s.slots);
    if (r == SlotRelease::kFreed)
      s.after_free(now);
    else if (CW::queued(s.adm.word()) != 0)
      s.wake_poller();  // waiters must learn the new, possibly earlier, deadline
    if (!rejected && probe) s.end_probe(now);
    return Status::kOk;
  }

  // A rejection: it starts an episode if the limiter was open, or if it is the half-open
  // probe's; otherwise it belongs to the episode under way, whose pause only a longer
  // Retry-After extends. Starting one sets half-open with the probe marked out, which holds
  // every grant at once; then the pause is written, then the probe mark cleared, so one probe
  // goes when the pause ends.
  static void on_upstream_rejection(P& s, tick_type now, outcome_type outcome, bool probe,
                                    tick_type granted) noexcept {
    s.stats.count(Event::kRejectedByUpstream);
    tick_type retry = outcome.retry_after;
    if (!Tk::valid_duration(retry)) retry = Tk::kMaxDuration;
    bool was_open = false;
    if (!s.adm.start_episode(probe, was_open)) {  // part of the episode under way
      if (outcome.has_retry_after && retry != 0) s.adm.pause_until(tick_type(now + retry), now);
      s.wake_poller();
      return;
    }
    const tick_type d = s.episodes.settle(s.episodes.begin(now), outcome.has_retry_after, retry);
    if (d != 0) s.adm.pause_until(tick_type(now + d), now);
    s.adm.clear_probe_mark();  // the pause now holds grants; its end lets one probe go
    // The room the gate keeps is judged by the granter, which the pause holds until it ends.
    if constexpr (P::kHasUsageSource)
      s.view.headroom().file_rejection_step(now, s.adm.limit(), probe);
    if (s.view.headroom().step_up_for_rejection(now, s.adm.limit()))
      s.view.sync_limit(now, s.adm, s.slots);
    if constexpr (P::kHasUsageSource)
      if (was_open) s.view.lag().note_rejection(now, granted);
    s.wake_poller();
  }
};

}  // namespace slotgate::detail
