#include "strategies.hpp"

#include <slotgate/limiter.hpp>
#include <slotgate/ports/sim.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <queue>

namespace sim {
namespace {

constexpr Tick kCooldown = 350;

// Slots that come back at given times.
class CoolingSlots {
 public:
  void add(Engine& e, Tick until) {
    ends_.push(until);
    e.wake_at(until);
  }
  // Slots whose cooldown is over at `now`.
  uint32_t collect(Tick now) {
    uint32_t n = 0;
    while (!ends_.empty() && ends_.top() <= now) {
      ends_.pop();
      ++n;
    }
    return n;
  }

 private:
  std::priority_queue<Tick, std::vector<Tick>, std::greater<Tick>> ends_;
};

class Semaphore : public Strategy {
 public:
  std::string name() const override { return "semaphore"; }
  void request(Engine& e, uint32_t agent) override {
    queue_.push_back(agent);
    admit(e);
  }
  void release(Engine& e, uint32_t, bool, Tick) override {
    --held_;
    admit(e);
  }

 protected:
  void admit(Engine& e) {
    while (!queue_.empty() && held_ < e.scenario().cap) {
      ++held_;
      e.grant(queue_.front());
      queue_.pop_front();
    }
  }
  std::deque<uint32_t> queue_;
  uint32_t held_ = 0;  // held and cooling
};

class Cooldown : public Semaphore {
 public:
  std::string name() const override { return "cooldown"; }
  void release(Engine& e, uint32_t, bool, Tick) override { cooling_.add(e, e.now() + kCooldown); }
  void wake(Engine& e) override {
    held_ -= cooling_.collect(e.now());
    admit(e);
  }

 private:
  CoolingSlots cooling_;
};

class PollOne : public Strategy {
 public:
  std::string name() const override { return "poll-one"; }
  void start(Engine& e) override { limit_ = e.scenario().cap; }
  void request(Engine& e, uint32_t agent) override {
    if (queue_.empty() && held_ < limit_ && e.now() >= paused_until_) {
      ++held_;  // the fast path: not gated
      e.grant(agent);
      return;
    }
    queue_.push_back(agent);
    maybe_poll(e);
  }
  void release(Engine& e, uint32_t, bool rejected, Tick) override {
    if (rejected) {
      paused_until_ = e.now() + 30000;
      if (limit_ > 1) --limit_;
      e.wake_at(paused_until_);
    }
    cooling_.add(e, e.now() + kCooldown);
    if (repoll_due_) {  // "or on the next release"
      repoll_due_ = false;
      maybe_poll(e);
    }
  }
  void wake(Engine& e) override {
    held_ -= cooling_.collect(e.now());
    if (repoll_due_ && e.now() >= repoll_at_) repoll_due_ = false;
    if (!repoll_due_) maybe_poll(e);
  }
  void usage(Engine& e, uint32_t sessions, Tick) override {
    polling_ = false;
    if (queue_.empty() || held_ >= limit_ || e.now() < paused_until_) return;
    if (sessions < limit_) {
      ++held_;
      e.grant(queue_.front());
      queue_.pop_front();
      maybe_poll(e);  // one admission per reading
    } else {
      repoll_due_ = true;
      repoll_at_ = e.now() + 1000;
      e.wake_at(repoll_at_);
    }
  }

 private:
  void maybe_poll(Engine& e) {
    if (polling_ || repoll_due_ || queue_.empty() || held_ >= limit_ || e.now() < paused_until_)
      return;
    polling_ = true;
    e.fetch_usage();
  }
  std::deque<uint32_t> queue_;
  CoolingSlots cooling_;
  uint32_t limit_ = 0;
  uint32_t held_ = 0;
  Tick paused_until_ = 0;
  bool polling_ = false;
  bool repoll_due_ = false;
  Tick repoll_at_ = 0;
};

// The library, configured as a new user would: see start(). With two lanes an interactive
// caller queues in the higher one (an operator knows which callers a person waits on); with
// one, every caller shares the FIFO ("slotgate-fifo", to show what lanes change).
template <size_t Lanes>
class Slotgate : public Strategy {
  using Port = slotgate::sim::Port<uint64_t, uint64_t>;
  using L = slotgate::Limiter<Port, 64, 1024, Lanes>;

