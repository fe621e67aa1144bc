#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <mlctl/core/json.hpp>
#include <mlctl/data/csv.hpp>
#include <mlctl/store/artifact_store.hpp>
#include <mlctl/store/db.hpp>
#include <mlctl/store/project.hpp>
#include <mlctl/tracking/job_submission.hpp>

namespace mlctl::train {

// Builds the run of a `type: train` job file: parses and validates the
// spec, resolves its data (dataset references; plain CSV paths are
// registered as datasets so lineage is never lost) and checks the label
// and feature columns against the data's schema, all before anything
// trains. The run's command is mlctl's own trainer (`mlctl train worker`),
// so the supervisor gives it logs, cancel, timeouts and detach for free.
// Throws Error(invalid_argument|parse|not_found) naming file:line:col.
tracking::PreparedRun prepare_train_run(const tracking::SubmitRequest& request, store::Db& db,
                                        store::ArtifactStore& artifacts, const store::ProjectPaths& project,
                                        const std::string& mlctl_executable);

// Prepares any job: a command line, or a job file of type command or train.
tracking::PreparedRun prepare_submission(const tracking::SubmitRequest& request, store::Db& db,
                                         store::ArtifactStore& artifacts, const store::ProjectPaths& project,
                                         const std::string& mlctl_executable);

// Puts a failed or canceled training run back in the queue; its trainer
// continues from the last epoch's checkpoint. Throws Error(invalid_argument)
// for a run that is not a training run.
void requeue_for_resume(store::Db& db, std::string_view run_id);

// Where a training run keeps its files.
struct TrainPaths {
  static TrainPaths for_run(const store::ProjectPaths& project, std::string_view run_id);

  std::filesystem::path model_dir;       // becomes the run's outputs/model artifacts
  std::filesystem::path checkpoint_dir;  // per-epoch checkpoints, for --resume
  std::filesystem::path metrics_file;    // epoch metrics are appended here
  std::filesystem::path evaluation_dir;  // confusion matrix, ROC curve (artifacts)
};

// The trainer: reads the run's spec and data, splits, fits preprocessing
// on the training rows, trains with the libtorch backend, and writes the
// model directory (model.json, preprocessor.json, weights.pt, model.yaml
// manifest). Continues from the checkpoint when one exists. Returns the
// final metrics. Throws Error(train) for backend failures.
Json run_training(store::Db& db, store::ArtifactStore& artifacts, std::string_view run_id, const TrainPaths& paths);

// A model's scores of a table's rows.
struct TableScores {
  bool classification = true;
  std::string label;                     // the column the model predicts
  std::vector<std::string> class_names;  // classification: in output order
  std::vector<float> probabilities;      // classification: rows x classes, row-major
  std::vector<double> values;            // regression: one per row
  std::vector<std::string> predicted;    // classification: the most probable class of each row
  std::size_t rows() const { return classification ? predicted.size() : values.size(); }
};

// Scores a table with a model directory, verified against its manifest,
// reusing the preprocessing fitted at training time. Throws
// Error(invalid_argument) naming a missing input column, Error(store) for
// a tampered file, Error(train) for backend failures.
TableScores score_table(const std::filesystem::path& model_dir, const data::CsvTable& table);

// Scores a table with a TorchScript module: the schema's input columns
// (numeric) in order form a rows x inputs float tensor; the module returns
// logits, one column per class of schema.outputs.classes (turned into
// probabilities with softmax), or one regression value per row when the
// schema names no classes. Throws Error(invalid_argument) for a missing or
// non-numeric input, Error(train) for a module that fails or returns
// another shape.
TableScores score_torchscript(const std::filesystem::path& model_file, const Json& schema, const data::CsvTable& table);

// Scores as JSON rows ({"prediction": ..., "probabilities": [...]}) and as
// CSV (prediction, probability_<class>...).
Json predictions_json(const TableScores& scores);
std::string predictions_csv(const TableScores& scores);

// Scores a CSV file with a model directory; returns one JSON row per input
// row ({"prediction": ..., "probabilities": [...]}) and writes a CSV of
// predictions to `output_csv` when given.
Json predict_csv(const std::filesystem::path& model_dir, const std::filesystem::path& input_csv,
                 const std::optional<std::filesystem::path>& output_csv);

// Verifies a model directory against its manifest (model.yaml): every
// file's sha256. Throws Error(store) naming a tampered or missing file.
void verify_model_directory(const std::filesystem::path& model_dir);

}  // namespace mlctl::train
