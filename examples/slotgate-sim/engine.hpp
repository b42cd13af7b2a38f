// The discrete-event engine: a lagging, shared upstream, a population of agents, and one
// admission strategy between them. Deterministic for a given scenario and seed: every agent
// and foreign client draws from its own random stream, so each strategy faces the same
// sessions in the same order.
//
// The upstream model:
//   - a session counts from start + lag_in until end + lag_out (lags drawn per session);
//   - a request that arrives while the counted sessions are >= the cap gets a 429; an optional
//     penalty then shrinks the cap by one, or refuses everything, for a while;
//   - the usage endpoint reports the counted sessions, from a cache up to `staleness` old,
//     answering `poll_latency` after it is asked;
//   - foreign clients on the same key, invisible to the strategy, go on and off; when one comes
//     on it opens its sessions over a ramp; a session it is refused (a 429 of its own) it
//     retries a second later.
#pragma once

#include <cstdint>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "scenario.hpp"

namespace sim {

class Engine;

// An admission strategy. Calls arrive in virtual-time order; a strategy admits an agent with
// engine.grant(agent) (now or later) and asks for time with engine.wake_at(t).
class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  virtual void start(Engine&) {}
  virtual void request(Engine&, uint32_t agent) = 0;
  // The agent is done with the slot it was granted: its session ended, or got a 429.
  virtual void release(Engine&, uint32_t agent, bool rejected, Tick retry_after) = 0;
  virtual void wake(Engine&) {}
  // A usage reading the strategy asked for with engine.fetch_usage().
  virtual void usage(Engine&, uint32_t /*sessions*/, Tick /*sampled_at*/) {}
  // The upstream's count fell (only an oracle may look).
  virtual void count_changed(Engine&) {}
  // Another client on the key was refused (for tracing only: no real client can see it).
  virtual void foreign_refused(Engine&) {}
};

struct Point {
  Tick t;
  uint32_t count;
};

// Waits of one class of callers (Scenario::interactive).
struct ClassWaits {
  uint64_t granted = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
};

struct Result {
  std::string scenario;
  uint64_t seed = 0;
  std::string strategy;
  uint64_t rejections_429 = 0;
  uint64_t completed = 0;
  double throughput_per_min = 0;
  double utilization = 0;  // mean share of the cap doing useful work for our agents
  // Mean share of the cap the upstream would have taken more sessions into while some of our
  // agents waited for a grant (not while it refused everything): capacity left idle.
  double idle_while_waiting = 0;
  double wait_p50_ms = 0;
  double wait_p99_ms = 0;
  double wait_max_ms = 0;
  uint32_t max_upstream = 0;  // highest count the upstream saw (ours and foreign)
  // What the run cost the other clients on the key: their 429s and their completed sessions.
  // Each foreign client draws from its own random stream, so they want the same sessions at
  // the same times whatever the strategy; the difference between strategies is the strategy's.
  uint64_t foreign_429s = 0;
  uint64_t foreign_completed = 0;
  // With two classes: [0] batch, [1] interactive.
  bool classes = false;
  ClassWaits by_class[2];
  std::vector<Point> trace;  // the upstream's count at each change
  std::vector<Tick> rejected_at;
};

class Engine {
 public:
  Engine(const Scenario& s, Strategy& strategy);
  Result run();

  // ---- for strategies ----
  Tick now() const { return now_; }
  const Scenario& scenario() const { return s_; }
  // What an operator knows of a caller: whether it is interactive (Scenario::interactive).
  bool interactive(uint32_t agent) const { return agent < s_.interactive; }
  void grant(uint32_t agent);  // admit: the agent sends its request at this instant
  void wake_at(Tick t);
  void fetch_usage();  // answered through Strategy::usage after poll_latency
  // Oracle only: sessions counted now, or admitted and about to be counted, or granted and
  // about to be sent; and the cap in force now.
  uint32_t upstream_soon() const { return counted_ + pending_in_ + grants_in_flight_; }
  uint32_t cap_now() const { return cap_at(now_); }
  bool refusing() const { return refusing_at(now_); }

 private:
  uint32_t cap_at(Tick t) const;  // the penalty as it stands now, at time t
  bool refusing_at(Tick t) const;
  enum class Ev : uint8_t {
    kCountDown,
    kCountUp,
    kGrant,
    kWant,
    kEnd,
    kWake,
    kUsage,
    kForeignToggle,
    kForeignWant,
    kForeignEnd
  };
  struct Event {
    Tick t;
    uint8_t order;  // at one instant: sessions stop counting, then start, then the rest
    uint64_t seq;
    Ev kind;
    uint32_t who;
    uint64_t a;
    Tick b;
    bool operator>(const Event& o) const {
      if (t != o.t) return t > o.t;
      if (order != o.order) return order > o.order;
      return seq > o.seq;
    }
  };
  struct Agent {
    std::mt19937_64 rng;
    Tick want_at = 0;
  };
  struct Foreign {
    std::mt19937_64 rng;
    bool on = false;
    uint32_t target = 0;
    uint32_t active = 0;
  };

  void push(Tick t, Ev kind, uint32_t who = 0, uint64_t a = 0, Tick b = 0);
  static Tick draw(std::mt19937_64& rng, Range r);
  static Tick counted_until(Tick lag_in, Tick gen, Tick lag_out);
  void next_want(uint32_t agent);
  bool upstream_admits(Tick t);  // a request arrives now: admitted, or a 429
  void counted_changed();
  void handle(const Event& e);
  static void percentiles(std::vector<Tick> w, double& p50, double& p99, double& max);

  const Scenario s_;
  Strategy& strategy_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  uint64_t seq_ = 0;
  Tick now_ = 0;
  std::vector<Agent> agents_;
  std::vector<Foreign> foreign_;
  uint32_t counted_ = 0;           // sessions the upstream counts now
  uint32_t pending_in_ = 0;        // admitted, not yet counted
  uint32_t grants_in_flight_ = 0;  // granted, not yet arrived
  uint32_t ours_generating_ = 0;
  Tick penalty_until_ = 0;
  bool penalty_active_ = false;
  Tick cache_time_ = 0;
  uint32_t cache_value_ = 0;
  bool cache_valid_ = false;
  double busy_integral_ = 0;
  Tick busy_since_ = 0;
  uint32_t waiting_ = 0;  // our agents that want a session and have no grant yet
  double idle_integral_ = 0;
  void account_idle(Tick until);  // the idle capacity from now_ to `until`, state unchanged
  std::vector<Tick> waits_;
  std::vector<Tick> class_waits_[2];
  Result r_;
};

Result run(const Scenario& s, Strategy& strategy);

}  // namespace sim
