// The grant path: taking a slot for a caller, on the fast path or for the granter's front
// waiter. A slot record is taken with one CAS (detail/slot_table.hpp), then the control word
// (detail/admission.hpp) confirms the grant: on the fast path by a second look that finds it
// unchanged, otherwise with a CAS that also spends a gate credit or marks the probe. Any change
// between the two gives the record back.
//
// Written over the limiter's parts (detail/parts.hpp: P). Lock-free, no clock (`now` is the
// caller's), interrupt-safe when the port's notify is.
#pragma once

#include <stdint.h>

#include "slotgate/detail/admission.hpp"
#include "slotgate/detail/statistics.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/status.hpp"

namespace slotgate::detail {

template <class P>
struct GrantPath {
  using tick_type = typename P::tick_type;
  using word_type = typename P::word_type;
  using CW = typename P::CW;
  using Slots = typename P::Slots;

  struct Admit {
    Status status;
    bool retry;
  };
  enum class Confirmed : uint8_t { kYes, kOverLimit, kJudgeAgain };

  // May a grant be made on control word c at `now`? For the fast path (from_queue false) queued
  // waiters also refuse. `retry` asks the caller to reload the word (something was reclaimed).
  static __attribute__((always_inline)) Admit admit(P& s, word_type c, tick_type now,
                                                    bool from_queue) noexcept {
    bool retry = false;
    const Refusal r = s.adm.judge(c, now, from_queue, retry);
    switch (r) {
      case Refusal::kClosed:
        return {Status::kClosed, false};
      case Refusal::kWaitersAhead:
        s.stats.count(Event::kWaitersAhead);
        return {Status::kWaitersAhead, false};
      case Refusal::kPaused:
        if (retry) return {Status::kOk, true};
        s.stats.count(Event::kHeldBackPause);
        return {Status::kPaused, false};
      case Refusal::kProbeOut:
        s.stats.count(Event::kHeldBackProbe);
        return {Status::kPaused, false};
      case Refusal::kNone:
        // Under a lowered limit a free record below it does not mean a free slot: with every
        // slot taken, say so now rather than take a record and give it back (whose look would
        // run the granter for nothing).
        if (CW::shrinking(c) && full(s, c, now, from_queue, retry))
          return {retry ? Status::kOk : Status::kNoSlot, retry};
        return {Status::kOk, false};
      case Refusal::kGated:
        // Every slot taken as well: kNoSlot first (a full limiter waits for a release, not for
        // a reading), as when the word held the occupancy. A cold path.
        if (full(s, c, now, from_queue, retry))
          return {retry ? Status::kOk : Status::kNoSlot, retry};
        s.stats.count(Event::kHeldBackGate);
        return {Status::kGated, false};
      case Refusal::kFull:
        break;
    }
    return {Status::kNoSlot, false};
  }

  // Whether every slot is taken (the records are the occupancy): then `retry` says cooldowns
  // that ended were freed on the way (decide again), else the refusal has been counted.
  static bool full(P& s, word_type c, tick_type now, bool from_queue, bool& retry) noexcept {
    retry = false;
    if (s.slots.taken() < CW::lim(c)) return false;
    retry = no_record(s, c, now, from_queue);
    return true;
  }

  // No record below the word's limit was free. Frees cooldowns that ended (true: try again),
  // else counts why.
  static bool no_record(P& s, word_type c, tick_type now, bool from_queue) noexcept {
    if (s.slots.reclaim_cooled(now, s.view.covered(now)) != 0) {
      // Someone else may want what we do not take: the freeing half of the pair with an
      // enqueue is the reclaim's CAS; this is the look after it.
      if (!from_queue) s.after_free(now);
      return true;
    }
    if (s.slots.census().cooling != 0)
      s.stats.count(Event::kHeldBackCooldown);
    else if (CW::lim(c) < s.adm.limit())  // attribution only
      s.stats.count(Event::kHeldBackHeadroom);
    else if (!from_queue)
      s.stats.count(Event::kNoSlot);
    return false;
  }

  // Take a slot if admission allows: for the fast path, or (from the granter) for the front
  // waiter. `probe` says the grant is the half-open probe.
  //
  // The fast path: the word allows a grant with no change to it (fast()), a record below its
  // limit is taken with one CAS, and the word read again allows it still, with the record
  // below its limit: the grant is made at that second look. Any change between the looks (a
  // waiter queued, a pause, a lowered limit, a closed gate) gives the record back.
  static Status take(P& s, tick_type now, bool from_queue, bool& probe, Permit& out) noexcept {
    out = Permit{};
    const word_type c = s.adm.word_sc();
    if (!from_queue && CW::fast(c) && !unjudged_reading(s, false)) {
      uint32_t i = s.slots.try_claim(CW::lim(c));
      // Cooldowns that ended free their records here (their CAS is the freeing half of the
      // pair with an enqueue; the look below is the reading half).
      if (i == Slots::kNone && s.slots.reclaim_cooled(now, s.view.covered(now)) != 0)
        i = s.slots.try_claim(CW::lim(c));
      if (i != Slots::kNone) {
        const word_type now_c = s.adm.word_sc();
        if (CW::fast(now_c) && i < CW::lim(now_c)) {
          out = s.slots.finish_claim(i, now, false);
          return Status::kOk;
        }
        give_back_claim(s, i, now, false);
      }
    }
    return take_slow(s, now, from_queue, probe, out);
  }

