#include <mlctl/monitoring/monitors.hpp>

#include <fmt/format.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/names.hpp>
#include <mlctl/monitoring/drift_check.hpp>
#include <mlctl/pipeline/pipeline_run.hpp>
#include <mlctl/serving/service_store.hpp>
#include <mlctl/tracking/run_store.hpp>
#include <mlctl/tracking/run_supervisor.hpp>

namespace mlctl::monitoring {
namespace {

constexpr const char* k_columns = "name, service, pipeline, overrides, thresholds, data, created_at, checked_until";
constexpr const char* k_check_columns =
    "id, monitor, checked_at, outcome, rows, drifted_columns, drift_run_id, pipeline_run_id, pipeline_status, action";

Monitor read(const store::Statement& stmt) {
  Monitor monitor;
  monitor.name = stmt.get_text(0);
  monitor.service = stmt.get_text(1);
  monitor.pipeline = stmt.get_text(2);
  monitor.overrides = Json::parse(stmt.get_text(3)).get<std::vector<std::string>>();
  const Json thresholds = Json::parse(stmt.get_text(4));
  for (const auto& [key, value] : thresholds.items()) set_threshold(monitor.thresholds, key + "=" + value.dump());
  monitor.data = stmt.get_text(5);
  monitor.created_at = stmt.get_double(6);
  monitor.checked_until = stmt.get_optional_double(7);
  return monitor;
}

MonitorCheck read_check(const store::Statement& stmt) {
  MonitorCheck check;
  check.id = stmt.get_int64(0);
  check.monitor = stmt.get_text(1);
  check.checked_at = stmt.get_double(2);
  check.outcome = stmt.get_text(3);
  check.rows = std::size_t(stmt.get_int64(4));
  check.drifted_columns = Json::parse(stmt.get_text(5)).get<std::vector<std::string>>();
  check.drift_run_id = stmt.get_text(6);
  check.pipeline_run_id = stmt.get_optional_text(7);
  check.pipeline_status = stmt.get_optional_text(8);
  check.action = stmt.get_text(9);
  return check;
}

}  // namespace

Json to_json(const Monitor& monitor) {
  return {{"name", monitor.name},
          {"service", monitor.service},
          {"pipeline", monitor.pipeline},
          {"overrides", monitor.overrides},
          {"thresholds", to_json(monitor.thresholds)},
          {"data", monitor.data.empty() ? Json(nullptr) : Json(monitor.data)},
          {"created_at", format_iso8601(monitor.created_at)},
          {"checked_until", monitor.checked_until ? Json(format_iso8601(*monitor.checked_until)) : Json(nullptr)}};
}

Json to_json(const MonitorCheck& check) {
  return {{"monitor", check.monitor},
          {"checked_at", format_iso8601(check.checked_at)},
          {"outcome", check.outcome},
          {"rows", check.rows},
          {"drifted_columns", check.drifted_columns},
          {"drift_run_id", check.drift_run_id},
          {"pipeline_run_id", check.pipeline_run_id ? Json(*check.pipeline_run_id) : Json(nullptr)},
          {"pipeline_status", check.pipeline_status ? Json(*check.pipeline_status) : Json(nullptr)},
          {"action", check.action}};
}

Monitor MonitorStore::create(const Monitor& monitor) {
  check_name(monitor.name, "monitor name");
  Monitor created = monitor;
  created.created_at = unix_now();
  m_db.write_transaction([&] {
    if (find(monitor.name)) throw Error(ErrorKind::already_exists, fmt::format("monitor '{}' already exists", monitor.name));
    m_db.prepare(fmt::format("INSERT INTO monitors ({}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)", k_columns))
        .bind(1, created.name)
        .bind(2, created.service)
        .bind(3, created.pipeline)
        .bind(4, Json(created.overrides).dump())
        .bind(5, to_json(created.thresholds).dump())
        .bind(6, created.data)
        .bind(7, created.created_at)
        .run();
  });
  return created;
}

std::optional<Monitor> MonitorStore::find(std::string_view name) {
  auto stmt = m_db.prepare(fmt::format("SELECT {} FROM monitors WHERE name = ?", k_columns));
  stmt.bind(1, name);
  if (!stmt.step()) return std::nullopt;
  return read(stmt);
}

Monitor MonitorStore::get(std::string_view name) {
  if (auto monitor = find(name)) return *monitor;
  std::vector<std::string> names;
  for (const auto& monitor : list()) names.push_back(monitor.name);
  throw Error(ErrorKind::not_found,
              names.empty() ? fmt::format("no monitor '{}' (there are none)", name)
                            : fmt::format("no monitor '{}' (there are: {})", name, fmt::join(names, ", ")),
              "create one with: mlctl monitor create --name NAME --service SERVICE --pipeline PUBLISHED");
}

std::vector<Monitor> MonitorStore::list() {
  std::vector<Monitor> result;
  auto stmt = m_db.prepare(fmt::format("SELECT {} FROM monitors ORDER BY name", k_columns));
  while (stmt.step()) result.push_back(read(stmt));
  return result;
}

void MonitorStore::remove(std::string_view name) {
  m_db.write_transaction([&] {
    get(name);
    m_db.prepare("DELETE FROM monitors WHERE name = ?").bind(1, name).run();
  });
}

void MonitorStore::record(const MonitorCheck& check, std::optional<double> checked_until) {
  m_db.write_transaction([&] {
    m_db.prepare(fmt::format("INSERT INTO monitor_checks ({}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)", k_check_columns))
        .bind(1, check.monitor)
        .bind(2, check.checked_at)
        .bind(3, check.outcome)
        .bind(4, std::int64_t(check.rows))
        .bind(5, Json(check.drifted_columns).dump())
        .bind(6, check.drift_run_id)
        .bind(7, check.pipeline_run_id)
        .bind(8, check.pipeline_status)
        .bind(9, check.action)
        .run();
    if (checked_until) {
      m_db.prepare("UPDATE monitors SET checked_until = ? WHERE name = ?").bind(1, *checked_until).bind(2, check.monitor).run();
    }
  });
}

std::vector<MonitorCheck> MonitorStore::history(std::string_view name) {
  get(name);
  std::vector<MonitorCheck> result;
  auto stmt = m_db.prepare(fmt::format("SELECT {} FROM monitor_checks WHERE monitor = ? ORDER BY id", k_check_columns));
  stmt.bind(1, name);
  while (stmt.step()) result.push_back(read_check(stmt));
  return result;
}

MonitorCheck check_monitor(store::Context& context, std::string_view name, const std::string& mlctl_executable) {
  MonitorStore monitors(context.db());
  Monitor monitor = monitors.get(name);
  const double started = unix_now();
  DriftRequest request;
  request.service = monitor.service;
  request.thresholds = monitor.thresholds;
  if (monitor.checked_until) request.since_seconds = started - *monitor.checked_until;
  DriftResult drift = check_drift(context, request);

  MonitorCheck check;
  check.monitor = monitor.name;
  check.checked_at = started;
  check.rows = drift.report.current_rows;
  check.drifted_columns = drift.report.drifted_columns;
  check.drift_run_id = drift.run_id;
  if (!drift.report.enough_data) {
    // The traffic so far stays in the next check's window.
    check.outcome = "not_enough_data";
    check.action = fmt::format("waited: {} rows since the last check, {} needed", check.rows, monitor.thresholds.min_rows);
    monitors.record(check, std::nullopt);
    return check;
  }
  if (!drift.report.drifted) {
    check.outcome = "no_drift";
    check.action = "none";
    monitors.record(check, started);
    return check;
  }
  check.outcome = "drift";
  pipeline::PipelineRequest run_request = pipeline::published_request(context.db(), monitor.pipeline);
  run_request.overrides = monitor.overrides;
  if (!monitor.data.empty()) {
    run_request.overrides.push_back(fmt::format("data=azureml:{}:latest", monitor.data));
    run_request.overrides.push_back(fmt::format("holdout=azureml:{}:latest", monitor.data));
  }
  run_request.default_experiment = context.settings().experiment;
  tracking::PreparedRun prepared = pipeline::prepare_pipeline_run(run_request, context.project(), mlctl_executable);
  tracking::RunStore runs(context.db());
  prepared.run.tags.emplace_back("mlctl.monitor", monitor.name);
  prepared.run.tags.emplace_back("mlctl.drift_run", drift.run_id);
  tracking::Run run = runs.create(prepared.run);
  // Recorded before it runs, so that a check that dies midway does not
  // start a second retraining for the same drift.
  check.pipeline_run_id = run.id;
  tracking::SuperviseOptions supervise;
  supervise.echo_output = false;
  tracking::RunOutcome outcome = tracking::supervise_run(context.db(), context.artifacts(), context.project(), run.id, supervise);
  check.pipeline_status = tracking::to_string(outcome.status);
  check.action = fmt::format("retrained: pipeline {} run {} {}", monitor.pipeline, run.id, *check.pipeline_status);
  monitors.record(check, started);
  return check;
}

}  // namespace mlctl::monitoring
