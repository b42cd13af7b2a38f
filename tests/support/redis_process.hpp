// A real redis-server (Debian's) as a child process of a test: on a free loopback port, with a
// throwaway directory and no persistence, stopped when the object goes. stop() and start()
// again on the same port model an outage and a restart that lost the data.
#pragma once

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"

namespace slotgate::test {

// A loopback port nobody listens on now (the kernel's pick for an ephemeral bind).
inline int free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t n = sizeof a;
  int port = 0;
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &n) == 0)
    port = ntohs(a.sin_port);
  close(s);
  return port;
}

class Redis {
 public:
  Redis() : port_(free_port()) { start(); }
  ~Redis() { stop(); }

  // Starts redis-server on this object's port; true once it answers PING (at most 10 s).
  bool start() {
    server_ = std::make_unique<Child>(std::vector<std::string>{
        SLOTGATE_REDIS_SERVER, "--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir",
        dir_.path(), "--save", "", "--appendonly", "no", "--daemonize", "no"});
    for (int i = 0; i < 2000; ++i) {
      if (ping()) return true;
      if (!server_->running()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }
  // Stops it (SIGTERM; with no persistence its data is gone).
  void stop() {
    if (server_) server_->stop();
    server_.reset();
  }
  void kill9() {
    if (server_) server_->signal(SIGKILL);
    stop();
  }

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // One command's reply as text (an integer as its digits, an array joined with spaces, an
  // error as "ERR..."), for tests; "" without an answer.
  std::string run(const std::vector<std::string>& args) const {
    timeval tv{2, 0};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
    if (c == nullptr || c->err != 0) {
      if (c != nullptr) redisFree(c);
      return "";
    }
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
    std::string out = r != nullptr ? text(r) : "";
    if (r != nullptr) freeReplyObject(r);
    redisFree(c);
    return out;
  }
  bool ping() const { return run({"PING"}) == "PONG"; }

 private:
  static std::string text(const redisReply* r) {
    switch (r->type) {
      case REDIS_REPLY_INTEGER:
        return std::to_string(r->integer);
      case REDIS_REPLY_ARRAY: {
        std::string s;
        for (size_t i = 0; i < r->elements; ++i) s += (i ? " " : "") + text(r->element[i]);
        return s;
      }
      case REDIS_REPLY_NIL:
        return "(nil)";
      default:
        return std::string(r->str, r->len);
    }
  }

  TempDir dir_;
  int port_;
  std::unique_ptr<Child> server_;
};

}  // namespace slotgate::test
