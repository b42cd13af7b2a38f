// slotgate::fleet::Member: one gateway of a fleet that shares a provider key's cap. It leases a
// share of the cap from a ledger in Redis (ledger_script.hpp) and applies it to the local
// limiter with set_limit, keeping the limiter's headroom. The limiter stays the only thing on
// the request path: all Redis I/O is on the member's own thread.
//
//   - Shares follow demand: a member with callers waiting asks for the cap and gets a fair
//     split with the others that ask; one without gives back down to what it has in use (or
//     the floor). It renews every `renew_every`, and at once (at most every 20 ms) when callers
//     start to wait.
//   - A share is never revoked: lowering the local limit retires slots as they free up, and
//     the ledger records what the member still has in use until they have.
//   - No lease yet: limit 0 (nothing is granted until the ledger has counted this member).
//   - Redis unreachable, slow or restarted: the member keeps its share until its lease would
//     have expired (by its own clock, from when it sent the renewal that got it: never later
//     than Redis expires it), then drops to `floor`; it renews as soon as Redis answers again.
//     A ledger that lost its data settles for one TTL (see ledger_script.hpp).
//   - Expiry is Redis time only: clock skew between gateways cannot move a lease.
//
// Choosing the TTL: a member that dies (kill -9, a crash, a lost host) holds its share until its
// lease expires, so the others get it back within the TTL plus one renewal. Its sessions died
// with it, but the provider may go on counting them until it reaps them (seconds, or its
// stream timeout): a TTL at least that long means the others never reuse a share before the
// provider has let go of it. A member cut off from Redis while the others still reach it keeps
// its in-flight sessions past its lease (they are counted by nobody then): keep sessions shorter
// than the TTL, or let the provider's usage gate catch it.
//
// Other clients on the key: a member given a usage source (the upstream's whole count for the
// key: an endpoint, or readings from response headers) passes its latest reading on with every
// renewal, and asks for a new one once per renewal period, a fifth of a period before the
// renewal, so that the reading is taken about when the permits out it is compared with are. The
// ledger holds back what readings show beyond the members' own sessions, for all of them
// (ledger_script.hpp, step 4), so the fleet shares the cap less what the other clients use. The
// local limiter then takes no usage source: its limit is the member's share, and the gate would
// count the peers' sessions against it.
//
// The floor: slots a member may use while it has no lease (Redis gone). 0 by default, the only
// value that can never overshoot; with f > 0 every member is reserved f in the ledger, and a
// member cut off alone may take the upstream f past its cap until it is back.
#pragma once

#include <stdint.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "slotgate/fleet/redis_link.hpp"
#include "slotgate/fleet/share.hpp"
#include "slotgate/limiter_config.hpp"

