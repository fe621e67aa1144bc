#pragma once

// Scoring registered models on a dataset: `model evaluate` (metrics logged
// as an evaluation run) and `model compare` (a challenger against the
// champion on the same rows, judged by predefined criteria).

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mlctl/core/json.hpp>
#include <mlctl/data/csv.hpp>
#include <mlctl/data/dataset_store.hpp>
#include <mlctl/evaluation/criteria.hpp>
#include <mlctl/registry/model_registry.hpp>
#include <mlctl/store/artifact_store.hpp>
#include <mlctl/store/db.hpp>
#include <mlctl/train/train_run.hpp>

namespace mlctl::evaluation {

// The rows a model is scored on: a registered dataset ("churn:3",
// "azureml:churn:latest") or a CSV path, registered on the way so that
// the evaluation's lineage names an immutable version.
struct EvaluationData {
  data::DatasetVersion dataset;
  data::CsvTable table;
};
EvaluationData load_evaluation_data(store::Db& db, store::ArtifactStore& artifacts, std::string_view reference);

// A registered model, or an mlctl model directory (one with model.json,
// such as a pipeline's train step output) named by its path: version 0,
// source_path set. Throws as ModelRegistry::get.
registry::ModelVersion resolve_model(registry::ModelRegistry& models, std::string_view reference);
// The same, nullopt when a registered reference resolves to nothing.
std::optional<registry::ModelVersion> find_model(registry::ModelRegistry& models, std::string_view reference);

// Materialises a registered model (verifying every file) and scores the
// table with it; `seconds` is the scoring time alone.
struct ModelScoring {
  train::TableScores scores;
  double seconds = 0;
};
ModelScoring score_model(registry::ModelRegistry& models, const registry::ModelVersion& model,
                         const data::CsvTable& table);

// Metrics of scores against the table's label column. Classification:
// accuracy, precision, recall and f1 (macro means over the classes), auc
// (binary only), log_loss; regression: rmse, mae, r2; both: rows and
// latency_ms_per_row. Throws Error(invalid_argument) when the label column
// is missing or holds a class the model does not know.
Json evaluation_metrics(const train::TableScores& scores, const data::CsvTable& table, double seconds);

struct EvaluationResult {
  std::string run_id;
  registry::ModelVersion model;
  std::string data;  // "churn:3"
  Json metrics;
};

// Scores `model_reference` on `data_reference` and records an evaluation
// run (kind "evaluation", in `experiment`) with the model and data as params,
// the dataset as its input and the metrics.
EvaluationResult evaluate_model(store::Db& db, store::ArtifactStore& artifacts, std::string_view model_reference,
                                std::string_view data_reference, const std::string& experiment);

struct ComparisonResult {
  registry::ModelVersion candidate;
  std::optional<registry::ModelVersion> baseline;  // none: the first model
  std::string data;
  std::int64_t rows = 0;
  Json candidate_metrics;
  std::optional<Json> baseline_metrics;
  std::optional<std::int64_t> differing_predictions;  // classification with a baseline
  std::vector<CriterionOutcome> outcomes;
  bool passed = true;
  std::vector<std::string> notes;  // "no model churn@production yet: the thresholds alone decide"
};

// Scores both models on the same rows and applies the criteria. A baseline
// reference that resolves to nothing (an alias not set yet, a model not
// registered yet) means there is no baseline.
ComparisonResult compare_models(store::Db& db, store::ArtifactStore& artifacts, std::string_view candidate_reference,
                                const std::optional<std::string>& baseline_reference, std::string_view data_reference,
                                const std::vector<MetricCriterion>& criteria);

}  // namespace mlctl::evaluation
