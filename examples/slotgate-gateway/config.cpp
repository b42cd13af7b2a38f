#include "config.hpp"

#include <stdio.h>
#include <stdlib.h>

#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "slotgate/http/usage_answer.hpp"

namespace gateway {

std::string Url::authority() const {
  const bool default_port = (tls && port == "443") || (!tls && port == "80");
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return default_port ? h : h + ":" + port;
}

namespace {

bool whole(const std::string& v, uint64_t lo, uint64_t hi, uint64_t& out) {
  if (v.empty() || v.size() > 10) return false;
  uint64_t n = 0;
  for (const char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n < lo || n > hi) return false;
  out = n;
  return true;
}

// "host:port", "[v6]:port".
bool parse_host_port(const std::string& v, std::string& host, uint16_t& port, std::string& why) {
  std::string h, p;
  if (!v.empty() && v[0] == '[') {
    const size_t close = v.find(']');
    if (close == std::string::npos || close + 1 >= v.size() || v[close + 1] != ':') {
      why = "expected [address]:port";
      return false;
    }
    h = v.substr(1, close - 1);
    p = v.substr(close + 2);
  } else {
    const size_t colon = v.rfind(':');
    if (colon == std::string::npos) {
      why = "expected address:port";
      return false;
    }
    h = v.substr(0, colon);
    p = v.substr(colon + 1);
  }
  uint64_t n = 0;
  if (h.empty() || !whole(p, 0, 65535, n)) {
    why = "expected address:port, the port 0..65535";
    return false;
  }
  host = h;
  port = static_cast<uint16_t>(n);
  return true;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

bool parse_url(const std::string& text, Url& out, std::string& why) {
  Url u;
  std::string rest;
  if (text.rfind("http://", 0) == 0) {
    rest = text.substr(7);
    u.port = "80";
  } else if (text.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = text.substr(8);
    u.port = "443";
  } else {
    why = "expected http://host[:port][/path] or https://...";
    return false;
  }
  const size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  if (u.path.find_first_of("?# ") != std::string::npos) {
    why = "the path may not hold a query, a fragment or a space";
    return false;
  }
  if (hostport.find('@') != std::string::npos) {
    why = "no credentials in the URL: use key or key_env";
    return false;
  }
  if (!hostport.empty() && hostport[0] == '[') {
    const size_t close = hostport.find(']');
    if (close == std::string::npos) {
      why = "unclosed [ in the host";
      return false;
    }
    u.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') {
        why = "expected :port after ]";
        return false;
      }
      u.port = hostport.substr(close + 2);
    }
  } else {
    const size_t colon = hostport.find(':');
    u.host = hostport.substr(0, colon);
    if (colon != std::string::npos) u.port = hostport.substr(colon + 1);
  }
  uint64_t n = 0;
  if (u.host.empty()) {
    why = "no host";
    return false;
  }
  if (!whole(u.port, 1, 65535, n)) {
    why = "the port must be 1..65535";
    return false;
  }
  out = u;
  return true;
}

bool parse_config(const std::string& text, const std::string& name, Config& out,
                  std::string& error) {
  Config c;
  std::string key_env;
  bool has_key = false;
  // Each key: how to take its value (false and a reason if it is wrong).
  using Setter = std::function<bool(const std::string&, std::string&)>;
  const auto number = [](uint32_t& field, uint64_t lo, uint64_t hi) -> Setter {
    return [&field, lo, hi](const std::string& v, std::string& why) {
      uint64_t n = 0;
      if (!whole(v, lo, hi, n)) {
        why = "'" + v + "' is not a whole number in " + std::to_string(lo) + ".." +
              std::to_string(hi);
        return false;
      }
      field = static_cast<uint32_t>(n);
      return true;
    };
  };
  const auto header_name = [](std::string& field) -> Setter {
    return [&field](const std::string& v, std::string& why) {
      for (const char ch : v)
        if (!(isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_')) {
          why = "'" + v + "' is not a header name";
          return false;
        }
      field = v;
      return true;
    };
  };
  // A name in the ledger's keys: no spaces or braces (braces are the keys' hash tag).
  const auto ledger_name = [](std::string& field) -> Setter {
    return [&field](const std::string& v, std::string& why) {
      if (v.empty() || v.find_first_of("{} \t") != std::string::npos) {
        why = "'" + v + "' is not a name (no spaces or braces)";
        return false;
      }
      field = v;
      return true;
    };
  };
  const auto url = [](std::string& field) -> Setter {
    return [&field](const std::string& v, std::string& why) {
      Url u;
      if (!parse_url(v, u, why)) return false;
      field = v;
      return true;
    };
  };
  const std::pair<const char*, Setter> keys[] = {
      {"listen",
       [&](const std::string& v, std::string& why) {
         return parse_host_port(v, c.listen_host, c.listen_port, why);
       }},
      {"upstream",
       [&](const std::string& v, std::string& why) { return parse_url(v, c.upstream, why); }},
      {"key",
       [&](const std::string& v, std::string&) {
         c.key = v;
         has_key = true;
         return true;
       }},
      {"key_env",
       [&](const std::string& v, std::string& why) {
         const char* k = getenv(v.c_str());
         if (k == nullptr || *k == '\0') {
           why = "the environment variable " + v + " is not set";
           return false;
         }
         key_env = v;
         c.key = k;
         return true;
       }},
      {"cap", number(c.cap, 1, kMaxCap)},
      {"queue_size", number(c.queue_size, 0, kMaxQueue)},
      {"queue_timeout_ms", number(c.queue_timeout_ms, 0, 86400000)},
      {"cooldown_ms", number(c.cooldown_ms, 0, 600000)},
      {"default_pause_ms", number(c.default_pause_ms, 0, 600000)},
      {"upstream_timeout_ms", number(c.upstream_timeout_ms, 1, 86400000)},
      {"connect_timeout_ms", number(c.connect_timeout_ms, 1, 600000)},
      {"upstream_idle_ms", number(c.upstream_idle_ms, 0, 3600000)},
      {"upstream_ca_file",
       [&](const std::string& v, std::string& why) {
         if (FILE* f = v.empty() ? nullptr : fopen(v.c_str(), "r")) {
           fclose(f);
           c.upstream_ca_file = v;
           return true;
         }
         why = "cannot read '" + v + "'";
         return false;
       }},
      {"body_limit_bytes", number(c.body_limit_bytes, 0, 1u << 30)},
      {"threads", number(c.threads, 1, 64)},
      {"drain_timeout_ms", number(c.drain_timeout_ms, 0, 600000)},
      {"metrics_path",
       [&](const std::string& v, std::string& why) {
         if (v.empty() || v[0] != '/') {
           why = "'" + v + "' does not start with /";
           return false;
         }
         c.metrics_path = v;
         return true;
       }},
      {"usage_url", url(c.usage_url)},
      {"usage_json_path",
       [&](const std::string& v, std::string& why) {
         slotgate::http::JsonPath path;
         if (!path.assign(v)) {
           why = "'" + v + "' is not a path (a.b.c, at most " +
                 std::to_string(slotgate::http::JsonPath::kMaxSegments) + " segments)";
           return false;
         }
         c.usage_json_path = v;
         return true;
       }},
      {"usage_header", header_name(c.usage_header)},
      {"usage_staleness_ms", number(c.usage_staleness_ms, 0, 600000)},
      {"usage_max_age_ms", number(c.usage_max_age_ms, 1, 3600000)},
      {"passive_header", header_name(c.passive_header)},
      {"priority_header", header_name(c.priority_header)},
      {"priority_value",
       [&](const std::string& v, std::string& why) {
         if (v.empty()) {
           why = "empty";
           return false;
         }
         c.priority_value = v;
         return true;
       }},
      {"priority_age_ms", number(c.priority_age_ms, 0, 86400000)},
      {"fleet_redis",
       [&](const std::string& v, std::string& why) {
         return parse_host_port(v, c.fleet_redis_host, c.fleet_redis_port, why);
       }},
      {"fleet_redis_password_env",
       [&](const std::string& v, std::string& why) {
         const char* pw = getenv(v.c_str());
         if (pw == nullptr || *pw == '\0') {
           why = "the environment variable " + v + " is not set";
           return false;
         }
         c.fleet_redis_password = pw;
         return true;
       }},
      {"fleet_name", ledger_name(c.fleet_name)},
      {"fleet_id", ledger_name(c.fleet_id)},
      {"fleet_ttl_ms", number(c.fleet_ttl_ms, 100, 3600000)},
      {"fleet_floor", number(c.fleet_floor, 0, kMaxCap)},
  };

  std::set<std::string> seen;
  std::istringstream in(text);
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    const std::string where = name + ":" + std::to_string(no) + ": ";
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    line = trim(line);
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) {
      error = where + "expected key = value, got '" + line + "'";
      return false;
    }
    const std::string k = trim(line.substr(0, eq));
    const std::string v = trim(line.substr(eq + 1));
    const Setter* set = nullptr;
    for (const auto& [kname, setter] : keys)
      if (k == kname) set = &setter;
    if (set == nullptr) {
      error = where + k + ": not a setting (see gateway.conf.example)";
      return false;
    }
    if (!seen.insert(k).second) {
      error = where + k + ": given twice";
      return false;
    }
    std::string why;
    if (!(*set)(v, why)) {
      error = where + k + ": " + why;
      return false;
    }
  }
  const auto missing = [&](const char* k, const char* what) {
    error = name + ": " + k + ": missing (" + what + ")";
    return false;
  };
  if (!seen.count("upstream"))
    return missing("upstream", "the provider's base URL, e.g. https://api.example.com");
  if (!seen.count("cap")) return missing("cap", "the provider's concurrent-session cap");
  if (has_key && !key_env.empty()) {
    error = name + ": key: give key or key_env, not both";
    return false;
  }
  if (!c.usage_header.empty() && c.usage_url.empty()) {
    error = name + ": usage_header: needs usage_url (the endpoint whose answer carries it)";
    return false;
  }
  if (c.fleet()) {
    if (c.fleet_floor > c.cap) {
      error = name + ": fleet_floor: above the cap";
      return false;
    }
    if (c.fleet_redis_port == 0) {
      error = name + ": fleet_redis: the port must be 1..65535";
      return false;
    }
  } else {
    for (const char* k :
         {"fleet_name", "fleet_id", "fleet_ttl_ms", "fleet_floor", "fleet_redis_password_env"})
      if (seen.count(k)) {
        error = name + ": " + k + ": needs fleet_redis";
        return false;
      }
  }
  if (c.fleet_name.empty()) {
    // One ledger per upstream and key: the key itself never goes to Redis, a hash of it does.
    uint32_t h = 2166136261u;  // FNV-1a
    for (const char ch : c.key) h = (h ^ static_cast<uint8_t>(ch)) * 16777619u;
    char hex[9];
    snprintf(hex, sizeof hex, "%08x", h);
    c.fleet_name = c.upstream.host + ":" + c.upstream.port + ":" + hex;
  }
  out = c;
  return true;
}

bool load_config(const std::string& path, Config& out, std::string& error) {
  std::ifstream f(path);
  if (!f) {
    error = path + ": cannot read the config file";
    return false;
  }
  std::stringstream text;
  text << f.rdbuf();
  return parse_config(text.str(), path, out, error);
}

}  // namespace gateway