  // Whether the fast path at `now` would find a slot (Limiter::would_admit): a hint that
  // changes and counts nothing. relaxed (Admission::word), and the pause's end read beside it
  // may be another pause's: a hint is only ever wrong that way, never unsafe, since
  // try_acquire decides on its own.
  static bool would_admit(const P& s, tick_type now) noexcept {
    word_type c = s.adm.word();
    if (CW::paused(c) && P::Tk::reached(s.adm.pause_end(), now)) c &= ~CW::kPaused;  // over
    return CW::admits(c, false) && s.slots.any_claimable(CW::lim(c), now);
  }

  // A record taken by try_claim that the word no longer allows: back, and the look after. The
  // granter (from_queue: it holds the token) does not look: it decides again before letting
  // the token go, and a kick of its own would have it run again, forever, while a lowered limit
  // keeps refusing its front waiter.
  static void give_back_claim(P& s, uint32_t i, tick_type now, bool from_queue) noexcept {
    s.slots.abort_claim(i);
    if (!from_queue) s.after_free(now);
  }

  // For the fast path: the port holds a reading no granter has judged (the gate being on).
  static bool unjudged_reading(P& s, bool from_queue) noexcept {
    if constexpr (P::kHasUsageSource)
      return !from_queue && s.view.gate().enabled() && s.view.reading_pending(s.port);
    return false;
  }

  // Everything else: reclaiming, pauses, the gate, a lowered limit, retries. A record is taken
  // first, then the word confirms the grant with a CAS (spending a gate credit, marking the
  // probe); under a lowered limit the taken records are counted between the two. Out of line,
  // to keep the fast path small enough to inline.
  static __attribute__((noinline)) Status take_slow(P& s, tick_type now, bool from_queue,
                                                    bool& probe, Permit& out) noexcept {
    word_type c = s.adm.word_sc();
    bool governed = from_queue;  // the granter has just judged the gate itself
    for (;;) {
      const Admit a = admit(s, c, now, from_queue);
      if (a.retry) {
        c = s.adm.word_sc();
        continue;
      }
      if (a.status == Status::kGated && !governed) {
        // The budget may be out of date (a new reading, or the old one aged out): let the
        // granter judge it again once, then decide again.
        governed = true;
        s.kick(now);
        c = s.adm.word_sc();
        continue;
      }
      if (a.status != Status::kOk) return a.status;
      // The port may hold a reading no granter has judged: have it judged first (by us, or by
      // the holder of the token, and then the budget in the word may not reflect it yet).
      if (!governed && unjudged_reading(s, false)) {
        // A full limiter says kNoSlot without having the reading judged first.
        bool retry = false;
        if (full(s, c, now, from_queue, retry)) {
          if (!retry) return Status::kNoSlot;
          c = s.adm.word_sc();
          continue;
        }
        governed = true;
        s.kick(now);
        if (s.view.reading_pending(s.port)) {
          s.stats.count(Event::kHeldBackGate);
          return Status::kGated;
        }
        c = s.adm.word_sc();
        continue;
      }
      const uint32_t i = s.slots.try_claim(CW::lim(c));
      if (i == Slots::kNone) {
        if (no_record(s, c, now, from_queue)) {
          c = s.adm.word_sc();
          continue;
        }
        return Status::kNoSlot;
      }
      switch (confirm(s, i, c, now, from_queue)) {
        case Confirmed::kYes:
          probe = CW::half_open(c);
          out = s.slots.finish_claim(i, now, from_queue);
          return Status::kOk;
        case Confirmed::kOverLimit:
          give_back_claim(s, i, now, from_queue);
          if (!from_queue) s.stats.count(Event::kHeldBackHeadroom);
          return Status::kNoSlot;
        case Confirmed::kJudgeAgain:
          give_back_claim(s, i, now, from_queue);
          break;
      }
    }
  }

  // Confirm the grant of record i on word c (judged to admit it); on kYes, c is the word as it
  // was just before the grant. A word that changed meanwhile but admits the grant as well is
  // confirmed on; anything else is judged again from scratch.
  static Confirmed confirm(P& s, uint32_t i, word_type& c, tick_type now,
                           bool from_queue) noexcept {
    for (;;) {
      if (i >= CW::lim(c)) return Confirmed::kJudgeAgain;
      // A lowered limit with records still out above it: the taken records (ours included)
      // must fit under it. seq_cst scan after our seq_cst CAS: of two grants counting at once,
      // at least one sees the other.
      if (CW::shrinking(c) && s.slots.taken() > CW::lim(c)) {
        // Cooldowns that ended count no more: free them and decide again from the start (the
        // give-back's look at the word is the one after their freeing CASes).
        if (s.slots.reclaim_cooled(now, s.view.covered(now)) == 0) return Confirmed::kOverLimit;
        return Confirmed::kJudgeAgain;
      }
      const word_type judged = c;
      bool probe = false;
      if (s.adm.confirm(c, probe)) {
        c = judged;
        return Confirmed::kYes;
      }
      if (!CW::admits(c, from_queue)) return Confirmed::kJudgeAgain;
    }
  }
};

}  // namespace slotgate::detail
