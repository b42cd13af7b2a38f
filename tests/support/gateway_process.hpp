// slotgate-gateway as a child process of a test: its config written to a throwaway file, a free
// loopback port, stopped with SIGTERM when the object goes. SLOTGATE_GATEWAY_BINARY names the
// binary (set by the build).
#pragma once

#include <httplib.h>

#include <string>

#include "child_process.hpp"

namespace slotgate::test {

class Gateway {
 public:
  // `config`: the config file's lines; `listen = 127.0.0.1:0` is added.
  explicit Gateway(const std::string& config)
      : path_(dir_.write("gateway.conf", "listen = 127.0.0.1:0\n" + config)),
        child_({SLOTGATE_GATEWAY_BINARY, path_}) {
    port_ = child_.listening_port();
  }
  int port() const { return port_; }
  Child& process() { return child_; }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_tcp_nodelay(true);
    c.set_read_timeout(60, 0);
    c.set_connection_timeout(10, 0);
    return c;
  }
  std::string metrics() const {
    auto r = client().Get("/metrics");
    return r && r->status == 200 ? r->body : std::string();
  }
  // The value of the sample `name` (with its labels, as written: `a{b="c"}`), or -1.
  double metric(const std::string& name) const {
    const std::string text = metrics();
    size_t at = 0;
    while ((at = text.find(name + " ", at)) != std::string::npos) {
      if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + name.size() + 1));
      at += name.size();
    }
    return -1;
  }

 private:
  TempDir dir_;
  std::string path_;
  Child child_;
  int port_ = 0;
};

}  // namespace slotgate::test
