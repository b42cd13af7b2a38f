/* slotgate's version. C and C++. CMake reads the project version from this file. */
#ifndef SLOTGATE_VERSION_H
#define SLOTGATE_VERSION_H

#define SLOTGATE_VERSION_MAJOR 0
#define SLOTGATE_VERSION_MINOR 3
#define SLOTGATE_VERSION_PATCH 0
#define SLOTGATE_VERSION_STRING "0.3.0"

/* One number to compare: MAJOR * 10000 + MINOR * 100 + PATCH. */
#define SLOTGATE_VERSION \
  (SLOTGATE_VERSION_MAJOR * 10000 + SLOTGATE_VERSION_MINOR * 100 + SLOTGATE_VERSION_PATCH)

#endif /* SLOTGATE_VERSION_H */
