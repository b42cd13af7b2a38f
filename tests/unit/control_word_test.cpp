// The control word's fast-path test is one mask compare; it must say exactly what its parts
// say, for every flag, queue count and credit, in the layouts the ports use.
#include <gtest/gtest.h>
#include <stdint.h>

#include "slotgate/detail/control_word.hpp"

namespace slotgate::test {
namespace {

template <class CW, class Word>
bool fast_spelled_out(Word w) {
  return !CW::closed(w) && !CW::paused(w) && !CW::half_open(w) && !CW::shrinking(w) &&
         CW::queued(w) == 0 && CW::gate_open(w);
}

template <class Word, size_t MaxSlots, size_t QueueCapacity>
void check_layout() {
  using CW = detail::ControlWord<Word, MaxSlots, QueueCapacity>;
  const Word flags[] = {CW::kClosed,  CW::kPaused,      CW::kToken,
                        CW::kPending, CW::kHalfOpen,    CW::kProbeOut,
                        CW::kShrink,  CW::kPauseSeqOne, CW::kPauseSeqMask};
  const Word queued[] = {0, 1, 2, QueueCapacity};
  const Word credits[] = {0, 1, CW::kCreditOpen - 1, CW::kCreditOpen};
  const Word lims[] = {0, 1, MaxSlots};
  int fast = 0;
  for (Word lim : lims)
    for (Word q : queued)
      for (Word cr : credits)
        for (unsigned mask = 0; mask < (1u << 9); ++mask) {
          Word w = CW::with_credit(CW::with_lim(Word(0), lim), cr) + q * CW::kQueuedOne;
          for (unsigned b = 0; b < 9; ++b)
            if ((mask >> b) & 1u) w |= flags[b];
          ASSERT_EQ(CW::fast(w), (fast_spelled_out<CW, Word>(w))) << std::hex << w;
          fast += CW::fast(w) ? 1 : 0;
        }
  EXPECT_GT(fast, 0);  // the open word with no waiter is fast
}

TEST(ControlWord, TheFastTestIsItsPartsIn32BitWords) {
  check_layout<uint32_t, 8, 64>();
}
TEST(ControlWord, TheFastTestIsItsPartsIn64BitWords) {
  check_layout<uint64_t, 256, 4096>();
}
TEST(ControlWord, TheFastTestIsItsPartsWithOneSlot) {
  check_layout<uint32_t, 1, 1>();
}

}  // namespace
}  // namespace slotgate::test
