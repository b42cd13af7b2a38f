// An HTTP upstream that answers the first request on each connection (200, "ok", keep-alive) and
// closes the connection when the second one arrives, without answering it: an upstream that
// closes an idle keep-alive connection just as a client sends on it, every time. It serves on a
// free loopback port, one connection at a time, from a thread of its own that stops with the
// object (every wait in it is bounded).
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace slotgate::test {

class ClosingUpstream {
 public:
  ClosingUpstream() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd_, 8) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return;
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~ClosingUpstream() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  ClosingUpstream(const ClosingUpstream&) = delete;
  ClosingUpstream& operator=(const ClosingUpstream&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_; }  // accepted so far
  int answered() const { return answered_; }        // requests answered
  int dropped() const { return dropped_; }          // requests whose connection it closed

 private:
  // Waits up to 100 ms for `fd` to be readable; false on timeout or when stopping.
  bool readable(int fd) const {
    pollfd p{fd, POLLIN, 0};
    return !stop_ && ::poll(&p, 1, 100) > 0;
  }
  // Reads one request (a header, then a Content-Length body). False if the peer closed or
  // the object is stopping.
  bool read_request(int c, std::string& buf) {
    for (;;) {
      const size_t end = buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t body = 0;
        const size_t at = buf.find("Content-Length: ");
        if (at != std::string::npos && at < end) body = std::stoul(buf.substr(at + 16));
        if (buf.size() >= end + 4 + body) {
          buf.erase(0, end + 4 + body);
          return true;
        }
      }
      while (!readable(c))
        if (stop_) return false;
      char chunk[4096];
      const ssize_t n = ::recv(c, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buf.append(chunk, static_cast<size_t>(n));
    }
  }
  void run() {
    while (!stop_) {
      if (!readable(fd_)) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++connections_;
      std::string buf;
      if (read_request(c, buf)) {
        static const char kOk[] =
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok";
        if (::send(c, kOk, sizeof kOk - 1, MSG_NOSIGNAL) == ssize_t(sizeof kOk - 1)) ++answered_;
        if (read_request(c, buf)) ++dropped_;
      }
      ::close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0}, answered_{0}, dropped_{0};
  std::thread thread_;
};

}  // namespace slotgate::test
