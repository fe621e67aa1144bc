#include <mlctl/tracking/run_types.hpp>

#include <fmt/format.h>

#include <cmath>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>

namespace mlctl::tracking {

const char* to_string(RunStatus status) noexcept {
  switch (status) {
    case RunStatus::queued: return "queued";
    case RunStatus::running: return "running";
    case RunStatus::completed: return "completed";
    case RunStatus::failed: return "failed";
    case RunStatus::canceled: return "canceled";
  }
  return "failed";
}

RunStatus parse_run_status(std::string_view text) {
  for (RunStatus status : {RunStatus::queued, RunStatus::running, RunStatus::completed, RunStatus::failed,
                           RunStatus::canceled}) {
    if (text == to_string(status)) return status;
  }
  throw Error(ErrorKind::invalid_argument,
              fmt::format("unknown run status '{}' (expected queued, running, completed, failed or canceled)", text));
}

bool is_terminal(RunStatus status) noexcept {
  return status == RunStatus::completed || status == RunStatus::failed || status == RunStatus::canceled;
}

std::optional<double> Run::duration() const {
  if (!start_time) return std::nullopt;
  if (end_time) return *end_time - *start_time;
  if (status == RunStatus::running) return unix_now() - *start_time;
  return std::nullopt;
}

namespace {
Json optional_time(const std::optional<double>& time) {
  return time ? Json(format_iso8601(*time)) : Json(nullptr);
}
Json metric_value(double value) {
  // JSON has no NaN or infinity; keep them readable rather than null.
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}
}  // namespace

Json to_json(const MetricPoint& point) {
  Json json = Json::object();
  json["name"] = point.key;
  json["step"] = point.step.value_or(0);
  json["value"] = metric_value(point.value);
  json["timestamp"] = format_iso8601(point.timestamp);
  return json;
}

Json to_json(const Run& run) {
  Json json = Json::object();
  json["id"] = run.id;
  json["experiment"] = run.experiment;
  json["display_name"] = run.display_name;
  json["status"] = to_string(run.status);
  json["status_reason"] = run.status_reason ? Json(*run.status_reason) : Json(nullptr);
  json["exit_code"] = run.exit_code ? Json(*run.exit_code) : Json(nullptr);
  json["kind"] = run.kind;
  json["parent"] = run.parent_id ? Json(*run.parent_id) : Json(nullptr);
  json["description"] = run.description;
  json["created_at"] = format_iso8601(run.created_at);
  json["start_time"] = optional_time(run.start_time);
  json["end_time"] = optional_time(run.end_time);
  auto duration = run.duration();
  json["duration"] = duration ? Json(std::round(*duration * 1000.0) / 1000.0) : Json(nullptr);
  json["host"] = run.host;
  json["working_dir"] = run.working_dir;
  json["git_commit"] = run.git_commit ? Json(*run.git_commit) : Json(nullptr);
  json["mlctl_version"] = run.mlctl_version;
  json["command"] = run.command;
  json["params"] = run.params;
  json["tags"] = run.tags;
  Json metrics = Json::object();
  for (const auto& [key, point] : run.metrics) metrics[key] = metric_value(point.value);
  json["metrics"] = std::move(metrics);
  return json;
}

Json to_json(const ExperimentSummary& summary) {
  Json json = Json::object();
  json["name"] = summary.experiment.name;
  json["description"] = summary.experiment.description;
  json["created_at"] = format_iso8601(summary.experiment.created_at);
  json["runs"] = summary.run_count;
  json["last_run_at"] = optional_time(summary.last_run_at);
  return json;
}

}  // namespace mlctl::tracking
