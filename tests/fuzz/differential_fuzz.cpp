// Differential fuzzing: bytes decode into operations, run on the library and on the reference
// model (reference.hpp) side by side; every status, count, ticket state, chosen slot record,
// installed reading and learned lag must agree after every operation. The clock is 32-bit and
// starts just below its wraparound. Configurations cover the gate with a tail, cached readings,
// learned lags (memory 0: nothing forgotten, so the model keeps plain maxima) and backoff.
// Some inputs also run on a limiter whose port has no usage source, against the model with no
// gate and no learning, whatever the configuration asks: such a limiter compiles neither in.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "reference.hpp"
#include "slotgate/limiter.hpp"
#include "slotgate/ports/sim.hpp"

namespace {

using slotgate::Permit;
using slotgate::Status;
using slotgate::Ticket;
using slotgate::TicketState;
using Port = slotgate::sim::Port<uint32_t, uint32_t>;  // with a scripted usage source
using L1 = slotgate::Limiter<Port, 4, 4>;
using L3 = slotgate::Limiter<Port, 4, 4, 3>;                                       // three lanes
using L0 = slotgate::Limiter<slotgate::sim::BasicPort<uint32_t, uint32_t>, 4, 4>;  // no source
using reference::Model;
using reference::TState;

[[noreturn]] void fail(const char* what, int op, long a, long b) {
  std::fprintf(stderr, "MISMATCH at op %d: %s (library %ld, model %ld)\n", op, what, a, b);
  std::abort();
}
#define AGREE(what, lib, ref) \
  if ((lib) != (ref)) fail(what, op, long(lib), long(ref))

Status status_of(Model::Admit a) {
  switch (a) {
    case Model::Admit::Closed:
      return Status::kClosed;
    case Model::Admit::WaitersAhead:
      return Status::kWaitersAhead;
    case Model::Admit::Paused:
      return Status::kPaused;
    case Model::Admit::NoSlot:
      return Status::kNoSlot;
    case Model::Admit::Gated:
      return Status::kGated;
    case Model::Admit::Yes:
      break;
  }
  return Status::kOk;
}

template <class L>
struct Run {
  static constexpr bool kSource = slotgate::HasUsageSource<typename L::port_type>::value;
  typename L::port_type port{0xFFFFFFFFu - 3000u};
  L lim{port};
  Model m;
  struct Held {
    Permit p;
    int ended = 0;  // 0 live, 1 released, 2 reclaimed
  };
  std::vector<Held> permits;
  std::vector<Ticket> tickets;
  int op = 0;

  uint32_t now() const { return port.now(); }

  int session_of_permit(int k) {
    for (size_t i = 0; i < m.sessions.size(); ++i)
      if (m.sessions[i].permit == k) return int(i);
    return -1;
  }
  int session_of_ticket(int t) {
    for (size_t i = 0; i < m.sessions.size(); ++i)
      if (m.sessions[i].ticket == t && m.sessions[i].permit == -1) return int(i);
    return -1;
  }
  void learn_permit(Permit p, int session) {
    AGREE("slot record chosen", int(p.slot), m.sessions[size_t(session)].rec);
    permits.push_back(Held{p, 0});
    m.sessions[size_t(session)].permit = int(permits.size()) - 1;
  }

  // The fast path, in the library's order: a stale budget and a reading no granter has judged
  // each make it let the granter look once first.
  Status model_try_acquire() {
    bool governed = false;
    for (;;) {
      const Model::Admit a = m.admit(now(), false);
      if (a == Model::Admit::Gated && !governed) {
        governed = true;
        m.kick(now());
        continue;
      }
      if (a == Model::Admit::Yes && !governed && m.reading_pending()) {
        governed = true;
        m.kick(now());
        continue;
      }
      return status_of(a);
    }
  }

  void try_acquire() {
    Permit p;
    const Status s = lim.try_acquire(now(), p);
    const Status want = model_try_acquire();
    AGREE("try_acquire status", int(s), int(want));
    if (s == Status::kOk) {
      m.grant(now(), -1);
      learn_permit(p, int(m.sessions.size()) - 1);
    }
  }

