// The project's test upstream (examples/slotgate-upstream) as a child process of a test: started
// on a free loopback port, its port read from its first line, stopped with SIGTERM when the
// object goes. SLOTGATE_UPSTREAM_BINARY names the binary (set by the build).
#pragma once

#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace slotgate::test {

// slotgate-upstream with the given flags; its port read from its first line of output.
class Upstream {
 public:
  explicit Upstream(std::vector<std::string> flags) {
    int out[2];
    if (pipe(out) != 0) return;
    std::vector<std::string> args{SLOTGATE_UPSTREAM_BINARY, "--port", "0"};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    std::string line;
    pollfd p{out[0], POLLIN, 0};
    char c = 0;
    // At most 10 s for the first line: the port, or nothing (the test then fails).
    while (line.find('\n') == std::string::npos && poll(&p, 1, 10000) == 1 &&
           read(out[0], &c, 1) == 1)
      line += c;
    close(out[0]);
    const std::string prefix = "listening on 127.0.0.1:";
    if (line.rfind(prefix, 0) == 0) port_ = std::stoi(line.substr(prefix.size()));
  }
  ~Upstream() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  int port() const { return port_; }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_bearer_token_auth("key");
    c.set_read_timeout(10, 0);
    return c;
  }
  // The key's ledger field `name` (a whole number).
  long ledger(const std::string& name) const {
    auto r = client().Get("/ledger");
    if (!r) return -1;
    const auto at = r->body.find("\"" + name + "\":");
    return at == std::string::npos ? -1 : std::stol(r->body.substr(at + name.size() + 3));
  }

 private:
  pid_t pid_ = -1;
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
