// One connection to Redis for a fleet member (hiredis, blocking with timeouts, used from the
// member's own thread only): connects on demand, loads the ledger script, runs it, and says why
// a renewal failed. After any I/O failure the connection is dropped and the next call
// reconnects, so a restarted Redis is found again by itself.
#pragma once

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdint.h>

#include <chrono>
#include <string>
#include <vector>

#include "slotgate/fleet/ledger_script.hpp"

namespace slotgate::fleet {

// Why a renewal failed.
enum class Failure : uint8_t {
  kConnect,  // no connection (refused, unreachable, or the connect timed out)
  kTimeout,  // connected, but no answer in time
  kIo,       // the connection broke
  kRedis,    // Redis answered with an error (AUTH, a script error, out of memory, ...)
  kReply,    // an answer that is not what the script returns
  kCount
};

inline const char* to_string(Failure f) noexcept {
  constexpr const char* kNames[] = {"connect", "timeout", "io", "redis", "reply"};
  return f < Failure::kCount ? kNames[static_cast<int>(f)] : "?";
}

// What one run of the ledger script answered.
struct Grant {
  uint32_t limit = 0;    // the local limit to apply now
  uint32_t claim = 0;    // what the ledger records for us
  uint32_t peers = 0;    // other live members
  uint64_t repairs = 0;  // repairs the ledger has made, in all
  bool settling = false;
  uint32_t others = 0;   // what the others claim
  uint32_t target = 0;   // this member's part of the fair split (the limit, once others shrink)
  uint32_t foreign = 0;  // other clients' sessions the ledger holds back (ledger_script.hpp, 4)
};

// What a member passes on for the ledger's count of other clients: its usage source's reading
// (the upstream's whole count for the key) and its age, its own sessions in flight, and how
// long the ledger holds foreign usage a reading showed (also the oldest reading it takes; the
// same on every member).
struct Reading {
  int64_t sessions = -1;  // -1: no reading
  std::chrono::milliseconds age{0};
  uint32_t held = 0;  // this member's permits out now
  std::chrono::milliseconds hold{0};
};

class RedisLink {
 public:
  RedisLink(std::string host, uint16_t port, std::string password,
            std::chrono::milliseconds timeout)
      : host_(std::move(host)), port_(port), password_(std::move(password)), timeout_(timeout) {}
  ~RedisLink() { drop(); }
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  // Runs the ledger script for ledger `name`. False and `why` on failure.
  bool renew(const std::string& name, const std::string& id, uint32_t want, uint32_t in_use,
             std::chrono::milliseconds ttl, uint32_t cap, uint32_t floor, bool leave,
             const Reading& reading, Grant& out, Failure& why) {
    if (!connected(why)) return false;
    const std::string tag = "{slotgate:" + name + "}:";
    const std::string keys[5] = {tag + "leases", tag + "claims", tag + "wants", tag + "meta",
                                 tag + "uses"};
    const std::string args[11] = {id,
                                  std::to_string(want),
                                  std::to_string(in_use),
                                  std::to_string(ttl.count()),
                                  std::to_string(cap),
                                  std::to_string(floor),
                                  leave ? "1" : "0",
                                  std::to_string(reading.sessions < 0 ? -1 : reading.sessions),
                                  std::to_string(reading.age.count()),
                                  std::to_string(reading.hold.count()),
                                  std::to_string(reading.held)};
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::vector<const char*> argv{"EVALSHA", sha_.c_str(), "5"};
      for (const auto& k : keys) argv.push_back(k.c_str());
      for (const auto& a : args) argv.push_back(a.c_str());
      redisReply* r = command(argv, why);
      if (r == nullptr) return false;
      // A Redis that restarted behind the same address forgot the script: load it again.
      if (r->type == REDIS_REPLY_ERROR && std::string(r->str).rfind("NOSCRIPT", 0) == 0 &&
          attempt == 0) {
        freeReplyObject(r);
        if (!load_script(why)) return false;
        continue;
      }
      const bool ok = parse(r, out, why);
      freeReplyObject(r);
      return ok;
    }
    why = Failure::kRedis;
    return false;
  }
  // A renewal without a reading or sessions in flight (foreign usage held for half a TTL).
  bool renew(const std::string& name, const std::string& id, uint32_t want, uint32_t in_use,
             std::chrono::milliseconds ttl, uint32_t cap, uint32_t floor, bool leave, Grant& out,
             Failure& why) {
    return renew(name, id, want, in_use, ttl, cap, floor, leave, Reading{-1, {}, 0, ttl / 2}, out,
                 why);
  }

