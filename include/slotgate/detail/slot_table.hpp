// The slot records behind permits.
//
// A record's state word packs a phase and a generation. Every change of owner is a CAS on that
// word, so a permit (slot, generation) is honoured at most once, and a stale one never matches.
//
//   Free(g) --claim--> Claiming(g+1) --> Held(g+1) --release--> Releasing(g+1) --> Cooling(g+1)
//      ^                                                                 |               |
//      +----------------------------------------------- no cooldown -----+-- cooldown over
//
// A Held record's grant time is its latest grant; a Cooling one's timestamp says when the
// cooldown ends (and stays, once Free, as when the record became free). A record keeps its latest
// grant and release times (evidence for learned lags) and its *carry*: the sessions that ended on
// it and that the upstream may still count (until release + cooldown + tail, the caller's bound).
// The carry is a count, the latest time any of them may still be counted, and the latest grant and
// release among them; the usage gate counts them all while any may still count, the latest
// grant is one a reading may be missing, and the latest release is after the reading's date
// (a reading dated after a session ended shows it if the upstream still counts it). A record can be
// granted again while its last sessions still count upstream; the carry is what keeps the gate from
// forgetting them.
//
// Claiming and Releasing are private to the one thread that won the CAS: it writes the record's
// grant time or timestamp, then publishes the stable phase with a release store. Readers act only
// on the stable phases, so they never see a timestamp of another phase.
//
// The table is the limiter's only count of occupancy: a record not Free is a slot taken (held,
// cooling, or being granted or released). A grant takes a Free record below the control word's
// limit, so while the limit has not been lowered under records still out, taken records never
// exceed it; after such a lowering, grants count the taken records (taken()) until none is
// left above the limit (detail/control_word.hpp, `shrink`).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/config.hpp"
#include "slotgate/detail/heartbeat.hpp"
#include "slotgate/detail/record_span.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/status.hpp"
#include "slotgate/ticks.hpp"

namespace slotgate::detail {

enum class SlotPhase : uint32_t {
  kFree = 0,
  kClaiming = 1,
  kHeld = 2,
  kReleasing = 3,
  kCooling = 4
};

struct SlotWord {
  static constexpr unsigned kPhaseBits = 3;
  static constexpr uint32_t kPhaseMask = (1u << kPhaseBits) - 1;
  // Set by the lease watchdog's CAS, kept through Cooling and Free until the next claim: a
  // late release of that generation is told kReclaimed, whatever it races with.
  static constexpr uint32_t kReclaimed = 1u << kPhaseBits;
  static constexpr unsigned kGenShift = kPhaseBits + 1;
  static constexpr uint32_t kGenMask = 0xFFFFFFFFu >> kGenShift;

  static constexpr uint32_t make(uint32_t gen, SlotPhase p) noexcept {
    return (gen << kGenShift) | static_cast<uint32_t>(p);
  }
  static constexpr uint32_t with_phase(uint32_t w, SlotPhase p) noexcept {
    return (w & ~kPhaseMask) | static_cast<uint32_t>(p);
  }
  static constexpr uint32_t gen(uint32_t w) noexcept { return w >> kGenShift; }
  static constexpr SlotPhase phase(uint32_t w) noexcept {
    return static_cast<SlotPhase>(w & kPhaseMask);
  }
  static constexpr uint32_t next_gen(uint32_t g) noexcept {
    const uint32_t n = (g + 1) & kGenMask;
    return n == 0 ? 1 : n;  // 0 is never issued
  }
};

// What a release did to the record.
enum class SlotRelease : uint8_t { kFreed, kCooling, kRejected };

// The table's code over its records (detail/record_span.hpp): N of them inline, or, with
// N == 0, records it is handed (SlotTable below picks, by SLOTGATE_SIZE_ERASURE).
template <class Atomics, class Tick, class Counter, size_t N>
class SlotRecords {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  using Tk = Ticks<Tick>;

 public:
  // Releases each record remembers. Grants take records below the limit only, so a record is
  // reused about every `limit` sessions; the learned lag and the gate's refresh schedule need
  // releases further back than one (each entry is evidence, never accounting). A power of two.
  static constexpr uint32_t kReleaseHistory = 4;
  static_assert((kReleaseHistory & (kReleaseHistory - 1)) == 0, "a power of two");

  struct Record;

 protected:
  // N records inline; or, with N == 0, `count` records built already (SlotTable's storage is
  // its first base). Each constructor compiles only where it is used.
  SlotRecords() noexcept { init(); }
  SlotRecords(Record* records, size_t count) noexcept : records_(records, count) { init(); }

