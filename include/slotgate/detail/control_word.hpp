// The limiter's one hot word. Everything that must change together lives here, so a single
// compare-and-swap decides it:
//
//   lim      the effective limit L - H: grants take slot records below it
//   queued   wait-queue entries announced and not yet popped by the granter (live or not)
//   credit   grants the usage gate still allows (kCreditOpen: no usable reading, gate open)
//   closed   close() was called
//   paused   grants are paused until paused_until
//   pseq     changes on every pause, so clearing an expired pause never erases a new one
//   token    a thread is granting queued waiters (only one at a time)
//   pending  someone asked for a grant run while the token was held; the holder runs again
//   halfopen a rejection episode is under way: once its pause is over, one probe may be granted
//   probe    the probe is out (or an episode is being started): no other grant until it ends
//   shrink   lim was lowered and a record at or above it may still be taken: grants count the
//            taken records until the granter finds none there and clears it
//
// Occupancy is not in the word: the slot records are the only count (detail/slot_table.hpp).
// A grant takes a record below lim with one CAS and reads the word before and after it; a
// release frees its record with one CAS and reads the word after it. Those CASes and loads are
// seq_cst, and so are the announcement of a waiter and the granter's look at the records, so
// that a release and an enqueue, or a grant and a lowered limit, cannot both miss each other
// (a store-buffering pair).
#pragma once

#include <stddef.h>

namespace slotgate::detail {

constexpr unsigned bits_for(unsigned long long max_value) noexcept {
  unsigned n = 0;
  while (max_value != 0) {
    ++n;
    max_value >>= 1;
  }
  return n;
}

// kGate: the port has a usage source. Without one the credit field is never moved from open,
// and every look at it is a constant (its bits stay in the word, so the layout is one).
template <class Word, size_t MaxSlots, size_t QueueCapacity, bool kGate = true>
struct ControlWord {
  static constexpr unsigned kSlotBits = bits_for(MaxSlots);
  static constexpr unsigned kQueueBits = bits_for(QueueCapacity);
  static constexpr unsigned kCreditBits = bits_for(MaxSlots + 1);
  static constexpr unsigned kPauseSeqBits = 4;

  static constexpr unsigned kLimShift = 0;
  static constexpr unsigned kQueuedShift = kLimShift + kSlotBits;
  static constexpr unsigned kCreditShift = kQueuedShift + kQueueBits;
  static constexpr unsigned kFlagShift = kCreditShift + kCreditBits;
  static constexpr unsigned kPauseSeqShift = kFlagShift + 7;
  static constexpr unsigned kTotalBits = kPauseSeqShift + kPauseSeqBits;
  static_assert(
      kTotalBits <= sizeof(Word) * 8,
      "MaxSlots and MaxWaiters do not fit the port's control word; use a wider word_type");

  static constexpr Word kQueuedOne = Word(1) << kQueuedShift;
  static constexpr Word kCreditOne = Word(1) << kCreditShift;
  static constexpr Word kCreditOpen = (Word(1) << kCreditBits) - 1;
  static constexpr Word kClosed = Word(1) << (kFlagShift + 0);
  static constexpr Word kPaused = Word(1) << (kFlagShift + 1);
  static constexpr Word kToken = Word(1) << (kFlagShift + 2);
  static constexpr Word kPending = Word(1) << (kFlagShift + 3);
  static constexpr Word kHalfOpen = Word(1) << (kFlagShift + 4);
  static constexpr Word kProbeOut = Word(1) << (kFlagShift + 5);
  static constexpr Word kShrink = Word(1) << (kFlagShift + 6);
  static constexpr Word kPauseSeqOne = Word(1) << kPauseSeqShift;
  static constexpr Word kPauseSeqMask = ((Word(1) << kPauseSeqBits) - 1) << kPauseSeqShift;

  static constexpr Word get(Word w, unsigned shift, unsigned bits) noexcept {
    return (w >> shift) & ((Word(1) << bits) - 1);
  }
  static constexpr Word put(Word w, unsigned shift, unsigned bits, Word v) noexcept {
    const Word mask = ((Word(1) << bits) - 1) << shift;
    return (w & ~mask) | ((v << shift) & mask);
  }

  static constexpr Word lim(Word w) noexcept { return get(w, kLimShift, kSlotBits); }
  static constexpr Word queued(Word w) noexcept { return get(w, kQueuedShift, kQueueBits); }
  static constexpr Word credit(Word w) noexcept {
    return kGate ? get(w, kCreditShift, kCreditBits) : kCreditOpen;
  }
  static constexpr bool closed(Word w) noexcept { return (w & kClosed) != 0; }
  static constexpr bool paused(Word w) noexcept { return (w & kPaused) != 0; }
  static constexpr bool token(Word w) noexcept { return (w & kToken) != 0; }
  static constexpr bool pending(Word w) noexcept { return (w & kPending) != 0; }
  static constexpr bool gate_open(Word w) noexcept { return credit(w) == kCreditOpen; }
  static constexpr bool half_open(Word w) noexcept { return (w & kHalfOpen) != 0; }
  static constexpr bool probe_out(Word w) noexcept { return (w & kProbeOut) != 0; }
  static constexpr bool shrinking(Word w) noexcept { return (w & kShrink) != 0; }

  static constexpr Word with_lim(Word w, Word v) noexcept {
    return put(w, kLimShift, kSlotBits, v);
  }
  static constexpr Word with_credit(Word w, Word v) noexcept {
    return put(w, kCreditShift, kCreditBits, v);
  }
  // The fast path may grant on this word with a record CAS and no CAS here: open, no waiter,
  // no pause, episode, gate budget or lowered limit to honour.
  // One mask test: the flags and the queue count zero, the credit field all ones.
  static constexpr Word kQueuedMask = ((Word(1) << kQueueBits) - 1) << kQueuedShift;
  static constexpr Word kCreditMask = kCreditOpen << kCreditShift;
  static constexpr Word kFastMask =
      kClosed | kPaused | kHalfOpen | kShrink | kQueuedMask | kCreditMask;
  static constexpr bool fast(Word w) noexcept { return ((w ^ kCreditMask) & kFastMask) == 0; }
  // The word admits a grant as it stands (for the fast path, `from_queue` false, no waiter is
  // queued either): not closed, paused or probing, gate credit left. Whether a record below
  // lim is free is the slot table's to say.
  static constexpr bool admits(Word w, bool from_queue) noexcept {
    return (w & (kClosed | kPaused)) == 0 && (from_queue || queued(w) == 0) &&
           !(half_open(w) && probe_out(w)) && credit(w) != 0;
  }
  // The word changes for a grant: a gate credit spent if the gate is closed, the probe marked
  // out if this is the half-open probe.
  static constexpr bool take_changes(Word w) noexcept { return !gate_open(w) || half_open(w); }
  static constexpr Word take_one(Word w) noexcept {
    return (w - (gate_open(w) ? Word(0) : kCreditOne)) | (half_open(w) ? kProbeOut : 0);
  }
  // A new pause: set the flag and move the sequence on (wrapping within its bits).
  static constexpr Word with_new_pause(Word w) noexcept {
    return (w & ~kPauseSeqMask) | ((w + kPauseSeqOne) & kPauseSeqMask) | kPaused;
  }
  static constexpr Word initial(Word limit) noexcept {
    return with_credit(with_lim(Word(0), limit), kCreditOpen);
  }
};

}  // namespace slotgate::detail
