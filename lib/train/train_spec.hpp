#pragma once

// The train job: `mlctl experiment submit -f train.yml` with `type: train`
// trains a built-in model on a CSV table without any user code.
//
//   type: train
//   task: classification            # or regression (required)
//   data:
//     train: azureml:churn:1        # required
//     validation: data/val.csv      # optional
//     test: azureml:churn-test:2    # optional
//   label: churned                  # required
//   features: [age, plan]           # optional; default: every other column
//   validation_fraction: 0.2        # used when there is no data.validation
//   test_fraction: 0.2              # used when there is no data.test
//   model: {type: mlp, hidden_sizes: [64, 32]}   # type required
//   learning_rate: 0.001
//   ...                             # see TrainSpec for the rest
//
// Data: a value is a registered dataset or a CSV file, decided by its text:
//  1. `azureml:NAME:VERSION`, `azureml:NAME:latest` and `azureml:NAME@latest`
//     are datasets (`azureml:NAME` alone is an error, as in az);
//  2. otherwise text containing '/' or ending in `.csv` is a path;
//  3. otherwise text with ':' or '@' is a dataset, `NAME:VERSION`,
//     `NAME:latest` or `NAME@latest`, and must be well formed (write
//     `./x:y` for a file whose name has a colon);
//  4. anything else is a path, so a bare `churn` is the file ./churn.
// NAME is [A-Za-z0-9][A-Za-z0-9_.-]* and VERSION a number from 1. Text
// with "://" (a cloud URI) is not supported. Datasets are stored as
// "NAME:VERSION" or "NAME:latest", which data::parse_dataset_ref reads;
// paths as absolute, normalised paths against the job file's directory.
//
// Model keys apply to some model types only, and any other use is an error
// ("'vocab_size' applies to model type text, not mlp"):
//   hidden_sizes, dropout, activation: mlp, text, cnn (the dense head);
//   vocab_size, embedding_dim, ngrams: text;
//   image_height, image_width (both required), channels: cnn.
// `momentum` is accepted with every optimizer, so that a sweep can vary the
// optimizer, but only sgd uses it.
// An optional key whose value is null (`dropout:`, or `--set dropout=`)
// takes its default; `early_stopping:` turns early stopping off.

#include <mlctl/core/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace YAML {
class Node;
}

namespace mlctl::train {

enum class Task { classification, regression };
enum class ModelType { linear, mlp, text, cnn };

// "classification", "regression"; "linear", "mlp", "text", "cnn".
const char* to_string(Task task) noexcept;
const char* to_string(ModelType type) noexcept;

// Where a split's rows come from.
struct DataSource {
  bool is_dataset = false;
  // "NAME:VERSION" or "NAME:latest" for a dataset; an absolute, normalised
  // path otherwise, not checked for existence.
  std::string value;
  // 1-based position of the value in the job file (of its key when --set
  // replaced the value), for later errors such as a missing file; 0 when
  // --set added the key.
  int line = 0, column = 0;

  bool operator==(const DataSource&) const = default;
};

struct EarlyStopping {
  std::string metric;  // a logged validation metric, "val_..."
  int patience = 3;    // epochs without improvement before stopping
  // Default: minimise metrics ending in loss, rmse or mae, maximise others.
  bool maximize = false;

  bool operator==(const EarlyStopping&) const = default;
};

// Fields that do not apply to `type` keep the defaults below.
struct ModelSpec {
  ModelType type = ModelType::mlp;
  std::vector<int> hidden_sizes;          // mlp: default [64], never empty; text and cnn head: default []
  double dropout = 0;                     // in [0, 1)
  std::string activation = "relu";        // relu, tanh, gelu or sigmoid
  int vocab_size = 20000;                 // text: at least 10
  int embedding_dim = 64;                 // text
  int ngrams = 1;                         // text: 1 to 3
  int image_height = 0, image_width = 0;  // cnn: features are pixels, row-major
  std::vector<int> channels;              // cnn: one conv layer each; default [16, 32]

  bool operator==(const ModelSpec&) const = default;
};

// A parsed and validated train job. Values are plain data; copying is cheap
// enough and every member function is const, pure and thread-safe.
struct TrainSpec {
  std::string source;  // job file name, for messages
  Task task = Task::classification;
  DataSource train;
  std::optional<DataSource> validation, test;
  std::string label;
  std::vector<std::string> features;  // empty: every column but the label
  double validation_fraction = 0.2;   // [0, 1), sum with test_fraction < 1
  double test_fraction = 0.2;         // 0: no test split
  ModelSpec model;
  double learning_rate = 1e-3;
  int num_epochs = 20;
  int batch_size = 32;
  std::string optimizer = "adam";  // adam, adamw or sgd
  double momentum = 0.9;           // in [0, 1); sgd only
  double weight_decay = 0;
  std::optional<EarlyStopping> early_stopping;
  std::uint64_t seed = 42;
  std::string device = "auto";  // auto, cpu or cuda
  int threads = 0;              // 0: torch's default
  std::string experiment_name, display_name, description;
  std::map<std::string, std::string> tags;

  bool operator==(const TrainSpec&) const = default;

  // Every field, for storing with the run. Model keys that do not apply to
  // the model type are left out, so from_json(to_json()) gives back any spec
  // the parser made (whose such fields hold their defaults).
  Json to_json() const;
  // Reads what to_json wrote; absent optional keys take their defaults.
  // Values are not range-checked again. Throws Error(parse) "train spec:
  // ..." for a missing required key, a wrong type or an unknown enum name.
  static TrainSpec from_json(const Json& json);

  // The hyperparameters as run params, in a fixed order: task, label,
  // features (when given, "[age,plan]"), validation_fraction and
  // test_fraction (each when no data file replaces it), "model.type" and
  // the model keys that apply to it ("model.hidden_sizes" = "[64,32]"),
  // learning_rate, num_epochs, batch_size, optimizer, momentum (sgd only),
  // weight_decay, early_stopping.metric/.patience/.mode (when set), seed,
  // device, threads. Numbers print as the shortest text that reads back
  // exactly ("0.001", "20"). Data sources are not params: they are the
  // run's inputs, recorded as lineage by the caller.
  std::vector<std::pair<std::string, std::string>> params() const;
};

// Parses a train job from YAML text. `source_name` prefixes every message;
// `base_dir` is the job file's directory, against which data paths are
// resolved (made absolute first if relative). `overrides` are `--set
// PATH=VALUE` assignments (see apply_override), applied before the job is
// read: `learning_rate=0.01`, `model.hidden_sizes=[64,32]`,
// `data.train=azureml:churn:2`, `early_stopping.patience=5`. Values they set
// have no line in messages. No file is touched.
// Throws Error(parse) for malformed YAML ("train.yml:3:5: <yaml-cpp
// message>") and for a --set value that is not valid YAML;
// Error(invalid_argument) for a bad --set, and for every problem in the job
// at once, one per line: "train.yml:7:9: unknown model type 'mpl' (expected
// linear, mlp, text or cnn; did you mean 'mlp'?)". The first problem's kind
// is the error's kind: Error(not_supported) for a cloud URI as data.
// Error(io) only when a relative `base_dir` cannot be made absolute.
// Pure apart from reading the current directory; thread-safe.
TrainSpec parse_train_job(std::string_view yaml_text, std::string_view source_name,
                          const std::filesystem::path& base_dir,
                          const std::vector<std::string>& overrides = {});

// The same, from a document already loaded (by load_yaml, so marks are set).
TrainSpec parse_train_job(const YAML::Node& root, std::string_view source_name,
                          const std::filesystem::path& base_dir);

}  // namespace mlctl::train
