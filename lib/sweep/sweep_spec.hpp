#pragma once

// The sweep job: `mlctl experiment submit -f sweep.yml` with `type: sweep`,
// in the az ml v2 sweep-job format
// (https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json), so a
// sweep written for Azure ML runs locally:
//
//   type: sweep
//   trial:                        # a command job, inline as in az...
//     code: src
//     command: python train.py --lr ${{search_space.lr}} --data ${{inputs.data}}
//   inputs: {data: {type: uri_file, path: data/train.csv}}
//   # ...or mlctl's train job, inline ({type: train, ...}) or a path
//   # (trial: train.yml), whose fields the sampled values set:
//   # search_space: {learning_rate: ..., model.hidden_sizes: ...}
//   search_space: {lr: {type: loguniform, min_value: -9.2, max_value: -2.3}}
//   sampling_algorithm: bayesian  # grid, random, bayesian, or {type: random, seed: 7}
//   objective: {primary_metric: val_accuracy, goal: maximize}
//   limits: {max_total_trials: 20, max_concurrent_trials: 2, timeout: 3600, trial_timeout: 600}
//   early_termination: {type: bandit, slack_factor: 0.1}
//
// mlctl extensions: `objective.aggregation` (last, the default, or best:
// which of a trial's logged values is its result), `limits.max_failed_trials`,
// a seed for bayesian sampling, and the compact distributions.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mlctl/core/json.hpp>
#include <mlctl/sweep/early_termination.hpp>
#include <mlctl/sweep/search_space.hpp>

namespace mlctl::sweep {

enum class SamplingAlgorithm { grid, random, bayesian };
const char* to_string(SamplingAlgorithm algorithm) noexcept;

enum class TrialKind { command, train };

struct SweepSpec {
  std::string source;                // the sweep file's name, for messages
  TrialKind trial_kind = TrialKind::command;
  // The trial as a job document of its own (a command job with the sweep's
  // inputs and outputs, or a train job), placeholders unresolved.
  std::string trial_yaml;
  std::filesystem::path trial_base_dir;  // where the trial's relative paths start
  std::filesystem::path trial_file;      // the trial's job file, or the sweep file for an inline trial
  std::string trial_source;              // the trial's name in messages
  SearchSpace space;
  SamplingAlgorithm algorithm = SamplingAlgorithm::random;
  std::optional<std::uint64_t> seed;
  std::string primary_metric;
  Goal goal = Goal::maximize;
  bool use_best_value = false;  // aggregation: best instead of last
  std::uint64_t max_total_trials = 20;
  std::uint64_t max_concurrent_trials = 1;
  std::optional<std::uint64_t> max_failed_trials;
  std::optional<double> timeout_seconds, trial_timeout_seconds;
  EarlyTermination early_termination;
  std::string experiment_name, display_name, description;
  std::map<std::string, std::string> tags;
  std::vector<std::string> notices;  // cloud-only fields that are ignored
};

// Parses a sweep job. `base_dir` is the sweep file's directory; `overrides`
// are --set assignments applied first. A trial given as a path is read
// from the file system (the only I/O). Throws Error(parse) for malformed
// YAML and Error(invalid_argument) with every problem, one per line
// ("sweep.yml:9:3: objective: goal must be maximize or minimize, not 'max'").
SweepSpec parse_sweep_job(std::string_view yaml_text, std::string_view source_name,
                          const std::filesystem::path& base_dir, const std::vector<std::string>& overrides = {});

// Replaces every ${{search_space.NAME}} in `text` by value_text of the
// value; Error(invalid_argument) naming an unknown NAME (with a
// did-you-mean). Other placeholders are left for the command job.
std::string substitute_search_space(std::string_view text, const Json& values, std::string_view source_name);

}  // namespace mlctl::sweep
