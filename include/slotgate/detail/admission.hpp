// Admission: the control word (detail/control_word.hpp), the limit L it is kept in step with,
// and the pause that lives in it. Every change to the word is made here, with its memory
// order and what that order pairs with; the other parts hand in values (a target limit, a
// budget computed from a census) and never touch the word themselves.
//
// What the word decides: whether a grant may be made (a fast-path grant reads it before and
// after taking its slot record; any other confirms it with a CAS that spends a gate credit or
// marks the half-open probe), the wait queue's announcements (so no caller barges past a waiter and
// no wake-up is lost), the grant token and its pending requests (one granter at a time, none
// missed), the pause and the episode flags, and close.
//
// Every function is lock-free (a CAS loop repeats only while other threads change the word)
// and interrupt-safe; none reads a clock.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/config.hpp"
#include "slotgate/detail/pause.hpp"
#include "slotgate/status.hpp"
#include "slotgate/ticks.hpp"

namespace slotgate::detail {

// Why the word refuses a grant (kNone: it admits one).
enum class Refusal : uint8_t { kNone, kClosed, kWaitersAhead, kPaused, kProbeOut, kFull, kGated };

template <class Atomics, class Word, class Tick, class CW>
class Admission {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;

 public:
  using word_layout = CW;

  explicit Admission(uint32_t limit) noexcept {
    ctl_.store(CW::initial(limit), std::memory_order_relaxed);
    limit_.store(limit, std::memory_order_relaxed);
  }

  // ---- reading the word ---------------------------------------------------------------------

  // relaxed: admission decisions read only the word; the CAS that acts on one orders what
  // follows it.
  Word word() const noexcept { return ctl_.load(std::memory_order_relaxed); }
  // seq_cst: the reading half of the store-buffering pairs in control_word.hpp — a grant's
  // look before and after its record CAS, a release's look after freeing its record.
  Word word_sc() const noexcept { return ctl_.load(std::memory_order_seq_cst); }
  // acquire: pairs with the pause's flag CAS (detail/pause.hpp), so a pause's end read after
  // this belongs to the pause this word shows.
  Word word_acquire() const noexcept { return ctl_.load(std::memory_order_acquire); }
  // L, as configured. relaxed: the effective limit grants act on is published in the word.
  uint32_t limit() const noexcept { return limit_.load(std::memory_order_relaxed); }

  // Whether word c admits a grant at `now` (the fast path, from_queue false, also refuses while
  // waiters are queued). An expired pause is cleared on the way: kPaused with `retry` set means
  // reload and decide again. Whether a record is free is the slot table's to say.
  Refusal judge(Word c, Tick now, bool from_queue, bool& retry) noexcept {
    retry = false;
    if (CW::closed(c)) return Refusal::kClosed;
    if (!from_queue && CW::queued(c) != 0) return Refusal::kWaitersAhead;
    if (CW::paused(c)) {
      retry = pause_.clear_if_over(ctl_, c, now);
      return Refusal::kPaused;
    }
    if (CW::half_open(c) && CW::probe_out(c)) return Refusal::kProbeOut;  // one probe at a time
    if (CW::credit(c) == 0) return Refusal::kGated;
    return Refusal::kNone;
  }

  // ---- grants ---------------------------------------------------------------------------------

  // Confirm a grant of record `slot` (already taken in the slot table) on word c: spend a gate
  // credit and mark the half-open probe, or leave the word as it is; the CAS is made either way
  // so that nothing changed between the judgement of c and the grant. False if the word changed
  // since c was read (c is then the new word, to be judged again). `probe` says this grant is
  // the probe.
  bool confirm(Word& c, bool& probe) noexcept {
    // release: publishes our record's claim to a later RMW on the word (a census taken after
    // it counts the grant; tests/genmc/confirmed_grant_meets_census.cpp, which Relacy does not
    // catch). No acquire: the grant was judged on c before this CAS, and nothing after it
    // reads what another thread published with the word. relaxed on failure: c is judged
    // again from scratch.
    if (!ctl_.compare_exchange_weak(c, CW::take_one(c), std::memory_order_release,
                                    std::memory_order_relaxed))
      return false;
    probe = CW::half_open(c);
    return true;
  }

