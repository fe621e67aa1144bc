// `mlctl monitor ...` and `mlctl service stats`: drift between what a
// service is sent (or a new dataset) and the data its model was trained on,
// and what a service answered.
#include <fmt/format.h>

#include <mlctl/core/error.hpp>
#include <mlctl/core/clock.hpp>
#include <mlctl/core/process.hpp>
#include <mlctl/monitoring/drift_check.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/monitoring/monitors.hpp>
#include <mlctl/monitoring/request_export.hpp>
#include <mlctl/registry/model_registry.hpp>
#include <mlctl/monitoring/service_stats.hpp>
#include <mlctl/pipeline/pipeline_run.hpp>
#include <mlctl/serving/service_control.hpp>
#include <mlctl/serving/service_store.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {
namespace {

struct DriftOptions {
  std::string service, data, baseline, since, window;
  std::vector<std::string> thresholds;
};

// One line per column for the table: the statistic that decides, its
// threshold, and the verdict.
Json drift_rows(const monitoring::DriftReport& report) {
  Json rows = Json::array();
  for (const auto& column : report.columns) {
    const Json& s = column.statistics;
    std::string statistic;
    if (column.kind == "text") {
      statistic = fmt::format("oov {:.3f} (baseline {:.3f}), length psi {:.3f}", s.value("oov_share", 0.0),
                              s.value("baseline_oov_share", 0.0), s.value("length_psi", 0.0));
    } else if (s.contains("ks")) {
      statistic = fmt::format("psi {:.3f}, ks {:.3f} (p {:.2g})", s.value("psi", 0.0), s.value("ks", 0.0),
                              s.value("ks_p_value", 1.0));
    } else {
      statistic = fmt::format("psi {:.3f}, chi2 p {:.2g}, unseen {}", s.value("psi", 0.0),
                              s.value("chi_square_p_value", 1.0), s.value("unseen", 0));
    }
    std::vector<std::string> limits;
    for (const auto& [key, value] : column.thresholds.items()) limits.push_back(fmt::format("{} {:.3g}", key, value.get<double>()));
    rows.push_back({{"column", column.column},
                    {"kind", column.kind},
                    {"statistic", statistic},
                    {"threshold", fmt::format("{}", fmt::join(limits, ", "))},
                    {"drifted", column.drifted ? "yes" : "no"},
                    {"reason", column.reason}});
  }
  return rows;
}

void check_drift(CommandEnv& env, const DriftOptions& options) {
  monitoring::DriftRequest request;
  if (!options.service.empty()) request.service = options.service;
  if (!options.data.empty()) request.data = options.data;
  if (!options.baseline.empty()) request.baseline = options.baseline;
  if (!options.since.empty()) request.since_seconds = monitoring::parse_duration(options.since, "--since");
  if (!options.window.empty()) request.window_seconds = monitoring::parse_duration(options.window, "--window");
  for (const auto& threshold : options.thresholds) monitoring::set_threshold(request.thresholds, threshold);
  monitoring::DriftResult result = monitoring::check_drift(env.context(), request);
  if (env.output_format() == OutputFormat::table) {
    env.print(drift_rows(result.report), {{{"Column", "column"}, {"Kind", "kind"}, {"Statistic", "statistic"},
                                           {"Threshold", "threshold"}, {"Drifted", "drifted"}, {"Reason", "reason"}}});
  } else {
    env.print(result.to_json());
  }
  if (!result.report.enough_data) {
    env.note(fmt::format("not enough data to judge drift: {} rows of {}, at least {} needed (run {})",
                         result.report.current_rows, result.current, request.thresholds.min_rows, result.run_id));
  } else if (result.report.drifted) {
    env.warn(fmt::format("drift in {} column(s) of {} against {}: {} (run {})", result.report.drifted_columns.size(),
                         result.current, result.baseline, fmt::join(result.report.drifted_columns, ", "), result.run_id));
    env.exit_code = 1;
  } else {
    env.note(fmt::format("no drift: {} rows of {} against {} (run {})", result.report.current_rows, result.current,
                         result.baseline, result.run_id));
  }
}

}  // namespace

