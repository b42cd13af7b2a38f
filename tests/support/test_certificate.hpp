// A throwaway certificate for loopback TLS: self-signed (its own CA), for localhost and
// 127.0.0.1, made by the openssl command (Debian: openssl) in a test's directory.
#pragma once

#include <stdlib.h>

#include <string>

#include "child_process.hpp"

namespace slotgate::test {

struct TestCertificate {
  std::string cert, key;  // PEM files; empty if openssl failed
};

inline TestCertificate make_test_certificate(const TempDir& dir) {
  TestCertificate c{dir.path() + "/cert.pem", dir.path() + "/key.pem"};
  const std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost"
      " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
      c.key + " -out " + c.cert + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) c = {};
  return c;
}

}  // namespace slotgate::test
