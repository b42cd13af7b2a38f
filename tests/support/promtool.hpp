// promtool, from Debian's prometheus package, as the judge of the Prometheus text format: a
// real parser and linter, not a pattern of the project's own. SLOTGATE_PROMTOOL names it.
#pragma once

#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <string>

#include "child_process.hpp"

namespace slotgate::test {

// promtool (Debian's prometheus package) parses and lints the text: its exit status.
inline int promtool_check(const std::string& text, std::string& said) {
  slotgate::test::TempDir dir;
  const std::string in = dir.write("metrics.txt", text);
  const std::string cmd = std::string(SLOTGATE_PROMTOOL) + " check metrics < " + in + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) said += buf;
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// For EXPECT_TRUE: promtool accepts `text`; if not, what it said and the text.
inline ::testing::AssertionResult promtool_accepts(const std::string& text) {
  std::string said;
  if (promtool_check(text, said) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << said << "\n" << text;
}

}  // namespace slotgate::test