  void enqueue(bool timed, uint32_t in, uint32_t lane) {
    Ticket t;
    const auto dl = timed ? L::deadline_type::at_tick(now() + in) : L::deadline_type::none();
    const Status s = lim.enqueue(now(), t, dl, slotgate::Lane(lane));
    Status want = Status::kOk;
    if (lane >= m.lanes)
      want = Status::kInvalidArgument;
    else if (m.closed)
      want = Status::kClosed;
    else if (m.outstanding() >= m.max_waiters)
      want = Status::kQueueFull;
    else if (m.fifos[lane].size() - (m.front_peeked[lane] ? 1 : 0) >= m.queue_capacity)
      want = Status::kQueueFull;
    AGREE("enqueue status", int(s), int(want));
    if (s != Status::kOk) return;
    const int id = int(m.tickets.size());
    m.tickets.push_back(TState::Waiting);
    m.ticket_deadline.push_back(timed);
    m.deadline.push_back(now() + in);
    m.ticket_reclaimed.push_back(false);
    m.ticket_lane.push_back(lane);
    m.queued_at.push_back(now());
    ++m.lane_figures[lane].queued;
    m.fifos[lane].push_back(id);
    tickets.push_back(t);
    m.kick(now());
  }

  void claim_or_cancel(size_t k, bool cancel) {
    if (tickets.empty()) return;
    const int id = int(k % tickets.size());
    Permit p;
    const Status s =
        cancel ? lim.cancel(tickets[size_t(id)], now()) : lim.claim(tickets[size_t(id)], p);
    Status want = Status::kStaleTicket;
    TState& st = m.tickets[size_t(id)];
    switch (st) {
      case TState::Waiting:
        if (cancel) {
          want = Status::kOk;
          st = TState::Resolved;
          m.kick(now());
        } else {
          want = Status::kPending;
        }
        break;
      case TState::Granted: {
        st = TState::Resolved;
        const int sess = session_of_ticket(id);
        if (cancel) {
          want = Status::kGrantReturned;
          if (sess >= 0) {
            const bool probe = m.is_probe(m.sessions[size_t(sess)]);
            m.end(size_t(sess), now(), 0, 0);  // the upstream never saw it
            if (probe) m.probe_lost();
            m.lowered(now());
          }
        } else if (sess < 0 || m.ticket_reclaimed[size_t(id)]) {
          want = Status::kReclaimed;
        } else {
          want = Status::kOk;
        }
        break;
      }
      case TState::TimedOut:
        want = Status::kTimedOut;
        st = TState::Resolved;
        break;
      case TState::Closed:
        want = Status::kClosed;
        st = TState::Resolved;
        break;
      case TState::Resolved:
        break;
    }
    AGREE(cancel ? "cancel status" : "claim status", int(s), int(want));
    if (!cancel && s == Status::kOk) learn_permit(p, session_of_ticket(id));
  }

  void release(size_t k, bool rejected, uint32_t retry_after, bool has_retry) {
    if (permits.empty()) return;
    const int idx = int(k % permits.size());
    Held& h = permits[size_t(idx)];
    using Out = typename L::outcome_type;
    const auto outcome = !rejected   ? Out::ok()
                         : has_retry ? Out::rejected_retry_after(retry_after)
                                     : Out::rejected();
    const Status s = lim.release(h.p, now(), outcome);
    if (h.ended == 1) {
      AGREE("second release", int(s), int(Status::kStalePermit));
      return;
    }
    if (h.ended == 2) {  // reclaimed: told so (or stale once the slot was reclaimed again)
      if (s != Status::kReclaimed && s != Status::kStalePermit)
        fail("release after reclaim", op, int(s), int(Status::kReclaimed));
      return;
    }
    AGREE("release status", int(s), int(Status::kOk));
    h.ended = 1;
    const size_t sess = size_t(session_of_permit(idx));
    const bool probe = m.is_probe(m.sessions[sess]);
    const reference::Tick cd = m.cooldown_eff();
    const reference::Tick cool = m.cooling_for(now());
    const bool freed = cool == 0;
    const reference::Tick granted = m.records[size_t(m.sessions[sess].rec)].granted;
    m.end(sess, now(), cool, m.counted_for(cd));
    if (rejected) m.rejected(now(), probe, has_retry, retry_after, granted);
    if (freed) m.lowered(now());
    if (!rejected && probe) m.probe_ended_well(now());
  }

