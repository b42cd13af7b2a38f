// The MaxSlots slot records behind permits.
//
// A record's state word packs a phase and a generation. Every change of owner is a CAS on that
// word, so a permit (slot, generation) is honoured at most once, and a stale one never matches.
//
//   Free(g) --claim--> Claiming(g+1) --> Held(g+1) --release--> Releasing(g+1) --> Cooling(g+1)
//      ^                                                                 |               |
//      +----------------------------------------------- no cooldown -----+-- cooldown over
//
// The timestamp says when the current phase began or ends: Held, the grant; Cooling, the end
// of the cooldown; Free, when the record became free. A record also keeps its latest grant and
// release times (evidence for learned lags) and its *carry*: the sessions that ended on it and
// that the upstream may still count (until release + cooldown + tail, the caller's bound). The
// carry is a count, the latest time any of them may still be counted, and the latest grant and
// release among them; the usage gate counts them all while any may still count, the latest
// grant is one a reading may be missing, and the latest release is after the reading's date
// (a reading dated after a session ended shows it if the upstream still counts it). A record can be
// granted again while its last sessions still count upstream; the carry is what keeps the gate from
// forgetting them.
//
// Claiming and Releasing are private to the one thread that won the CAS: it writes the record's
// timestamp, then publishes the stable phase with a release store. Readers act only on the
// stable phases, so they never see a timestamp of another phase.
//
// The table does not count occupancy; the limiter's control word does. The rule that keeps
// them consistent: a record becomes non-Free only after occ was raised for it, and occ is
// lowered only after the record is Free again. Hence non-Free records <= occ <= MaxSlots, and
// a thread that raised occ always finds a Free record.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slotgate/atomics.hpp"
#include "slotgate/config.hpp"
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

template <class Atomics, class Tick, class Counter, size_t MaxSlots>
class SlotTable {
  template <class T>
  using atomic = typename Atomics::template atomic<T>;
  using Tk = Ticks<Tick>;