 private:
  void init() noexcept {
    for (size_t i = 0; i < records_.size(); ++i) {
      Record& r = records_[i];
      r.word.store(SlotWord::make(0, SlotPhase::kFree), std::memory_order_relaxed);
      r.stamp.store(0, std::memory_order_relaxed);
      r.granted_at.store(0, std::memory_order_relaxed);
      for (auto& t : r.released) t.store(0, std::memory_order_relaxed);
      r.released_n.store(0, std::memory_order_relaxed);
      r.carry_n.store(0, std::memory_order_relaxed);
      r.carry_until.store(0, std::memory_order_relaxed);
      r.carry_grant.store(0, std::memory_order_relaxed);
      r.carry_end.store(0, std::memory_order_relaxed);
      r.reclaimed_gen.store(0, std::memory_order_relaxed);
      r.fast_grants.store(0, std::memory_order_relaxed);
      r.queue_grants.store(0, std::memory_order_relaxed);
    }
    hint_.store(0, std::memory_order_relaxed);
    rescans_.store(0, std::memory_order_relaxed);
  }

 public:
  static constexpr uint32_t kNone = 0xFFFFFFFFu;

  // Take a Free record below `range` into Claiming for the caller, or kNone if a pass over
  // them found none free. Lock-free. seq_cst CAS: the taking half of the store-buffering pairs
  // in control_word.hpp (a grant reads the word after it; a lowered limit's scan, a counting
  // grant's scan and the granter's look read the records after their own write).
  uint32_t try_claim(size_t range) noexcept {
    if (range > records_.size()) range = records_.size();
    if (range == 0) return kNone;
    // relaxed: a starting point for the scan; any value is correct.
    size_t i = hint_.load(std::memory_order_relaxed);
    if (i >= range) i = 0;
    for (size_t n = 0; n < range; ++n, ++i) {
      if (i >= range) i = 0;
      Record& r = records_[i];
      // seq_cst: this look, not only the CAS, is the scanning half of the pairs above: a
      // record skipped here on an old value would be missed by the granter.
      uint32_t w = r.word.load(std::memory_order_seq_cst);
      if (SlotWord::phase(w) != SlotPhase::kFree) continue;
      const uint32_t gen = SlotWord::next_gen(SlotWord::gen(w));
      // seq_cst (an acquire among others): pairs with the release that freed the record, so
      // the previous holder's accesses to it happen before ours; and see above.
      if (r.word.compare_exchange_strong(w, SlotWord::make(gen, SlotPhase::kClaiming),
                                         std::memory_order_seq_cst, std::memory_order_relaxed))
        return static_cast<uint32_t>(i);
      // relaxed: a statistic (another claimant took the record we were about to).
      rescans_.fetch_add(1, std::memory_order_relaxed);
    }
    return kNone;
  }

  // Make a record the caller holds in Claiming a grant at `now`: its permit. Always inlined:
  // it is the fast path's last step, and a call there cost 17 of its instructions (callgrind),
  // against 4 bytes of Cortex-M4 text.
  __attribute__((always_inline)) Permit finish_claim(uint32_t i, Tick now,
                                                     bool from_queue) noexcept {
    Record& r = records_[i];
    // relaxed: the record is ours alone while Claiming.
    const uint32_t gen = SlotWord::gen(r.word.load(std::memory_order_relaxed));
    // relaxed x2: the release below publishes.
    r.granted_at.store(now, std::memory_order_relaxed);
    auto& counter = from_queue ? r.queue_grants : r.fast_grants;
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    // release: pairs with acquire loads in release/reclaim/scan, publishing the grant time.
    r.word.store(SlotWord::make(gen, SlotPhase::kHeld), std::memory_order_release);
    // relaxed x2: a hint. Written only when it changes, so that grants of one record (a limit
    // of one) do not take the hint's line from the other cores on every grant.
    if (hint_.load(std::memory_order_relaxed) != i + 1)
      hint_.store(i + 1, std::memory_order_relaxed);
    return Permit{i, gen};
  }

  // Give back a record taken by try_claim whose grant the word no longer allows. Nothing was
  // written to it. seq_cst, an RMW: the freeing half of the store-buffering pair a release
  // makes (the caller reads the word after it and runs the granter if anyone is queued).
  void abort_claim(uint32_t i) noexcept {
    Record& r = records_[i];
    // relaxed: ours alone while Claiming.
    const uint32_t w = r.word.load(std::memory_order_relaxed);
    r.word.exchange(SlotWord::with_phase(w, SlotPhase::kFree), std::memory_order_seq_cst);
  }

