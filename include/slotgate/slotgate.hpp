// Everything of the core in one include. Ports live in ports/<name>/include/slotgate/ports/.
#pragma once

#include "slotgate/acquire.hpp"
#include "slotgate/atomics.hpp"
#include "slotgate/config.hpp"
#include "slotgate/handles.hpp"
#include "slotgate/limiter.hpp"
#include "slotgate/limiter_config.hpp"
#include "slotgate/port.hpp"
#include "slotgate/ring.hpp"
#include "slotgate/snapshot.hpp"
#include "slotgate/status.hpp"
#include "slotgate/ticks.hpp"
#include "slotgate/usage.hpp"
#include "slotgate/usage_cell.hpp"