 public:
  SlotTable() noexcept {
    for (size_t i = 0; i < MaxSlots; ++i) {
      Record& r = records_[i];
      r.word.store(SlotWord::make(0, SlotPhase::kFree), std::memory_order_relaxed);
      r.stamp.store(0, std::memory_order_relaxed);
      r.granted_at.store(0, std::memory_order_relaxed);
      r.released_at.store(0, std::memory_order_relaxed);
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

  // Take a Free record for a caller that already raised occ. Lock-free: a pass finds nothing
  // only if other claimants took every Free record it looked at, and occ guarantees one is left
  // for each of them and for us.
  Permit claim(Tick now, bool from_queue) noexcept {
    // relaxed: a starting point for the scan; any value is correct.
    size_t i = hint_.load(std::memory_order_relaxed);
    for (;;) {
      for (size_t n = 0; n < MaxSlots; ++n, ++i) {
        if (i >= MaxSlots) i = 0;
        Record& r = records_[i];
        // relaxed: only a guess; the CAS below re-checks with acquire.
        uint32_t w = r.word.load(std::memory_order_relaxed);
        if (SlotWord::phase(w) != SlotPhase::kFree) continue;
        const uint32_t gen = SlotWord::next_gen(SlotWord::gen(w));
        // acquire: pairs with the release that freed the record, so the previous holder's
        // accesses to it happen before ours.
        if (!r.word.compare_exchange_strong(w, SlotWord::make(gen, SlotPhase::kClaiming),
                                            std::memory_order_acquire, std::memory_order_relaxed))
          continue;
        // relaxed x3: the record is ours alone while Claiming; the release below publishes.
        r.stamp.store(now, std::memory_order_relaxed);
        r.granted_at.store(now, std::memory_order_relaxed);
        auto& counter = from_queue ? r.queue_grants : r.fast_grants;
        counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        // release: pairs with acquire loads in release/reclaim/scan, publishing the stamp.
        r.word.store(SlotWord::make(gen, SlotPhase::kHeld), std::memory_order_release);
        hint_.store(i + 1, std::memory_order_relaxed);  // relaxed: a hint
        return Permit{static_cast<uint32_t>(i), gen};
      }
      // A whole pass found nothing: other claimants took the Free records we looked at (or,
      // were an order missing, we saw a freed record late). relaxed: a statistic.
      rescans_.fetch_add(1, std::memory_order_relaxed);
    }
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
    // acquire: pairs with the claim's release (we end the session it began, so our stamp
    // write is ordered after the claim's: write order, which Relacy cannot show, its
    // modification order being the order of execution; tests/genmc does). No release: end_session's
    // release store publishes the end of the session, and a reader of this Releasing value
    // synchronizes with the claim's Held store anyway (this RMW continues its release sequence).
    // acquire on failure: classify_mismatch reads reclaimed_gen, published before the word we find.
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
    // release: pairs with the acquire of the next claim, so its stamp and counter writes are
    // ordered after ours even when it took occ before our caller gave it back (write order,
    // which Relacy cannot show, its modification order being the order of execution; tests/genmc
    // does).
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
    for (size_t i = 0; i < MaxSlots; ++i) {
      Record& r = records_[i];
      // acquire: pairs with the release that made it Cooling, so stamp is this cooldown's end.
      uint32_t w = r.word.load(std::memory_order_acquire);
      if (SlotWord::phase(w) != SlotPhase::kCooling) continue;
      const Tick ends = r.stamp.load(std::memory_order_relaxed);
      if (!Tk::reached(ends, now) && !(covered.set && !Tk::before(covered.at, ends))) continue;
      // relaxed: we wrote nothing to the record. The next claimant's acquire CAS reads this
      // RMW's value, which continues the release sequence of end_session's store, so it
      // synchronizes with the session's end all the same.
      if (r.word.compare_exchange_strong(w, SlotWord::with_phase(w, SlotPhase::kFree),
                                         std::memory_order_relaxed, std::memory_order_relaxed))
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
    for (size_t i = 0; i < MaxSlots; ++i) {
      Record& r = records_[i];
      // acquire: pairs with the claim's release, so stamp is this holder's start.
      uint32_t w = r.word.load(std::memory_order_acquire);
      if (SlotWord::phase(w) != SlotPhase::kHeld) continue;
      if (!Tk::reached(lease_end(r.stamp.load(std::memory_order_relaxed), max_hold), now)) continue;
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
    for (size_t i = 0; i < MaxSlots; ++i) {
      const Record& r = records_[i];
      // acquire: pairs with the release that published the phase, so the times belong to it.
      const uint32_t w = r.word.load(std::memory_order_acquire);
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
  // known to the tick). Each record tells only of its latest session; one granted again since
  // hides the one before (evidence, not accounting: it only makes a sample smaller).
  // Wait-free.
  Evidence evidence(Tick lo, Tick hi, Tick oldest) const noexcept {
    Evidence e;
    for (size_t i = 0; i < MaxSlots; ++i) {
      const Record& r = records_[i];
      // acquire: pairs with the release that published the phase, so the times belong to it.
      const uint32_t w = r.word.load(std::memory_order_acquire);
      const SlotPhase p = SlotWord::phase(w);
      if (SlotWord::gen(w) == 0 || p == SlotPhase::kClaiming) continue;
      // relaxed x2: ordered by the acquire above.
      const Tick g = r.granted_at.load(std::memory_order_relaxed);
      if (Tk::before(hi, g)) continue;  // granted after the reading
      const bool ended = p == SlotPhase::kCooling || p == SlotPhase::kFree;
      const Tick rel = r.released_at.load(std::memory_order_relaxed);
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
    for (size_t i = 0; i < MaxSlots; ++i) {
      const Record& r = records_[i];
      // acquire: pairs with the release that published the phase, so the times belong to it.
      const uint32_t w = r.word.load(std::memory_order_acquire);
      const SlotPhase p = SlotWord::phase(w);
      if (SlotWord::gen(w) == 0 || p == SlotPhase::kClaiming) continue;
      // relaxed x2: ordered by the acquire above.
      const Tick seen = Tick(r.granted_at.load(std::memory_order_relaxed) + vis);
      if (Tk::before(at, seen)) d.merge_after(seen, after);
      if (p == SlotPhase::kHeld || p == SlotPhase::kReleasing) continue;
      const Tick gone = Tick(r.released_at.load(std::memory_order_relaxed) + lag);
      if (Tk::before(at, gone)) d.merge_after(gone, after);
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
    for (size_t i = 0; i < MaxSlots; ++i) {
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
    for (size_t i = 0; i < MaxSlots; ++i) {
      const Record& r = records_[i];
      // acquire: pairs with the release that published the phase, so stamp belongs to it.
      const SlotPhase p = SlotWord::phase(r.word.load(std::memory_order_acquire));
      const Tick stamp = r.stamp.load(std::memory_order_relaxed);
      if (p == SlotPhase::kCooling) d.merge_after(stamp, now);
      if (p == SlotPhase::kHeld && max_hold != 0) d.merge_after(lease_end(stamp, max_hold), now);
    }
    return d;
  }

 private:
  // A line each (where there are lines): two threads holding two slots write only their own.
  struct alignas(kCacheLine) Record {
    atomic<uint32_t> word;
    atomic<Tick> stamp;        // Held: granted at; Cooling (and Free after it): cooldown end
    atomic<Tick> granted_at;   // the latest grant of this record, kept after it ends
    atomic<Tick> released_at;  // the latest release (or reclaim) of this record
    atomic<uint32_t> reclaimed_gen;
    // The carry (see the top of the file). Written only by the thread that ends a session on
    // the record (it owns it while Releasing); read by the gate's census.
    atomic<uint32_t> carry_n;
    atomic<Tick> carry_until;
    atomic<Tick> carry_grant;
    atomic<Tick> carry_end;
    // Written only by the thread that holds the record in Claiming: no RMW needed.
    atomic<Counter> fast_grants;
    atomic<Counter> queue_grants;
  };

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
    r.released_at.store(now, std::memory_order_relaxed);
    if (counted_for != 0) carry(r, now, counted_for);
    const SlotPhase next = cooldown == 0 ? SlotPhase::kFree : SlotPhase::kCooling;
    // release: pairs with the acquire of the next claimant, reclaim_cooled and the scans,
    // publishing the stamp, the release time and the carry.
    r.word.store(SlotWord::with_phase(releasing, next), std::memory_order_release);
    return cooldown == 0 ? SlotRelease::kFreed : SlotRelease::kCooling;
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

  Record records_[MaxSlots];
  alignas(kCacheLine) atomic<size_t> hint_;  // written by every claim: off the records' lines
  atomic<Counter> rescans_;
};

}  // namespace slotgate::detail