  // Records not Free, anywhere: what a grant under a lowered limit counts. Wait-free. seq_cst
  // loads: the scanning half of the pairs described at try_claim.
  uint32_t taken() const noexcept {
    uint32_t n = 0;
    for (size_t i = 0; i < records_.size(); ++i)
      if (SlotWord::phase(records_[i].word.load(std::memory_order_seq_cst)) != SlotPhase::kFree)
        ++n;
    return n;
  }

  // Whether a record below `range` is Free, or Cooling with its cooldown over by `now`: what
  // try_claim, after reclaiming, would find. A hint (another thread may take it first); changes
  // nothing. Wait-free. relaxed: a hint, acted on only through try_claim's own CAS; a cooldown's
  // end read beside an old phase can only make it wrong, never unsafe.
  bool any_claimable(size_t range, Tick now) const noexcept {
    if (range > records_.size()) range = records_.size();
    for (size_t i = 0; i < range; ++i) {
      const Record& r = records_[i];
      const SlotPhase p = SlotWord::phase(r.word.load(std::memory_order_relaxed));
      if (p == SlotPhase::kFree) return true;
      if (p == SlotPhase::kCooling && Tk::reached(r.stamp.load(std::memory_order_relaxed), now))
        return true;
    }
    return false;
  }

  // Whether any record at or above `from` is not Free (a lowered limit still has records out
  // above it). Wait-free; seq_cst loads as in taken().
  bool taken_from(size_t from) const noexcept {
    for (size_t i = from; i < records_.size(); ++i)
      if (SlotWord::phase(records_[i].word.load(std::memory_order_seq_cst)) != SlotPhase::kFree)
        return true;
    return false;
  }

  // End a permit. With a cooldown the record cools until now + cooldown; without, it is Free
  // and the caller lowers occ. The session joins the record's carry until now + counted_for
  // (0: the upstream never saw it). Lock-free (a CAS loop that only retries if the word changed).
  // `granted`, if given, receives the session's grant time.
  SlotRelease release(Permit p, Tick now, Tick cooldown, Tick counted_for, Status& why,
                      Tick* granted = nullptr) noexcept {
    Record& r = records_[p.slot];
    const uint32_t held = SlotWord::make(p.generation, SlotPhase::kHeld);
    uint32_t expected = held;
    if (cooldown == 0 && counted_for == 0) {
      // Neither a cooldown nor a carry to write: one CAS straight to Free. The release time
      // (evidence for learned lags, not accounting) is written first, by a caller that saw
      // its permit held; one that then loses to the lease watchdog may leave its time over
      // the watchdog's, a moment apart. relaxed x3: published by the CAS.
      if (r.word.load(std::memory_order_relaxed) == held) {
        if (granted != nullptr) *granted = r.granted_at.load(std::memory_order_relaxed);
        note_release(r, now);
      }
      // seq_cst (a release among others, publishing the session's writes to the next
      // claimant): the freeing half of the store-buffering pair with an enqueue (the caller
      // reads the word next). acquire on failure: classify_mismatch reads reclaimed_gen.
      if (r.word.compare_exchange_strong(expected, SlotWord::make(p.generation, SlotPhase::kFree),
                                         std::memory_order_seq_cst, std::memory_order_acquire))
        return SlotRelease::kFreed;
      why = classify_mismatch(r, p, expected);
      return SlotRelease::kRejected;
    }
    // acquire: pairs with the claim's release (we end the session it began, so the grant time
    // we read is the claim's; tests/genmc/slot_release_follows_claim.cpp). No release:
    // end_session's release store publishes the end of the session, and a reader of this Releasing
    // value synchronizes with the claim's Held store anyway (this RMW continues its release
    // sequence). acquire on failure: classify_mismatch reads reclaimed_gen, published before the
    // word we find (it decides only which refusal is reported, so no scenario shows it).
    if (!r.word.compare_exchange_strong(expected,
                                        SlotWord::make(p.generation, SlotPhase::kReleasing),
                                        std::memory_order_acquire, std::memory_order_acquire)) {
      why = classify_mismatch(r, p, expected);
      return SlotRelease::kRejected;
    }
    // relaxed: the record is ours while Releasing (the acquire above ordered the claim's write).
    if (granted != nullptr) *granted = r.granted_at.load(std::memory_order_relaxed);
    return end_session(r, SlotWord::make(p.generation, SlotPhase::kReleasing), now, cooldown,
                       counted_for);
  }

