#include <mlctl/evaluation/model_evaluation.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>

#include <fmt/format.h>

#include <mlctl/core/backend.hpp>
#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/train/eval_metrics.hpp>
#include <mlctl/tracking/metric_log.hpp>
#include <mlctl/tracking/run_store.hpp>

namespace mlctl::evaluation {
namespace {

namespace fs = std::filesystem;


}  // namespace

EvaluationData load_evaluation_data(store::Db& db, store::ArtifactStore& artifacts, std::string_view reference) {
  data::DatasetStore datasets(db, artifacts);
  EvaluationData result;
  std::string text(reference);
  bool is_path = text.find('/') != std::string::npos || text.ends_with(".csv");
  if (text.rfind("azureml:", 0) == 0) is_path = false;
  if (is_path) {
    std::error_code ec;
    if (!fs::is_regular_file(text, ec)) {
      throw Error(ErrorKind::not_found, fmt::format("--data: '{}' does not exist or is not a file", text));
    }
    data::RegisterRequest request;
    request.name = data::dataset_name_for(text);
    request.path = text;
    request.description = "registered by a model evaluation";
    result.dataset = datasets.register_file(request).dataset;
  } else {
    result.dataset = datasets.get(data::parse_dataset_ref(text));
  }
  result.table = data::parse_csv(datasets.read_verified(result.dataset), result.dataset.ref());
  return result;
}

namespace {

std::optional<registry::ModelVersion> model_directory(std::string_view reference) {
  fs::path path(reference);
  std::error_code ec;
  if (!fs::is_regular_file(path / "model.json", ec)) return std::nullopt;
  registry::ModelVersion model;
  model.name = fs::absolute(path).lexically_normal().string();
  model.version = 0;
  model.format = "mlctl";
  model.source_path = model.name;
  return model;
}

}  // namespace

registry::ModelVersion resolve_model(registry::ModelRegistry& models, std::string_view reference) {
  if (auto directory = model_directory(reference)) return *directory;
  return models.get(reference);
}

std::optional<registry::ModelVersion> find_model(registry::ModelRegistry& models, std::string_view reference) {
  if (auto directory = model_directory(reference)) return directory;
  return models.find(registry::parse_model_ref(reference));
}

ModelScoring score_model(registry::ModelRegistry& models, const registry::ModelVersion& model,
                         const data::CsvTable& table) {
  // An unregistered model directory is scored where it is.
  ScratchDirectory scratch("mlctl-eval-");
  fs::path model_dir = scratch.path();
  if (model.version == 0 && model.source_path) {
    model_dir = *model.source_path;
  } else {
    models.materialize(model, scratch.path());
  }
  ModelScoring result;
  Backend::get();  // loading libtorch (~0.6 s once) is not per-row latency
  auto started = std::chrono::steady_clock::now();
  if (model.format == "torchscript") {
    result.scores = train::score_torchscript(model_dir / model.files.front().path, model.schema, table);
  } else {
    result.scores = train::score_table(model_dir, table);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

Json evaluation_metrics(const train::TableScores& scores, const data::CsvTable& table, double seconds) {
  auto label_column = table.find_column(scores.label);
  if (scores.label.empty() || !label_column) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("{}: the label column '{}' the model predicts is missing", table.source_name, scores.label));
  }
  Json metrics = Json::object();
  const std::size_t rows = table.row_count();
  if (scores.classification) {
    std::vector<int> labels(rows);
    for (std::size_t row = 0; row < rows; ++row) {
      std::string_view cell = table.cell(row, *label_column);
      auto it = std::find(scores.class_names.begin(), scores.class_names.end(), cell);
      if (it == scores.class_names.end()) {
        throw Error(ErrorKind::invalid_argument,
                    fmt::format("{}:{}: label '{}' is not a class the model knows ({})", table.source_name,
                                table.row_lines[row], cell, fmt::join(scores.class_names, ", ")));
      }
      labels[row] = int(it - scores.class_names.begin());
    }
    auto report = train::classification_metrics(labels, scores.probabilities, int(scores.class_names.size()));
    metrics["accuracy"] = report.accuracy;
    metrics["precision"] = report.scores.precision_macro;
    metrics["recall"] = report.scores.recall_macro;
    metrics["f1"] = report.scores.f1_macro;
    if (report.roc_auc) metrics["auc"] = *report.roc_auc;
    metrics["log_loss"] = report.log_loss;
  } else {
    std::vector<double> targets(rows);
    for (std::size_t row = 0; row < rows; ++row) {
      std::string_view cell = table.cell(row, *label_column);
      double value = 0;
      auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
      if (ec != std::errc() || end != cell.data() + cell.size()) {
        throw Error(ErrorKind::invalid_argument, fmt::format("{}:{}: target '{}' is not a number", table.source_name,
                                                             table.row_lines[row], cell));
      }
      targets[row] = value;
    }
    auto regression = train::regression_metrics(targets, scores.values);
    metrics["rmse"] = regression.rmse;
    metrics["mae"] = regression.mae;
    metrics["r2"] = regression.r2;
  }
  metrics["rows"] = rows;
  metrics["latency_ms_per_row"] = rows > 0 ? seconds * 1000.0 / double(rows) : 0.0;
  return metrics;
}

EvaluationResult evaluate_model(store::Db& db, store::ArtifactStore& artifacts, std::string_view model_reference,
                                std::string_view data_reference, const std::string& experiment) {
  registry::ModelRegistry models(db, artifacts);
  EvaluationResult result;
  result.model = resolve_model(models, model_reference);
  EvaluationData data = load_evaluation_data(db, artifacts, data_reference);
  result.data = data.dataset.ref();
  ModelScoring scoring = score_model(models, result.model, data.table);
  result.metrics = evaluation_metrics(scoring.scores, data.table, scoring.seconds);

  tracking::RunStore runs(db);
  tracking::NewRun run;
  run.experiment = experiment;
  run.kind = "evaluation";
  run.display_name = fmt::format("evaluate {} on {}", result.model.ref(), result.data);
  run.params = {{"model", result.model.ref()}, {"data", result.data}};
  run.tags = {{"mlctl.model", result.model.ref()}};
  run.dataset_inputs = {{"data", data.dataset.row_id}};
  run.command = Json::array({"mlctl", "model", "evaluate", result.model.ref(), "--data", result.data});
  tracking::Run created = runs.create(run);
  runs.mark_running_unsupervised(created.row_id);
  std::vector<tracking::MetricPoint> points;
  for (const auto& [key, value] : result.metrics.items()) {
    points.push_back({key, value.get<double>(), std::int64_t(0), unix_now()});
  }
  tracking::MetricLog(db).append(created.row_id, points);
  runs.finish(created.row_id, tracking::RunStatus::completed, 0, std::nullopt);
  result.run_id = created.id;
  return result;
}

ComparisonResult compare_models(store::Db& db, store::ArtifactStore& artifacts, std::string_view candidate_reference,
                                const std::optional<std::string>& baseline_reference, std::string_view data_reference,
                                const std::vector<MetricCriterion>& criteria) {
  registry::ModelRegistry models(db, artifacts);
  ComparisonResult result;
  result.candidate = resolve_model(models, candidate_reference);
  if (baseline_reference) {
    result.baseline = find_model(models, *baseline_reference);
    if (!result.baseline) {
      result.notes.push_back(fmt::format("no model {} yet: the thresholds alone decide", *baseline_reference));
    }
  } else {
    result.notes.push_back("no baseline: the thresholds alone decide");
  }
  EvaluationData data = load_evaluation_data(db, artifacts, data_reference);
  result.data = data.dataset.ref();
  result.rows = std::int64_t(data.table.row_count());
  ModelScoring candidate = score_model(models, result.candidate, data.table);
  result.candidate_metrics = evaluation_metrics(candidate.scores, data.table, candidate.seconds);
  if (result.baseline) {
    ModelScoring baseline = score_model(models, *result.baseline, data.table);
    result.baseline_metrics = evaluation_metrics(baseline.scores, data.table, baseline.seconds);
    if (candidate.scores.classification && baseline.scores.classification) {
      std::int64_t differing = 0;
      for (std::size_t row = 0; row < candidate.scores.predicted.size(); ++row) {
        differing += candidate.scores.predicted[row] != baseline.scores.predicted[row];
      }
      result.differing_predictions = differing;
    }
  }
  result.outcomes = check_criteria(criteria, result.candidate_metrics, result.baseline_metrics);
  result.passed = std::all_of(result.outcomes.begin(), result.outcomes.end(),
                              [](const CriterionOutcome& outcome) { return outcome.passed; });
  return result;
}

}  // namespace mlctl::evaluation
