// The C API: one Limiter configuration, built into caller storage, behind plain functions.
#include "slotgate/slotgate.h"

#include <new>

#include "slotgate/acquire.hpp"
#include "slotgate/limiter.hpp"
#include "slotgate/usage_cell.hpp"

namespace {

using Tick = slotgate_tick;
using slotgate::Status;

// The C port: the caller's function pointers, plus a cell for pushed readings.
class CPort {
 public:
  using tick_type = Tick;
  using word_type = uintptr_t;
  using counter_type = uintptr_t;
  using atomics = slotgate::StdAtomics;

  explicit CPort(const slotgate_port& p) noexcept : p_(p) {}
  Tick now() const noexcept { return p_.now(p_.context); }
  void notify() noexcept {
    if (p_.notify != nullptr) p_.notify(p_.context);
  }
  void notify_waiter(uint32_t waiter) noexcept {
    if (p_.notify_waiter != nullptr)
      p_.notify_waiter(p_.context, waiter);
    else
      notify();
  }
  bool read_usage(slotgate::UsageReading<Tick>& out) noexcept {
    if (p_.read_usage == nullptr) return pushed_.read(out);
    uint32_t sessions = 0;
    Tick at = 0;
    if (!p_.read_usage(p_.context, &sessions, &at)) return false;
    out.sessions = sessions;
    out.sampled_at = at;
    return true;
  }
  void request_usage_refresh() noexcept {
    if (p_.request_usage_refresh != nullptr) p_.request_usage_refresh(p_.context);
  }
  void push_usage(uint32_t sessions, Tick at) noexcept { pushed_.write(true, sessions, at); }

