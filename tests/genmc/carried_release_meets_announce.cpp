// release_meets_announce, for a release that writes a carry (the usage gate is on): the record
// is freed by end_session's exchange after the carry is written.
#define COUNTED_FOR 5
#include "release_meets_announce.cpp"