  void poll() {
    lim.poll(now());
    m.polled = true;
    m.last_poll = now();
    if (m.pause_bit && reference::reached(m.paused_until, now())) m.pause_bit = false;
    m.reclaim_cooled(now());
    if (m.max_hold != 0) {
      const reference::Tick cd = m.cooldown_eff();
      for (size_t i = 0; i < m.sessions.size();) {
        auto& se = m.sessions[i];
        if (se.cooling || !reference::reached(se.t + m.max_hold + 1, now())) {
          ++i;
          continue;
        }
        if (se.permit >= 0) permits[size_t(se.permit)].ended = 2;
        if (se.permit == -1 && se.ticket >= 0) m.ticket_reclaimed[size_t(se.ticket)] = true;
        if (m.is_probe(se)) m.probe_lost();
        const bool gone = cd == 0;
        m.end(i, now(), cd, m.counted_for(cd));
        if (!gone) ++i;
      }
    }
    for (size_t t = 0; t < m.tickets.size(); ++t) {
      if (m.tickets[t] == TState::Waiting && m.ticket_deadline[t] &&
          reference::reached(m.deadline[t], now())) {
        m.tickets[t] = TState::TimedOut;
        ++m.lane_figures[m.ticket_lane[t]].timed_out;
      }
    }
    m.kick(now());
  }

  // keep: a fleet's share (headroom kept), else an operator's change (cleared).
  void set_limit(uint32_t v, bool keep) {
    const Status s = lim.set_limit(
        v, now(),
        keep ? slotgate::LimitChange::kKeepHeadroom : slotgate::LimitChange::kClearHeadroom);
    const Status want = v <= m.max_slots ? Status::kOk : Status::kInvalidArgument;
    AGREE("set_limit status", int(s), int(want));
    if (s != Status::kOk) return;
    m.limit = v;
    if (!keep) m.h_rejected = 0;
    m.sync_limit();
    m.kick(now());
  }

  void pause_for(uint32_t d) {
    AGREE("pause_for status", int(lim.pause_for(d, now())), int(Status::kOk));
    const uint32_t until = now() + d;
    if (reference::before(now(), until)) m.extend_pause(until, now());
  }

  // The usage source has a new reading (sessions, sampled `ago` ticks back, or ahead when
  // negative); with `take_in`, a poll takes it in, else the next operation meets it.
  void usage(uint32_t sessions, int ago, bool take_in) {
    if constexpr (kSource) {
      port.set_usage(sessions, now() - uint32_t(ago));
      m.port_has = true;
      m.port_sessions = sessions;
      m.port_at = now() - uint32_t(ago);
      m.port_version += 2;
    }  // else there is nowhere for a reading to come from: the poll alone
    if (take_in) poll();
  }

  void close() {
    lim.close();
    m.closed = true;
    for (auto& t : m.tickets)
      if (t == TState::Waiting) t = TState::Closed;
    m.kick(0);
  }

  void compare() {
    const auto s = lim.snapshot();
    AGREE("held", s.held, m.held());
    AGREE("cooling", s.cooling, m.cooling());
    AGREE("queued", s.queued, uint32_t(m.queued()));
    if constexpr (L::kLanes > 1) {
      for (uint32_t l = 0; l < L::kLanes; ++l) {
        typename L::lane_snapshot_type ls;
        AGREE("lane snapshot", int(lim.lane_snapshot(slotgate::Lane(l), now(), ls)), 0);
        AGREE("lane queued", ls.queued, m.lane_figures[l].queued);
        AGREE("lane granted", ls.granted, m.lane_figures[l].granted);
        AGREE("lane timed out", ls.timed_out, m.lane_figures[l].timed_out);
        AGREE("lane waiting", ls.waiting, uint32_t(m.fifos[l].size()));
        uint32_t longest = 0;
        if (!m.fifos[l].empty() && m.front_peeked[l]) {
          const int t = m.fifos[l].front();
          const reference::Tick at = m.queued_at[size_t(t)];
          if (m.tickets[size_t(t)] == TState::Waiting && reference::before(at, now()))
            longest = now() - at;
        }
        AGREE("lane longest wait", ls.longest_wait, longest);
      }
    }
    AGREE("tickets outstanding", s.tickets_outstanding, m.outstanding());
    AGREE("effective limit", s.effective_limit, m.lim());
    AGREE("closed", s.closed, m.closed);
    AGREE("paused", s.paused, m.pause_bit);
    AGREE("half-open", s.half_open, m.half_open);
    AGREE("probe out", s.probe_out, m.probe_out);
    AGREE("episodes", s.counters.episodes, m.episodes);
    AGREE("has reading", s.has_reading, m.has_reading);
    if (m.has_reading) {
      AGREE("reading sessions", s.reading_sessions, m.sessions_read);
      AGREE("reading sampled at", s.reading_sampled_at, m.read_at);
      AGREE("reading missing", s.reading_missing, m.missing);
    }
    AGREE("bad readings", s.counters.bad_readings, m.bad_readings);
    AGREE("effective cooldown", s.effective_cooldown, m.cooldown_eff());
    AGREE("effective visibility lag", s.effective_visibility_lag, m.vis_lag());
    AGREE("release-lag samples", s.counters.release_lag_samples, m.out.count);
    AGREE("visibility-lag samples", s.counters.visibility_lag_samples, m.vis.count);
    for (size_t t = 0; t < tickets.size(); ++t) {
      TicketState want = TicketState::kInvalid;
      switch (m.tickets[t]) {
        case TState::Waiting:
          want = TicketState::kWaiting;
          break;
        case TState::Granted:
          want = TicketState::kGranted;
          break;
        case TState::TimedOut:
          want = TicketState::kTimedOut;
          break;
        case TState::Closed:
          want = TicketState::kClosed;
          break;
        case TState::Resolved:
          break;
      }
      AGREE("ticket state", int(lim.state(tickets[t])), int(want));
    }
  }

