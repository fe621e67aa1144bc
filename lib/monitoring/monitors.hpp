#pragma once

// Drift monitors: a service to watch, the published pipeline that retrains
// its model, and what each check found and did. A check looks only at the
// traffic since the previous one that judged, so one drift starts one
// retraining run.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mlctl/core/json.hpp>
#include <mlctl/monitoring/drift_report.hpp>
#include <mlctl/store/context.hpp>

namespace mlctl::monitoring {

struct Monitor {
  std::string name;
  std::string service;
  std::string pipeline;                // a published pipeline, NAME[:V]
  std::vector<std::string> overrides;  // --set param=value for its runs
  DriftThresholds thresholds;
  // A labelled dataset name: its newest version is the pipeline's `data`
  // and `holdout` input when retraining (empty: the pipeline's defaults).
  std::string data;
  double created_at = 0;
  std::optional<double> checked_until;  // traffic before this was judged
};
Json to_json(const Monitor& monitor);

struct MonitorCheck {
  std::int64_t id = 0;
  std::string monitor;
  double checked_at = 0;
  std::string outcome;  // no_drift, drift, not_enough_data
  std::size_t rows = 0;
  std::vector<std::string> drifted_columns;
  std::string drift_run_id;
  std::optional<std::string> pipeline_run_id, pipeline_status;
  std::string action;
};
Json to_json(const MonitorCheck& check);

class MonitorStore {
 public:
  explicit MonitorStore(store::Db& db) : m_db(db) {}
  // Throws Error(invalid_argument) for a bad name, Error(already_exists).
  Monitor create(const Monitor& monitor);
  std::optional<Monitor> find(std::string_view name);
  // Throws Error(not_found) naming the monitors there are.
  Monitor get(std::string_view name);
  std::vector<Monitor> list();
  void remove(std::string_view name);
  // Records a check; advances checked_until when given.
  void record(const MonitorCheck& check, std::optional<double> checked_until);
  std::vector<MonitorCheck> history(std::string_view name);

 private:
  store::Db& m_db;
};

// Checks the monitor's service for drift in the traffic since the last
// check and, on drift, runs its retraining pipeline (in this process) and
// records what it did. `mlctl_executable` runs the pipeline's steps.
MonitorCheck check_monitor(store::Context& context, std::string_view name, const std::string& mlctl_executable);

}  // namespace mlctl::monitoring
