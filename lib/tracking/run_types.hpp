#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <mlctl/core/json.hpp>

namespace mlctl::tracking {

enum class RunStatus { queued, running, completed, failed, canceled };

const char* to_string(RunStatus status) noexcept;
// Parses a status name; Error(invalid_argument) listing the valid ones.
RunStatus parse_run_status(std::string_view text);
bool is_terminal(RunStatus status) noexcept;

// One point of a metric series. `step` is assigned (the series' next step)
// when a caller leaves it out.
struct MetricPoint {
  std::string key;
  double value = 0;
  std::optional<std::int64_t> step;
  double timestamp = 0;  // unix seconds
};

struct Experiment {
  std::int64_t row_id = 0;
  std::string name;
  std::string description;
  double created_at = 0;
};

struct ExperimentSummary {
  Experiment experiment;
  std::int64_t run_count = 0;
  std::optional<double> last_run_at;
};

// A file a run produced, stored in the artifact store.
struct ArtifactRecord {
  std::string path;    // relative, '/'-separated ("outputs/model.bin")
  std::string digest;  // sha256
  std::uint64_t size = 0;
};

// Which process supervises a run, to detect a supervisor that died.
struct SupervisorInfo {
  std::int64_t pid = 0;
  std::int64_t start_ticks = 0;     // process start time, guards against pid reuse
  std::int64_t process_group = 0;   // the job's process group, for cancel
  std::string host;
};

struct Run {
  std::int64_t row_id = 0;
  std::string id;
  std::string experiment;
  std::optional<std::string> parent_id;
  std::string kind = "command";
  std::string display_name;
  std::string description;
  RunStatus status = RunStatus::queued;
  std::optional<std::string> status_reason;
  std::optional<int> exit_code;
  double created_at = 0;
  std::optional<double> start_time;
  std::optional<double> end_time;
  std::string host;
  std::string working_dir;
  std::optional<std::string> git_commit;
  std::string mlctl_version;
  Json command = Json::array();  // argv, or ["/bin/sh", "-c", text]
  Json spec = Json::object();    // how to run it: environment, outputs, timeout
  std::optional<std::int64_t> supervisor_pid;
  std::optional<std::int64_t> supervisor_start;
  std::optional<std::int64_t> process_group;
  std::optional<double> heartbeat_at;
  // Filled when asked for (details).
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> tags;
  std::map<std::string, MetricPoint> metrics;  // the latest point of each series

  std::optional<double> duration() const;
};

// The JSON form of a run, as printed by `run show -o json`.
Json to_json(const Run& run);
Json to_json(const MetricPoint& point);
Json to_json(const ExperimentSummary& summary);

}  // namespace mlctl::tracking
