#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <mlctl/store/project.hpp>
#include <mlctl/tracking/run_store.hpp>
#include <mlctl/tracking/run_supervisor.hpp>

namespace mlctl::tracking {

// A registered dataset a job input refers to ("azureml:churn:3"), found by
// the data domain: tracking knows datasets only through this.
struct ResolvedDataset {
  std::int64_t row_id = 0;
  std::string ref;                 // "churn:3"
  std::filesystem::path file;      // the verified file, read-only
  std::string file_name;           // the name it was registered with
};
// Throws Error(not_found) for an unknown dataset.
using DatasetResolver = std::function<ResolvedDataset(std::string_view reference)>;

// What `mlctl experiment submit` was asked to run: a job file (az ml v2
// command job) or a command line, plus flags that win over the file.
struct SubmitRequest {
  std::optional<std::filesystem::path> job_file;
  // The job document itself, when it is not read from job_file (a sweep's
  // trial); job_file then only names it in messages and gives the
  // directory relative paths start from.
  std::optional<std::string> job_text;
  std::vector<std::string> set_overrides;  // --set path=value, applied to the job file
  std::vector<std::string> command;        // after `--`
  std::optional<std::string> experiment;
  std::optional<std::string> display_name;
  std::optional<std::string> description;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::pair<std::string, std::string>> tags;
  std::optional<std::string> parent;
  std::optional<double> timeout_seconds;
  std::filesystem::path working_dir;   // where a command line runs
  std::string default_experiment = "Default";
  DatasetResolver resolve_dataset;     // for dataset inputs; unset: not supported
};

struct PreparedRun {
  NewRun run;
  std::vector<std::string> notices;  // one-line remarks for the user (ignored cloud fields)
};

// Validates the request and builds the run, without storing anything:
// reads and checks the job file (inputs exist, placeholders resolve),
// chooses the run id and resolves ${{outputs.NAME}} to its directory.
// Throws Error(invalid_argument|parse|not_found) naming the file and field.
PreparedRun prepare_run(const SubmitRequest& request, const store::ProjectPaths& project);

}  // namespace mlctl::tracking