  // Give back a record the granter claimed for a waiter who left meanwhile. The record is the
  // caller's alone (nobody else knows the permit), so no cooldown: the upstream never saw it.
  void unclaim(Permit p) noexcept {
    Record& r = records_[p.slot];
    // relaxed: still ours alone; the grant it counted never happened.
    r.queue_grants.store(r.queue_grants.load(std::memory_order_relaxed) - 1,
                         std::memory_order_relaxed);
    // release: pairs with the acquire of the next claim's CAS, so its grant time and counter writes
    // are ordered after ours (write order, which Relacy cannot show, its modification order
    // being the order of execution; tests/genmc does). No store-buffering pair is needed: the
    // granter's waiter is still queued, so no fast path takes it, and the granter looks again.
    r.word.store(SlotWord::make(p.generation, SlotPhase::kFree), std::memory_order_release);
  }

  // True when the permit is exactly the one the record holds now. Wait-free.
  bool is_held(Permit p) const noexcept {
    // relaxed: only the word is read; whoever acts on the permit later (release) re-checks it
    // with its own acquire CAS.
    return records_[p.slot].word.load(std::memory_order_relaxed) ==
           SlotWord::make(p.generation, SlotPhase::kHeld);
  }

  // Free every record whose cooldown is over at `now`, or ends by `covered` (a usable reading
  // accounts for those sessions until then); returns how many. Lock-free.
  uint32_t reclaim_cooled(Tick now, Deadline<Tick> covered = Deadline<Tick>::none()) noexcept {
    uint32_t freed = 0;
    for (size_t i = 0; i < records_.size(); ++i) {
      Record& r = records_[i];
      // acquire: pairs with the release that made it Cooling, so stamp is this cooldown's end.
      uint32_t w = r.word.load(std::memory_order_acquire);
      if (SlotWord::phase(w) != SlotPhase::kCooling) continue;
      const Tick ends = r.stamp.load(std::memory_order_relaxed);
      if (!Tk::reached(ends, now) && !(covered.set && !Tk::before(covered.at, ends))) continue;
      // seq_cst: the freeing half of the store-buffering pair with an enqueue (the caller reads
      // the word, or runs the granter, after it). We wrote nothing to the record: the next
      // claimant reads this RMW's value, which continues the release sequence of end_session's
      // store, so it synchronizes with the session's end all the same.
      if (r.word.compare_exchange_strong(w, SlotWord::with_phase(w, SlotPhase::kFree),
                                         std::memory_order_seq_cst, std::memory_order_relaxed))
        ++freed;
    }
    return freed;
  }

  // Reclaim every permit held longer than max_hold. Each reclaimed slot cools like a release
  // (the stuck holder may still be in a session) or, without a cooldown, is freed; `freed`
  // counts the latter, the return value all of them. `watched` is reported in `hit` if it was
  // among them. Lock-free.
  uint32_t reclaim_leases(Tick now, Tick max_hold, Tick cooldown, Tick counted_for, uint32_t& freed,
                          Permit watched, bool& hit) noexcept {
    uint32_t reclaimed = 0;
    freed = 0;
    hit = false;
    if (max_hold == 0) return 0;
    for (size_t i = 0; i < records_.size(); ++i) {
      Record& r = records_[i];
      // acquire: pairs with the claim's release, so granted_at is this holder's start.
      uint32_t w = r.word.load(std::memory_order_acquire);
      if (SlotWord::phase(w) != SlotPhase::kHeld) continue;
      if (!Tk::reached(lease_end(r.granted_at.load(std::memory_order_relaxed), max_hold), now))
        continue;
      const uint32_t gen = SlotWord::gen(w);
      // relaxed: we race the holder's own release and one of us wins; the flag tells the
      // holder's late release why, in the same step. Acquire is not needed: on success this
      // reads the Held value the acquire load above already read. Release is not needed: the
      // holder's failed CAS reads only the word, and reclaimed_gen is published by
      // end_session's release store.
      const uint32_t taken = SlotWord::make(gen, SlotPhase::kReleasing) | SlotWord::kReclaimed;
      if (!r.word.compare_exchange_strong(w, taken, std::memory_order_relaxed,
                                          std::memory_order_relaxed))
        continue;
      // relaxed: for a release that comes after the slot was granted again; the end_session
      // store below publishes it before the record can be claimed.
      r.reclaimed_gen.store(gen, std::memory_order_relaxed);
      ++reclaimed;
      if (watched.slot == i && watched.generation == gen) hit = true;
      if (end_session(r, taken, now, cooldown, counted_for) == SlotRelease::kFreed) ++freed;
    }
    return reclaimed;
  }

