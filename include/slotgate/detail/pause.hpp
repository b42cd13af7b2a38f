// Pause: no grants until a time. The end is a tick of its own; the flag (with a sequence, so a
// racing pause is told apart) lives in the control word, where admission reads it in the
// same load as everything else. This part owns both and every memory order on them; callers
// pass the control word in.
//
// Under a set flag the end is a live pause's; otherwise it is an old pause's (possibly one
// that looks like the future after the clock wrapped) or one a concurrent pause wrote and has
// not flagged yet. Every function is lock-free and interrupt-safe, with wrapping ticks.
#pragma once

#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/ticks.hpp"

namespace slotgate::detail {

template <class Atomics, class Word, class Tick, class CW>
class Pause {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  using Tk = Ticks<Tick>;

 public:
  Pause() noexcept { until_.store(0, std::memory_order_relaxed); }

  // The end of the pause flagged in a control word its caller loaded with acquire (or a
  // statistic, for a snapshot). relaxed: ordered by that acquire.
  Tick end() const noexcept { return until_.load(std::memory_order_relaxed); }

  // True if the pause seen in c is over at `now` (and is now cleared, by us or another), or
  // if the pause changed since c was read: either way the caller reloads and decides again.
  bool clear_if_over(atomic<Word>& ctl, Word c, Tick now) noexcept {
    constexpr Word kPauseBits = CW::kPaused | CW::kPauseSeqMask;
    // acquire: pairs with the flag CAS of the pause in c (set_flag), so the end read
    // below is at least the one that pause wrote; the caller's c may be a relaxed read.
    const Word fresh = ctl.load(std::memory_order_acquire);
    if ((fresh & kPauseBits) != (c & kPauseBits)) return true;
    // relaxed: ordered by the acquire above.
    if (!Tk::reached(until_.load(std::memory_order_relaxed), now)) return false;
    // relaxed: a failed CAS means a new pause (its sequence moved) or another field changed;
    // either way the caller reloads and decides again.
    ctl.compare_exchange_strong(c, c & ~CW::kPaused, std::memory_order_relaxed,
                                std::memory_order_relaxed);
    return true;
  }

  // Pause until `until` unless a later pause holds. True if this call started a new pause.
  //
  // The end and the flag are two words, so a pause is written in two steps: its end, then the
  // flag. Under a set flag until_ is a live pause's end; otherwise it is an old pause's
  // (possibly one that looks like the future after the clock wrapped) or one a concurrent
  // pause wrote and has not flagged yet, and a racing pause cannot tell which. So each pause
  // checks again once flagged: its own end must still hold, and if another pause flagged
  // between its look and its flag, so must the end it overwrote.
  bool extend(atomic<Word>& ctl, Tick until, Tick now) noexcept {
    // acquire: pairs with a pause's flag CAS, so the end, read after it, is at least the
    // end that pause wrote.
    bool live = CW::paused(ctl.load(std::memory_order_acquire));
    Tick replaced = until_.load(std::memory_order_relaxed);
    const bool judged_live = live;
    for (;;) {
      if (live && Tk::before(now, replaced) && !Tk::before(replaced, until)) return false;
      // relaxed: the flag CAS below publishes it.
      if (until_.compare_exchange_strong(replaced, until, std::memory_order_relaxed,
                                         std::memory_order_relaxed))
        break;
      live = true;  // written meanwhile by a pause under way
    }
    const bool started = set_flag(ctl);
    bool raised = raise_end(until);
    // Another pause flagged between our look and our flag: the end we overwrote may have been
    // its, written before it flagged. (It may instead have been an old end that looks like
    // the future — one resume() cancelled, or one from half the clock's range ago; raising to
    // it then pauses no longer than that old pause would have.)
    if (!started && !judged_live && Tk::before(now, replaced))
      raised = raise_end(replaced) || raised;
    if (raised) set_flag(ctl);  // a poll may have cleared the flag against the lower end
    return started;
  }

 private:
  // Set the pause flag under a new sequence. True if it was clear.
  static bool set_flag(atomic<Word>& ctl) noexcept {
    Word c = ctl.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    // acq_rel: release pairs with the acquire load of the word before the end is read
    // (poll, admit, next_deadline, extend); acquire pairs with an earlier pause's flag,
    // so the re-check after this sees the end that pause wrote before flagging.
    while (!ctl.compare_exchange_weak(c, CW::with_new_pause(c), std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
    }
    return !CW::paused(c);
  }

  // Raise until_ to `to` if it is earlier; true if it wrote. Called once our own end
  // is written, so the values it compares are pauses' under way and the wrap-safe order holds.
  bool raise_end(Tick to) noexcept {
    // relaxed: the flag CAS that follows a raise publishes it; a stale value fails the CAS.
    Tick cur = until_.load(std::memory_order_relaxed);
    while (Tk::before(cur, to)) {
      if (until_.compare_exchange_weak(cur, to, std::memory_order_relaxed,
                                       std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  atomic<Tick> until_;
};

}  // namespace slotgate::detail