  void trace(uint8_t code, uint8_t arg) const {
    const auto s = lim.snapshot();
    std::fprintf(stderr,
                 "op %d code %d arg %d now %u | held %u cooling %u queued %u lim %u gate %s %u "
                 "half %d probe %d | model budget %u usable %d reading %u at %u missing %u cd %u "
                 "vis %u\n",
                 op, code, arg, now(), s.held, s.cooling, s.queued, s.effective_limit,
                 s.gate_open ? "open" : "budget", s.gate_budget, int(s.half_open), int(s.probe_out),
                 m.budget(now()), int(m.usable(now())), m.sessions_read, m.read_at, m.missing,
                 m.cooldown_eff(), m.vis_lag());
    for (auto& e : m.sessions)
      std::fprintf(stderr, "   session %u on record %d %s %u\n", e.serial, e.rec,
                   e.cooling ? "cooling until" : "held since", e.t);
    for (size_t i = 0; i < m.records.size(); ++i) {
      const auto& e = m.records[i];
      std::fprintf(stderr,
                   "   record %zu phase %d granted %u released %u carry %u until %u grant %u end "
                   "%u\n",
                   i, int(e.phase), e.granted, e.released, e.carry_n, e.carry_until, e.carry_grant,
                   e.carry_end);
    }
  }
};

uint8_t byte_at(const uint8_t* data, size_t size, size_t i) {
  return i < size ? data[i] : 0;
}

// One run on limiter type L. Byte 8's high bits choose lanes (slotgate/lanes.hpp) when L has
// three: bits 4..6 the age (0: none, else 3..21 ticks), byte 9's top two bits the minimum shares.
template <class L>
void drive(const uint8_t* data, size_t size) {
  static const bool trace = std::getenv("SLOTGATE_FUZZ_TRACE") != nullptr;
  Run<L> r;
  typename L::config_type c;
  c.limit = size > 0 ? 1 + data[0] % 4 : 2;
  c.cooldown = byte_at(data, size, 1) % 8;
  c.max_hold = byte_at(data, size, 2) % 32;
  c.default_pause = byte_at(data, size, 3) % 16;
  // The gate: max_age 0 (off) to 39, lag 0 to 7, a tail 0 to 7, readings served from a cache up
  // to 0..7 old (half the time); learning up to 0..63 (a quarter of the time off), release
  // evidence capped at foreign_confirm 0..15; the backoff's ceiling 0..63. Foreign tracking
  // and recovery stay off (the model has no other clients).
  c.gate.max_age = byte_at(data, size, 4) % 40;
  c.gate.visibility_lag = byte_at(data, size, 5) % 8;
  const uint8_t g = byte_at(data, size, 6);
  c.gate.tail = g % 8;
  c.gate.staleness = (g & 0x80) ? (g >> 3) % 8 : 0;
  const uint8_t l = byte_at(data, size, 7);
  c.learn.max_lag = (l & 3) == 0 ? 0 : (l >> 2) % 64;
  c.learn.memory = 0;
  c.headroom.foreign_confirm = byte_at(data, size, 8) % 16;
  c.max_pause = byte_at(data, size, 9) % 64;
  c.gate.max_plausible_sessions = 8;
  c.headroom.track_foreign = false;
  if (r.lim.configure(c) != Status::kOk) std::abort();
  Model& m = r.m;
  m.limit = c.limit;
  m.cooldown = c.cooldown;
  m.max_hold = c.max_hold;
  m.default_pause = c.default_pause;
  m.max_pause = c.max_pause;
  m.max_age = Run<L>::kSource ? c.gate.max_age : 0;
  m.lag = Run<L>::kSource ? c.gate.visibility_lag : 0;
  m.tail = c.gate.tail;
  m.staleness = c.gate.staleness;
  m.max_plausible = c.gate.max_plausible_sessions;
  m.max_lag = Run<L>::kSource ? c.learn.max_lag : 0;
  m.confirm = c.headroom.foreign_confirm;
  m.published_lim = m.lim();
  m.set_lanes(uint32_t(L::kLanes));
  if constexpr (L::kLanes > 1) {
    typename L::lane_config_type lc;
    const uint32_t age_code = (byte_at(data, size, 8) >> 4) & 7;
    lc.age = age_code == 0 ? 0 : 3 * age_code;
    switch (byte_at(data, size, 9) >> 6) {
      case 1:
        lc.share_window = 4;
        lc.min_share[0] = 1;
        break;
      case 2:
        lc.share_window = 6;
        lc.min_share[0] = 2;
        lc.min_share[1] = 1;
        break;
      case 3:
        lc.share_window = 3;
        lc.min_share[0] = 1;
        lc.min_share[1] = 1;
        lc.min_share[2] = 1;
        break;
      default:
        break;
    }
    if (r.lim.configure_lanes(lc) != Status::kOk) std::abort();
    m.age = lc.age;
    m.share_window = lc.share_window;
    for (uint32_t k = 0; k < L::kLanes; ++k) m.min_share[k] = lc.min_share[k];
  }
  for (size_t i = 10; i + 1 < size && r.op < 400; i += 2, ++r.op) {
    const uint8_t code = data[i], arg = data[i + 1];
    switch (code % 19) {
      case 0:
      case 1:
        r.try_acquire();
        break;
      case 2:  // lane arg % 3 with lanes; else lane 0, or now and then one it does not have
        r.enqueue(false, 0, L::kLanes > 1 ? arg % 3 : (arg == 0xFE ? 1 : 0));
        break;
      case 3:
        r.enqueue(true, arg % 40, L::kLanes > 1 ? (arg / 40) % 3 : 0);
        break;
      case 4:
        r.claim_or_cancel(arg, false);
        break;
      case 5:
        r.claim_or_cancel(arg, true);
        break;
      case 6:
      case 7:
        r.release(arg, false, 0, false);
        break;
      case 8:
        r.release(arg, true, arg % 16, arg & 1);
        break;
      case 9:
        r.poll();
        break;
      case 10:
      case 11:
        r.port.advance(1 + arg % 20);
        break;
      case 12:
        r.set_limit(arg % 6, (arg / 6) % 2 == 1);
        break;
      case 13:
        if (r.lim.set_cooldown(arg % 8) != Status::kOk) std::abort();
        m.cooldown = arg % 8;
        break;
      case 14:
        r.pause_for(arg % 24);
        break;
      case 15:
        if (arg == 0xFF) r.close();
        break;
      case 16:  // a reading of 0..5 sessions, sampled 0..11 ticks ago, taken in by a poll
        r.usage(arg % 6, (arg / 6) % 12, true);
        break;
      case 17:  // an odd one: implausible, from the future, or well in the past
        r.usage(arg % 12, int(arg / 12) - 10, true);
        break;
      case 18:  // a reading that reached the port and no poll has taken in
        r.usage(arg % 6, (arg / 6) % 12, false);
        break;
    }
    if (trace) r.trace(code % 19, arg);  // SLOTGATE_FUZZ_TRACE=1: one line per operation
    r.compare();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (byte_at(data, size, 8) & 0x80)
    drive<L3>(data, size);
  else
    drive<L1>(data, size);
  if (byte_at(data, size, 8) & 0x40) drive<L0>(data, size);
  return 0;
}
