// Every outcome the library reports. No operation throws; each one returns one of these.
#pragma once

#include <stdint.h>

namespace slotgate {

enum class Status : uint8_t {
  kOk = 0,             // done as asked
  kNoSlot,             // every slot within the effective limit is held or cooling
  kWaitersAhead,       // a slot may be free, but queued waiters come first (no barging)
  kPaused,             // grants are paused (pause_until, or an upstream rejection)
  kGated,              // the usage gate holds: the upstream reading leaves no budget
  kClosed,             // the limiter is closed
  kQueueFull,          // every ticket record is in use
  kPending,            // the ticket is still waiting
  kTimedOut,           // the ticket's deadline passed before a grant
  kGrantReturned,      // cancel lost the race to a grant; the slot was given back
  kInvalidArgument,    // a limit or duration outside its documented range
  kInvalidPermit,      // a permit that was never issued (default-constructed or foreign)
  kStalePermit,        // a permit already released, or of an earlier holder of the slot
  kReclaimed,          // the permit outlived max_hold and its slot was reclaimed
  kInvalidTicket,      // a ticket that was never issued
  kStaleTicket,        // a ticket already claimed or cancelled
  kClockWentBackwards  // poll saw a time earlier than a previous poll; it still did its work
};

// Short, stable, lower-case name for logs. Wait-free, interrupt-safe.
const char* to_string(Status s) noexcept;

// True for the statuses that mean "try again later" rather than an error in the call.
constexpr bool is_transient(Status s) noexcept {
  return s == Status::kNoSlot || s == Status::kWaitersAhead || s == Status::kPaused ||
         s == Status::kGated || s == Status::kPending;
}

}  // namespace slotgate