 public:
  std::string name() const override { return Lanes > 1 ? "slotgate" : "slotgate-fifo"; }
  void start(Engine& e) override {
    const Scenario& s = e.scenario();
    port_.set(e.now());
    // What an operator knows: the cap, and what the provider documents — here, how stale its
    // usage endpoint may serve (readings may miss sessions started that long before them).
    // Everything else is the library's recommended setting; lags are learned.
    auto c = L::config_type::recommended(s.cap, 1000);  // ticks are milliseconds
    c.gate.staleness = s.staleness;
    lim_.configure(c);
    if constexpr (Lanes > 1)
      lim_.configure_lanes(L::lane_config_type::recommended(1000));  // aging after 10 s
    permits_.resize(s.agents);
    fetch(e);  // a first reading before anyone is admitted
  }
  void request(Engine& e, uint32_t agent) override {
    port_.set(e.now());
    slotgate::Permit p;
    if (lim_.try_acquire(e.now(), p) == slotgate::Status::kOk) {
      permits_[agent] = p;
      e.grant(agent);
    } else {
      slotgate::Ticket t;
      const uint32_t lane = Lanes > 1 && e.interactive(agent) ? 1 : 0;
      if (lim_.enqueue(e.now(), t, L::deadline_type::none(), slotgate::Lane(lane)) ==
          slotgate::Status::kOk)
        waiting_[lane].push_back({agent, t});
    }
    settle(e);
  }
  void release(Engine& e, uint32_t agent, bool rejected, Tick retry_after) override {
    port_.set(e.now());
    if (rejected && trace_level() >= 1) trace(e, "429");
    using Out = typename L::outcome_type;
    const auto outcome = !rejected         ? Out::ok()
                         : retry_after > 0 ? Out::rejected_retry_after(retry_after)
                                           : Out::rejected();
    lim_.release(permits_[agent], e.now(), outcome);
    settle(e);
  }
  void wake(Engine& e) override {
    settle(e);
    if (trace_level() >= 3) trace(e, "wake");
  }
  void foreign_refused(Engine& e) override {
    if (trace_level() >= 1) trace(e, "their 429");
  }
  void usage(Engine& e, uint32_t sessions, Tick sampled_at) override {
    port_.set(e.now());
    port_.set_usage(sessions, sampled_at);
    fetching_ = false;
    settle(e);
  }

  const L& limiter() const { return lim_; }
  ~Slotgate() override {
    if (trace_level() == 0) return;
    const auto s = lim_.snapshot();
    std::fprintf(
        stderr,
        "end: cooldown %llu (learned %llu, %llu samples, %llu from 429s) vis %llu "
        "(learned %llu, %llu samples) foreign H %u hold %llu | episodes %llu probes "
        "%llu backoff %llu | held back: cooldown %llu gate %llu headroom %llu pause "
        "%llu probe %llu | readings %llu refresh %llu | foreign peak %u away %llu steps %llu\n",
        (unsigned long long)s.effective_cooldown, (unsigned long long)s.learned_release_lag,
        (unsigned long long)s.counters.release_lag_samples,
        (unsigned long long)s.counters.release_lag_from_rejections,
        (unsigned long long)s.effective_visibility_lag,
        (unsigned long long)s.learned_visibility_lag,
        (unsigned long long)s.counters.visibility_lag_samples, s.headroom_foreign,
        (unsigned long long)s.foreign_hold, (unsigned long long)s.counters.episodes,
        (unsigned long long)s.counters.probes, (unsigned long long)s.backoff,
        (unsigned long long)s.counters.held_back_cooldown,
        (unsigned long long)s.counters.held_back_gate,
        (unsigned long long)s.counters.held_back_headroom,
        (unsigned long long)s.counters.held_back_pause,
        (unsigned long long)s.counters.held_back_probe, (unsigned long long)s.counters.readings,
        (unsigned long long)s.counters.refresh_requests, s.foreign_peak,
        (unsigned long long)s.foreign_away_for, (unsigned long long)s.counters.headroom_steps_up);
  }

