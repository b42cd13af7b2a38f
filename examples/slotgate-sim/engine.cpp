#include "engine.hpp"

#include <algorithm>

namespace sim {

Engine::Engine(const Scenario& s, Strategy& strategy) : s_(s), strategy_(strategy) {
  agents_.resize(s.agents);
  for (uint32_t i = 0; i < s.agents; ++i) agents_[i].rng.seed(s.seed * 1000003u + i);
  foreign_.resize(s.foreign_clients);
  for (uint32_t i = 0; i < s.foreign_clients; ++i)
    foreign_[i].rng.seed(s.seed * 7919u + 0x5eed0000u + i);
  r_.scenario = s.name;
  r_.seed = s.seed;
  r_.strategy = strategy.name();
}

void Engine::push(Tick t, Ev kind, uint32_t who, uint64_t a, Tick b) {
  const uint8_t order = kind == Ev::kCountDown ? 0 : kind == Ev::kCountUp ? 1 : 2;
  events_.push(Event{t, order, seq_++, kind, who, a, b});
}

// How long after its end a session stops counting: lag_out, or later if the upstream only
// began counting it after that (a late start never makes the count go negative).
Tick Engine::counted_until(Tick lag_in, Tick gen, Tick lag_out) {
  return lag_in > gen + lag_out ? lag_in - gen : lag_out;
}

Tick Engine::draw(std::mt19937_64& rng, Range r) {
  if (r.hi <= r.lo) return r.lo;
  return r.lo + rng() % (r.hi - r.lo + 1);
}

uint32_t Engine::cap_at(Tick t) const {
  const bool shrink = penalty_active_ && s_.penalty == Penalty::kShrink && t < penalty_until_;
  return shrink && s_.cap > 1 ? s_.cap - 1 : s_.cap;
}

bool Engine::refusing_at(Tick t) const {
  return penalty_active_ && s_.penalty == Penalty::kRefuse && t < penalty_until_;
}

void Engine::grant(uint32_t agent) {
  --waiting_;
  ++grants_in_flight_;
  push(now_, Ev::kGrant, agent);
}

void Engine::wake_at(Tick t) {
  push(t < now_ ? now_ : t, Ev::kWake);
}

void Engine::fetch_usage() {
  // The endpoint answers from its cache, refreshed when older than `staleness`.
  if (!cache_valid_ || now_ - cache_time_ >= s_.staleness) {
    cache_valid_ = true;
    cache_time_ = now_;
    cache_value_ = counted_;
  }
  // A client stamps the reading with the time it asked (it cannot know the cache's age).
  push(now_ + s_.poll_latency, Ev::kUsage, 0, cache_value_, now_);
}

void Engine::next_want(uint32_t agent) {
  Agent& a = agents_[agent];
  Tick t;
  if (s_.burst_period > 0) {
    t = (now_ / s_.burst_period + 1) * s_.burst_period + draw(a.rng, s_.burst_jitter);
  } else {
    t = now_ + draw(a.rng, interactive(agent) ? s_.interactive_think : s_.think);
  }
  a.want_at = t;
  push(t, Ev::kWant, agent);
}

bool Engine::upstream_admits(Tick) {
  if (refusing() || counted_ >= cap_now()) {
    if (s_.penalty != Penalty::kNone && s_.penalty_duration > 0) {
      penalty_active_ = true;
      penalty_until_ = now_ + s_.penalty_duration;
    }
    return false;
  }
  return true;
}

void Engine::counted_changed() {
  r_.trace.push_back(Point{now_, counted_});
  r_.max_upstream = std::max(r_.max_upstream, counted_);
}

void Engine::handle(const Event& e) {
  switch (e.kind) {
    case Ev::kCountDown:
      --counted_;
      counted_changed();
      strategy_.count_changed(*this);
      break;
    case Ev::kCountUp:
      --pending_in_;
      ++counted_;
      counted_changed();
      break;
    case Ev::kWant:
      ++waiting_;
      strategy_.request(*this, e.who);
      break;
    case Ev::kGrant: {
      --grants_in_flight_;
      Agent& a = agents_[e.who];
      waits_.push_back(now_ - a.want_at);
      class_waits_[interactive(e.who) ? 1 : 0].push_back(now_ - a.want_at);
      if (!upstream_admits(now_)) {
        ++r_.rejections_429;
        r_.rejected_at.push_back(now_);
        strategy_.release(*this, e.who, true, s_.retry_after);
        next_want(e.who);
        break;
      }
      ++pending_in_;
      const Tick lag_in = draw(a.rng, s_.lag_in);
      const Tick gen = draw(a.rng, interactive(e.who) ? s_.interactive_generation : s_.generation);
      const Tick lag_out = draw(a.rng, s_.lag_out);
      push(now_ + lag_in, Ev::kCountUp);
      busy_integral_ += double(ours_generating_) * double(now_ - busy_since_);
      busy_since_ = now_;
      ++ours_generating_;
      push(now_ + gen, Ev::kEnd, e.who, counted_until(lag_in, gen, lag_out));
      break;
    }
    case Ev::kEnd:
      ++r_.completed;
      busy_integral_ += double(ours_generating_) * double(now_ - busy_since_);
      busy_since_ = now_;
      --ours_generating_;
      push(now_ + e.a, Ev::kCountDown);
      strategy_.release(*this, e.who, false, 0);
      next_want(e.who);
      break;
    case Ev::kWake:
      strategy_.wake(*this);
      break;
    case Ev::kUsage:
      strategy_.usage(*this, static_cast<uint32_t>(e.a), e.b);
      break;
    case Ev::kForeignToggle: {
      Foreign& f = foreign_[e.who];
      f.on = !f.on;
      if (f.on) {
        f.target = static_cast<uint32_t>(draw(f.rng, s_.foreign_sessions));
        for (uint32_t k = f.active; k < f.target; ++k) {
          const Tick ramp = draw(f.rng, s_.foreign_ramp);
          push(now_ + ramp, Ev::kForeignWant, e.who);
        }
        push(now_ + draw(f.rng, s_.foreign_on), Ev::kForeignToggle, e.who);
      } else {
        push(now_ + draw(f.rng, s_.foreign_off), Ev::kForeignToggle, e.who);
      }
      break;
    }
    case Ev::kForeignWant: {
      Foreign& f = foreign_[e.who];
      if (!f.on || f.active >= f.target) break;
      if (!upstream_admits(now_)) {  // the other client got a 429 itself; it retries
        ++r_.foreign_429s;
        strategy_.foreign_refused(*this);
        push(now_ + 1000, Ev::kForeignWant, e.who);
        break;
      }
      ++f.active;
      ++pending_in_;
      // One draw per statement: argument evaluation order is unspecified, and the run must
      // be the same whatever the compiler.
      const Tick lag_in = draw(f.rng, s_.lag_in);
      const Tick gen = draw(f.rng, s_.generation);
      const Tick lag_out = draw(f.rng, s_.lag_out);
      push(now_ + lag_in, Ev::kCountUp);
      push(now_ + gen, Ev::kForeignEnd, e.who, counted_until(lag_in, gen, lag_out));
      break;
    }
    case Ev::kForeignEnd: {
      Foreign& f = foreign_[e.who];
      --f.active;
      ++r_.foreign_completed;
      push(now_ + e.a, Ev::kCountDown);
      if (f.on && f.active < f.target) push(now_, Ev::kForeignWant, e.who);
      break;
    }
  }
}

Result Engine::run() {
  for (uint32_t i = 0; i < s_.agents; ++i) next_want(i);
  for (uint32_t i = 0; i < s_.foreign_clients; ++i)
    push(draw(foreign_[i].rng, s_.foreign_off), Ev::kForeignToggle, i);
  strategy_.start(*this);
  counted_changed();
  while (!events_.empty() && events_.top().t <= s_.duration) {
    const Event e = events_.top();
    events_.pop();
    account_idle(e.t);
    now_ = e.t;
    handle(e);
  }
  account_idle(s_.duration);
  now_ = s_.duration;
  busy_integral_ += double(ours_generating_) * double(now_ - busy_since_);
  r_.trace.push_back(Point{now_, counted_});
  const double minutes = double(s_.duration) / 60000.0;
  r_.throughput_per_min = double(r_.completed) / minutes;
  r_.utilization = busy_integral_ / (double(s_.cap) * double(s_.duration));
  r_.idle_while_waiting = idle_integral_ / (double(s_.cap) * double(s_.duration));
  percentiles(waits_, r_.wait_p50_ms, r_.wait_p99_ms, r_.wait_max_ms);
  r_.classes = s_.interactive > 0;
  for (int c = 0; c < 2; ++c) {
    ClassWaits& k = r_.by_class[c];
    k.granted = class_waits_[c].size();
    percentiles(class_waits_[c], k.p50_ms, k.p99_ms, k.max_ms);
  }
  return r_;
}

// Sessions granted and on their way, admitted and not yet counted, count as taken: the
// capacity is spoken for. A penalty ends at its time, not at an event: the stretch is split there.
void Engine::account_idle(Tick until) {
  if (waiting_ == 0) return;
  const uint32_t taken = upstream_soon();
  Tick from = now_;
  while (from < until) {
    const bool ends = penalty_active_ && from < penalty_until_ && penalty_until_ < until;
    const Tick to = ends ? penalty_until_ : until;
    if (!refusing_at(from) && taken < cap_at(from))
      idle_integral_ += double(cap_at(from) - taken) * double(to - from);
    from = to;
  }
}

void Engine::percentiles(std::vector<Tick> w, double& p50, double& p99, double& max) {
  if (w.empty()) return;
  auto pct = [&](double p) {
    const size_t k = std::min(w.size() - 1, size_t(p * double(w.size() - 1) + 0.5));
    std::nth_element(w.begin(), w.begin() + long(k), w.end());
    return double(w[k]);
  };
  p50 = pct(0.50);
  p99 = pct(0.99);
  max = double(*std::max_element(w.begin(), w.end()));
}

Result run(const Scenario& s, Strategy& strategy) {
  Engine e(s, strategy);
  return e.run();
}

}  // namespace sim