namespace slotgate::fleet {

struct Options {
  std::string redis_host = "127.0.0.1";
  uint16_t redis_port = 6379;
  std::string redis_password;  // AUTH with it, if set
  std::string name;            // the ledger: one per provider key (a name, never the key)
  std::string id;              // this member; empty: host:pid:random
  uint32_t cap = 0;            // the provider's cap for the key
  uint32_t floor = 0;          // the limit without a lease
  std::chrono::milliseconds ttl{10000};
  std::chrono::milliseconds renew_every{0};  // 0: ttl / 4
  std::chrono::milliseconds timeout{0};      // Redis connect and command timeout; 0: ttl / 5
  // Optional: the latest usage reading (the upstream's whole count for the key) and its age;
  // false for none. Called on the member's thread; must not wait for I/O.
  std::function<bool(uint32_t& sessions, std::chrono::milliseconds& age)> read_usage;
  // Optional: start fetching a new reading and return at once.
  std::function<void()> refresh_usage;
  // How long the ledger holds other clients' usage a reading showed, and the oldest reading it
  // takes; 0: half the TTL (two renewals). The same on every member of a ledger.
  std::chrono::milliseconds usage_hold{0};
};

// False, and which option and why, for options a member cannot run with.
inline bool check(const Options& o, std::string& why) {
  if (o.name.empty())
    why = "name: empty";
  else if (o.name.find_first_of("{} ") != std::string::npos)
    why = "name: no braces or spaces";
  else if (o.cap < 1)
    why = "cap: at least 1";
  else if (o.floor > o.cap)
    why = "floor: above the cap";
  else if (o.ttl < std::chrono::milliseconds(100))
    why = "ttl: at least 100 ms";
  else if (o.renew_every.count() < 0 || o.renew_every >= o.ttl)
    why = "renew_every: below the ttl";
  else if (o.timeout.count() < 0 || o.timeout >= o.ttl)
    why = "timeout: below the ttl";
  else if (o.usage_hold.count() < 0)
    why = "usage_hold: not negative";
  else
    return true;
  return false;
}

enum class State : uint8_t {
  kStarting,  // no lease yet: limit 0
  kLeased,    // the ledger's share applies
  kSettling,  // leased, from a ledger that is settling after it began (or lost its data)
  kLapsed,    // the lease ran out without a renewal: the floor applies
};

inline const char* to_string(State s) noexcept {
  constexpr const char* kNames[] = {"starting", "leased", "settling", "lapsed"};
  return kNames[static_cast<int>(s)];
}

// The member as its status page shows it.
struct MemberStatus {
  State state = State::kStarting;
  uint32_t limit = 0;  // the local limit applied now
  uint32_t claim = 0;  // what the ledger records for this member
  uint32_t want = 0;   // what it asked for last
  uint32_t peers = 0;  // other live members at the last renewal
  uint64_t renewals = 0;
  uint64_t failures[static_cast<int>(Failure::kCount)] = {};
  uint64_t repairs = 0;         // repairs the ledger has made (every member's renewals)
  uint32_t foreign = 0;         // other clients' sessions the ledger holds back
  int64_t reading = -1;         // the usage reading the last renewal passed on (-1: none)
  double lease_left_s = 0;      // until the lease lapses by this member's clock (0: none)
  double since_renewal_s = -1;  // since the last renewal that succeeded (-1: none yet)
};

template <class Limiter>
class Member {
  using Clock = std::chrono::steady_clock;

 public:
  // Starts the member's thread; the limiter's limit is 0 until the first lease. `limiter` must
  // outlive the member. Check the options with check() first (invalid ones leave the member
  // inert, at limit 0).
  Member(Limiter& limiter, Options o)
      : limiter_(limiter),
        opt_(complete(std::move(o))),
        link_(opt_.redis_host, opt_.redis_port, opt_.redis_password, opt_.timeout) {
    apply(0);
    std::string why;
    if (check(opt_, why)) thread_ = std::thread([this] { run(); });
  }
  // Stops the thread; leaves the ledger if nothing is in use (else the lease expires).
  ~Member() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  Member(const Member&) = delete;
  Member& operator=(const Member&) = delete;

  MemberStatus status() const {
    std::lock_guard<std::mutex> lock(mu_);
    MemberStatus s = status_;
    const auto now = Clock::now();
    s.lease_left_s = has_lease_ && lease_end_ > now
                         ? std::chrono::duration<double>(lease_end_ - now).count()
                         : 0;
    s.since_renewal_s = renewed_ ? std::chrono::duration<double>(now - last_renewal_).count() : -1;
    return s;
  }
  const Options& options() const noexcept { return opt_; }