  // SLOTGATE_SIM_TRACE=1: what the limiter believed at each 429 (ours and the other clients');
  // 2: at each grant from the queue too; 3: at each wake-up too; 4: also at the first event
  // after each half second of virtual time.
  // Read once: it is asked on every grant, release and wake-up.
  static int trace_level() {
    static const int level = [] {
      const char* v = std::getenv("SLOTGATE_SIM_TRACE");
      return v == nullptr ? 0 : std::atoi(v);
    }();
    return level;
  }
  void trace(Engine& e, const char* what) const {
    const auto s = lim_.snapshot();
    std::fprintf(
        stderr,
        "%8llu %s: held %u cooling %u queued %u lim %u gate %s %u | reading %u at %llu "
        "missing %u | cooldown %llu vis %llu (samples %llu/%llu) | foreign %u seen %u | "
        "H %u/%u peak %u | upstream %u | half %d probe %d paused %d | recovery %llu\n",
        (unsigned long long)e.now(), what, s.held, s.cooling, s.queued, s.effective_limit,
        s.gate_open ? "open" : "budget", s.gate_budget, s.reading_sessions,
        (unsigned long long)s.reading_sampled_at, s.reading_missing,
        (unsigned long long)s.effective_cooldown, (unsigned long long)s.effective_visibility_lag,
        (unsigned long long)s.counters.release_lag_samples,
        (unsigned long long)s.counters.visibility_lag_samples, s.headroom_foreign, s.foreign_seen,
        s.headroom_rejected, s.headroom_foreign, s.foreign_peak, e.upstream_soon(), s.half_open,
        s.probe_out, s.paused, (unsigned long long)s.headroom_recovery);
  }

 private:
  void fetch(Engine& e) {
    if (fetching_) return;  // requests during a fetch merge into the next one
    fetching_ = true;
    e.fetch_usage();
  }
  // Let the limiter make progress, hand out what it granted, and ask for time and readings.
  void settle(Engine& e) {
    port_.set(e.now());
    const auto r = lim_.poll(e.now());
    for (auto& lane : waiting_) {
      while (!lane.empty()) {
        slotgate::Permit p;
        if (lim_.claim(lane.front().second, p) != slotgate::Status::kOk) break;  // FIFO
        permits_[lane.front().first] = p;
        if (trace_level() >= 2) trace(e, "grant");
        e.grant(lane.front().first);
        lane.pop_front();
      }
    }
    if (trace_level() >= 4 && e.now() >= next_trace_) {
      next_trace_ = e.now() + 500;
      trace(e, "now");
    }
    if (port_.refresh_requests() != seen_requests_) {
      seen_requests_ = port_.refresh_requests();
      fetch(e);
    }
    if (r.next.set && (!wake_set_ || r.next.at < wake_at_ || wake_at_ <= e.now())) {
      wake_set_ = true;
      wake_at_ = r.next.at;
      e.wake_at(r.next.at);
    }
  }

  Port port_{0};
  L lim_{port_};
  std::vector<slotgate::Permit> permits_;
  std::deque<std::pair<uint32_t, slotgate::Ticket>> waiting_[Lanes];  // per lane, FIFO
  uint64_t seen_requests_ = 0;
  bool fetching_ = false;
  bool wake_set_ = false;
  Tick wake_at_ = 0;
  Tick next_trace_ = 0;  // SLOTGATE_SIM_TRACE=4: the next half-second line
};

class Oracle : public Strategy {
 public:
  std::string name() const override { return "oracle"; }
  void request(Engine& e, uint32_t agent) override {
    queue_.push_back(agent);
    admit(e);
  }
  void release(Engine& e, uint32_t, bool, Tick) override { admit(e); }
  void wake(Engine& e) override { admit(e); }
  void count_changed(Engine& e) override { admit(e); }

 private:
  void admit(Engine& e) {
    if (e.refusing()) {
      e.wake_at(e.now() + 100);
      return;
    }
    while (!queue_.empty() && e.upstream_soon() < e.cap_now()) {
      e.grant(queue_.front());
      queue_.pop_front();
    }
  }
  std::deque<uint32_t> queue_;
};

}  // namespace

std::vector<std::string> strategy_names() {
  return {"semaphore", "cooldown", "poll-one", "slotgate", "oracle"};
}

std::vector<std::string> extra_strategy_names() {
  return {"slotgate-fifo"};
}

std::unique_ptr<Strategy> make_strategy(const std::string& name) {
  if (name == "semaphore") return std::make_unique<Semaphore>();
  if (name == "cooldown") return std::make_unique<Cooldown>();
  if (name == "poll-one") return std::make_unique<PollOne>();
  if (name == "slotgate") return std::make_unique<Slotgate<2>>();
  if (name == "slotgate-fifo") return std::make_unique<Slotgate<1>>();
  if (name == "oracle") return std::make_unique<Oracle>();
  return nullptr;
}

}  // namespace sim
