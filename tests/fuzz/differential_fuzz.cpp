// Differential fuzzing: bytes decode into operations, run on the library and on the reference
// model (reference.hpp) side by side; every status, count and ticket state must agree after
// every operation. The clock is 32-bit and starts just below its wraparound.
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
using L = slotgate::Limiter<Port, 4, 4>;
using reference::Model;
using reference::TState;

[[noreturn]] void fail(const char* what, int op, long a, long b) {
  std::fprintf(stderr, "MISMATCH at op %d: %s (library %ld, model %ld)\n", op, what, a, b);
  std::abort();
}
#define AGREE(what, lib, ref) \
  if ((lib) != (ref)) fail(what, op, long(lib), long(ref))

struct Run {
  Port port{0xFFFFFFFFu - 3000u};
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

  void try_acquire() {
    Permit p;
    const Status s = lim.try_acquire(now(), p);
    Status want = Status::kOk;
    switch (m.admit(now(), false)) {
      case Model::Admit::Closed:
        want = Status::kClosed;
        break;
      case Model::Admit::WaitersAhead:
        want = Status::kWaitersAhead;
        break;
      case Model::Admit::Paused:
        want = Status::kPaused;
        break;
      case Model::Admit::NoSlot:
        want = Status::kNoSlot;
        break;
      case Model::Admit::Gated:
        want = Status::kGated;
        break;
      case Model::Admit::Yes:
        break;
    }
    AGREE("try_acquire status", int(s), int(want));
    if (s == Status::kOk) {
      m.grant(now(), -1);
      learn_permit(p, int(m.sessions.size()) - 1);
    }
  }

  void enqueue(bool timed, uint32_t in) {
    Ticket t;
    const auto dl = timed ? L::deadline_type::at_tick(now() + in) : L::deadline_type::none();
    const Status s = lim.enqueue(now(), t, dl);
    Status want = Status::kOk;
    if (m.closed)
      want = Status::kClosed;
    else if (m.outstanding() >= m.max_waiters)
      want = Status::kQueueFull;
    else if (m.fifo.size() - (m.front_peeked ? 1 : 0) >= m.queue_capacity)
      want = Status::kQueueFull;
    AGREE("enqueue status", int(s), int(want));
    if (s != Status::kOk) return;
    const int id = int(m.tickets.size());
    m.tickets.push_back(TState::Waiting);
    m.ticket_deadline.push_back(timed);
    m.deadline.push_back(now() + in);
    m.ticket_reclaimed.push_back(false);
    m.fifo.push_back(id);
    tickets.push_back(t);
    m.grant_waiters(now());
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
          m.grant_waiters(now());
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
            m.end(size_t(sess), now());
            m.grant_waiters(now());
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
    const auto outcome = !rejected   ? L::outcome_type::ok()
                         : has_retry ? L::outcome_type::rejected_retry_after(retry_after)
                                     : L::outcome_type::rejected();
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
    const int sess = session_of_permit(idx);
    bool freed = false;
    if (m.cooldown == 0) {
      m.end(size_t(sess), now());
      freed = true;
    } else {
      m.cool(size_t(sess), now() + m.cooldown);
      m.sessions[size_t(sess)].permit = -2;
    }
    if (rejected) {
      uint32_t d = has_retry ? retry_after : m.default_pause;
      if (d > 0x7FFFFFFFu) d = 0x7FFFFFFFu;
      const bool started = d == 0 || m.extend_pause(now() + d, now());
      if (started) m.step_up();
    }
    if (freed) m.grant_waiters(now());
  }

  void poll() {
    lim.poll(now());
    if (m.pause_bit && reference::reached(m.paused_until, now())) m.pause_bit = false;
    m.reclaim_cooled(now());
    if (m.max_hold != 0) {
      for (size_t i = 0; i < m.sessions.size();) {
        auto& se = m.sessions[i];
        if (se.cooling || !reference::reached(se.t + m.max_hold, now())) {
          ++i;
          continue;
        }
        if (se.permit >= 0) permits[size_t(se.permit)].ended = 2;
        if (se.permit == -1 && se.ticket >= 0) m.ticket_reclaimed[size_t(se.ticket)] = true;
        se.permit = -2;
        if (m.cooldown == 0) {
          m.end(i, now());
          continue;
        }
        m.cool(i, now() + m.cooldown);
        ++i;
      }
    }
    for (size_t t = 0; t < m.tickets.size(); ++t)
      if (m.tickets[t] == TState::Waiting && m.ticket_deadline[t] &&
          reference::reached(m.deadline[t], now()))
        m.tickets[t] = TState::TimedOut;
    m.grant_waiters(now());
  }

  void set_limit(uint32_t v) {
    const Status s = lim.set_limit(v, now());
    const Status want = v >= 1 && v <= m.max_slots ? Status::kOk : Status::kInvalidArgument;
    AGREE("set_limit status", int(s), int(want));
    if (s != Status::kOk) return;
    m.limit = v;
    m.h_rejected = 0;
    m.grant_waiters(now());
  }

