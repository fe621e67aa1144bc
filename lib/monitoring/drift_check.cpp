#include <mlctl/monitoring/drift_check.hpp>

#include <charconv>

#include <fmt/format.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/data/dataset_store.hpp>
#include <mlctl/evaluation/model_evaluation.hpp>
#include <mlctl/registry/model_registry.hpp>
#include <mlctl/serving/request_log.hpp>
#include <mlctl/serving/service_control.hpp>
#include <mlctl/serving/service_store.hpp>
#include <mlctl/tracking/metric_log.hpp>
#include <mlctl/tracking/run_store.hpp>
#include <mlctl/train/preprocessor.hpp>

namespace mlctl::monitoring {
namespace {

namespace fs = std::filesystem;

void add_value(ColumnValues& column, const Json& value) {
  if (value.is_null()) {
    ++column.missing;
  } else if (column.type == data::ColumnType::numeric) {
    if (value.is_number()) column.numbers.push_back(value.get<double>());
    else ++column.missing;
  } else if (value.is_string()) {
    if (value.get_ref<const std::string&>().empty()) ++column.missing;
    else column.texts.push_back(value.get<std::string>());
  } else if (value.is_number()) {
    column.texts.push_back(value.is_number_float() ? fmt::format("{}", value.get<double>()) : value.dump());
  }
}

}  // namespace

double parse_duration(std::string_view text, std::string_view option) {
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  std::string_view unit(end, std::size_t(text.data() + text.size() - end));
  double scale = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
  if (ec != std::errc() || scale == 0 || number <= 0) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("{} '{}': expected a duration such as 90s, 30m, 2h or 7d", option, text));
  }
  return number * scale;
}

DataColumns columns_of_request_log(const fs::path& requests_dir, const std::vector<data::ColumnSchema>& inputs,
                                   bool numeric_predictions, std::optional<double> from_unix,
                                   std::optional<double> to_unix, std::size_t& rows) {
  DataColumns columns;
  for (const auto& input : inputs) columns[input.name].type = input.type;
  ColumnValues& predictions = columns["prediction"];
  predictions.type = numeric_predictions ? data::ColumnType::numeric : data::ColumnType::categorical;
  rows = 0;
  serving::RequestLog::for_each_record(requests_dir, [&](const Json& record) {
    if (!record.contains("inputs")) return;  // a refused request
    const double time = record.value("time", 0.0);
    if ((from_unix && time < *from_unix) || (to_unix && time >= *to_unix)) return;
    for (const Json& row : record["inputs"]) {
      ++rows;
      for (const auto& input : inputs) add_value(columns[input.name], row.contains(input.name) ? row[input.name] : Json());
    }
    for (const Json& prediction : record.value("predictions", Json::array())) add_value(predictions, prediction);
  });
  return columns;
}

Json DriftResult::to_json() const {
  Json json = report.to_json();
  json["run_id"] = run_id;
  json["baseline"] = baseline;
  json["current"] = current;
  return json;
}

