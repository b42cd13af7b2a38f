// Notices a client that goes away while its request waits for a permit or for the upstream:
// a read-readiness wait on the client's socket that peeks (taking nothing) when it fires. End
// of stream or an error means the client is gone: the permit wait is cancelled through
// `signal` and `on_gone` runs (it closes the upstream connection). Bytes waiting mean a
// pipelined request, not a departure: the watch then ends.
//
// Everything here runs on the connection's strand. A client that half-closes its side after
// sending a request (rare, but HTTP/1.1 allows it) is taken for gone.
#pragma once

#include <errno.h>
#include <sys/socket.h>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>

namespace gateway {

class ClientWatch : public std::enable_shared_from_this<ClientWatch> {
 public:
  explicit ClientWatch(boost::asio::ip::tcp::socket& client) : client_(client) {}

  void start() {
    client_.async_wait(
        boost::asio::ip::tcp::socket::wait_read,
        [self = shared_from_this()](boost::system::error_code ec) { self->fired(ec); });
  }

  // The request is over: nothing more happens, and the wait ends. The client socket must not
  // have another operation pending that a cancel would end.
  void stop() {
    if (!active_) return;
    active_ = false;
    on_gone_ = nullptr;
    boost::system::error_code ignored;
    client_.cancel(ignored);
  }

  boost::asio::cancellation_slot slot() { return signal_.slot(); }
  void on_gone(std::function<void()> f) { on_gone_ = std::move(f); }
  bool gone() const noexcept { return gone_; }

 private:
  void fired(boost::system::error_code ec) {
    if (!active_ || ec == boost::asio::error::operation_aborted) return;
    if (!ec) {
      char c = 0;
      const ssize_t r = ::recv(client_.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (r > 0) return;  // a pipelined request: still here
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return start();
    }
    gone_ = true;
    active_ = false;
    signal_.emit(boost::asio::cancellation_type::terminal);
    if (auto f = std::move(on_gone_)) f();
  }

  boost::asio::ip::tcp::socket& client_;
  boost::asio::cancellation_signal signal_;
  std::function<void()> on_gone_;
  bool active_ = true;
  bool gone_ = false;
};

}  // namespace gateway
