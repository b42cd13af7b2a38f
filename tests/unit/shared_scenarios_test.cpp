// The scenarios the Cortex-M firmware runs under QEMU, run here too.
#include <gtest/gtest.h>

#include "../scenarios/core_scenarios.hpp"

namespace {

struct GtestCheck {
  int checks = 0;
  void operator()(bool ok, const char* what) {
    ++checks;
    EXPECT_TRUE(ok) << what;
  }
};

TEST(SharedScenarios, AllPassOnTheHost) {
  GtestCheck check;
  slotgate::scenarios::run_all<slotgate::StdAtomics>(check);
  EXPECT_GT(check.checks, 60);
}

}  // namespace
