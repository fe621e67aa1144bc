#include <mlctl/sweep/sweep_report.hpp>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include <mlctl/core/error.hpp>
#include <mlctl/data/csv.hpp>
#include <mlctl/sweep/search_space.hpp>
#include <mlctl/tracking/metric_log.hpp>
#include <mlctl/tracking/run_store.hpp>

namespace mlctl::sweep {
namespace {


std::string trial_state(const tracking::Run& run) {
  auto tag = run.tags.find(k_state_tag);
  if (tag != run.tags.end()) return tag->second;
  return tracking::to_string(run.status);
}

bool better(double a, double b, Goal goal) { return goal == Goal::maximize ? a > b : a < b; }

}  // namespace

std::optional<double> objective_value(const std::vector<double>& series, Goal goal, bool use_best_value) {
  if (series.empty()) return std::nullopt;
  if (!use_best_value) return series.back();
  double best = series.front();
  for (double value : series) {
    if (better(value, best, goal)) best = value;
  }
  return best;
}

SweepReport load_sweep_report(store::Db& db, std::string_view run_id) {
  tracking::RunStore runs(db);
  SweepReport report;
  report.sweep = runs.get(run_id);
  if (report.sweep.kind != "sweep" || !report.sweep.spec.contains("sweep")) {
    throw Error(ErrorKind::invalid_argument, fmt::format("run {} is a {} run, not a sweep", report.sweep.id, report.sweep.kind));
  }
  const Json& stored = report.sweep.spec.at("sweep");
  report.primary_metric = stored.at("primary_metric").get<std::string>();
  report.goal = stored.at("goal").get<std::string>() == "minimize" ? Goal::minimize : Goal::maximize;
  report.use_best_value = stored.value("use_best_value", false);
  report.parameter_names = stored.at("parameters").get<std::vector<std::string>>();

  tracking::MetricLog metrics(db);
  tracking::RunListQuery query;
  query.parent_id = report.sweep.id;
  query.order_by = "created_at asc";
  runs.list(query, [&](const tracking::Run& run) {
    auto index_tag = run.tags.find(k_trial_tag);
    if (index_tag == run.tags.end()) return;
    TrialSummary trial;
    std::from_chars(index_tag->second.data(), index_tag->second.data() + index_tag->second.size(), trial.index);
    trial.run = run;
    if (auto values = run.tags.find(k_values_tag); values != run.tags.end()) {
      trial.values = Json::parse(values->second, nullptr, false);
      if (trial.values.is_discarded()) trial.values = Json::object();
    }
    trial.state = trial_state(run);
    trial.reason = run.status_reason;
    std::vector<double> series;
    for (const auto& point : metrics.history(run.row_id, report.primary_metric)) series.push_back(point.value);
    if (trial.state == "completed" || trial.state == "early_terminated") {
      trial.value = objective_value(series, report.goal, report.use_best_value);
    }
    report.trials.push_back(std::move(trial));
  });
  std::stable_sort(report.trials.begin(), report.trials.end(), [&](const TrialSummary& a, const TrialSummary& b) {
    if (a.value && b.value) return better(*a.value, *b.value, report.goal) || (*a.value == *b.value && a.index < b.index);
    if (a.value || b.value) return a.value.has_value();
    return a.index < b.index;
  });
  return report;
}

std::string trials_csv(const SweepReport& report) {
  std::string csv = "trial,run_id,state," + data::csv_field(report.primary_metric);
  for (const auto& name : report.parameter_names) csv += "," + data::csv_field(name);
  csv += ",duration_seconds\n";
  for (const auto& trial : report.trials) {
    csv += fmt::format("{},{},{},", trial.index, trial.run.id, trial.state);
    if (trial.value) csv += value_text(Json(*trial.value));
    for (const auto& name : report.parameter_names) {
      csv += ",";
      if (trial.values.contains(name)) csv += data::csv_field(value_text(trial.values.at(name)));
    }
    csv += ",";
    if (auto duration = trial.run.duration()) csv += fmt::format("{:.3f}", *duration);
    csv += "\n";
  }
  return csv;
}

Json best_params_json(const SweepReport& report) {
  Json json = Json::object();
  const TrialSummary* best = report.best();
  json["sweep"] = report.sweep.id;
  json["primary_metric"] = report.primary_metric;
  json["goal"] = report.goal == Goal::maximize ? "maximize" : "minimize";
  json["trial"] = best ? Json(best->index) : Json(nullptr);
  json["run_id"] = best ? Json(best->run.id) : Json(nullptr);
  json["value"] = best ? Json(*best->value) : Json(nullptr);
  json["params"] = best ? best->values : Json(nullptr);
  return json;
}

}  // namespace mlctl::sweep