  void pause_for(uint32_t d) {
    AGREE("pause_for status", int(lim.pause_for(d, now())), int(Status::kOk));
    const uint32_t until = now() + d;
    if (reference::before(now(), until)) m.extend_pause(until, now());
  }

  // The usage source has a new reading (sessions, sampled `ago` ticks back, or ahead when
  // negative); the next poll takes it in.
  void usage(uint32_t sessions, int ago) {
    port.set_usage(sessions, now() - uint32_t(ago));
    m.take_reading(sessions, now() - uint32_t(ago), now());
    poll();
  }

  void close() {
    lim.close();
    m.closed = true;
    for (auto& t : m.tickets)
      if (t == TState::Waiting) t = TState::Closed;
    m.grant_waiters(now());
  }

  void compare() {
    const auto s = lim.snapshot();
    AGREE("held", s.held, m.held());
    AGREE("cooling", s.cooling, m.cooling());
    AGREE("queued", s.queued, uint32_t(m.fifo.size()));
    AGREE("tickets outstanding", s.tickets_outstanding, m.outstanding());
    AGREE("effective limit", s.effective_limit, m.lim());
    AGREE("closed", s.closed, m.closed);
    AGREE("paused", s.paused, m.pause_bit);
    AGREE("has reading", s.has_reading, m.has_reading);
    if (m.has_reading) {
      AGREE("reading sessions", s.reading_sessions, m.sessions_read);
      AGREE("reading sampled at", s.reading_sampled_at, m.read_at);
    }
    AGREE("bad readings", s.counters.bad_readings, m.bad_readings);
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
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool trace = std::getenv("SLOTGATE_FUZZ_TRACE") != nullptr;
  Run r;
  L::config_type c;
  c.limit = size > 0 ? 1 + data[0] % 4 : 2;
  c.cooldown = size > 1 ? data[1] % 8 : 0;
  c.max_hold = size > 2 ? data[2] % 32 : 0;
  c.default_pause = size > 3 ? data[3] % 16 : 0;
  // The gate: max_age 0 (off) to 39, lag 0 to 7; foreign tracking and recovery off. tail stays
  // 0: with a tail, a slot record granted again within it drops its previous grant from the
  // census (README, "The usage gate"), which this exact model does not follow.
  c.gate.max_age = size > 4 ? data[4] % 40 : 0;
  c.gate.visibility_lag = size > 5 ? data[5] % 8 : 0;
  c.gate.tail = 0;
  c.gate.max_plausible_sessions = 8;
  c.headroom.track_foreign = false;
  if (r.lim.configure(c) != Status::kOk) std::abort();
  r.m.limit = c.limit;
  r.m.cooldown = c.cooldown;
  r.m.max_hold = c.max_hold;
  r.m.default_pause = c.default_pause;
  r.m.max_age = c.gate.max_age;
  r.m.lag = c.gate.visibility_lag;
  r.m.tail = c.gate.tail;
  r.m.max_plausible = c.gate.max_plausible_sessions;
  for (size_t i = 7; i + 1 < size && r.op < 400; i += 2, ++r.op) {
    const uint8_t code = data[i], arg = data[i + 1];
    switch (code % 18) {
      case 0:
      case 1:
        r.try_acquire();
        break;
      case 2:
        r.enqueue(false, 0);
        break;
      case 3:
        r.enqueue(true, arg % 40);
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
        r.set_limit(arg % 6);
        break;
      case 13:
        if (r.lim.set_cooldown(arg % 8) != Status::kOk) std::abort();
        r.m.cooldown = arg % 8;
        break;
      case 14:
        r.pause_for(arg % 24);
        break;
      case 15:
        if (arg == 0xFF) r.close();
        break;
      case 16:  // a reading of 0..5 sessions, sampled 0..11 ticks ago
        r.usage(arg % 6, (arg / 6) % 12);
        break;
      case 17:  // an odd one: implausible, from the future, or well in the past
        r.usage(arg % 12, int(arg / 12) - 10);
        break;
    }
    if (trace) {  // SLOTGATE_FUZZ_TRACE=1: one line per operation, to read a failing input
      const auto s = r.lim.snapshot();
      std::fprintf(stderr,
                   "op %d code %d arg %d now %u | held %u cooling %u queued %u lim %u gate %s "
                   "%u | model budget %u usable %d reading %u at %u unseen %u\n",
                   r.op, code % 18, arg, r.now(), s.held, s.cooling, s.queued, s.effective_limit,
                   s.gate_open ? "open" : "budget", s.gate_budget, r.m.budget(r.now()),
                   int(r.m.usable(r.now())), r.m.sessions_read, r.m.read_at,
                   r.m.unseen_grants(r.now()));
      for (auto& e : r.m.sessions)
        std::fprintf(stderr, "   session on record %d %s %u\n", e.rec,
                     e.cooling ? "cooling until" : "held since", e.t);
      for (auto& e : r.m.records)
        std::fprintf(stderr, "   record %d granted %u stamp %u\n", int(e.phase), e.granted,
                     e.stamp);
    }
    r.compare();
  }
  return 0;
}
