// An installed slotgate, used from C++: a limiter on the posix port.
#include <slotgate/version.h>
#include <slotgate/limiter.hpp>
#include <slotgate/ports/posix.hpp>

#include <chrono>
#include <cstdio>

int main() {
  using Port = slotgate::posix::Port;
  Port port;
  slotgate::Limiter<Port, 4, 8> limiter(port);
  slotgate::Permit p;
  if (slotgate::posix::acquire_for(limiter, std::chrono::seconds(1), p) != slotgate::Status::kOk)
    return 1;
  if (limiter.release(p, Port::now()) != slotgate::Status::kOk) return 1;
  std::printf("C++ consumer: slotgate %s works\n", SLOTGATE_VERSION_STRING);
  return 0;
}
