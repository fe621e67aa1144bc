#include <mlctl/tracking/run_control.hpp>

#include <fmt/format.h>

#include <csignal>
#include <thread>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/tracking/liveness.hpp>
#include <mlctl/tracking/run_supervisor.hpp>

namespace mlctl::tracking {
namespace {

bool process_group_exists(std::int64_t group) { return group > 0 && ::kill(-pid_t(group), 0) == 0; }

}  // namespace

Run cancel_run(RunStore& runs, std::string_view run_id, double grace_seconds) {
  Run run = runs.get(run_id, false);
  if (is_terminal(run.status)) {
    throw Error(ErrorKind::already_exists, fmt::format("run {} has already ended ({})", run.id, to_string(run.status)));
  }
  runs.mark_canceled(run.row_id, "canceled by the user");
  if (run.process_group && process_group_exists(*run.process_group)) {
    ::kill(-pid_t(*run.process_group), SIGTERM);
    double deadline = monotonic_seconds() + grace_seconds;
    while (process_group_exists(*run.process_group) && monotonic_seconds() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (process_group_exists(*run.process_group)) ::kill(-pid_t(*run.process_group), SIGKILL);
  }
  return runs.get(run.id);
}

Run wait_for_run(RunStore& runs, std::string_view run_id, std::optional<double> timeout_seconds,
                 const std::function<void()>& on_poll) {
  double deadline = timeout_seconds ? monotonic_seconds() + *timeout_seconds : 0;
  int round = 0;
  while (true) {
    Run run = runs.get(run_id, false);
    if (is_terminal(run.status)) return runs.get(run.id);
    if (timeout_seconds && monotonic_seconds() >= deadline) return runs.get(run.id);
    if (on_poll) on_poll();
    // The liveness check reads /proc; do it every tenth round.
    if (round++ % 10 == 0) reap_dead_runs(runs);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void delete_run(RunStore& runs, const store::ProjectPaths& project, std::string_view run_id) {
  Run run = runs.get(run_id, false);
  if (!is_terminal(run.status)) {
    throw Error(ErrorKind::already_exists, fmt::format("run {} is still {}", run.id, to_string(run.status)),
                fmt::format("cancel it first: mlctl run cancel {}", run.id));
  }
  runs.remove(run.row_id);
  std::error_code ec;
  std::filesystem::remove_all(RunDirectory::of(project, run.id).root, ec);
}

std::vector<std::filesystem::path> download_artifacts(RunStore& runs, const store::ArtifactStore& artifacts,
                                                      std::string_view run_id,
                                                      std::optional<std::string_view> artifact_path,
                                                      const std::filesystem::path& destination) {
  Run run = runs.get(run_id, false);
  std::vector<std::filesystem::path> written;
  std::string prefix = artifact_path ? std::string(*artifact_path) : "";
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  for (const auto& artifact : runs.artifacts(run.row_id)) {
    bool selected = prefix.empty() || artifact.path == prefix || artifact.path.rfind(prefix + "/", 0) == 0;
    if (!selected) continue;
    std::filesystem::path target = destination / artifact.path;
    artifacts.copy_out(artifact.digest, target);
    written.push_back(target);
  }
  if (written.empty()) {
    throw Error(ErrorKind::not_found,
                prefix.empty() ? fmt::format("run {} has no artifacts", run.id)
                               : fmt::format("run {} has no artifact '{}'", run.id, prefix),
                fmt::format("'mlctl run artifacts {}' lists them", run.id));
  }
  return written;
}

}  // namespace mlctl::tracking