  // Reads a hash of the ledger (tests and tools): field -> value pairs, or false.
  bool hash(const std::string& key, std::vector<std::pair<std::string, std::string>>& out,
            Failure& why) {
    if (!connected(why)) return false;
    redisReply* r = command({"HGETALL", key.c_str()}, why);
    if (r == nullptr) return false;
    out.clear();
    if (r->type == REDIS_REPLY_ARRAY)
      for (size_t i = 0; i + 1 < r->elements; i += 2)
        out.emplace_back(r->element[i]->str, r->element[i + 1]->str);
    freeReplyObject(r);
    return true;
  }

  void drop() noexcept {
    if (ctx_ != nullptr) redisFree(ctx_);
    ctx_ = nullptr;
  }

 private:
  timeval tv() const {
    return timeval{static_cast<time_t>(timeout_.count() / 1000),
                   static_cast<suseconds_t>((timeout_.count() % 1000) * 1000)};
  }

  bool connected(Failure& why) {
    if (ctx_ != nullptr) return true;
    ctx_ = redisConnectWithTimeout(host_.c_str(), port_, tv());
    if (ctx_ == nullptr || ctx_->err != 0) {
      drop();
      why = Failure::kConnect;
      return false;
    }
    redisSetTimeout(ctx_, tv());
    if (!password_.empty()) {
      redisReply* r = command({"AUTH", password_.c_str()}, why);
      if (r == nullptr) return false;
      const bool ok = r->type != REDIS_REPLY_ERROR;
      freeReplyObject(r);
      if (!ok) {
        drop();
        why = Failure::kRedis;
        return false;
      }
    }
    return load_script(why);
  }

  bool load_script(Failure& why) {
    redisReply* r = command({"SCRIPT", "LOAD", kLedgerScript}, why);
    if (r == nullptr) return false;
    const bool ok = r->type == REDIS_REPLY_STRING;
    if (ok) sha_.assign(r->str, r->len);
    freeReplyObject(r);
    if (!ok) {
      drop();
      why = Failure::kRedis;
    }
    return ok;
  }

  // One command; the reply, or nullptr with why (the connection is then dropped).
  redisReply* command(const std::vector<const char*>& argv, Failure& why) {
    auto* r = static_cast<redisReply*>(redisCommandArgv(
        ctx_, static_cast<int>(argv.size()), const_cast<const char**>(argv.data()), nullptr));
    if (r != nullptr) return r;
    const bool timed_out = ctx_->err == REDIS_ERR_IO &&
                           (errno == EAGAIN || errno == EWOULDBLOCK || errno == ETIMEDOUT);
    why = timed_out ? Failure::kTimeout : Failure::kIo;
    drop();
    return nullptr;
  }

  static bool parse(const redisReply* r, Grant& out, Failure& why) {
    if (r->type == REDIS_REPLY_ERROR) {
      why = Failure::kRedis;
      return false;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 8) {
      why = Failure::kReply;
      return false;
    }
    long long v[8];
    for (size_t i = 0; i < 8; ++i) {
      if (r->element[i]->type != REDIS_REPLY_INTEGER || r->element[i]->integer < 0) {
        why = Failure::kReply;
        return false;
      }
      v[i] = r->element[i]->integer;
    }
    out.limit = static_cast<uint32_t>(v[0]);
    out.claim = static_cast<uint32_t>(v[1]);
    out.peers = static_cast<uint32_t>(v[2]);
    out.repairs = static_cast<uint64_t>(v[3]);
    out.settling = v[4] != 0;
    out.others = static_cast<uint32_t>(v[5]);
    out.target = static_cast<uint32_t>(v[6]);
    out.foreign = static_cast<uint32_t>(v[7]);
    return true;
  }

  std::string host_;
  uint16_t port_;
  std::string password_;
  std::chrono::milliseconds timeout_;
  redisContext* ctx_ = nullptr;
  std::string sha_;
};

}  // namespace slotgate::fleet