void register_monitor_commands(CLI::App& app, CommandEnv& env) {
  auto* group = app.add_subcommand("monitor", "Drift between served traffic (or new data) and the training data; monitors that retrain on drift");
  group->require_subcommand(1);
  auto options = std::make_shared<DriftOptions>();
  auto* drift = group->add_subcommand("drift", "Compare current data with the baseline column by column; exit 1 on drift");
  drift->add_option("--service", options->service, "A service: what it was sent (its request log)");
  drift->add_option("--data", options->data, "Or a dataset: NAME[:V] or a CSV path");
  drift->add_option("--baseline", options->baseline, "The baseline dataset (default: the served model's training data)");
  drift->add_option("--since", options->since, "Only requests of the last 90s, 30m, 2h, 7d...");
  drift->add_option("--window", options->window, "With --since: only requests in a window that long from then");
  add_repeatable(*drift, "--threshold", options->thresholds,
                 "KEY=VALUE: psi (0.2), p_value (0.05), ks (0.1), cramers_v (0.1), oov (0.1), min_rows (30)");
  set_examples(*drift,
               "mlctl monitor drift --service churn-api --since 24h\n"
               "  mlctl monitor drift --data churn:2 --baseline churn:1 --threshold psi=0.1");
  drift->callback([&env, options] { check_drift(env, *options); });

  struct CreateOptions {
    std::string name, service, pipeline, data;
    std::vector<std::string> sets, thresholds;
    int min_rows = -1;
  };
  auto create_options = std::make_shared<CreateOptions>();
  auto* create = group->add_subcommand("create", "Watch a service for drift and retrain with a published pipeline when it drifts");
  create->add_option("--name", create_options->name, "Monitor name")->required();
  create->add_option("--service", create_options->service, "The service to watch")->required();
  create->add_option("--pipeline", create_options->pipeline, "Published retraining pipeline: NAME or NAME:VERSION")->required();
  create->add_option("--data", create_options->data,
                     "Labelled dataset NAME: its newest version is the pipeline's data and holdout when retraining");
  add_repeatable(*create, "--set", create_options->sets, "param=value for the pipeline's runs");
  add_repeatable(*create, "--threshold", create_options->thresholds, "KEY=VALUE, as for monitor drift");
  create->add_option("--min-rows", create_options->min_rows, "Rows of new traffic a check needs to judge (default 30)");
  set_examples(*create,
               "mlctl monitor create --name churn-drift --service churn-api --pipeline retrain --data churn-labelled "
               "--set trials=4");
  create->callback([&env, create_options] {
    auto& context = env.context();
    serving::ServiceStore(context.db()).get(create_options->service);
    pipeline::published_request(context.db(), create_options->pipeline);  // exists and is enabled
    monitoring::Monitor monitor;
    monitor.name = create_options->name;
    monitor.service = create_options->service;
    monitor.pipeline = create_options->pipeline;
    monitor.overrides = create_options->sets;
    monitor.data = create_options->data;
    for (const auto& threshold : create_options->thresholds) monitoring::set_threshold(monitor.thresholds, threshold);
    if (create_options->min_rows >= 0) monitor.thresholds.min_rows = std::size_t(create_options->min_rows);
    env.print(monitoring::to_json(monitoring::MonitorStore(context.db()).create(monitor)));
  });

  auto name = std::make_shared<std::string>();
  auto* check = group->add_subcommand("check", "Check for drift since the last check; on drift, run the retraining pipeline");
  check->add_option("name", *name, "Monitor name")->required();
  set_examples(*check, "mlctl monitor check churn-drift   # from cron, a Makefile or a CI schedule");
  check->callback([&env, name] {
    monitoring::MonitorCheck result = monitoring::check_monitor(env.context(), *name, current_executable());
    env.print(monitoring::to_json(result));
    if (result.outcome == "drift") {
      env.warn(fmt::format("drift in {}; {}", fmt::join(result.drifted_columns, ", "), result.action));
      if (result.pipeline_status != "completed") env.exit_code = 1;
    } else {
      env.note(fmt::format("{}: {}", result.outcome, result.action));
    }
  });

  auto* list = group->add_subcommand("list", "List monitors");
  list->callback([&env] {
    Json rows = Json::array();
    for (const auto& monitor : monitoring::MonitorStore(env.context().db()).list()) rows.push_back(monitoring::to_json(monitor));
    env.print(rows, {{{"Name", "name"}, {"Service", "service"}, {"Pipeline", "pipeline"}, {"Checked until", "checked_until"}}});
  });

  auto* show = group->add_subcommand("show", "Show a monitor");
  show->add_option("name", *name, "Monitor name")->required();
  show->callback([&env, name] { env.print(monitoring::to_json(monitoring::MonitorStore(env.context().db()).get(*name))); });

  auto* history = group->add_subcommand("history", "What each check of a monitor found and did");
  history->add_option("name", *name, "Monitor name")->required();
  history->callback([&env, name] {
    Json rows = Json::array();
    for (const auto& check : monitoring::MonitorStore(env.context().db()).history(*name)) rows.push_back(monitoring::to_json(check));
    env.print(rows, {{{"Checked at", "checked_at"}, {"Outcome", "outcome"}, {"Rows", "rows"}, {"Action", "action"}}});
  });

  auto* remove = group->add_subcommand("delete", "Delete a monitor and its history");
  remove->add_option("name", *name, "Monitor name")->required();
  remove->callback([&env, name] {
    monitoring::MonitorStore(env.context().db()).remove(*name);
    env.print({{"name", *name}, {"deleted", true}});
  });
}