  // The heartbeat's pass (detail/heartbeat.hpp): every record's times brought forward, of
  // whatever phase (the records' owners may write newer ones meanwhile). Lock-free; any thread.
  void keep_in_range(Tick now) noexcept {
    using HB = Heartbeat<Tick>;
    for (size_t i = 0; i < records_.size(); ++i) {
      Record& r = records_[i];
      // relaxed: a record never granted keeps its zeros ("none"); the rest needs no order.
      if (SlotWord::gen(r.word.load(std::memory_order_relaxed)) == 0) continue;
      HB::keep(r.granted_at, now);
      HB::keep(r.stamp, now);
      // relaxed: the entries written so far; one written meanwhile is new, and the CAS keeps it.
      const uint32_t n = r.released_n.load(std::memory_order_relaxed);
      for (uint32_t k = 0; k < remembered(n); ++k) HB::keep(nth_release(r, n, k), now);
      HB::keep(r.carry_until, now);
      HB::keep(r.carry_grant, now);
      HB::keep(r.carry_end, now);
    }
  }

  struct GateCensus {
    uint32_t nonfree = 0;  // records not Free
    uint32_t since = 0;    // sessions granted at or after `since` the upstream may still count
    uint32_t after = 0;    // ... of which granted at or after `after` (>= since)
  };

  // For the usage gate at `now`, for a reading dated `dated`: our sessions it may be missing. A
  // live session (being granted, held, being released) counts if granted at or after the
  // bound; a record's carry counts whole while any of it may still count, its latest grant is
  // at or after the bound and its latest release after `dated`. Wait-free. A record changing
  // during the scan is counted on the safe side; a grant the scan misses changed the control
  // word, which the caller re-checks with its CAS.
  GateCensus gate_census(Tick since, Tick after, Tick dated, Tick now) const noexcept {
    GateCensus u;
    for (size_t i = 0; i < records_.size(); ++i) {
      const Record& r = records_[i];
      // seq_cst (an acquire among others: pairs with the release that published the phase, so
      // the times belong to it): the scanning half of the pair with a fast-path grant, after
      // the gate closed on the word (Admission::set_credit).
      const uint32_t w = r.word.load(std::memory_order_seq_cst);
      const SlotPhase p = SlotWord::phase(w);
      if (p != SlotPhase::kFree) ++u.nonfree;
      if (p == SlotPhase::kClaiming) {  // being granted right now: after any bound
        ++u.since;
        ++u.after;
      } else if (p == SlotPhase::kHeld || p == SlotPhase::kReleasing) {
        // relaxed: ordered by the acquire above.
        const Tick g = r.granted_at.load(std::memory_order_relaxed);
        if (!Tk::before(g, since)) ++u.since;
        if (!Tk::before(g, after)) ++u.after;
      }
      // acquire: pairs with end_session's release store of the count, so the bound and the
      // grant read after it are at least as new; older ones only make us count more.
      const uint32_t n = r.carry_n.load(std::memory_order_acquire);
      // A release at the reading's very tick may have come after it: counted.
      if (n == 0 || !Tk::before(now, r.carry_until.load(std::memory_order_relaxed)) ||
          Tk::before(r.carry_end.load(std::memory_order_relaxed), dated))
        continue;
      const Tick g = r.carry_grant.load(std::memory_order_relaxed);
      if (!Tk::before(g, since)) u.since += n;
      if (!Tk::before(g, after)) u.after += n;
    }
    return u;
  }

  // The largest K values seen, in descending order: a fixed-size selection for evidence.
  static constexpr size_t kTop = 8;
  struct Top {
    Tick v[kTop] = {};
    uint32_t n = 0;
    void add(Tick x) noexcept {  // wrap-safe: ticks within half the range of each other
      size_t i = n < kTop ? n : kTop;
      if (i == kTop && !Tk::before(v[kTop - 1], x)) return;
      if (i == kTop) --i;
      while (i > 0 && Tk::before(v[i - 1], x)) {
        v[i] = v[i - 1];
        --i;
      }
      v[i] = x;
      if (n < kTop) ++n;
    }
    // The k-th largest (1-based, k <= n; past kTop, the kTop-th: a smaller, still valid bound).
    Tick kth(uint32_t k) const noexcept { return v[(k < kTop ? k : kTop) - 1]; }
  };

