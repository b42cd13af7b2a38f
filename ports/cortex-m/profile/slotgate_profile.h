/* The slotgate profile for bare-metal Cortex-M (read by slotgate/config.hpp when this folder is
 * on the include path, as the cortex_m CMake target puts it). */
#ifndef SLOTGATE_PROFILE_H
#define SLOTGATE_PROFILE_H

/* No data cache to pad for: hot atomics pack at word size, which saves RAM. */
#ifndef SLOTGATE_CACHE_LINE
#define SLOTGATE_CACHE_LINE 4
#endif

#endif /* SLOTGATE_PROFILE_H */
