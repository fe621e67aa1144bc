#pragma once

#include <csignal>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mlctl/store/artifact_store.hpp>
#include <mlctl/store/db.hpp>
#include <mlctl/store/project.hpp>
#include <mlctl/tracking/run_types.hpp>

namespace mlctl::tracking {

// How to run a job; stored as the run's `spec` so a detached supervisor
// (another process) can start it.
struct LaunchSpec {
  std::vector<std::string> argv;
  std::string working_dir;
  std::map<std::string, std::string> environment;  // added to the inherited one
  std::vector<std::string> outputs;                // named output directories
  std::optional<double> timeout_seconds;

  Json to_json() const;
  static LaunchSpec from_json(const Json& spec, const Json& command);
};

struct SuperviseOptions {
  // Copy the job's stdout and stderr to this process's stderr (foreground runs).
  bool echo_output = true;
  // Called with one-line warnings (e.g. a malformed metrics line).
  std::function<void(std::string_view)> on_warning;
  // How often the metrics file is read and the heartbeat written.
  double poll_interval_seconds = 0.1;
  double heartbeat_interval_seconds = 5.0;
};

struct RunOutcome {
  RunStatus status = RunStatus::failed;
  std::optional<int> exit_code;
  std::optional<std::string> reason;
};

// Where a run keeps its live files: <project>/.mlctl/runs/<id>/.
struct RunDirectory {
  std::filesystem::path root;
  std::filesystem::path log;           // stdout and stderr, interleaved
  std::filesystem::path metrics_file;  // $MLCTL_METRICS_FILE
  std::filesystem::path outputs;       // $MLCTL_OUTPUTS; files become artifacts

  static RunDirectory of(const store::ProjectPaths& project, std::string_view run_id);
};

// Runs the queued run `run_id` in this process until its job ends: starts
// the job in its own process group with MLCTL_* variables set, keeps its
// output as the run's log, ingests the metrics file as it grows, writes a
// heartbeat, enforces the timeout, forwards SIGINT/SIGTERM (the run is then
// canceled), stores the outputs as artifacts and records the final status.
// Throws Error(store|io) when the project can't be written.
RunOutcome supervise_run(store::Db& db, store::ArtifactStore& artifacts, const store::ProjectPaths& project,
                         std::string_view run_id, const SuperviseOptions& options);

// Starts a detached supervisor process (`mlctl run supervise ID`, in its own
// session, output to the run's log) and returns once it has taken the run
// over. Throws Error(io) if it could not be started.
void launch_detached_supervisor(store::Db& db, const store::ProjectPaths& project, std::string_view run_id,
                                const std::string& mlctl_executable);

// Supervises the queued run `run_id` in a forked child of this process
// (cheaper than starting mlctl again) and returns the child's pid; the
// child exits 0 when the run completed, 1 otherwise. The child dies with
// this process (PR_SET_PDEATHSIG, SIGTERM: the run is then canceled) and
// sets its signal mask to `mask` first. For workers that run many child
// runs (sweeps, pipelines) and wait for them with waitpid.
// Throws Error(io) when fork fails.
pid_t start_supervisor_process(const store::ProjectPaths& project, const std::string& run_id, const sigset_t& mask);

}  // namespace mlctl::tracking
