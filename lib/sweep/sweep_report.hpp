#pragma once

// What a sweep found: its trials with their sampled values, state and
// objective value, read back from the store. Shared by the sweep worker
// (which writes best_params.json and trials.csv) and `mlctl sweep show|best`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mlctl/core/json.hpp>
#include <mlctl/store/db.hpp>
#include <mlctl/sweep/early_termination.hpp>
#include <mlctl/tracking/run_types.hpp>

namespace mlctl::sweep {

// Tags a sweep puts on each trial run.
inline constexpr const char* k_trial_tag = "mlctl.sweep.trial";    // the trial's index, from 0
inline constexpr const char* k_point_tag = "mlctl.sweep.point";    // its unit coordinates, JSON
inline constexpr const char* k_values_tag = "mlctl.sweep.values";  // its sampled values, JSON
inline constexpr const char* k_state_tag = "mlctl.sweep.state";    // set when it ended (see TrialSummary)

struct TrialSummary {
  std::uint64_t index = 0;
  tracking::Run run;
  Json values = Json::object();  // parameter name -> sampled value
  // completed, failed, early_terminated, canceled, running or queued.
  std::string state;
  std::optional<double> value;  // the objective: last or best logged value
  std::optional<std::string> reason;
};

struct SweepReport {
  tracking::Run sweep;
  std::string primary_metric;
  Goal goal = Goal::maximize;
  bool use_best_value = false;
  std::vector<std::string> parameter_names;  // search space order
  // Trials with a value, best first, then the others by index.
  std::vector<TrialSummary> trials;
  // The best trial (trials[0]) when any has a value.
  const TrialSummary* best() const { return !trials.empty() && trials.front().value ? &trials.front() : nullptr; }
};

// The objective of a series: its last or its best value; nullopt if empty.
std::optional<double> objective_value(const std::vector<double>& series, Goal goal, bool use_best_value);

// Reads a sweep run and its trials. Throws Error(not_found) for an unknown
// run, Error(invalid_argument) for a run that is not a sweep.
SweepReport load_sweep_report(store::Db& db, std::string_view run_id);

// trials.csv: trial, run_id, state, <primary metric>, one column per
// parameter, duration_seconds; rows in report order.
std::string trials_csv(const SweepReport& report);

// best_params.json: {"trial", "run_id", "<primary metric>", "params": {...}};
// null params when no trial has a value.
Json best_params_json(const SweepReport& report);

}  // namespace mlctl::sweep
