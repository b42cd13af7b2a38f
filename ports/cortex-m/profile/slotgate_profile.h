/* The slotgate profile for bare-metal Cortex-M (read by slotgate/config.hpp when this folder is
 * on the include path, as the cortex_m CMake target puts it). */
#ifndef SLOTGATE_PROFILE_H
#define SLOTGATE_PROFILE_H

/* No data cache to pad for: hot atomics pack at word size, which saves RAM. */
#ifndef SLOTGATE_CACHE_LINE
#define SLOTGATE_CACHE_LINE 4
#endif

/* SLOTGATE_SIZE_ERASURE (slotgate/config.hpp) stays 0 here: it costs a one-limiter image
 * about 70 bytes and saves about 0.8 KiB for each limiter of another slot count. Firmware with
 * several such limiters sets it to 1 in a profile of its own. */

#endif /* SLOTGATE_PROFILE_H */
