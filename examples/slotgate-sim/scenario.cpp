#include "scenario.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sim {

std::vector<std::string> preset_names() {
  return {"default", "long-lag", "stale-usage",   "foreign",    "bursty",   "large",
          "penalty", "crowd",    "lagging-cache", "late-count", "two-class"};
}

bool preset(const std::string& name, Scenario& s) {
  s = Scenario{};
  s.name = name;
  if (name == "default") return true;
  if (name == "long-lag") {
    s.lag_out = {1000, 2000};
    return true;
  }
  if (name == "stale-usage") {
    s.staleness = 10000;
    return true;
  }
  if (name == "foreign") {
    s.foreign_clients = 1;
    return true;
  }
  if (name == "bursty") {
    s.agents = 12;
    s.burst_period = 30000;
    return true;
  }
  if (name == "large") {
    s.cap = 64;
    s.agents = 500;
    s.duration = 300000;
    return true;
  }
  // An upstream that refuses every request for 30 s after a 429 (each refusal starts the 30 s
  // again, the other client's retries included), with one other client on the key: the
  // storm a short fixed pause walks into.
  if (name == "penalty") {
    s.foreign_clients = 1;
    s.penalty = Penalty::kRefuse;
    s.penalty_duration = 30000;
    s.duration = 900000;
    return true;
  }
  // Three other clients come and go on a larger key, each opening its sessions over a few
  // seconds.
  if (name == "crowd") {
    s.cap = 6;
    s.agents = 10;
    s.foreign_clients = 3;
    s.foreign_sessions = {1, 2};
    s.foreign_on = {15000, 45000};
    s.foreign_off = {20000, 90000};
    s.foreign_ramp = {0, 5000};
    return true;
  }
  // A long release lag behind a usage endpoint that serves a cached value.
  if (name == "lagging-cache") {
    s.lag_out = {1000, 2000};
    s.staleness = 5000;
    return true;
  }
  // An upstream that starts counting a session up to 1.5 s after it begins.
  if (name == "late-count") {
    s.lag_in = {500, 1500};
    return true;
  }
  // Two classes of callers on one key: 4 interactive agents (a person waits on each short
  // session) and 12 batch agents that always want another long one, so the queue is never
  // empty. A FIFO makes the interactive ones wait behind the batch; lanes need not.
  if (name == "two-class") {
    s.agents = 16;
    s.interactive = 4;
    s.think = {0, 500};
    s.generation = {4000, 12000};
    return true;
  }
  return false;
}

