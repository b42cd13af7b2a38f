#include "slotgate/status.hpp"

namespace slotgate {

const char* to_string(Status s) noexcept {
  switch (s) {
    case Status::kOk:
      return "ok";
    case Status::kNoSlot:
      return "no_slot";
    case Status::kWaitersAhead:
      return "waiters_ahead";
    case Status::kPaused:
      return "paused";
    case Status::kGated:
      return "gated";
    case Status::kClosed:
      return "closed";
    case Status::kQueueFull:
      return "queue_full";
    case Status::kPending:
      return "pending";
    case Status::kTimedOut:
      return "timed_out";
    case Status::kGrantReturned:
      return "grant_returned";
    case Status::kInvalidArgument:
      return "invalid_argument";
    case Status::kInvalidPermit:
      return "invalid_permit";
    case Status::kStalePermit:
      return "stale_permit";
    case Status::kReclaimed:
      return "reclaimed";
    case Status::kInvalidTicket:
      return "invalid_ticket";
    case Status::kStaleTicket:
      return "stale_ticket";
    case Status::kClockWentBackwards:
      return "clock_went_backwards";
  }
  return "unknown";
}

}  // namespace slotgate