  // A lowered limit whose records above it are all free again: clear `shrink` on word c, so
  // grants stop counting. `taken_from(lim)` says whether a record at or above lim is taken.
  template <class TakenFrom>
  void settle_shrink(TakenFrom taken_from) noexcept {
    // seq_cst: the scan below must come after the CAS that lowered the limit in the single
    // total order (the scanning half of its pair with a grant). When the lowering was another
    // thread's, an acquire load is not enough for that: acquire orders our scan after it by
    // happens-before, which C++'s seq_cst order does not follow from one thread's CAS to
    // another's loads (tests/genmc/settle_after_lowered_limit.cpp breaks with acquire here).
    Word c = ctl_.load(std::memory_order_seq_cst);
    while (CW::shrinking(c) && !taken_from(static_cast<size_t>(CW::lim(c)))) {
      // On success grants below lim stop counting, which is sound because every record above
      // it was seen free after the limit fell (a grant of one of them in flight sees the lower
      // limit and gives it back). seq_cst on failure: the reloaded word is the next look, as
      // above; on success only because a CAS's failure order may be no stronger (the clearing
      // itself publishes nothing).
      if (ctl_.compare_exchange_weak(c, c & ~CW::kShrink, std::memory_order_seq_cst,
                                     std::memory_order_seq_cst))
        return;
    }
  }

  // ---- the wait queue's announcements ---------------------------------------------------------

  // A waiter is about to be queued: from here on the fast path will not barge and the granter
  // may look for it. False if closed.
  bool announce() noexcept {
    Word c = ctl_.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    // seq_cst: the writing half of the store-buffering pair with a release (control_word.hpp):
    // either the release's look at the word after freeing its record sees us queued and runs
    // the granter, or the granter's look at the records, which comes after this, sees it free.
    // The announcement publishes nothing; the push and the kick that follow do.
    do {
      if (CW::closed(c)) return false;
    } while (!ctl_.compare_exchange_weak(c, c + CW::kQueuedOne, std::memory_order_seq_cst,
                                         std::memory_order_relaxed));
    return true;
  }
  // An announcement whose entry never reached the queue. relaxed: undoes ours.
  void unannounce() noexcept { ctl_.fetch_sub(CW::kQueuedOne, std::memory_order_relaxed); }
  // The granter took an entry off the queue (granted, or dropped as cancelled or failed).
  // relaxed: the fast path this may reopen reads only the word and takes records with its own
  // CAS; a grant itself is published by its ticket's own release.
  void dequeued() noexcept { ctl_.fetch_sub(CW::kQueuedOne, std::memory_order_relaxed); }

  // ---- the grant token ------------------------------------------------------------------------

  // Take the grant token (true: the caller runs the granter), or ask its holder to run again.
  // `replaced` is the word this replaced.
  bool kick(Word& replaced) noexcept {
    Word c = ctl_.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    for (;;) {
      const bool run = !CW::token(c);
      const Word next = c | (run ? CW::kToken : CW::kPending);
      // acq_rel: release publishes what we did before (a push, a cancel) to the token holder
      // who sees `pending`; acquire takes over the token from its last holder's release. The
      // CAS is made even when the bits are already set, to join that release sequence.
      if (ctl_.compare_exchange_weak(c, next, std::memory_order_acq_rel,
                                     std::memory_order_relaxed)) {
        replaced = c;
        return run;
      }
    }
  }
  // Let go of the token unless someone asked for another run. True when let go.
  bool finish() noexcept {
    Word c = ctl_.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    for (;;) {
      const Word next = CW::pending(c) ? (c & ~CW::kPending) : (c & ~CW::kToken);
      // The acquire half is not shown weakened: what a setter of `pending` publishes that
      // matters (tickets, records, queue entries) has pairs of its own; the rest is bookkeeping.
      // acq_rel: release hands the granter's state and the queue to the next holder; acquire
      // pairs with the release of whoever set `pending`, so we see what they published before
      // we run again.
      if (ctl_.compare_exchange_weak(c, next, std::memory_order_acq_rel, std::memory_order_relaxed))
        return !CW::pending(c);
    }
  }