  struct Evidence {
    uint32_t live_min = 0;  // our sessions surely live when the reading was true
    uint32_t live_max = 0;  // ... possibly live then
    Top grants;             // the grant times of the surely live, latest first
    Top releases;           // releases surely before the reading and after `oldest`, latest first
    uint32_t released = 0;  // how many such releases (may exceed kTop)
  };

  // What a reading that was true at some moment in [lo, hi] can be compared with: our sessions
  // surely and possibly live then, and our releases shortly before it (lo == hi for a reading
  // known to the tick). Each record tells of its latest session and of the releases of the few
  // before it; older ones, and the grants of all but the latest, are forgotten (evidence, not
  // accounting: that only makes a sample smaller).
  // Wait-free.
  Evidence evidence(Tick lo, Tick hi, Tick oldest) const noexcept {
    Evidence e;
    for (size_t i = 0; i < records_.size(); ++i) {
      const Record& r = records_[i];
      // acquire: pairs with the release that published the phase, so the times belong to it
      // (not shown weakened: a stale time only moves a wake-up, which the next look corrects).
      const uint32_t w = r.word.load(std::memory_order_acquire);
      const SlotPhase p = SlotWord::phase(w);
      if (SlotWord::gen(w) == 0 || p == SlotPhase::kClaiming) continue;
      // relaxed x3: ordered by the acquire above.
      const Tick g = r.granted_at.load(std::memory_order_relaxed);
      const bool ended = p == SlotPhase::kCooling || p == SlotPhase::kFree;
      const uint32_t n = r.released_n.load(std::memory_order_relaxed);
      // The record's earlier sessions, all ended before g: each told only by its release.
      for (uint32_t k = ended ? 1 : 0; k < remembered(n); ++k) {
        const Tick before = nth_release(r, n, k).load(std::memory_order_relaxed);
        if (!Tk::before(before, g)) continue;
        if (Tk::before(lo, before)) ++e.live_max;
        if (!Tk::before(lo, before) && Tk::before(oldest, before)) {
          ++e.released;
          e.releases.add(before);
        }
      }
      const Tick rel = latest_release(r, n);
      if (Tk::before(hi, g)) continue;  // granted after the reading
      if (!ended || Tk::before(lo, rel)) ++e.live_max;
      if (!Tk::before(lo, g) && (!ended || Tk::before(hi, rel))) {
        ++e.live_min;
        e.grants.add(g);
      }
      if (ended && !Tk::before(lo, rel) && Tk::before(oldest, rel)) {
        ++e.released;
        e.releases.add(rel);
      }
    }
    return e;
  }

  // For the gate's refreshes: the earliest moment after `after` at which a reading sampled
  // then would tell more than the one sampled at `at` — one of our sessions has had `vis` to
  // become visible, or one that ended has had `lag` to leave the count — among those the
  // reading at `at` cannot have settled. Wait-free; a record changing during the scan only
  // moves the answer.
  Deadline<Tick> next_news(Tick at, Tick vis, Tick lag, Tick after) const noexcept {
    Deadline<Tick> d;
    for (size_t i = 0; i < records_.size(); ++i) {
      const Record& r = records_[i];
      // acquire: pairs with the release that published the phase, so the times belong to it.
      const uint32_t w = r.word.load(std::memory_order_acquire);
      const SlotPhase p = SlotWord::phase(w);
      if (SlotWord::gen(w) == 0 || p == SlotPhase::kClaiming) continue;
      // relaxed x3: ordered by the acquire above.
      const Tick seen = Tick(r.granted_at.load(std::memory_order_relaxed) + vis);
      if (Tk::before(at, seen)) d.merge_after(seen, after);
      // Every remembered release, the held record's earlier sessions included.
      const uint32_t n = r.released_n.load(std::memory_order_relaxed);
      for (uint32_t k = 0; k < remembered(n); ++k) {
        const Tick gone = Tick(nth_release(r, n, k).load(std::memory_order_relaxed) + lag);
        if (Tk::before(at, gone)) d.merge_after(gone, after);
      }
    }
    return d;
  }

  struct Census {
    uint32_t held = 0;
    uint32_t cooling = 0;
    Counter fast_grants = 0;
    Counter queue_grants = 0;
    Counter rescans = 0;
  };

