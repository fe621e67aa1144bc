#pragma once

// Running a sweep: `experiment submit -f sweep.yml` prepares the sweep run;
// its job is mlctl's own sweep worker (`mlctl sweep worker RUN`), so the
// supervisor gives the sweep logs, cancel, detach and resume like any run.
// The worker samples points, runs each trial as a child run (a supervisor
// process per trial, up to max_concurrent_trials at once), applies the
// early-termination policy to the trials' metric series as they grow, and
// records the best trial.

#include <functional>
#include <string>
#include <string_view>

#include <mlctl/store/artifact_store.hpp>
#include <mlctl/store/db.hpp>
#include <mlctl/store/project.hpp>
#include <mlctl/sweep/sweep_report.hpp>
#include <mlctl/tracking/job_submission.hpp>

namespace mlctl::sweep {

// Prepares any job file (command, train or sweep) or command line: the
// entry point of `experiment submit`. A sweep is checked through and
// through before anything runs, its trial included (prepared once with
// every parameter at its median). Throws Error(invalid_argument|parse|
// not_found) naming file:line:col.
tracking::PreparedRun prepare_submission(const tracking::SubmitRequest& request, store::Db& db,
                                         store::ArtifactStore& artifacts, const store::ProjectPaths& project,
                                         const std::string& mlctl_executable);

// Puts a failed or canceled run back in the queue: a training run continues
// from its checkpoint, a sweep keeps its finished trials and reruns the
// others. Throws Error(invalid_argument) for other kinds of run.
void requeue_for_resume(store::Db& db, std::string_view run_id);

struct SweepOutcome {
  std::size_t completed = 0, failed = 0, early_terminated = 0;
  bool stopped = false;  // interrupted, timed out or too many failures
  bool too_many_failures = false;
  std::string stop_reason;
};

// The sweep worker: runs the sweep `run_id` to its end (or continues it,
// after a resume) and writes best_params.json and trials.csv to
// `outputs_dir`. `on_event` gets one line per trial started and ended.
// SIGINT and SIGTERM stop it: no new trial starts, running ones are
// canceled, and a later resume reruns them.
// A sweep that reaches limits.timeout ends normally with what it found.
// Throws Error(failed) when no trial completed, when it was interrupted or
// when max_failed_trials trials failed; Error(store|io) when the project
// cannot be written.
SweepOutcome run_sweep(store::Db& db, store::ArtifactStore& artifacts, const store::ProjectPaths& project,
                       std::string_view run_id, const std::filesystem::path& outputs_dir,
                       const std::function<void(std::string_view)>& on_event);

}  // namespace mlctl::sweep
