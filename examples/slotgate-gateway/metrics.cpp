#include "metrics.hpp"

#include "exposition.hpp"
#include "slotgate/fleet/member.hpp"
#include "slotgate/http/usage_source.hpp"

namespace gateway {

const char* to_string(Refusal r) {
  constexpr const char* kNames[] = {"queue_full", "queue_timeout", "closed", "client_gone"};
  return r < Refusal::kCount ? kNames[static_cast<size_t>(r)] : "?";
}
const char* to_string(UpstreamFailure f) {
  constexpr const char* kNames[] = {"resolve", "connect", "send", "header", "body"};
  return f < UpstreamFailure::kCount ? kNames[static_cast<size_t>(f)] : "?";
}
const char* to_string(Phase p) {
  constexpr const char* kNames[] = {"queued", "upstream"};
  return p < Phase::kCount ? kNames[static_cast<size_t>(p)] : "?";
}

namespace {

double load(const std::atomic<uint64_t>& a) {
  return static_cast<double>(a.load(std::memory_order_relaxed));  // relaxed: statistics
}
double load(const std::atomic<int64_t>& a) {
  return static_cast<double>(a.load(std::memory_order_relaxed));  // relaxed: statistics
}

void limiter_part(Exposition& e, const slotgate::Snapshot<uint64_t>& s) {
  e.single("slotgate_limit", "gauge", "Concurrent sessions the upstream allows (the cap).",
           s.limit);
  e.single("slotgate_effective_limit", "gauge",
           "What grants are checked against now: the cap less headroom.", s.effective_limit);
  e.single("slotgate_permits_held", "gauge", "Permits out: requests talking to the upstream.",
           s.held);
  e.single("slotgate_permits_cooling", "gauge",
           "Released slots still counted against the cap while the upstream's counter lags.",
           s.cooling);
  e.single("slotgate_queued", "gauge", "Requests waiting for a permit.", s.queued);
  e.family("slotgate_headroom", "gauge",
           "Slots held back for usage the limiter cannot see, by why.");
  e.sample("slotgate_headroom", {{"reason", "rejected"}}, s.headroom_rejected);
  e.sample("slotgate_headroom", {{"reason", "foreign"}}, s.headroom_foreign);
  e.single("slotgate_paused", "gauge", "1 while grants pause after an upstream rejection.",
           s.paused ? 1 : 0);
  e.single("slotgate_half_open", "gauge", "1 while one probe tests the upstream after a pause.",
           s.half_open ? 1 : 0);
  e.single("slotgate_usage_gate_open", "gauge",
           "1 when no usable reading binds grants (they rest on cooldown alone).",
           s.gate_open ? 1 : 0);
  e.single("slotgate_usage_reading_sessions", "gauge",
           "The session count of the latest usage reading taken in (0 before one).",
           s.has_reading ? s.reading_sessions : 0);
  e.single("slotgate_usage_gate_room", "gauge",
           "Slots the usage gate keeps free beyond the latest reading: for other clients on the "
           "key, and after upstream rejections (0 while the gate is open).",
           s.gate_room);
  e.single("slotgate_effective_cooldown_seconds", "gauge",
           "How long a released slot counts: the configured floor or the learned release lag.",
           static_cast<double>(s.effective_cooldown) / 1e9);

  const slotgate::Counters& c = s.counters;
  e.family("slotgate_grants_total", "counter", "Permits granted, by path.");
  e.sample("slotgate_grants_total", {{"path", "fast"}}, static_cast<double>(c.fast_path));
  e.sample("slotgate_grants_total", {{"path", "queue"}}, static_cast<double>(c.from_queue));
  e.single("slotgate_releases_total", "counter", "Permits released.",
           static_cast<double>(c.released));
  e.single("slotgate_upstream_rejections_total", "counter",
           "Releases reported as rejected by the upstream (429).",
           static_cast<double>(c.rejected_by_upstream));
  e.single("slotgate_rejection_episodes_total", "counter",
           "Rejection episodes (a pause, then a half-open probe).",
           static_cast<double>(c.episodes));
  e.family("slotgate_held_back_total", "counter", "Grants held back, by what held them.");
  e.sample("slotgate_held_back_total", {{"by", "cooldown"}},
           static_cast<double>(c.held_back_cooldown));
  e.sample("slotgate_held_back_total", {{"by", "gate"}}, static_cast<double>(c.held_back_gate));
  e.sample("slotgate_held_back_total", {{"by", "headroom"}},
           static_cast<double>(c.held_back_headroom));
  e.sample("slotgate_held_back_total", {{"by", "pause"}}, static_cast<double>(c.held_back_pause));
  e.sample("slotgate_held_back_total", {{"by", "probe"}}, static_cast<double>(c.held_back_probe));
  e.family("slotgate_waits_ended_total", "counter",
           "Waits that ended without a permit, by how they ended.");
  e.sample("slotgate_waits_ended_total", {{"how", "timed_out"}}, static_cast<double>(c.timed_out));
  e.sample("slotgate_waits_ended_total", {{"how", "cancelled"}}, static_cast<double>(c.cancelled));
  e.sample("slotgate_waits_ended_total", {{"how", "closed"}},
           static_cast<double>(c.closed_waiters));
  e.sample("slotgate_waits_ended_total", {{"how", "queue_full"}},
           static_cast<double>(c.queue_full));
  e.single("slotgate_grants_returned_total", "counter",
           "Grants that lost the race to a cancellation and went back.",
           static_cast<double>(c.grants_returned));
  e.single("slotgate_reclaimed_total", "counter", "Permits reclaimed from stuck holders.",
           static_cast<double>(c.reclaimed));
  e.single("slotgate_wakeups_total", "counter", "Waiters woken for their own ticket.",
           static_cast<double>(c.wakeups));
  e.single("slotgate_usage_readings_total", "counter", "Usage readings the limiter took in.",
           static_cast<double>(c.readings));
  e.single("slotgate_usage_bad_readings_total", "counter",
           "Readings the limiter ignored (implausible, from the future, older).",
           static_cast<double>(c.bad_readings));
}

void lanes_part(Exposition& e, const Lanes& lanes) {
  constexpr const char* kLane[] = {"normal", "high"};
  using Field = double (*)(const slotgate::LaneSnapshot<uint64_t>&);
  const auto per_lane = [&](const char* name, const char* type, const char* help, Field f) {
    e.family(name, type, help);
    for (size_t i = 0; i < lanes.size(); ++i) e.sample(name, {{"lane", kLane[i]}}, f(lanes[i]));
  };
  per_lane("slotgate_lane_waiting", "gauge", "Requests waiting for a permit, by lane.",
           [](const auto& l) { return double(l.waiting); });
  per_lane("slotgate_lane_longest_wait_seconds", "gauge",
           "How long the longest-waiting request of a lane has waited, by lane.",
           [](const auto& l) { return double(l.longest_wait) / 1e9; });
  per_lane("slotgate_lane_queued_total", "counter", "Requests that queued, by lane.",
           [](const auto& l) { return double(l.queued); });
  per_lane("slotgate_lane_granted_total", "counter", "Queued requests granted, by lane.",
           [](const auto& l) { return double(l.granted); });
  per_lane("slotgate_lane_timed_out_total", "counter",
           "Queued requests whose wait timed out, by lane.",
           [](const auto& l) { return double(l.timed_out); });
}

void source_part(Exposition& e, const slotgate::http::UsageSource& src) {
  using slotgate::http::NoReading;
  e.single("slotgate_usage_answers_total", "counter",
           "Answers of the usage endpoint and passive headers, readings or not.",
           static_cast<double>(src.answers()));
  e.family("slotgate_usage_no_reading_total", "counter", "Answers that gave no reading, by why.");
  for (size_t i = 1; i < static_cast<size_t>(NoReading::kCount); ++i) {
    const auto why = static_cast<NoReading>(i);
    e.sample("slotgate_usage_no_reading_total", {{"reason", slotgate::http::to_string(why)}},
             static_cast<double>(src.failures(why)));
  }
}

void fleet_part(Exposition& e, const slotgate::fleet::MemberStatus& f) {
  using slotgate::fleet::Failure;
  using slotgate::fleet::State;
  e.single("slotgate_fleet_share", "gauge",
           "The local limit from this gateway's share of the key's cap (the floor while lapsed).",
           f.limit);
  e.single("slotgate_fleet_claim", "gauge", "What the Redis ledger records this gateway as using.",
           f.claim);
  e.single("slotgate_fleet_want", "gauge", "What the last renewal asked for.", f.want);
  e.single("slotgate_fleet_peers", "gauge", "Other live gateways on the key at the last renewal.",
           f.peers);
  e.single("slotgate_fleet_foreign_sessions", "gauge",
           "Other clients' sessions on the key the ledger holds back, from usage readings.",
           f.foreign);
  e.single("slotgate_fleet_reading_sessions", "gauge",
           "The upstream's count in the usage reading the last renewal passed on (-1: none).",
           static_cast<double>(f.reading));
  e.family("slotgate_fleet_state", "gauge", "1 for the member's state: its lease and share.");
  for (const State s : {State::kStarting, State::kLeased, State::kSettling, State::kLapsed})
    e.sample("slotgate_fleet_state", {{"state", slotgate::fleet::to_string(s)}},
             f.state == s ? 1 : 0);
  e.single("slotgate_fleet_lease_seconds_left", "gauge",
           "Until the lease lapses without a renewal, by this gateway's clock.", f.lease_left_s);
  e.single("slotgate_fleet_since_renewal_seconds", "gauge",
           "Since the last renewal that succeeded (-1 before the first).", f.since_renewal_s);
  e.single("slotgate_fleet_renewals_total", "counter", "Renewals that succeeded.",
           static_cast<double>(f.renewals));
  e.family("slotgate_fleet_renewal_failures_total", "counter", "Renewals that failed, by why.");
  for (int i = 0; i < static_cast<int>(Failure::kCount); ++i)
    e.sample("slotgate_fleet_renewal_failures_total",
             {{"reason", slotgate::fleet::to_string(static_cast<Failure>(i))}},
             static_cast<double>(f.failures[i]));
  e.single("slotgate_fleet_ledger_repairs_total", "counter",
           "Inconsistencies the ledger script found and repaired (all members').",
           static_cast<double>(f.repairs));
}

void gateway_part(Exposition& e, const Stats& st) {
  e.single("slotgate_gateway_connections", "gauge", "Client connections open.",
           load(st.connections));
  e.single("slotgate_gateway_upstream_requests", "gauge",
           "Requests holding a permit and talking to the upstream.", load(st.in_upstream));
  e.single("slotgate_gateway_upstream_kept_connections", "gauge",
           "Idle upstream connections kept for their client connections' next requests.",
           load(st.upstream_kept));
  e.single("slotgate_gateway_requests_total", "counter", "Requests read from clients to proxy.",
           load(st.requests));
  e.family("slotgate_gateway_responses_total", "counter",
           "Responses sent to clients, by status class.");
  constexpr const char* kClasses[] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (size_t i = 1; i < 6; ++i)
    e.sample("slotgate_gateway_responses_total", {{"class", kClasses[i]}}, load(st.responses[i]));
  e.single("slotgate_gateway_upstream_429_total", "counter",
           "Upstream 429 responses (each released as rejected with its Retry-After).",
           load(st.upstream_429));
  e.family("slotgate_gateway_refused_total", "counter", "Requests that got no permit, by why.");
  for (size_t i = 0; i < static_cast<size_t>(Refusal::kCount); ++i)
    e.sample("slotgate_gateway_refused_total", {{"reason", to_string(static_cast<Refusal>(i))}},
             load(st.refused[i]));
  e.family("slotgate_gateway_upstream_failures_total", "counter",
           "Proxied requests that failed talking to the upstream, by stage.");
  for (size_t i = 0; i < static_cast<size_t>(UpstreamFailure::kCount); ++i)
    e.sample("slotgate_gateway_upstream_failures_total",
             {{"stage", to_string(static_cast<UpstreamFailure>(i))}},
             load(st.upstream_failures[i]));
  e.family("slotgate_gateway_clients_gone_total", "counter",
           "Clients that went away before their response ended, by phase.");
  for (size_t i = 0; i < static_cast<size_t>(Phase::kCount); ++i)
    e.sample("slotgate_gateway_clients_gone_total", {{"phase", to_string(static_cast<Phase>(i))}},
             load(st.clients_gone[i]));
  e.single("slotgate_gateway_passive_readings_total", "counter",
           "Usage counts offered from proxied responses' headers.", load(st.passive_offers));
  e.family("slotgate_gateway_upstream_sent_total", "counter",
           "Requests sent upstream, by connection: a new one, or one kept from the client "
           "connection's last request (a request sent again counts once more, as new).");
  e.sample("slotgate_gateway_upstream_sent_total", {{"connection", "new"}},
           load(st.upstream_connected));
  e.sample("slotgate_gateway_upstream_sent_total", {{"connection", "kept"}},
           load(st.upstream_reused));
  e.single("slotgate_gateway_upstream_resent_total", "counter",
           "Requests sent again on a new connection after a kept one failed before any answer.",
           load(st.upstream_retries));

  e.family("slotgate_gateway_wait_seconds", "histogram",
           "Time from a request's arrival to its permit.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < WaitHistogram::kBuckets; ++i) {
    cumulative += st.wait.in_bucket(i);
    const std::string le = Exposition::number(WaitHistogram::kBounds[i]);
    e.sample("slotgate_gateway_wait_seconds_bucket", {{"le", le}}, static_cast<double>(cumulative));
  }
  cumulative += st.wait.in_bucket(WaitHistogram::kBuckets);
  e.sample("slotgate_gateway_wait_seconds_bucket", {{"le", "+Inf"}},
           static_cast<double>(cumulative));
  e.sample("slotgate_gateway_wait_seconds_sum", st.wait.sum_seconds());
  e.sample("slotgate_gateway_wait_seconds_count", static_cast<double>(cumulative));
}

}  // namespace

std::string render_metrics(const slotgate::Snapshot<uint64_t>& s, const Stats& stats,
                           const slotgate::http::UsageSource* source,
                           const slotgate::fleet::MemberStatus* fleet, const Lanes* lanes) {
  Exposition e;
  limiter_part(e, s);
  if (lanes != nullptr) lanes_part(e, *lanes);
  if (source != nullptr) source_part(e, *source);
  if (fleet != nullptr) fleet_part(e, *fleet);
  gateway_part(e, stats);
  return e.text();
}

}  // namespace gateway