  // Count records by phase and sum the grant counters. Wait-free; each record is read once.
  Census census() const noexcept {
    Census c;
    for (size_t i = 0; i < records_.size(); ++i) {
      const Record& r = records_[i];
      // relaxed: a statistic; it orders nothing.
      const SlotPhase p = SlotWord::phase(r.word.load(std::memory_order_relaxed));
      if (p == SlotPhase::kHeld || p == SlotPhase::kClaiming) ++c.held;
      if (p == SlotPhase::kCooling || p == SlotPhase::kReleasing) ++c.cooling;
      c.fast_grants += r.fast_grants.load(std::memory_order_relaxed);
      c.queue_grants += r.queue_grants.load(std::memory_order_relaxed);
    }
    c.rescans = rescans_.load(std::memory_order_relaxed);
    return c;
  }

  // The earliest time after `now` a cooldown ends or a lease expires. Wait-free.
  Deadline<Tick> next_deadline(Tick max_hold, Tick now) const noexcept {
    Deadline<Tick> d;
    for (size_t i = 0; i < records_.size(); ++i) {
      const Record& r = records_[i];
      // acquire: pairs with the release that published the phase, so the time read belongs to it.
      const SlotPhase p = SlotWord::phase(r.word.load(std::memory_order_acquire));
      if (p == SlotPhase::kCooling) d.merge_after(r.stamp.load(std::memory_order_relaxed), now);
      if (p == SlotPhase::kHeld && max_hold != 0)
        d.merge_after(lease_end(r.granted_at.load(std::memory_order_relaxed), max_hold), now);
    }
    return d;
  }

 private:
 public:
  // A line each (where there are lines): two threads holding two slots write only their own.
  // What a grant and a release without a cooldown touch comes first, within the first 64 bytes
  // with 64-bit ticks, so that a slot passed between cores moves one line, not two.
  struct alignas(kCacheLine) Record {
    atomic<uint32_t> word;
    atomic<uint32_t> released_n;
    atomic<Tick>
        granted_at;  // the latest grant of this record (Held: this one), kept after it ends
    // Written only by the thread that holds the record in Claiming: no RMW needed.
    atomic<Counter> fast_grants;
    // The latest kReleaseHistory releases (or reclaims) of this record, a ring whose newest
    // entry is released[(released_n - 1) % kReleaseHistory]; entries past released_n are none
    // (no value of a tick means none: on a wrapping clock 0 is a time like any other).
    atomic<Tick> released[kReleaseHistory];
    atomic<Counter> queue_grants;
    atomic<Tick> stamp;  // Cooling (and Free after it): the cooldown's end
    atomic<uint32_t> reclaimed_gen;
    // The carry (see the top of the file). Written only by the thread that ends a session on
    // the record (it owns it while Releasing); read by the gate's census.
    atomic<uint32_t> carry_n;
    atomic<Tick> carry_until;
    atomic<Tick> carry_grant;
    atomic<Tick> carry_end;
  };

 private:
  // Remember a release at `now` in the record's history. relaxed x3: the caller owns the
  // record's bookkeeping (it saw its permit held, or holds it in Releasing); the word's store or
  // RMW after it publishes.
  static void note_release(Record& r, Tick now) noexcept {
    const uint32_t n = r.released_n.load(std::memory_order_relaxed);
    r.released[n % kReleaseHistory].store(now, std::memory_order_relaxed);
    r.released_n.store(n + 1, std::memory_order_relaxed);
  }
  // How many of the history's entries hold a release, `n` being released_n.
  static constexpr uint32_t remembered(uint32_t n) noexcept {
    return n < kReleaseHistory ? n : kReleaseHistory;
  }
  // The history's entry for the k-th latest release (0: the newest; k < remembered(n)).
  template <class R>
  static auto& nth_release(R& r, uint32_t n, uint32_t k) noexcept {
    return r.released[(n - 1 - k) % kReleaseHistory];
  }
  // The newest release in the history (`n`: released_n, read by the caller). relaxed: ordered
  // by the caller's acquire of the word.
  static Tick latest_release(const Record& r, uint32_t n) noexcept {
    return nth_release(r, n, 0).load(std::memory_order_relaxed);
  }

  // A permit held longer than max_hold (since `granted`) is overdue from this tick on.
  static constexpr Tick lease_end(Tick granted, Tick max_hold) noexcept {
    return Tick(granted + max_hold + 1);
  }