  // ---- the limit and the gate's credit --------------------------------------------------------

  // Set L (the caller then brings the word's limit in step with sync_limit).
  void set_limit(uint32_t limit) noexcept {
    // relaxed: sync_limit publishes the effective limit that grants act on.
    limit_.store(limit, std::memory_order_relaxed);
  }
  // Make the word's limit L minus held_back(L). Lowering it sets `shrink` in the same CAS, so
  // from then on grants count taken records, until settle_shrink finds none above the new
  // limit (`taken_from`, tried here at once). Repeats only while other threads change L, H or
  // the word meanwhile.
  template <class HeldBack, class TakenFrom>
  void sync_limit(HeldBack held_back, TakenFrom taken_from) noexcept {
    for (;;) {
      // relaxed: the limit field carries no data; the loop re-reads until it settles.
      const uint32_t limit = limit_.load(std::memory_order_relaxed);
      const Word target = limit - held_back(limit);
      Word c = ctl_.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
      if (CW::lim(c) == target) break;
      Word next = CW::with_lim(c, target);
      if (target < CW::lim(c)) {
        next |= CW::kShrink;
        // A lower limit may leave the gate's budget too large (it was computed against the
        // old one): spend it all, so the next grant has the granter judge the reading again.
        if (!CW::gate_open(c)) next = CW::with_credit(next, 0);
      }
      // seq_cst: the writing half of the store-buffering pair with a fast-path grant: either
      // its look at the word after taking a record sees the lower limit (and gives the record
      // back), or settle_shrink's scan after this sees the record taken.
      ctl_.compare_exchange_weak(c, next, std::memory_order_seq_cst, std::memory_order_relaxed);
    }
    settle_shrink(taken_from);
  }
  // Set the gate's credit to credit_for(word): the budget counted from a census taken after
  // the word was read. Token holder.
  template <class CreditFor>
  void set_credit(CreditFor credit_for) noexcept {
    for (;;) {
      // acquire: pairs with release RMWs on the word (a confirmed grant), so a census taken
      // after this counts every grant the word shows (tests/genmc/confirmed_grant_meets_census
      // breaks with relaxed here).
      Word c = ctl_.load(std::memory_order_acquire);
      const Word target = credit_for(c);
      if (CW::credit(c) == target) return;
      if (CW::gate_open(c) && target != CW::kCreditOpen) {
        // Fast-path grants change no word, so a census may miss one in flight: close the gate
        // first (credit 0), then count again. seq_cst: the writing half of the pair with a
        // fast-path grant (its look after taking a record sees the gate closed and gives the
        // record back, or the census after this, seq_cst, sees it taken).
        ctl_.compare_exchange_weak(c, CW::with_credit(c, 0), std::memory_order_seq_cst,
                                   std::memory_order_relaxed);
        continue;
      }
      // A confirmed grant between the census and here changes the word and fails the CAS, so
      // the budget is never set from a census that missed one; we then look again. A release
      // the census missed only makes it count more.
      // relaxed: the credit is read only from the word, and on success we read nothing after.
      if (ctl_.compare_exchange_weak(c, CW::with_credit(c, target), std::memory_order_relaxed,
                                     std::memory_order_relaxed))
        return;
    }
  }

  // ---- pauses, episodes and close -------------------------------------------------------------