namespace {

std::string trim(const std::string& x) {
  size_t a = 0, b = x.size();
  while (a < b && std::isspace(static_cast<unsigned char>(x[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(x[b - 1]))) --b;
  return x.substr(a, b - a);
}

// A non-negative integer; false (with why) otherwise.
bool number(const std::string& v, uint64_t& out, std::string& why) {
  if (v.empty()) {
    why = "missing value";
    return false;
  }
  if (v[0] == '-') {
    why = "must not be negative";
    return false;
  }
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (*end != '\0') {
    why = "not a whole number: '" + v + "'";
    return false;
  }
  out = n;
  return true;
}

// "A..B" or "A" (a fixed value).
bool range(const std::string& v, Range& out, std::string& why) {
  const size_t dots = v.find("..");
  uint64_t lo = 0, hi = 0;
  if (dots == std::string::npos) {
    if (!number(v, lo, why)) return false;
    out = {lo, lo};
    return true;
  }
  if (!number(trim(v.substr(0, dots)), lo, why) || !number(trim(v.substr(dots + 2)), hi, why))
    return false;
  if (hi < lo) {
    why = "range upper bound below lower bound";
    return false;
  }
  out = {lo, hi};
  return true;
}

}  // namespace

bool load_scenario(const std::string& path, Scenario& s, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot open";
    return false;
  }
  s = Scenario{};
  s.name = path;
  std::string line;
  int lineno = 0;
  auto fail = [&](const std::string& key, const std::string& why) {
    std::ostringstream o;
    o << path << ":" << lineno << ": " << key << ": " << why;
    error = o.str();
    return false;
  };
  while (std::getline(in, line)) {
    ++lineno;
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    line = trim(line);
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) return fail(line, "expected 'key = value'");
    const std::string key = trim(line.substr(0, eq));
    const std::string val = trim(line.substr(eq + 1));
    std::string why;
    uint64_t n = 0;
    bool ok = true;
    if (key == "name") {
      if (val.empty()) return fail(key, "missing value");
      s.name = val;
    } else if (key == "cap") {
      ok = number(val, n, why);
      if (ok && n == 0) return fail(key, "must be at least 1");
      if (ok && n > 64) return fail(key, "at most 64 (the simulator's slot capacity)");
      s.cap = static_cast<uint32_t>(n);
    } else if (key == "agents") {
      ok = number(val, n, why);
      if (ok && n == 0) return fail(key, "must be at least 1");
      if (ok && n > 1000) return fail(key, "at most 1000");
      s.agents = static_cast<uint32_t>(n);
    } else if (key == "duration_s") {
      ok = number(val, n, why);
      if (ok && n == 0) return fail(key, "must be at least 1");
      s.duration = n * 1000;
    } else if (key == "seed") {
      ok = number(val, s.seed, why);
    } else if (key == "think_ms") {
      ok = range(val, s.think, why);
    } else if (key == "generation_ms") {
      ok = range(val, s.generation, why);
      if (ok && s.generation.lo == 0) return fail(key, "a session lasts at least 1 ms");
    } else if (key == "lag_in_ms") {
      ok = range(val, s.lag_in, why);
    } else if (key == "lag_out_ms") {
      ok = range(val, s.lag_out, why);
    } else if (key == "staleness_ms") {
      ok = number(val, s.staleness, why);
    } else if (key == "poll_latency_ms") {
      ok = number(val, s.poll_latency, why);
    } else if (key == "foreign_clients") {
      ok = number(val, n, why);
      s.foreign_clients = static_cast<uint32_t>(n);
    } else if (key == "foreign_sessions") {
      ok = range(val, s.foreign_sessions, why);
    } else if (key == "foreign_on_ms") {
      ok = range(val, s.foreign_on, why);
      if (ok && s.foreign_on.lo == 0) return fail(key, "an on period lasts at least 1 ms");
    } else if (key == "foreign_off_ms") {
      ok = range(val, s.foreign_off, why);
      if (ok && s.foreign_off.lo == 0) return fail(key, "an off period lasts at least 1 ms");
    } else if (key == "foreign_ramp_ms") {
      ok = range(val, s.foreign_ramp, why);
    } else if (key == "burst_period_ms") {
      ok = number(val, s.burst_period, why);
    } else if (key == "burst_jitter_ms") {
      ok = range(val, s.burst_jitter, why);
    } else if (key == "penalty") {
      if (val == "none")
        s.penalty = Penalty::kNone;
      else if (val == "shrink")
        s.penalty = Penalty::kShrink;
      else if (val == "refuse")
        s.penalty = Penalty::kRefuse;
      else
        return fail(key, "one of none, shrink, refuse");
    } else if (key == "penalty_ms") {
      ok = number(val, s.penalty_duration, why);
    } else if (key == "retry_after_ms") {
      ok = number(val, s.retry_after, why);
    } else if (key == "interactive_agents") {
      ok = number(val, n, why);
      s.interactive = static_cast<uint32_t>(n);
    } else if (key == "interactive_think_ms") {
      ok = range(val, s.interactive_think, why);
    } else if (key == "interactive_generation_ms") {
      ok = range(val, s.interactive_generation, why);
      if (ok && s.interactive_generation.lo == 0) return fail(key, "a session lasts at least 1 ms");
    } else {
      return fail(key, "unknown key");
    }
    if (!ok) return fail(key, why);
  }
  if (s.interactive > s.agents) {
    std::ostringstream o;
    o << path << ": interactive_agents: more than agents (" << s.agents << ")";
    error = o.str();
    return false;
  }
  return true;
}

}  // namespace sim