  // Demand changed (a caller queued): renew soon. From any thread.
  void nudge() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      nudged_ = true;
    }
    cv_.notify_all();
  }

 private:
  static constexpr std::chrono::milliseconds kLook{50};    // how often demand is looked at
  static constexpr std::chrono::milliseconds kMinGap{20};  // renewals at most this often early

  static Options complete(Options o) {
    if (o.renew_every.count() == 0) o.renew_every = o.ttl / 4;
    if (o.timeout.count() == 0) o.timeout = o.ttl / 5;
    if (o.usage_hold.count() == 0) o.usage_hold = o.ttl / 2;
    if (o.id.empty()) {
      char host[128] = {};
      gethostname(host, sizeof host - 1);
      std::random_device rd;
      o.id =
          std::string(host) + ":" + std::to_string(getpid()) + ":" + std::to_string(rd() % 100000);
    }
    return o;
  }

  Demand demand() const {
    const auto s = limiter_.snapshot();
    return Demand{s.held, s.cooling, s.queued};
  }

  void apply(uint32_t limit) {
    if (applied_ == limit && applied_set_) return;
    limiter_.set_limit(limit, Limiter::port_type::now(), LimitChange::kKeepHeadroom);
    applied_ = limit;
    applied_set_ = true;
    std::lock_guard<std::mutex> lock(mu_);
    status_.limit = limit;
  }

  void run() {
    auto next = Clock::now();
    auto last_try = Clock::now() - kMinGap;
    for (;;) {
      bool nudged = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        const auto wake = std::min(next, Clock::now() + kLook);
        cv_.wait_until(lock, wake, [&] { return stop_ || nudged_; });
        if (stop_) break;
        nudged = nudged_;
        nudged_ = false;
      }
      const auto now = Clock::now();
      if (opt_.refresh_usage && !refresh_asked_ && now + opt_.renew_every / 5 >= next) {
        opt_.refresh_usage();
        refresh_asked_ = true;
      }
      const Demand d = demand();
      const uint32_t want = want_for(d, opt_.cap, opt_.floor);
      // Early: asked to; demand rose above what the last renewal asked for; the ledger records
      // slots this member no longer needs (others may wait for them); or callers wait while
      // others still hold part of this member's fair share (every kBusyRetry until they free).
      const bool early =
          ((nudged || want > sent_want_ || claim_ > std::max(applied_, d.in_use())) &&
           now - last_try >= kMinGap) ||
          (d.queued > 0 && applied_ < target_ && now - last_try >= kBusyRetry);
      if (now >= next || early) {
        last_try = now;
        next = renew(now, want, d, false) ? now + opt_.renew_every
                                          : now + std::min(opt_.renew_every, kRetry);
        refresh_asked_ = false;
      }
      lapse_if_due(Clock::now());
    }
    // Leaving: a member with nothing in use takes itself off the ledger at once.
    const Demand d = demand();
    if (d.in_use() == 0) renew(Clock::now(), 0, d, true);
  }

  static constexpr std::chrono::milliseconds kRetry{200};      // after a failed renewal
  static constexpr std::chrono::milliseconds kBusyRetry{100};  // for a share others still hold

  bool renew(Clock::time_point sent, uint32_t want, const Demand& d, bool leave) {
    Grant g;
    Failure why = Failure::kCount;
    sent_want_ = want;
    const Reading reading = take_reading(d.held);
    const bool ok = link_.renew(opt_.name, opt_.id, want, d.in_use(), opt_.ttl, opt_.cap,
                                opt_.floor, leave, reading, g, why);
    if (!ok) {
      std::lock_guard<std::mutex> lock(mu_);
      ++status_.failures[static_cast<int>(why)];
      status_.want = want;
      return false;
    }
    if (leave) return true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      has_lease_ = true;
      lease_end_ = lease_end(sent, opt_.ttl);
      last_renewal_ = Clock::now();
      renewed_ = true;
      ++status_.renewals;
      status_.state = g.settling ? State::kSettling : State::kLeased;
      status_.claim = g.claim;
      status_.want = want;
      claim_ = g.claim;
      target_ = g.target;
      status_.peers = g.peers;
      status_.repairs = g.repairs;
      status_.foreign = g.foreign;
      status_.reading = reading.sessions;
    }
    apply(g.limit);
    return true;
  }

  // The reading to pass on, with this member's permits out.
  Reading take_reading(uint32_t held) {
    Reading r{-1, std::chrono::milliseconds(0), held, opt_.usage_hold};
    uint32_t sessions = 0;
    std::chrono::milliseconds age(0);
    if (opt_.read_usage && opt_.read_usage(sessions, age)) {
      r.sessions = sessions;
      r.age = std::max(age, std::chrono::milliseconds(0));
    }
    return r;
  }

  void lapse_if_due(Clock::time_point now) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!has_lease_ || now < lease_end_) return;
      has_lease_ = false;
      status_.state = State::kLapsed;
      status_.claim = 0;
      claim_ = target_ = 0;
    }
    apply(opt_.floor);
  }

  Limiter& limiter_;
  const Options opt_;
  RedisLink link_;  // the member's thread's alone
  uint32_t applied_ = 0;
  bool applied_set_ = false;
  uint32_t sent_want_ = 0;      // what the last renewal asked for
  uint32_t claim_ = 0;          // what the ledger recorded at the last renewal (0 once lapsed)
  uint32_t target_ = 0;         // this member's part of the split at the last renewal
  bool refresh_asked_ = false;  // a usage fetch asked for ahead of the next renewal

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool nudged_ = false;
  bool has_lease_ = false;
  bool renewed_ = false;
  Clock::time_point lease_end_{};
  Clock::time_point last_renewal_{};
  MemberStatus status_;
  std::thread thread_;
};

}  // namespace slotgate::fleet
