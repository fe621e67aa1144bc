#pragma once

#include <string>
#include <vector>

#include <mlctl/tracking/run_store.hpp>

namespace mlctl::tracking {

// Finds runs recorded as queued or running whose supervising mlctl process
// is gone (killed, machine rebooted) and marks them failed with the reason,
// so that no run stays "running" forever. On this host the supervisor's
// pid and start time decide; for runs of other hosts sharing the project,
// a heartbeat older than `stale_after_seconds`. What is left of such a
// job's process group on this host is killed. Returns the ids it marked.
std::vector<std::string> reap_dead_runs(RunStore& runs, double stale_after_seconds = 120.0);

}  // namespace mlctl::tracking