void register_service_stats_command(CLI::App& service, CommandEnv& env) {
  struct ExportOptions {
    std::string name, output, since;
  };
  auto export_options = std::make_shared<ExportOptions>();
  auto* exporter = service.add_subcommand(
      "export", "Write the served rows (inputs and predictions) as CSV, to label and register as new data");
  exporter->add_option("name", export_options->name, "Service name")->required();
  exporter->add_option("--output", export_options->output, "The CSV file to write")->required();
  exporter->add_option("--since", export_options->since, "Only the last 90s, 30m, 2h, 7d...");
  set_examples(*exporter,
               "mlctl service export churn-api --output served.csv --since 7d\n"
               "  (add the labels, then) mlctl data register --name churn-new --path served.csv --label diagnosis");
  exporter->callback([&env, export_options] {
    auto& context = env.context();
    serving::Service service = serving::ServiceStore(context.db()).get(export_options->name);
    registry::ModelVersion model = registry::ModelRegistry(context.db(), context.artifacts()).get(service.model());
    std::vector<data::ColumnSchema> inputs;
    for (const Json& input : model.schema.value("inputs", Json::array())) {
      inputs.push_back({input.at("name").get<std::string>(), data::parse_column_type(input.at("type").get<std::string>())});
    }
    std::optional<double> from;
    if (!export_options->since.empty()) from = unix_now() - monitoring::parse_duration(export_options->since, "--since");
    std::size_t rows = 0;
    std::string csv = monitoring::requests_to_csv(
        serving::ServiceFiles::of(context.project(), service.name).requests, inputs, from, rows);
    write_file_atomic(export_options->output, csv);
    env.print({{"service", service.name}, {"rows", rows}, {"output", export_options->output}});
  });

  auto name = std::make_shared<std::string>();
  auto since = std::make_shared<std::string>();
  auto window = std::make_shared<std::string>("1h");
  auto* stats = service.add_subcommand("stats", "Requests, error rate, latency and predictions from the request log");
  stats->add_option("name", *name, "Service name")->required();
  stats->add_option("--since", *since, "Only the last 90s, 30m, 2h, 7d...");
  stats->add_option("--window", *window, "Length of each time window of the breakdown (default 1h)");
  stats->callback([&env, name, since, window] {
    auto& context = env.context();
    serving::Service service = serving::ServiceStore(context.db()).get(*name);
    monitoring::StatsRequest request;
    if (!since->empty()) request.since_seconds = monitoring::parse_duration(*since, "--since");
    request.window_seconds = monitoring::parse_duration(*window, "--window");
    Json stats = monitoring::service_stats(serving::ServiceFiles::of(context.project(), service.name).requests, request);
    stats["service"] = service.name;
    stats["log_sample"] = service.settings.log_sample;
    if (env.output_format() == OutputFormat::table) {
      Json rows = Json::array();
      for (const Json& w : stats["windows"]) {
        rows.push_back({{"start", w["start"]},
                        {"requests", w["requests"]},
                        {"error_rate", w["error_rate"]},
                        {"rows", w["rows"]},
                        {"p50_ms", w["latency_ms"].is_null() ? Json(nullptr) : w["latency_ms"]["p50"]},
                        {"p99_ms", w["latency_ms"].is_null() ? Json(nullptr) : w["latency_ms"]["p99"]},
                        {"predictions", w["predictions"]}});
      }
      env.print(rows);
    } else {
      env.print(stats);
    }
  });
}

}  // namespace mlctl::cli
