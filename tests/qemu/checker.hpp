// The firmware's checks: each one counted, a failure named over semihosting, and the closing
// "N passed, N failed" line the test harness reads.
#pragma once

#include <stdint.h>

#include "semihost.hpp"

struct Checker {
  uint32_t passed = 0, failed = 0;
  void operator()(bool ok, const char* what) {
    if (ok) {
      ++passed;
      return;
    }
    ++failed;
    semihost::write("FAILED: ");
    semihost::write(what);
    semihost::write("\n");
  }
  // Prints the closing line; true if nothing failed.
  bool report() const {
    semihost::write_uint(passed);
    semihost::write(" passed, ");
    semihost::write_uint(failed);
    semihost::write(" failed\n");
    return failed == 0;
  }
};