  // No grants until `until` unless a later pause holds (detail/pause.hpp).
  void pause_until(Tick until, Tick now) noexcept { pause_.extend(ctl_, until, now); }
  // Clear the pause in c if it is over at `now`.
  void clear_pause_if_over(Word c, Tick now) noexcept { pause_.clear_if_over(ctl_, c, now); }
  // The end of the pause a word read with word_acquire() shows (or a statistic).
  Tick pause_end() const noexcept { return pause_.end(); }

  // A rejection: start an episode (half-open with the probe marked out, which holds every
  // grant at once) if the limiter is open, or if `probe` is the probe under way. False if the
  // rejection belongs to the episode under way. `was_open`: no episode was under way.
  bool start_episode(bool probe, bool& was_open) noexcept {
    Word c = ctl_.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    for (;;) {
      const bool ends_probe = probe && CW::half_open(c) && CW::probe_out(c);
      if (CW::half_open(c) && !ends_probe) return false;
      // relaxed: the flags publish nothing. A grant judges the flags themselves, which this
      // CAS makes atomic with the rest of the word. The episode's bookkeeping
      // (detail/episodes.hpp) is written after this CAS and after the CAS that ends an
      // episode, so no order here could publish it; it is relaxed atomics, and a stale read
      // there costs at most one backoff step. (acq_rel here was never caught when weakened:
      // it ordered nothing.)
      if (ctl_.compare_exchange_weak(c, c | CW::kHalfOpen | CW::kProbeOut,
                                     std::memory_order_relaxed, std::memory_order_relaxed)) {
        was_open = !CW::half_open(c);
        return true;
      }
    }
  }
  // Clear `flags` while half-open with the probe out; true if this call did.
  bool clear_if_probe_out(Word flags) noexcept {
    Word c = ctl_.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    while (CW::half_open(c) && CW::probe_out(c)) {
      // relaxed: as start_episode's. episodes.opened() runs after this CAS, so it cannot
      // publish it; the grants this lets go read only the word.
      if (ctl_.compare_exchange_weak(c, c & ~flags, std::memory_order_relaxed,
                                     std::memory_order_relaxed))
        return true;
    }
    return false;
  }
  // Clear the probe mark once an episode's pause holds grants.
  void clear_probe_mark() noexcept {
    Word c = ctl_.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    // relaxed: clearing the probe mark publishes nothing; the pause flag already holds grants.
    while ((c & CW::kProbeOut) != 0 &&
           !ctl_.compare_exchange_weak(c, c & ~CW::kProbeOut, std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {
    }
  }
  // End the pause and any episode at once. Returns the word it replaced.
  Word resume() noexcept {
    constexpr Word kEpisode = CW::kPaused | CW::kHalfOpen | CW::kProbeOut;
    // relaxed: re-checked by the CAS.
    Word c = ctl_.load(std::memory_order_relaxed);
    // relaxed: clearing the flags publishes nothing; a reader that sees the pause flag clear
    // reads no pause data (the pause's end is read only under a set flag).
    while ((c & kEpisode) != 0 &&
           !ctl_.compare_exchange_weak(c, c & ~kEpisode, std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {
    }
    return c;
  }
  // Refuse every later grant and announcement.
  void close() noexcept {
    // acquire: pairs with each enqueue's kick (acq_rel), so every ticket published before
    // this is seen Waiting by the caller's scan after it; an enqueue kicking after us sees the
    // flag and fails its ticket itself. No release: nothing is written before the flag, and
    // readers of the flag read nothing else.
    Word c = ctl_.load(std::memory_order_relaxed);
    while (!ctl_.compare_exchange_weak(c, c | CW::kClosed, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
    }
  }

 private:
  alignas(kCacheLine) atomic<Word> ctl_;
  alignas(kCacheLine) atomic<uint32_t> limit_;
  Pause<Atomics, Word, Tick, CW> pause_;
};

}  // namespace slotgate::detail
