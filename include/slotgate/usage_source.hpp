// UsageSource: a cached usage reading behind an interface, for ports that take their source
// at run time (posix, asio). Implemented by the posix UsagePoller and by slotgate::http's
// source. Not needed by ports that compile their source in (freertos::UsagePort, sim).
#pragma once

#include <stdint.h>

#include "slotgate/usage.hpp"

namespace slotgate {

template <class Tick>
class UsageSource {
 public:
  // The latest reading, or false for none. Must never wait for I/O.
  virtual bool read(UsageReading<Tick>& out) const noexcept = 0;
  // Start a fetch if none runs; return at once.
  virtual void request_refresh() noexcept = 0;
  // Changes with every reading written, odd while one is being written (as UsageCell's).
  virtual uint32_t version() const noexcept = 0;
  // Optional: a source that fetches on its own thread calls wake(context) after each reading
  // it writes, so that waiters re-poll and take it in; (nullptr, nullptr) unsubscribes, and
  // once that returns wake is not called again. Ports set it before their first request.
  virtual void on_reading(void (*wake)(void*), void* context) noexcept {
    (void)wake;
    (void)context;
  }

 protected:
  ~UsageSource() = default;
};

}  // namespace slotgate
