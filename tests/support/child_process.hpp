// A program of the project's as a child process of a test: its output in files of a throwaway
// directory, its first line awaited (the servers print "listening on ADDRESS:PORT"), stopped
// with SIGTERM — then SIGKILL if it does not go within 10 s — when the object goes.
#pragma once

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace slotgate::test {

// A directory under $TMPDIR (or /tmp) that is removed with everything in it when the object goes.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/slotgate-test-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    if (path_.empty()) return;
    // Depth first, so each directory is empty when its turn comes.
    nftw(
        path_.c_str(), [](const char* p, const struct stat*, int, FTW*) { return ::remove(p); }, 16,
        FTW_DEPTH | FTW_PHYS);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `text` to a file of this directory; its path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }

 private:
  std::string path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class Child {
 public:
  // Starts argv[0] with the rest as its arguments; stdout and stderr go to files.
  explicit Child(std::vector<std::string> argv) {
    out_ = dir_.path() + "/stdout";
    err_ = dir_.path() + "/stderr";
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Child() { stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // The first line of its output, waited for at most 10 s (empty if none came, or it exited).
  std::string first_line() {
    for (int i = 0; i < 2000 && running(); ++i) {
      const std::string out = read_file(out_);
      const size_t nl = out.find('\n');
      if (nl != std::string::npos) return out.substr(0, nl);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const std::string out = read_file(out_);
    const size_t nl = out.find('\n');
    return nl == std::string::npos ? std::string() : out.substr(0, nl);
  }
  // The port of a "listening on ADDRESS:PORT" first line, or 0.
  int listening_port() {
    const std::string line = first_line();
    const size_t colon = line.rfind(':');
    if (line.rfind("listening on ", 0) != 0 || colon == std::string::npos) return 0;
    return std::atoi(line.c_str() + colon + 1);
  }

  void signal(int sig) const {
    if (pid_ > 0 && status_ < 0) kill(pid_, sig);
  }
  bool running() {
    if (pid_ <= 0 || status_ >= 0) return false;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) status_ = st;
    return status_ < 0;
  }
  // Waits at most `limit` for it to exit; its exit code (128 + N for signal N), or -1 if it
  // is still running.
  int wait(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (running() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (running()) return -1;
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
  }
  // SIGTERM, then SIGKILL after 10 s; its exit code as wait() gives it.
  int stop() {
    if (pid_ <= 0) return -1;
    signal(SIGTERM);
    int code = wait();
    if (code < 0) {
      signal(SIGKILL);
      code = wait();
    }
    return code;
  }
  pid_t pid() const { return pid_; }
  std::string out() const { return read_file(out_); }
  std::string err() const { return read_file(err_); }

 private:
  TempDir dir_;
  std::string out_, err_;
  pid_t pid_ = -1;
  int status_ = -1;  // waitpid's status once it exited
};

}  // namespace slotgate::test
