// judged_reading_read_whole with a first judged reading (3, 50): only the second one's time can
// make a match, and `has` is the same in all three, so the time field's own pair is shown.
#define SLOTGATE_LITMUS_FIRST_AT 50
#define SLOTGATE_LITMUS_FIRST_HAS true
#include "judged_reading_read_whole.cpp"
