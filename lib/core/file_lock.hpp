#pragma once

namespace mlctl {

// Takes an exclusive flock on `fd`, waiting at most `timeout_seconds`;
// false when the time ran out. The wait is a blocking flock, so the lock
// passes to a waiter the moment it is freed (a loop of sleeps and retries
// lets some waiters lose again and again); a timer that signals this
// thread every 100 ms interrupts it to look at the clock. Throws
// Error(io) for errors other than the lock being held.
bool lock_exclusive(int fd, double timeout_seconds);

}  // namespace mlctl