  // Fold the session ending on r at `now` into its carry, counted for `counted_for` more. Out
  // of line: only the usage gate needs it, and the release path stays small.
  __attribute__((noinline)) void carry(Record& r, Tick now, Tick counted_for) noexcept {
    // relaxed x3 (loads): we are the carry's only writer.
    uint32_t n = r.carry_n.load(std::memory_order_relaxed);
    Tick until = Tick(now + counted_for);
    const Tick old_until = r.carry_until.load(std::memory_order_relaxed);
    if (n == 0 || !Tk::before(now, old_until))
      n = 0;  // every earlier session there has stopped counting
    else if (Tk::before(until, old_until))
      until = old_until;
    // relaxed x3: published by the release store of the count below. A census that reads an
    // older count with these newer values counts no less than it should: the bound only
    // moves later (or restarts after all of it expired), the grant and the end only newer.
    r.carry_until.store(until, std::memory_order_relaxed);
    r.carry_grant.store(r.granted_at.load(std::memory_order_relaxed), std::memory_order_relaxed);
    r.carry_end.store(now, std::memory_order_relaxed);
    // release: pairs with gate_census's acquire load of the count.
    r.carry_n.store(n + 1, std::memory_order_release);
  }

  // Releasing -> Cooling until now + cooldown, or -> Free now. `releasing` is the record's
  // word in Releasing (its generation and reclaimed flag are kept). The session joins the
  // carry until now + counted_for.
  SlotRelease end_session(Record& r, uint32_t releasing, Tick now, Tick cooldown,
                          Tick counted_for) noexcept {
    // relaxed: the record is ours alone while Releasing; the store below publishes.
    r.stamp.store(Tick(now + cooldown), std::memory_order_relaxed);
    note_release(r, now);
    if (counted_for != 0) carry(r, now, counted_for);
    if (cooldown == 0) {
      // seq_cst, an RMW: as the CAS of release's direct path (the freeing half of the
      // store-buffering pair with an enqueue), and a release publishing the stamp, the release
      // time and the carry to the next claimant and the scans.
      r.word.exchange(SlotWord::with_phase(releasing, SlotPhase::kFree), std::memory_order_seq_cst);
      return SlotRelease::kFreed;
    }
    // release: pairs with the acquire of reclaim_cooled and the scans, publishing the stamp,
    // the release time and the carry. A Cooling record is not free, so no pair is needed here:
    // whoever frees it later does the freeing half.
    r.word.store(SlotWord::with_phase(releasing, SlotPhase::kCooling), std::memory_order_release);
    return SlotRelease::kCooling;
  }

  // Why a release CAS failed, given the word it found.
  Status classify_mismatch(const Record& r, Permit p, uint32_t found) const noexcept {
    if (SlotWord::gen(found) == p.generation)  // this permit's session ended before: how?
      return (found & SlotWord::kReclaimed) != 0 ? Status::kReclaimed : Status::kStalePermit;
    // The slot was granted again since; its record remembers the last reclaimed generation.
    // relaxed: ordered by the acquire that read `found` (the re-grant came after the reclaim).
    if (r.reclaimed_gen.load(std::memory_order_relaxed) == p.generation) return Status::kReclaimed;
    return Status::kStalePermit;
  }

  RecordSpan<Record, N> records_;
  alignas(kCacheLine) atomic<size_t> hint_;  // written by every claim: off the records' lines
  atomic<Counter> rescans_;
};

// The slot table of MaxSlots records: its code compiled for that capacity, the records inline;
// or, with size erasure, the records in a first base (so that they exist before the table's
// code writes to them) and the code shared with every other capacity.
template <class Record, size_t N>
struct SlotStorage {
  Record records[N];
};

template <class Atomics, class Tick, class Counter, size_t MaxSlots, bool Erased = kSizeErasure>
class SlotTable : public SlotRecords<Atomics, Tick, Counter, MaxSlots> {
 public:
  SlotTable() noexcept = default;
};

template <class Atomics, class Tick, class Counter, size_t MaxSlots>
class SlotTable<Atomics, Tick, Counter, MaxSlots, true>
    : private SlotStorage<typename SlotRecords<Atomics, Tick, Counter, 0>::Record, MaxSlots>,
      public SlotRecords<Atomics, Tick, Counter, 0> {
  using Storage = SlotStorage<typename SlotRecords<Atomics, Tick, Counter, 0>::Record, MaxSlots>;

 public:
  SlotTable() noexcept
      : Storage(), SlotRecords<Atomics, Tick, Counter, 0>(Storage::records, MaxSlots) {}
};

}  // namespace slotgate::detail
