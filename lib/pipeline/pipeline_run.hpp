#pragma once

// Running a pipeline: `mlctl pipeline run -f FILE` makes a pipeline run
// (kind "pipeline") whose job is mlctl's own pipeline worker, so the
// supervisor gives it logs, cancel and detach like any run. The worker
// starts each step as a child run when its dependencies have succeeded
// (up to max_parallel at once), hands step outputs on as paths, and reuses
// a step whose cache key matches an earlier successful execution.
//
// A step's cache key is the sha256 of its parts: the step type, its body
// (the job fields), the content of every file or folder its body names
// (code, data, trial files) and of every dataset it names, each input's
// value (a path by its content hash, a dataset reference by the version it
// resolves to), its output names and the mlctl version. The parts are kept on the step's run
// (tag mlctl.pipeline.key_parts) so --explain can say what changed.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <mlctl/core/json.hpp>
#include <mlctl/store/artifact_store.hpp>
#include <mlctl/store/db.hpp>
#include <mlctl/store/project.hpp>
#include <mlctl/tracking/job_submission.hpp>

namespace mlctl::pipeline {

struct PipelineRequest {
  std::filesystem::path file;  // names the pipeline in messages; read unless `text` is given
  // A published version's copy: its text, its original directory, "NAME:V".
  std::optional<std::string> text;
  std::optional<std::filesystem::path> base_dir;
  std::optional<std::string> published;
  std::vector<std::string> overrides;  // --set
  std::optional<std::string> experiment;
  int max_parallel = 4;
  bool no_reuse = false;
  std::string default_experiment = "Default";
};

// A run request for a published pipeline (NAME or NAME:VERSION): its
// stored text and original directory. Throws Error(not_found), and
// Error(invalid_argument) for a disabled version.
PipelineRequest published_request(store::Db& db, std::string_view reference);

// Validates the pipeline (every problem at once, with positions) and
// builds its run, storing nothing. Throws as parse_pipeline.
tracking::PreparedRun prepare_pipeline_run(const PipelineRequest& request, const store::ProjectPaths& project,
                                           const std::string& mlctl_executable);

struct PipelineOutcome {
  std::size_t completed = 0, reused = 0, failed = 0, skipped = 0;
};

// The pipeline worker: runs (or, after a resume, continues) the pipeline
// run `run_id`. `on_event` gets one line per step started, reused and
// ended. Throws Error(failed) when a step failed.
PipelineOutcome run_pipeline(store::Db& db, store::ArtifactStore& artifacts, const store::ProjectPaths& project,
                             std::string_view run_id, const std::filesystem::path& outputs_dir,
                             const std::function<void(std::string_view)>& on_event);

// One step of a pipeline run as recorded: status, reuse, duration and why
// it ran or was reused.
struct StepReport {
  std::string name;
  std::string state;  // completed, reused, failed, skipped, canceled, running, queued, pending
  std::optional<std::string> run_id;
  std::optional<std::string> reused_from;
  std::optional<double> duration_seconds;
  std::string explanation;  // one line: why it was reused or run
  Json key_parts;
};

struct PipelineReport {
  std::string run_id;
  std::string status;
  std::vector<StepReport> steps;       // topological order
  std::vector<std::pair<std::string, std::string>> edges;  // (from, to)
};

// Reads a pipeline run and its steps; explanations compare each step's
// key parts with the previous execution of that step in the same pipeline.
PipelineReport load_pipeline_report(store::Db& db, std::string_view run_id);

// The DAG as Mermaid ("mermaid") or Graphviz DOT ("dot").
std::string render_graph(const PipelineReport& report, std::string_view format);

}  // namespace mlctl::pipeline