DriftResult check_drift(store::Context& context, const DriftRequest& request) {
  if (request.service.has_value() == request.data.has_value()) {
    throw Error(ErrorKind::invalid_argument, "give what to check: --service NAME or --data DATASET[:V]");
  }
  store::Db& db = context.db();
  DriftResult result;
  DataColumns current;
  DriftInputs inputs;
  inputs.thresholds = request.thresholds;
  std::optional<train::Preprocessor> preprocessor;
  std::optional<registry::ModelVersion> model;
  std::string baseline_reference = request.baseline.value_or("");

  if (request.service) {
    serving::Service service = serving::ServiceStore(db).get(*request.service);
    registry::ModelRegistry models(db, context.artifacts());
    model = models.get(service.model());
    if (baseline_reference.empty()) {
      for (const auto& [input, dataset] : model->datasets) {
        if (baseline_reference.empty() || input == "train") baseline_reference = dataset;
      }
      if (baseline_reference.empty()) {
        throw Error(ErrorKind::not_found,
                    fmt::format("model {} records no training dataset to compare with", model->ref()),
                    "give one: --baseline DATASET[:V]");
      }
    }
    if (model->format == "mlctl") {
      // The model's own vocabulary for text columns (no torch needed).
      ScratchDirectory scratch("mlctl-drift-");
      models.materialize(*model, scratch.path());
      preprocessor = train::Preprocessor::from_json(Json::parse(read_file(scratch.path() / "preprocessor.json")));
    }
    result.current = fmt::format("service {}", service.name);
  }
  evaluation::EvaluationData baseline = evaluation::load_evaluation_data(db, context.artifacts(), baseline_reference);
  result.baseline = baseline.dataset.ref();
  data::TableSchema schema = data::TableSchema::from_json(baseline.dataset.schema);
  DataColumns baseline_columns = columns_of_table(baseline.table, schema);

  if (request.service) {
    for (const Json& input : model->schema.value("inputs", Json::array())) {
      inputs.features.push_back({input.at("name").get<std::string>(),
                                 data::parse_column_type(input.at("type").get<std::string>())});
    }
    std::string label = model->schema.value("outputs", Json::object()).value("label", schema.label.value_or(""));
    if (auto index = schema.find_column(label)) inputs.label = schema.columns[*index];
    std::optional<double> from, to;
    if (request.since_seconds) from = unix_now() - *request.since_seconds;
    if (from && request.window_seconds) to = *from + *request.window_seconds;
    const bool numeric_predictions = inputs.label && inputs.label->type == data::ColumnType::numeric;
    current = columns_of_request_log(serving::ServiceFiles::of(context.project(), *request.service).requests,
                                     inputs.features, numeric_predictions, from, to, inputs.current_rows);
    if (preprocessor && preprocessor->mode() == train::FeatureMode::text) inputs.vocabulary = &preprocessor->vectorizer();
  } else {
    evaluation::EvaluationData data = evaluation::load_evaluation_data(db, context.artifacts(), *request.data);
    result.current = data.dataset.ref();
    current = columns_of_table(data.table, schema);
    inputs.current_rows = data.table.row_count();
    for (const auto& column : schema.columns) {
      if (column.name != schema.label) inputs.features.push_back(column);
    }
  }
  inputs.baseline = &baseline_columns;
  inputs.current = &current;
  result.report = compare_columns(inputs);

  // The check as a monitoring run: its metrics plot drift over time.
  tracking::RunStore runs(db);
  tracking::NewRun run;
  run.experiment = request.experiment;
  run.kind = "monitoring";
  run.display_name = fmt::format("drift of {} against {}", result.current, result.baseline);
  run.params = {{"baseline", result.baseline}, {"current", result.current}};
  const Json thresholds = to_json(request.thresholds);
  for (const auto& [key, value] : thresholds.items()) run.params.emplace_back("threshold." + key, value.dump());
  if (request.service) run.tags.emplace_back("mlctl.service", *request.service);
  run.tags.emplace_back("mlctl.drift", result.report.enough_data ? (result.report.drifted ? "drifted" : "none") : "not enough data");
  run.dataset_inputs = {{"baseline", baseline.dataset.row_id}};
  run.command = Json::array({"mlctl", "monitor", "drift"});
  tracking::Run created = runs.create(run);
  runs.mark_running_unsupervised(created.row_id);
  std::vector<tracking::MetricPoint> points;
  const double now = unix_now();
  points.push_back({"rows", double(result.report.current_rows), 0, now});
  points.push_back({"drifted", result.report.drifted ? 1.0 : 0.0, 0, now});
  points.push_back({"drifted_columns", double(result.report.drifted_columns.size()), 0, now});
  for (const auto& column : result.report.columns) {
    for (const auto& [key, value] : column.statistics.items()) {
      if (value.is_number()) points.push_back({column.column + "." + key, value.get<double>(), 0, now});
    }
  }
  tracking::MetricLog(db).append(created.row_id, points);
  runs.finish(created.row_id, tracking::RunStatus::completed, 0, std::nullopt);
  result.run_id = created.id;
  return result;
}

}  // namespace mlctl::monitoring
