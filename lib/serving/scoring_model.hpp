#pragma once

// A registered model loaded for the HTTP service: its input schema, the
// preprocessing fitted at training time, the network held by the torch
// backend, and the post-processing (class names, softmax, unscaling).
// Scoring goes through the same Preprocessor as `model predict`, so the
// service answers exactly what batch scoring does.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <mlctl/core/backend.hpp>
#include <mlctl/core/json.hpp>
#include <mlctl/data/table_schema.hpp>
#include <mlctl/registry/model_registry.hpp>
#include <mlctl/train/preprocessor.hpp>

namespace mlctl::serving {

struct InputColumn {
  std::string name;
  data::ColumnType type = data::ColumnType::numeric;
};

// The model's answers for a batch of rows.
struct BatchScores {
  std::size_t rows = 0;
  std::vector<float> probabilities;  // classification: rows x classes
  std::vector<int> best_class;       // classification: index into classes()
  std::vector<double> values;        // regression: one per row, in label units
};

class ScoringModel {
 public:
  // Loads `model` from `files_dir` (its files, materialised and verified).
  // Throws Error(invalid_argument) for a model without an input schema,
  // Error(not_supported) without the torch backend, Error(train) when the
  // backend cannot load it.
  static std::shared_ptr<const ScoringModel> load(const registry::ModelVersion& model,
                                                  const std::filesystem::path& files_dir);

  // Scores `rows` rows of cells (rows x inputs(), in input order, types
  // already checked). Thread-safe. Throws Error(train) when the backend
  // fails.
  void score(std::span<const train::InputCell> cells, std::size_t rows, BatchScores& scores) const;

  const std::string& reference() const { return m_reference; }  // "churn:3"
  const std::string& name() const { return m_name; }
  int version() const { return m_version; }
  const std::vector<InputColumn>& inputs() const { return m_inputs; }
  bool classification() const { return m_classification; }
  const std::vector<std::string>& classes() const { return m_classes; }
  const std::string& label() const { return m_label; }
  // Whether a missing value (null) can be scored: built-in models impute
  // it as at training time; TorchScript modules take numbers only.
  bool imputes_missing() const { return m_preprocessor.has_value(); }
  // {"inputs": [{"name", "type"}], "outputs": {"label", "task", "classes"}}
  Json schema() const;

 private:
  ScoringModel() = default;

  std::string m_reference, m_name, m_label;
  int m_version = 0;
  std::vector<InputColumn> m_inputs;
  bool m_classification = true;
  std::vector<std::string> m_classes;
  // Built-in models; TorchScript modules take the numeric inputs as they are.
  std::optional<train::Preprocessor> m_preprocessor;
  std::unique_ptr<BackendModel> m_network;
  bool m_softmax = false;  // TorchScript: the module returns logits
};

}  // namespace mlctl::serving
