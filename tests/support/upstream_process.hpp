// The project's test upstream (examples/slotgate-upstream) as a child process of a test: started
// on a free loopback port, stopped with SIGTERM when the object goes. SLOTGATE_UPSTREAM_BINARY
// names the binary (set by the build).
#pragma once

#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"

namespace slotgate::test {

// slotgate-upstream with the given flags.
class Upstream {
 public:
  explicit Upstream(std::vector<std::string> flags) : child_(args(std::move(flags))) {
    port_ = child_.listening_port();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  httplib::Client client(const std::string& key = "key") const {
    httplib::Client c("127.0.0.1", port_);
    c.set_tcp_nodelay(true);
    c.set_bearer_token_auth(key.c_str());
    c.set_read_timeout(10, 0);
    return c;
  }
  // The ledger field `name` (a whole number) of a key.
  long ledger(const std::string& name, const std::string& key = "key") const {
    auto r = client(key).Get("/ledger");
    if (!r) return -1;
    const auto at = r->body.find("\"" + name + "\":");
    return at == std::string::npos ? -1 : std::stol(r->body.substr(at + name.size() + 3));
  }

 private:
  static std::vector<std::string> args(std::vector<std::string> flags) {
    std::vector<std::string> a{SLOTGATE_UPSTREAM_BINARY, "--port", "0"};
    a.insert(a.end(), flags.begin(), flags.end());
    return a;
  }
  Child child_;
  int port_ = 0;
};

// Looks at `pred` every 5 ms, for at most 5 s: the state the next step needs.
template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 1000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

}  // namespace slotgate::test