 private:
  slotgate_port p_;
  slotgate::UsageCell<Tick> pushed_;
};

using Limiter =
    slotgate::Limiter<CPort, SLOTGATE_C_MAX_SLOTS, SLOTGATE_C_MAX_WAITERS, SLOTGATE_C_LANES>;

struct Impl {
  explicit Impl(const slotgate_port& p) noexcept : port(p), lim(port) {}
  CPort port;
  Limiter lim;
};

// Every C++ counter has its C field: a counter added to one side only fails here.
static_assert(sizeof(slotgate_counters) == sizeof(slotgate::Counters),
              "slotgate_counters must mirror slotgate::Counters");

static_assert(sizeof(Impl) <= SLOTGATE_LIMITER_SIZE, "SLOTGATE_LIMITER_SIZE is too small");
// The formula in slotgate.h is written for the widest layout (64-bit ticks, 64-byte lines):
// there it must also stay close, so that a layout change that shrinks the limiter cannot leave
// the formula behind either (elsewhere it is only an upper bound).
static_assert(SLOTGATE_C_TICK_BITS != 64 || slotgate::kCacheLine != 64 ||
                  SLOTGATE_LIMITER_SIZE <= sizeof(Impl) + 512,
              "SLOTGATE_LIMITER_SIZE has drifted far above the limiter: tighten its formula");
static_assert(alignof(Impl) <= SLOTGATE_LIMITER_ALIGN, "SLOTGATE_LIMITER_ALIGN is too small");
static_assert(SLOTGATE_LIMITER_STORAGE >= sizeof(Impl) + alignof(Impl) - 1,
              "SLOTGATE_LIMITER_STORAGE leaves no room to align");

#define SLOTGATE_SAME(c, cpp) \
  static_assert(static_cast<int>(c) == static_cast<int>(Status::cpp), #c " must match " #cpp)
SLOTGATE_SAME(SLOTGATE_OK, kOk);
SLOTGATE_SAME(SLOTGATE_NO_SLOT, kNoSlot);
SLOTGATE_SAME(SLOTGATE_WAITERS_AHEAD, kWaitersAhead);
SLOTGATE_SAME(SLOTGATE_PAUSED, kPaused);
SLOTGATE_SAME(SLOTGATE_GATED, kGated);
SLOTGATE_SAME(SLOTGATE_CLOSED, kClosed);
SLOTGATE_SAME(SLOTGATE_QUEUE_FULL, kQueueFull);
SLOTGATE_SAME(SLOTGATE_PENDING, kPending);
SLOTGATE_SAME(SLOTGATE_TIMED_OUT, kTimedOut);
SLOTGATE_SAME(SLOTGATE_GRANT_RETURNED, kGrantReturned);
SLOTGATE_SAME(SLOTGATE_INVALID_ARGUMENT, kInvalidArgument);
SLOTGATE_SAME(SLOTGATE_INVALID_PERMIT, kInvalidPermit);
SLOTGATE_SAME(SLOTGATE_STALE_PERMIT, kStalePermit);
SLOTGATE_SAME(SLOTGATE_RECLAIMED, kReclaimed);
SLOTGATE_SAME(SLOTGATE_INVALID_TICKET, kInvalidTicket);
SLOTGATE_SAME(SLOTGATE_STALE_TICKET, kStaleTicket);
SLOTGATE_SAME(SLOTGATE_CLOCK_WENT_BACKWARDS, kClockWentBackwards);
#undef SLOTGATE_SAME
#define SLOTGATE_SAME_REASON(c, cpp)                                                    \
  static_assert(static_cast<int>(c) == static_cast<int>(slotgate::HeadroomReason::cpp), \
                #c " must match " #cpp)
SLOTGATE_SAME_REASON(SLOTGATE_HEADROOM_NONE, kNone);
SLOTGATE_SAME_REASON(SLOTGATE_HEADROOM_REJECTED, kRejected);
SLOTGATE_SAME_REASON(SLOTGATE_HEADROOM_FOREIGN, kForeign);
#undef SLOTGATE_SAME_REASON

Impl* impl(slotgate_limiter* l) noexcept {
  return reinterpret_cast<Impl*>(l);
}
const Impl* impl(const slotgate_limiter* l) noexcept {
  return reinterpret_cast<const Impl*>(l);
}
slotgate_status c(Status s) noexcept {
  return static_cast<slotgate_status>(s);
}
slotgate::Permit cpp(slotgate_permit p) noexcept {
  return slotgate::Permit{p.slot, p.generation};
}
slotgate::Ticket cpp(slotgate_ticket t) noexcept {
  return slotgate::Ticket{t.index, t.generation};
}
slotgate_permit c(slotgate::Permit p) noexcept {
  return slotgate_permit{p.slot, p.generation};
}
Tick now(slotgate_limiter* l) noexcept {
  return impl(l)->port.now();
}

}  // namespace

namespace {
// Templates, so that with one lane the branch that needs lanes is never instantiated.
template <class L>
slotgate_status configure_lanes(L& lim, const slotgate_lane_config& config) {
  if constexpr (L::kLanes > 1) {
    typename L::lane_config_type lc;
    lc.age = config.age;
    lc.share_window = config.share_window;
    for (size_t i = 0; i < L::kLanes; ++i) lc.min_share[i] = config.min_share[i];
    return c(lim.configure_lanes(lc));
  } else {
    (void)lim;
    (void)config;
    return SLOTGATE_INVALID_ARGUMENT;
  }
}
template <class L>
slotgate_status lane_snapshot(const L& lim, uint32_t lane, Tick now, slotgate_lane_snapshot& out) {
  if constexpr (L::kLanes > 1) {
    typename L::lane_snapshot_type s;
    const Status st = lim.lane_snapshot(slotgate::Lane(lane), now, s);
    if (st != Status::kOk) return c(st);
    out = slotgate_lane_snapshot{s.waiting, s.queued, s.granted, s.timed_out, s.longest_wait};
    return SLOTGATE_OK;
  } else {
    (void)lim;
    (void)lane;
    (void)now;
    (void)out;
    return SLOTGATE_INVALID_ARGUMENT;
  }
}
}  // namespace

extern "C" {

namespace {
void to_c(const Limiter::config_type& d, slotgate_config* config) {
  *config = slotgate_config{};
  config->limit = d.limit;
  config->cooldown = d.cooldown;
  config->max_hold = d.max_hold;
  config->default_pause = d.default_pause;
  config->max_pause = d.max_pause;
  config->gate_max_age = d.gate.max_age;
  config->gate_visibility_lag = d.gate.visibility_lag;
  config->gate_tail = d.gate.tail;
  config->gate_staleness = d.gate.staleness;
  config->gate_repoll_interval = d.gate.repoll_interval;
  config->gate_max_plausible_sessions = d.gate.max_plausible_sessions;
  config->headroom_recover_after = d.headroom.recover_after;
  config->headroom_foreign_confirm = d.headroom.foreign_confirm;
  config->headroom_foreign_hold = d.headroom.foreign_hold;
  config->headroom_sticky = d.headroom.sticky;
  config->headroom_track_foreign = d.headroom.track_foreign;
  config->learn_max_lag = d.learn.max_lag;
  config->learn_memory = d.learn.memory;
}
}  // namespace

void slotgate_config_init(slotgate_config* config) {
  if (config != nullptr) to_c(Limiter::config_type{}, config);
}

void slotgate_config_recommended(slotgate_config* config, uint32_t limit,
                                 uint64_t ticks_per_second) {
  if (config != nullptr) to_c(Limiter::config_type::recommended(limit, ticks_per_second), config);
}

size_t slotgate_limiter_size(void) {
  return sizeof(Impl);
}

slotgate_limiter* slotgate_init(void* storage, size_t size, const slotgate_port* port) {
  if (storage == nullptr || port == nullptr || port->now == nullptr) return nullptr;
  const uintptr_t at = reinterpret_cast<uintptr_t>(storage);
  const uintptr_t aligned = (at + alignof(Impl) - 1) & ~uintptr_t(alignof(Impl) - 1);
  if (aligned - at > size || size - (aligned - at) < sizeof(Impl)) return nullptr;
  return reinterpret_cast<slotgate_limiter*>(new (reinterpret_cast<void*>(aligned)) Impl(*port));
}

slotgate_status slotgate_configure(slotgate_limiter* l, const slotgate_config* config) {
  if (l == nullptr || config == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  Limiter::config_type cfg;
  cfg.limit = config->limit;
  cfg.cooldown = config->cooldown;
  cfg.max_hold = config->max_hold;
  cfg.default_pause = config->default_pause;
  cfg.max_pause = config->max_pause;
  cfg.gate.max_age = config->gate_max_age;
  cfg.gate.visibility_lag = config->gate_visibility_lag;
  cfg.gate.tail = config->gate_tail;
  cfg.gate.staleness = config->gate_staleness;
  cfg.gate.repoll_interval = config->gate_repoll_interval;
  cfg.gate.max_plausible_sessions = config->gate_max_plausible_sessions;
  cfg.headroom.recover_after = config->headroom_recover_after;
  cfg.headroom.foreign_confirm = config->headroom_foreign_confirm;
  cfg.headroom.foreign_hold = config->headroom_foreign_hold;
  cfg.headroom.sticky = config->headroom_sticky;
  cfg.headroom.track_foreign = config->headroom_track_foreign;
  cfg.learn.max_lag = config->learn_max_lag;
  cfg.learn.memory = config->learn_memory;
  return c(impl(l)->lim.configure(cfg));
}

slotgate_status slotgate_set_limit(slotgate_limiter* l, uint32_t limit) {
  if (l == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  return c(impl(l)->lim.set_limit(limit, now(l)));
}

slotgate_status slotgate_set_share(slotgate_limiter* l, uint32_t limit) {
  if (l == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  return c(impl(l)->lim.set_limit(limit, now(l), slotgate::LimitChange::kKeepHeadroom));
}

slotgate_status slotgate_set_cooldown(slotgate_limiter* l, slotgate_tick cooldown) {
  if (l == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  return c(impl(l)->lim.set_cooldown(cooldown));
}

slotgate_status slotgate_set_max_hold(slotgate_limiter* l, slotgate_tick max_hold) {
  if (l == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  return c(impl(l)->lim.set_max_hold(max_hold));
}

slotgate_status slotgate_try_acquire(slotgate_limiter* l, slotgate_permit* out) {
  if (l == nullptr || out == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  slotgate::Permit p;
  const Status s = impl(l)->lim.try_acquire(now(l), p);
  *out = c(p);
  return c(s);
}

slotgate_status slotgate_enqueue(slotgate_limiter* l, slotgate_ticket* out, bool has_deadline,
                                 slotgate_tick deadline) {
  return slotgate_enqueue_in_lane(l, out, has_deadline, deadline, 0);
}

slotgate_status slotgate_enqueue_in_lane(slotgate_limiter* l, slotgate_ticket* out,
                                         bool has_deadline, slotgate_tick deadline, uint32_t lane) {
  if (l == nullptr || out == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  slotgate::Ticket t;
  const auto d =
      has_deadline ? Limiter::deadline_type::at_tick(deadline) : Limiter::deadline_type::none();
  const Status s = impl(l)->lim.enqueue(now(l), t, d, slotgate::Lane(lane));
  *out = slotgate_ticket{t.index, t.generation};
  return c(s);
}

slotgate_status slotgate_acquire_or_enqueue(slotgate_limiter* l, slotgate_permit* permit,
                                            slotgate_ticket* ticket, bool has_deadline,
                                            slotgate_tick deadline) {
  return slotgate_acquire_or_enqueue_in_lane(l, permit, ticket, has_deadline, deadline, 0);
}

slotgate_status slotgate_acquire_or_enqueue_in_lane(slotgate_limiter* l, slotgate_permit* permit,
                                                    slotgate_ticket* ticket, bool has_deadline,
                                                    slotgate_tick deadline, uint32_t lane) {
  if (l == nullptr || permit == nullptr || ticket == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  slotgate::Permit p;
  slotgate::Ticket k;
  const Status s = slotgate::acquire_or_enqueue(
      impl(l)->lim, now(l),
      has_deadline ? Limiter::deadline_type::at_tick(deadline) : Limiter::deadline_type::none(), p,
      k, slotgate::Lane(lane));
  *permit = c(p);
  *ticket = k.valid() ? slotgate_ticket{k.index, k.generation} : slotgate_ticket{0, 0};
  return c(s);
}

slotgate_status slotgate_configure_lanes(slotgate_limiter* l, const slotgate_lane_config* config) {
  if (l == nullptr || config == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  return configure_lanes(impl(l)->lim, *config);
}

slotgate_status slotgate_lane_snapshot_of(const slotgate_limiter* l, uint32_t lane,
                                          slotgate_lane_snapshot* out) {
  if (l == nullptr || out == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  *out = slotgate_lane_snapshot{};
  const Impl* im = impl(l);
  return lane_snapshot(im->lim, lane, im->port.now(), *out);
}

bool slotgate_would_admit(const slotgate_limiter* l) {
  if (l == nullptr) return false;
  const Impl* im = impl(l);
  return im->lim.would_admit(im->port.now());
}

slotgate_ticket_state slotgate_ticket_state_of(const slotgate_limiter* l, slotgate_ticket t) {
  if (l == nullptr) return SLOTGATE_TICKET_INVALID;
  switch (impl(l)->lim.state(cpp(t))) {
    case slotgate::TicketState::kWaiting:
      return SLOTGATE_TICKET_WAITING;
    case slotgate::TicketState::kGranted:
      return SLOTGATE_TICKET_GRANTED;
    case slotgate::TicketState::kTimedOut:
      return SLOTGATE_TICKET_TIMED_OUT;
    case slotgate::TicketState::kClosed:
      return SLOTGATE_TICKET_CLOSED;
    case slotgate::TicketState::kInvalid:
      break;
  }
  return SLOTGATE_TICKET_INVALID;
}

slotgate_status slotgate_claim(slotgate_limiter* l, slotgate_ticket t, slotgate_permit* out) {
  if (l == nullptr || out == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  slotgate::Permit p;
  const Status s = impl(l)->lim.claim(cpp(t), p);
  *out = c(p);
  return c(s);
}

slotgate_status slotgate_cancel(slotgate_limiter* l, slotgate_ticket t) {
  if (l == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  return c(impl(l)->lim.cancel(cpp(t), now(l)));
}

slotgate_status slotgate_release(slotgate_limiter* l, slotgate_permit p) {
  if (l == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  return c(impl(l)->lim.release(cpp(p), now(l)));
}

slotgate_status slotgate_release_rejected(slotgate_limiter* l, slotgate_permit p,
                                          bool has_retry_after, slotgate_tick retry_after) {
  if (l == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  const auto o = has_retry_after ? Limiter::outcome_type::rejected_retry_after(retry_after)
                                 : Limiter::outcome_type::rejected();
  return c(impl(l)->lim.release(cpp(p), now(l), o));
}

slotgate_status slotgate_poll(slotgate_limiter* l, bool* has_deadline,
                              slotgate_tick* next_deadline) {
  if (l == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  const auto r = impl(l)->lim.poll(now(l));
  if (has_deadline != nullptr) *has_deadline = r.next.set;
  if (next_deadline != nullptr) *next_deadline = r.next.at;
  return c(r.status);
}

void slotgate_report_usage(slotgate_limiter* l, uint32_t sessions, slotgate_tick sampled_at) {
  if (l != nullptr) impl(l)->port.push_usage(sessions, sampled_at);
}

slotgate_status slotgate_pause_for(slotgate_limiter* l, slotgate_tick duration) {
  if (l == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  return c(impl(l)->lim.pause_for(duration, now(l)));
}

slotgate_status slotgate_pause_until(slotgate_limiter* l, slotgate_tick until) {
  if (l == nullptr) return SLOTGATE_INVALID_ARGUMENT;
  return c(impl(l)->lim.pause_until(until, now(l)));
}

void slotgate_resume(slotgate_limiter* l) {
  if (l != nullptr) impl(l)->lim.resume();
}

void slotgate_close(slotgate_limiter* l) {
  if (l != nullptr) impl(l)->lim.close();
}

void slotgate_get_snapshot(const slotgate_limiter* l, slotgate_snapshot* out) {
  if (l == nullptr || out == nullptr) return;
  const auto s = impl(l)->lim.snapshot();
  slotgate_snapshot o{};
  o.limit = s.limit;
  o.effective_limit = s.effective_limit;
  o.headroom = s.headroom;
  o.headroom_rejected = s.headroom_rejected;
  o.headroom_foreign = s.headroom_foreign;
  o.held = s.held;
  o.cooling = s.cooling;
  o.queued = s.queued;
  o.tickets_outstanding = s.tickets_outstanding;
  o.closed = s.closed;
  o.paused = s.paused;
  o.has_reading = s.has_reading;
  o.gate_open = s.gate_open;
  o.half_open = s.half_open;
  o.probe_out = s.probe_out;
  o.paused_until = s.paused_until;
  o.backoff = s.backoff;
  o.headroom_recovery = s.headroom_recovery;
  o.effective_cooldown = s.effective_cooldown;
  o.effective_visibility_lag = s.effective_visibility_lag;
  o.learned_release_lag = s.learned_release_lag;
  o.learned_visibility_lag = s.learned_visibility_lag;
  o.consecutive_episodes = s.consecutive_episodes;
  o.foreign_seen = s.foreign_seen;
  o.reading_sampled_at = s.reading_sampled_at;
  o.reading_sessions = s.reading_sessions;
  o.gate_budget = s.gate_budget;
  o.gate_room = s.gate_room;
  o.headroom_reason = static_cast<slotgate_headroom_reason>(s.headroom_reason);
  o.headroom_since = s.headroom_since;
  o.limit_before_headroom = s.limit_before_headroom;
  o.foreign_hold = s.foreign_hold;
  o.foreign_peak = s.foreign_peak;
  o.foreign_away_for = s.foreign_away_for;
  o.cooldown = s.cooldown;
  o.max_hold = s.max_hold;
  o.episode_started_at = s.episode_started_at;
  o.reading_missing = s.reading_missing;
  const auto& k = s.counters;
  o.counters.granted = k.granted;
  o.counters.fast_path = k.fast_path;
  o.counters.from_queue = k.from_queue;
  o.counters.released = k.released;
  o.counters.cancelled = k.cancelled;
  o.counters.grants_returned = k.grants_returned;
  o.counters.timed_out = k.timed_out;
  o.counters.closed_waiters = k.closed_waiters;
  o.counters.reclaimed = k.reclaimed;
  o.counters.rejected_by_upstream = k.rejected_by_upstream;
  o.counters.queue_full = k.queue_full;
  o.counters.bad_releases = k.bad_releases;
  o.counters.no_slot = k.no_slot;
  o.counters.held_back_cooldown = k.held_back_cooldown;
  o.counters.held_back_gate = k.held_back_gate;
  o.counters.held_back_headroom = k.held_back_headroom;
  o.counters.held_back_pause = k.held_back_pause;
  o.counters.held_back_probe = k.held_back_probe;
  o.counters.waiters_ahead = k.waiters_ahead;
  o.counters.clock_regressions = k.clock_regressions;
  o.counters.wakeups = k.wakeups;
  o.counters.poll_wakeups = k.poll_wakeups;
  o.counters.claim_rescans = k.claim_rescans;
  o.counters.readings = k.readings;
  o.counters.bad_readings = k.bad_readings;
  o.counters.refresh_requests = k.refresh_requests;
  o.counters.headroom_steps_up = k.headroom_steps_up;
  o.counters.headroom_steps_down = k.headroom_steps_down;
  o.counters.episodes = k.episodes;
  o.counters.probes = k.probes;
  o.counters.release_lag_samples = k.release_lag_samples;
  o.counters.visibility_lag_samples = k.visibility_lag_samples;
  o.counters.release_lag_from_rejections = k.release_lag_from_rejections;
  *out = o;
}

const char* slotgate_status_string(slotgate_status s) {
  return slotgate::to_string(static_cast<Status>(s));
}

}  // extern "C"
