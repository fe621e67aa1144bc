#include <mlctl/tracking/liveness.hpp>

#include <fmt/format.h>

#include <csignal>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/process.hpp>

namespace mlctl::tracking {

std::vector<std::string> reap_dead_runs(RunStore& runs, double stale_after_seconds) {
  std::vector<std::string> reaped;
  std::string this_host = host_name();
  double now = unix_now();
  for (const Run& run : runs.active_runs()) {
    std::optional<std::string> reason;
    if (run.status == RunStatus::running && run.supervisor_pid) {
      if (run.host == this_host) {
        if (!is_process_alive(*run.supervisor_pid, run.supervisor_start)) {
          reason = fmt::format("the mlctl process supervising the run (pid {}) died without recording an end; "
                               "it was probably killed",
                               *run.supervisor_pid);
        }
      } else if (run.heartbeat_at && now - *run.heartbeat_at > stale_after_seconds) {
        reason = fmt::format("no heartbeat from host '{}' since {}", run.host, format_iso8601(*run.heartbeat_at));
      }
    }
    if (!reason) continue;
    // The job may live on without its supervisor (a child it forked does
    // not get the supervisor's death signal): nothing records it any more,
    // so stop what is left of its process group.
    if (run.host == this_host && run.process_group && *run.process_group > 0) {
      ::kill(-pid_t(*run.process_group), SIGKILL);
    }
    runs.finish(run.row_id, RunStatus::failed, std::nullopt, reason);
    reaped.push_back(run.id);
  }
  return reaped;
}

}  // namespace mlctl::tracking
