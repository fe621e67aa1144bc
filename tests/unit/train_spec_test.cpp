#include <mlctl/train/train_spec.hpp>

#include <mlctl/core/error.hpp>
#include <mlctl/core/yaml_overrides.hpp>

#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using mlctl::ErrorKind;
using mlctl::Json;
using mlctl::train::DataSource;
using mlctl::train::ModelType;
using mlctl::train::parse_train_job;
using mlctl::train::Task;
using mlctl::train::TrainSpec;

namespace {

// Every field, one per line, so that positions in messages are easy to read
// off: line N of the file is line N here.
const std::string k_full_job = R"($schema: https://example.com/trainJob.schema.json
type: train
task: classification
data:
  train: azureml:churn:1
  validation: data/val.csv
  test: azureml:churn-test@latest
label: churned
features: [age, plan, comment]
validation_fraction: 0.1
test_fraction: 0.15
model:
  type: mlp
  hidden_sizes: [64, 32]
  dropout: 0.1
  activation: gelu
learning_rate: 0.001
num_epochs: 30
batch_size: 64
optimizer: sgd
momentum: 0.8
weight_decay: 0.0001
early_stopping:
  metric: val_accuracy
  patience: 5
seed: 7
device: cpu
threads: 2
experiment_name: churn
display_name: mlp-64-32
description: Churn baseline.
tags: {team: a, stage: dev}
)";

// The smallest valid job; lines 1-4, the model on line 5.
const std::string k_minimal_job = R"(task: classification
data: {train: train.csv}
label: churned
model:
  type: mlp
)";

const std::filesystem::path k_base = "/jobs/churn";

TrainSpec parse(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return parse_train_job(text, "train.yml", k_base, overrides);
}

template <typename Body>
mlctl::Error error_from(Body&& body) {
  try {
    body();
  } catch (const mlctl::Error& error) {
    return error;
  }
  FAIL("expected mlctl::Error");
  throw;  // unreachable: FAIL throws
}

std::string parse_error(const std::string& text, ErrorKind kind = ErrorKind::invalid_argument,
                        const std::vector<std::string>& overrides = {}) {
  const mlctl::Error error = error_from([&] { parse(text, overrides); });
  CHECK(error.kind() == kind);
  return error.what();
}

// The minimal job with `model:` replaced by the given lines (from line 4).
std::string with_model(const std::string& model_lines) {
  return "task: classification\ndata: {train: train.csv}\nlabel: churned\nmodel:\n" + model_lines;
}

struct Case {
  std::string text;
  std::string message;
};

void check_errors(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK(parse_error(c.text) == c.message);
  }
}

}  // namespace

TEST_CASE("train job: a full example parses into every field", "[train]") {
  const TrainSpec spec = parse(k_full_job);
  CHECK(spec.source == "train.yml");
  CHECK(spec.task == Task::classification);
  CHECK(spec.train == DataSource{true, "churn:1", 5, 10});
  REQUIRE(spec.validation);
  CHECK(*spec.validation == DataSource{false, "/jobs/churn/data/val.csv", 6, 15});
  REQUIRE(spec.test);
  CHECK(*spec.test == DataSource{true, "churn-test:latest", 7, 9});
  CHECK(spec.label == "churned");
  CHECK(spec.features == std::vector<std::string>{"age", "plan", "comment"});
  CHECK(spec.validation_fraction == 0.1);
  CHECK(spec.test_fraction == 0.15);
  CHECK(spec.model.type == ModelType::mlp);
  CHECK(spec.model.hidden_sizes == std::vector<int>{64, 32});
  CHECK(spec.model.dropout == 0.1);
  CHECK(spec.model.activation == "gelu");
  CHECK(spec.learning_rate == 0.001);
  CHECK(spec.num_epochs == 30);
  CHECK(spec.batch_size == 64);
  CHECK(spec.optimizer == "sgd");
  CHECK(spec.momentum == 0.8);
  CHECK(spec.weight_decay == 0.0001);
  REQUIRE(spec.early_stopping);
  CHECK(spec.early_stopping->metric == "val_accuracy");
  CHECK(spec.early_stopping->patience == 5);
  CHECK(spec.early_stopping->maximize);  // accuracy: higher is better
  CHECK(spec.seed == 7);
  CHECK(spec.device == "cpu");
  CHECK(spec.threads == 2);
  CHECK(spec.experiment_name == "churn");
  CHECK(spec.display_name == "mlp-64-32");
  CHECK(spec.description == "Churn baseline.");
  CHECK(spec.tags == std::map<std::string, std::string>{{"team", "a"}, {"stage", "dev"}});
}

TEST_CASE("train job: an already loaded document parses the same", "[train]") {
  const YAML::Node root = mlctl::load_yaml(k_full_job, "train.yml");
  CHECK(parse_train_job(root, "train.yml", k_base) == parse(k_full_job));
}

TEST_CASE("train job: omitted fields take their documented defaults", "[train]") {
  const TrainSpec spec = parse(k_minimal_job);
  CHECK(spec.train == DataSource{false, "/jobs/churn/train.csv", 2, 15});
  CHECK_FALSE(spec.validation);
  CHECK_FALSE(spec.test);
  CHECK(spec.features.empty());
  CHECK(spec.validation_fraction == 0.2);
  CHECK(spec.test_fraction == 0.2);
  CHECK(spec.learning_rate == 0.001);
  CHECK(spec.num_epochs == 20);
  CHECK(spec.batch_size == 32);
  CHECK(spec.optimizer == "adam");
  CHECK(spec.momentum == 0.9);
  CHECK(spec.weight_decay == 0);
  CHECK_FALSE(spec.early_stopping);
  CHECK(spec.seed == 42);
  CHECK(spec.device == "auto");
  CHECK(spec.threads == 0);
  CHECK(spec.experiment_name.empty());
  CHECK(spec.tags.empty());
  // type: train may be left out: the caller already dispatched on it.
  CHECK(spec.model.dropout == 0);
  CHECK(spec.model.activation == "relu");
}

TEST_CASE("train job: each model type has its own defaults", "[train]") {
  const TrainSpec linear = parse(with_model("  type: linear\n"));
  CHECK(linear.model.type == ModelType::linear);
  CHECK(linear.model.hidden_sizes.empty());
  CHECK(linear.model.channels.empty());

  const TrainSpec mlp = parse(with_model("  type: mlp\n"));
  CHECK(mlp.model.hidden_sizes == std::vector<int>{64});
  CHECK(mlp.model.channels.empty());

  const TrainSpec text = parse(with_model("  type: text\n"));
  CHECK(text.model.type == ModelType::text);
  CHECK(text.model.vocab_size == 20000);
  CHECK(text.model.embedding_dim == 64);
  CHECK(text.model.ngrams == 1);
  CHECK(text.model.hidden_sizes.empty());  // a linear head

  const TrainSpec cnn = parse(with_model("  type: cnn\n  image_height: 8\n  image_width: 6\n"));
  CHECK(cnn.model.type == ModelType::cnn);
  CHECK(cnn.model.image_height == 8);
  CHECK(cnn.model.image_width == 6);
  CHECK(cnn.model.channels == std::vector<int>{16, 32});
  CHECK(cnn.model.hidden_sizes.empty());

  const TrainSpec tuned =
      parse(with_model("  type: text\n  vocab_size: 500\n  embedding_dim: 16\n  ngrams: 3\n"
                       "  hidden_sizes: [32]\n  dropout: 0.5\n  activation: tanh\n"));
  CHECK(tuned.model.vocab_size == 500);
  CHECK(tuned.model.embedding_dim == 16);
  CHECK(tuned.model.ngrams == 3);
  CHECK(tuned.model.hidden_sizes == std::vector<int>{32});
  CHECK(tuned.model.dropout == 0.5);
  CHECK(tuned.model.activation == "tanh");
}

TEST_CASE("train job: early stopping minimises losses and errors, maximises the rest", "[train]") {
  struct ModeCase {
    std::string early_stopping;
    bool maximize;
  };
  const std::vector<ModeCase> cases = {
      {"{metric: val_loss}", false},           {"{metric: val_log_loss}", false},
      {"{metric: val_rmse}", false},           {"{metric: val_mae}", false},
      {"{metric: val_accuracy}", true},        {"{metric: val_r2}", true},
      {"{metric: val_loss, mode: max}", true}, {"{metric: val_f1, mode: min}", false},
  };
  for (const ModeCase& c : cases) {
    INFO(c.early_stopping);
    const TrainSpec spec = parse(k_minimal_job + "early_stopping: " + c.early_stopping + "\n");
    REQUIRE(spec.early_stopping);
    CHECK(spec.early_stopping->patience == 3);
    CHECK(spec.early_stopping->maximize == c.maximize);
  }
  // Null turns it off, as does leaving it out.
  CHECK_FALSE(parse(k_minimal_job + "early_stopping:\n").early_stopping);
}

TEST_CASE("train job: --set overrides are applied before the job is read", "[train]") {
  const TrainSpec spec =
      parse(k_full_job, {"learning_rate=0.01", "model.hidden_sizes=[128,64,32]",
                         "data.train=azureml:churn:2", "early_stopping.patience=9",
                         "tags.stage=prod", "model.dropout=", "data.test=", "seed=123"});
  CHECK(spec.learning_rate == 0.01);
  CHECK(spec.model.hidden_sizes == std::vector<int>{128, 64, 32});
  CHECK(spec.train.value == "churn:2");
  CHECK(spec.train.is_dataset);
  CHECK(spec.train.line == 5);  // the key is still where the file declares it
  CHECK(spec.train.column == 3);
  CHECK(spec.early_stopping->patience == 9);
  CHECK(spec.tags.at("stage") == "prod");
  CHECK(spec.model.dropout == 0);  // null: back to the default
  CHECK_FALSE(spec.test);
  CHECK(spec.seed == 123);

  const TrainSpec added = parse(k_minimal_job, {"data.validation=val.csv", "model.type=linear"});
  REQUIRE(added.validation);
  CHECK(*added.validation == DataSource{false, "/jobs/churn/val.csv", 0, 0});
  CHECK(added.model.type == ModelType::linear);
  CHECK(added.model.hidden_sizes.empty());
}

TEST_CASE("train job: a problem in a --set value is reported without a line", "[train]") {
  CHECK(parse_error(k_minimal_job, ErrorKind::invalid_argument, {"early_stopping.patience=5"}) ==
        "train.yml: missing required key 'metric' in 'early_stopping'");
  CHECK(parse_error(k_minimal_job, ErrorKind::invalid_argument, {"lerning_rate=0.1"}) ==
        "train.yml: unknown key 'lerning_rate' (did you mean 'learning_rate'?)");
  // Replacing a value keeps its key, whose place is still known.
  CHECK(parse_error(k_minimal_job, ErrorKind::invalid_argument, {"model.type=mpl"}) ==
        "train.yml:5:3: unknown model type 'mpl' (expected linear, mlp, text or cnn; did you "
        "mean 'mlp'?)");
  CHECK(parse_error(k_minimal_job, ErrorKind::invalid_argument, {"model.hidden_sizes=64"}) ==
        "train.yml: 'model.hidden_sizes' must be a list of integers such as [64, 32], found '64'");
  CHECK(parse_error(k_minimal_job, ErrorKind::parse, {"model.hidden_sizes=[64"}) ==
        "--set 'model.hidden_sizes=[64': the value is not valid YAML: end of sequence flow not "
        "found");
}

TEST_CASE("train job: datasets and paths are told apart by their text", "[train]") {
  struct SourceCase {
    std::string text;
    bool is_dataset;
    std::string value;
  };
  const std::vector<SourceCase> cases = {
      {"azureml:churn:1", true, "churn:1"},
      {"azureml:churn:latest", true, "churn:latest"},
      {"azureml:churn@latest", true, "churn:latest"},
      {"azureml:my_data.v2-x:12", true, "my_data.v2-x:12"},
      {"churn:3", true, "churn:3"},
      {"churn:03", true, "churn:3"},
      {"churn:latest", true, "churn:latest"},
      {"churn@latest", true, "churn:latest"},
      {"train.csv", false, "/jobs/churn/train.csv"},
      {"TRAIN.CSV", false, "/jobs/churn/TRAIN.CSV"},
      {"churn", false, "/jobs/churn/churn"},
      {"data/churn:1", false, "/jobs/churn/data/churn:1"},
      {"./churn:1", false, "/jobs/churn/churn:1"},
      {"snapshot:1.csv", false, "/jobs/churn/snapshot:1.csv"},
      {"../shared/train.csv", false, "/jobs/shared/train.csv"},
      {"/data/train.csv", false, "/data/train.csv"},
  };
  for (const SourceCase& c : cases) {
    INFO(c.text);
    const TrainSpec spec = parse(k_minimal_job, {"data.train=" + c.text});
    CHECK(spec.train.is_dataset == c.is_dataset);
    CHECK(spec.train.value == c.value);
  }
}

TEST_CASE("train job: a relative base directory is made absolute", "[train]") {
  const TrainSpec spec = parse_train_job(k_minimal_job, "train.yml", "jobs/../churn");
  CHECK(spec.train.value == (std::filesystem::current_path() / "churn/train.csv").string());
}

TEST_CASE("train job: malformed data references are rejected", "[train]") {
  const std::string head = "task: regression\nlabel: y\nmodel: {type: linear}\n";
  check_errors({
      {head + "data: {train: 'azureml:churn'}\n",
       "train.yml:4:15: 'data.train' has an invalid dataset reference 'azureml:churn'; expected "
       "azureml:NAME:VERSION or azureml:NAME@latest"},
      {head + "data: {train: 'azureml:churn:0'}\n",
       "train.yml:4:15: 'data.train' has an invalid dataset reference 'azureml:churn:0'; expected "
       "azureml:NAME:VERSION or azureml:NAME@latest"},
      {head + "data: {train: 'azureml:-churn:1'}\n",
       "train.yml:4:15: 'data.train' has an invalid dataset reference 'azureml:-churn:1'; "
       "expected azureml:NAME:VERSION or azureml:NAME@latest"},
      {head + "data: {train: 'churn:v2'}\n",
       "train.yml:4:15: 'data.train' has an invalid dataset reference 'churn:v2'; expected "
       "NAME:VERSION or NAME:latest, or ./churn:v2 for a file"},
      {head + "data: {train: 'churn@newest'}\n",
       "train.yml:4:15: 'data.train' has an invalid dataset reference 'churn@newest'; expected "
       "NAME:VERSION or NAME:latest, or ./churn@newest for a file"},
      {head + "data: {train: [a.csv]}\n",
       "train.yml:4:15: 'data.train' must be a registered dataset such as azureml:churn:1 or a "
       "CSV path, found a sequence"},
      {head + "data: {train: ''}\n",
       "train.yml:4:15: 'data.train' must be a registered dataset such as azureml:churn:1 or a "
       "CSV path, found ''"},
      {head + "data:\n  train:\n",
       "train.yml:5:3: 'data.train' must be a registered dataset such as azureml:churn:1 or a "
       "CSV path, found nothing"},
      {head + "data: {validation: v.csv}\n",
       "train.yml:4:1: missing required key 'train' in 'data'"},
      {head + "data: train.csv\n",
       "train.yml:4:7: 'data' must be a map such as {train: azureml:churn:1}, found "
       "'train.csv'"},
  });
  CHECK(parse_error("task: regression\nlabel: y\nmodel: {type: linear}\n"
                    "data: {train: 'azureml://datastores/blob/paths/churn.csv'}\n",
                    ErrorKind::not_supported) ==
        "train.yml:4:15: 'data.train' refers to the cloud location "
        "'azureml://datastores/blob/paths/churn.csv', which cannot be read locally; give a local "
        "path or a registered dataset");
}

TEST_CASE("train job: malformed YAML is a parse error with line and column", "[train]") {
  CHECK(parse_error("task: classification\nmodel:\n  hidden_sizes: [64, 32\n", ErrorKind::parse) ==
        "train.yml:4:1: end of sequence flow not found");
}

TEST_CASE("train job: an empty job or one that is not a map is rejected", "[train]") {
  CHECK(parse_error("") ==
        "train.yml: the job is empty; expected a map with at least 'task', 'data', 'label' and "
        "'model'");
  CHECK(parse_error("- task: regression\n") ==
        "train.yml:1:1: expected a map of job fields, found a sequence");
}

TEST_CASE("train job: missing required keys are named", "[train]") {
  CHECK(parse_error("type: train\n") ==
        "train.yml: missing required key 'task'\n"
        "train.yml: missing required key 'data'\n"
        "train.yml: missing required key 'label'\n"
        "train.yml: missing required key 'model'");
  check_errors({
      {with_model("  dropout: 0.1\n"), "train.yml:4:1: missing required key 'type' in 'model'"},
      {with_model("  type: cnn\n  image_width: 8\n"),
       "train.yml:4:1: model type cnn needs 'image_height'"},
      {with_model("  type: cnn\n"),
       "train.yml:4:1: model type cnn needs 'image_height'\n"
       "train.yml:4:1: model type cnn needs 'image_width'"},
  });
}

TEST_CASE("train job: unknown keys are rejected with their position and a suggestion", "[train]") {
  check_errors({
      {k_minimal_job + "lerning_rate: 0.1\n",
       "train.yml:6:1: unknown key 'lerning_rate' (did you mean 'learning_rate'?)"},
      {k_minimal_job + "favourite_colour: blue\n", "train.yml:6:1: unknown key 'favourite_colour'"},
      {"task: classification\ndata: {trian: a.csv}\nlabel: y\nmodel: {type: mlp}\n",
       "train.yml:2:8: unknown key 'trian' in 'data' (did you mean 'train'?)\n"
       "train.yml:2:1: missing required key 'train' in 'data'"},
      {with_model("  type: mlp\n  hiden_sizes: [8]\n"),
       "train.yml:6:3: unknown key 'hiden_sizes' in 'model' (did you mean 'hidden_sizes'?)"},
      {k_minimal_job + "early_stopping: {metric: val_loss, patiance: 2}\n",
       "train.yml:6:36: unknown key 'patiance' in 'early_stopping' (did you mean 'patience'?)"},
      {k_minimal_job + "compute: azureml:cpu-cluster\n", "train.yml:6:1: unknown key 'compute'"},
  });
}

TEST_CASE("train job: model keys are allowed only for the model types they apply to", "[train]") {
  // The brief's own example: vocab_size on line 9 of a job whose model is an mlp.
  CHECK(parse_error("type: train\ntask: classification\ndata:\n  train: a.csv\nlabel: y\nmodel:\n"
                    "  type: mlp\n  hidden_sizes: [8]\n  vocab_size: 100\n") ==
        "train.yml:9:3: 'vocab_size' applies to model type text, not mlp");
  check_errors({
      {with_model("  type: linear\n  hidden_sizes: [8]\n"),
       "train.yml:6:3: 'hidden_sizes' applies to model types mlp, text and cnn, not linear"},
      {with_model("  type: linear\n  dropout: 0.1\n"),
       "train.yml:6:3: 'dropout' applies to model types mlp, text and cnn, not linear"},
      {with_model("  type: linear\n  activation: relu\n"),
       "train.yml:6:3: 'activation' applies to model types mlp, text and cnn, not linear"},
      {with_model("  type: mlp\n  embedding_dim: 8\n"),
       "train.yml:6:3: 'embedding_dim' applies to model type text, not mlp"},
      {with_model("  type: cnn\n  image_height: 8\n  image_width: 8\n  ngrams: 2\n"),
       "train.yml:8:3: 'ngrams' applies to model type text, not cnn"},
      {with_model("  type: text\n  channels: [8]\n  image_width: 8\n"),
       "train.yml:6:3: 'channels' applies to model type cnn, not text\n"
       "train.yml:7:3: 'image_width' applies to model type cnn, not text"},
      {with_model("  image_height: 8\n  type: mlp\n"),
       "train.yml:5:3: 'image_height' applies to model type cnn, not mlp"},
  });
}

TEST_CASE("train job: unknown names in a choice are rejected with the choices", "[train]") {
  check_errors({
      {"task: classification\ndata:\n  train: a.csv\nlabel: y\nmodel:\n  hidden_sizes: [8]\n"
       "  type: mpl\n",
       "train.yml:7:9: unknown model type 'mpl' (expected linear, mlp, text or cnn; did you mean "
       "'mlp'?)"},
      {with_model("  type: transformer\n"),
       "train.yml:5:9: unknown model type 'transformer' (expected linear, mlp, text or cnn)"},
      {"task: clasification\ndata: {train: a.csv}\nlabel: y\nmodel: {type: mlp}\n",
       "train.yml:1:7: unknown task 'clasification' (expected classification or regression; did "
       "you mean 'classification'?)"},
      {with_model("  type: mlp\n  activation: rellu\n"),
       "train.yml:6:15: unknown activation 'rellu' (expected relu, tanh, gelu or sigmoid; did "
       "you mean 'relu'?)"},
      {k_minimal_job + "optimizer: adamm\n",
       "train.yml:6:12: unknown optimizer 'adamm' (expected adam, adamw or sgd; did you mean "
       "'adam'?)"},
      {k_minimal_job + "device: gpu\n",
       "train.yml:6:9: unknown device 'gpu' (expected auto, cpu or cuda; did you mean 'cpu'?)"},
      {k_minimal_job + "device: tpu-v4\n",
       "train.yml:6:9: unknown device 'tpu-v4' (expected auto, cpu or cuda)"},
      {k_minimal_job + "early_stopping: {metric: val_loss, mode: lowest}\n",
       "train.yml:6:42: unknown early stopping mode 'lowest' (expected min or max)"},
      {"task: [classification]\ndata: {train: a.csv}\nlabel: y\nmodel: {type: mlp}\n",
       "train.yml:1:7: 'task' must be classification or regression, found a sequence"},
      {"task:\ndata: {train: a.csv}\nlabel: y\nmodel: {type: mlp}\n",
       "train.yml:1:1: 'task' must be classification or regression, found nothing"},
      {"type: command\n" + k_minimal_job, "train.yml:1:7: expected type 'train', found 'command'"},
  });
}

TEST_CASE("train job: values out of range name the place and the expected value", "[train]") {
  // Each line replaces line 6 of the minimal job.
  struct RangeCase {
    std::string line;
    std::string message;
  };
  const std::vector<RangeCase> cases = {
      {"learning_rate: 0", "train.yml:6:16: 'learning_rate' must be a number > 0, found '0'"},
      {"learning_rate: -0.1", "train.yml:6:16: 'learning_rate' must be a number > 0, found '-0.1'"},
      {"learning_rate: fast", "train.yml:6:16: 'learning_rate' must be a number > 0, found 'fast'"},
      {"learning_rate: .nan", "train.yml:6:16: 'learning_rate' must be a number > 0, found '.nan'"},
      {"learning_rate: inf", "train.yml:6:16: 'learning_rate' must be a number > 0, found 'inf'"},
      {"num_epochs: 0", "train.yml:6:13: 'num_epochs' must be an integer >= 1, found '0'"},
      {"num_epochs: 2.5", "train.yml:6:13: 'num_epochs' must be an integer >= 1, found '2.5'"},
      {"num_epochs: 99999999999",
       "train.yml:6:13: 'num_epochs' must be an integer >= 1, found '99999999999'"},
      {"batch_size: -4", "train.yml:6:13: 'batch_size' must be an integer >= 1, found '-4'"},
      {"batch_size: [32]",
       "train.yml:6:13: 'batch_size' must be an integer >= 1, found a sequence"},
      {"momentum: 1", "train.yml:6:11: 'momentum' must be a number in [0, 1), found '1'"},
      {"weight_decay: -1", "train.yml:6:15: 'weight_decay' must be a number >= 0, found '-1'"},
      {"validation_fraction: 1",
       "train.yml:6:22: 'validation_fraction' must be a number in [0, 1), found '1'"},
      {"test_fraction: -0.1",
       "train.yml:6:16: 'test_fraction' must be a number in [0, 1), found '-0.1'"},
      {"validation_fraction: 0.9",
       "train.yml:6:22: 'validation_fraction' + 'test_fraction' must be below 1, found 0.9 + "
       "0.2"},
      {"seed: -1", "train.yml:6:7: 'seed' must be an integer >= 0, found '-1'"},
      {"threads: -2", "train.yml:6:10: 'threads' must be an integer >= 0, found '-2'"},
      {"early_stopping: {metric: val_loss, patience: 0}",
       "train.yml:6:46: 'early_stopping.patience' must be an integer >= 1, found '0'"},
      {"early_stopping: {metric: loss}",
       "train.yml:6:26: 'early_stopping.metric' must be a validation metric such as val_loss, "
       "found 'loss'"},
      {"early_stopping: {metric: val_}",
       "train.yml:6:26: 'early_stopping.metric' must be a validation metric such as val_loss, "
       "found 'val_'"},
      {"early_stopping: {patience: 2}",
       "train.yml:6:1: missing required key 'metric' in 'early_stopping'"},
      {"early_stopping: val_loss",
       "train.yml:6:17: 'early_stopping' must be a map such as {metric: val_loss, patience: 3}, "
       "found 'val_loss'"},
      {"features: age",
       "train.yml:6:11: 'features' must be a list of column names such as "
       "[age, plan], found 'age'"},
      {"features: []",
       "train.yml:6:11: 'features' is empty; leave it out to use every column but the label"},
      {"features: [age, {a: 1}, age]",
       "train.yml:6:17: 'features[1]' must be a column name, found a map\n"
       "train.yml:6:25: 'features' names 'age' twice"},
      {"features: [age, churned]", "train.yml:6:17: 'features' includes the label 'churned'"},
      {"tags: [a]", "train.yml:6:7: 'tags' must be a map of names to values, found a sequence"},
      {"tags: {team: [a, b]}", "train.yml:6:14: tag 'team' must be a string, found a sequence"},
      {"description: {text: x}", "train.yml:6:14: 'description' must be a string, found a map"},
      {"task: regression", "train.yml:6:1: duplicate key 'task' (first given at line 1)"},
  };
  for (const RangeCase& c : cases) {
    INFO(c.line);
    CHECK(parse_error(k_minimal_job + c.line + "\n") == c.message);
  }
  check_errors({
      {"task: classification\ndata: {train: a.csv}\nlabel:\nmodel: {type: mlp}\n",
       "train.yml:3:1: 'label' must be the name of the target column, found nothing"},
      {"task: classification\ndata: {train: a.csv}\nlabel: [y]\nmodel: {type: mlp}\n",
       "train.yml:3:8: 'label' must be a string, found a sequence"},
      {"task: classification\ndata: {train: a.csv}\nlabel: y\nmodel: mlp\n",
       "train.yml:4:8: 'model' must be a map such as {type: mlp}, found 'mlp'"},
  });
}

TEST_CASE("train job: model values out of range name the place and the expected value", "[train]") {
  check_errors({
      {with_model("  type: mlp\n  dropout: 1\n"),
       "train.yml:6:12: 'model.dropout' must be a number in [0, 1), found '1'"},
      {with_model("  type: mlp\n  hidden_sizes: [64, 0, x]\n"),
       "train.yml:6:22: 'model.hidden_sizes[1]' must be an integer >= 1, found '0'\n"
       "train.yml:6:25: 'model.hidden_sizes[2]' must be an integer >= 1, found 'x'"},
      {with_model("  type: mlp\n  hidden_sizes: 64\n"),
       "train.yml:6:17: 'model.hidden_sizes' must be a list of integers such as [64, 32], found "
       "'64'"},
      {with_model("  type: mlp\n  hidden_sizes: []\n"),
       "train.yml:6:17: 'model.hidden_sizes' is empty, which model type mlp does not allow; use "
       "model type linear for a model without hidden layers"},
      {with_model("  type: text\n  vocab_size: 9\n"),
       "train.yml:6:15: 'model.vocab_size' must be an integer >= 10, found '9'"},
      {with_model("  type: text\n  embedding_dim: 0\n"),
       "train.yml:6:18: 'model.embedding_dim' must be an integer >= 1, found '0'"},
      {with_model("  type: text\n  ngrams: 4\n"),
       "train.yml:6:11: 'model.ngrams' must be an integer from 1 to 3, found '4'"},
      {with_model("  type: cnn\n  image_height: 0\n  image_width: 8\n"),
       "train.yml:6:17: 'model.image_height' must be an integer >= 1, found '0'"},
      {with_model("  type: cnn\n  image_height: 8\n  image_width: 8\n  channels: []\n"),
       "train.yml:8:13: 'model.channels' must be a list of one or more integers such as [16, "
       "32], found an empty sequence"},
  });
}

TEST_CASE("train job: a fraction replaced by a data file does not count towards the sum",
          "[train]") {
  const std::string job = k_minimal_job + "validation_fraction: 0.9\ntest_fraction: 0.5\n";
  CHECK(parse_error(job) ==
        "train.yml:7:16: 'validation_fraction' + 'test_fraction' must be below 1, found 0.9 + "
        "0.5");
  const TrainSpec spec = parse(job, {"data.validation=azureml:churn-val:1"});
  CHECK(spec.validation_fraction == 0.9);  // kept as written, unused
  CHECK(parse(job, {"data.test=test.csv"}).test_fraction == 0.5);
}

TEST_CASE("train job: early stopping needs validation data", "[train]") {
  const std::string job =
      k_minimal_job + "validation_fraction: 0\nearly_stopping: {metric: val_loss}\n";
  CHECK(parse_error(job) ==
        "train.yml:7:1: 'early_stopping' needs validation data; give data.validation or a "
        "validation_fraction above 0");
  CHECK(parse(job, {"data.validation=v.csv"}).early_stopping->metric == "val_loss");
}

TEST_CASE("train job: every problem is reported at once, one per line", "[train]") {
  CHECK(parse_error("task: regresion\ndata: {train: a.csv}\nlearning_rate: 0\n"
                    "model:\n  type: linear\n  hidden_sizes: [8]\n") ==
        "train.yml:1:7: unknown task 'regresion' (expected classification or regression; did "
        "you mean 'regression'?)\n"
        "train.yml:3:16: 'learning_rate' must be a number > 0, found '0'\n"
        "train.yml:6:3: 'hidden_sizes' applies to model types mlp, text and cnn, not linear\n"
        "train.yml: missing required key 'label'");
}

TEST_CASE("train spec: to_json writes every field and from_json reads it back", "[train]") {
  const TrainSpec full = parse(k_full_job);
  const Json json = full.to_json();
  CHECK(json.dump() ==
        R"({"source":"train.yml","type":"train","task":"classification",)"
        R"("data":{"train":{"kind":"dataset","value":"churn:1","line":5,"column":10},)"
        R"("validation":{"kind":"path","value":"/jobs/churn/data/val.csv","line":6,"column":15},)"
        R"("test":{"kind":"dataset","value":"churn-test:latest","line":7,"column":9}},)"
        R"("label":"churned","features":["age","plan","comment"],)"
        R"("validation_fraction":0.1,"test_fraction":0.15,)"
        R"("model":{"type":"mlp","hidden_sizes":[64,32],"dropout":0.1,"activation":"gelu"},)"
        R"("learning_rate":0.001,"num_epochs":30,"batch_size":64,"optimizer":"sgd",)"
        R"("momentum":0.8,"weight_decay":0.0001,)"
        R"("early_stopping":{"metric":"val_accuracy","patience":5,"mode":"max"},)"
        R"("seed":7,"device":"cpu","threads":2,"experiment_name":"churn",)"
        R"("display_name":"mlp-64-32","description":"Churn baseline.",)"
        R"("tags":{"stage":"dev","team":"a"}})");
  CHECK(TrainSpec::from_json(json) == full);
  // Through text too, as a stored spec is read back.
  CHECK(TrainSpec::from_json(Json::parse(json.dump())) == full);

  const std::vector<std::string> models = {
      "  type: linear\n", "  type: mlp\n",
      "  type: text\n  vocab_size: 300\n  ngrams: 2\n  hidden_sizes: [16]\n",
      "  type: cnn\n  image_height: 28\n  image_width: 28\n  channels: [8]\n  dropout: 0.25\n"};
  for (const std::string& model : models) {
    INFO(model);
    const TrainSpec spec = parse(with_model(model));
    CHECK(TrainSpec::from_json(spec.to_json()) == spec);
  }
  // Keys that do not apply to the model type are left out.
  CHECK(parse(with_model("  type: linear\n")).to_json()["model"].dump() == R"({"type":"linear"})");
  CHECK(parse(with_model("  type: cnn\n  image_height: 2\n  image_width: 3\n"))
            .to_json()["model"]
            .dump() ==
        R"({"type":"cnn","hidden_sizes":[],"dropout":0.0,"activation":"relu","image_height":2,"image_width":3,)"
        R"("channels":[16,32]})");
  const Json minimal = parse(k_minimal_job).to_json();
  CHECK(minimal["data"]["validation"].is_null());
  CHECK(minimal["early_stopping"].is_null());
}

TEST_CASE("train spec: from_json fills defaults and rejects malformed specs", "[train]") {
  const TrainSpec spec = TrainSpec::from_json(Json::parse(
      R"({"task":"regression","data":{"train":{"kind":"path","value":"/d/a.csv"}},)"
      R"("label":"y","model":{"type":"text"},"early_stopping":{"metric":"val_rmse"}})"));
  CHECK(spec.task == Task::regression);
  CHECK(spec.train == DataSource{false, "/d/a.csv", 0, 0});
  CHECK(spec.model.type == ModelType::text);
  CHECK(spec.model.vocab_size == 20000);
  CHECK(spec.model.hidden_sizes.empty());
  CHECK(spec.early_stopping->patience == 3);
  CHECK_FALSE(spec.early_stopping->maximize);
  CHECK(spec.learning_rate == 0.001);
  CHECK(spec.seed == 42);

  const std::string base_data = R"("data":{"train":{"kind":"dataset","value":"c:1"}})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[]", "train spec: expected an object"},
      {R"({"label":"y","model":{"type":"mlp"},)" + base_data + "}",
       "train spec: missing required key 'task'"},
      {R"({"task":"ranking","label":"y","model":{"type":"mlp"},)" + base_data + "}",
       "train spec: unknown task 'ranking'"},
      {R"({"task":"regression","label":"y","model":{"type":"rnn"},)" + base_data + "}",
       "train spec: unknown model type 'rnn'"},
      {R"({"task":"regression","label":"y","model":{"type":"mlp"},"data":{}})",
       "train spec: missing required key 'data.train'"},
      {R"({"task":"regression","label":"y","model":{"type":"mlp"},)"
       R"("data":{"train":{"kind":"blob","value":"x"}}})",
       "train spec: unknown kind 'blob' in 'data.train'"},
      {R"({"task":"regression","label":"y","model":{"type":"mlp"},"type":"command",)" + base_data +
           "}",
       "train spec: expected type 'train', found \"command\""},
      {R"({"task":"regression","label":"y","model":{"type":"mlp"},"early_stopping":{"metric":)"
       R"("val_loss","mode":"up"},)" +
           base_data + "}",
       "train spec: unknown early stopping mode 'up'"},
  };
  for (const auto& [text, message] : cases) {
    INFO(text);
    const mlctl::Error error = error_from([&] { TrainSpec::from_json(Json::parse(text)); });
    CHECK(error.kind() == ErrorKind::parse);
    CHECK(error.what() == message);
  }
  // A wrong type is reported by nlohmann, translated.
  const mlctl::Error error = error_from([&] {
    TrainSpec::from_json(Json::parse(R"({"task":"regression","label":"y","model":{"type":"mlp"},)"
                                     R"("learning_rate":"fast",)" +
                                     base_data + "}"));
  });
  CHECK(error.kind() == ErrorKind::parse);
  CHECK(std::string(error.what()).starts_with("train spec: [json.exception.type_error"));
}

TEST_CASE("train spec: params flatten every hyperparameter in a fixed order", "[train]") {
  using Params = std::vector<std::pair<std::string, std::string>>;
  CHECK(parse(k_full_job).params() == Params{
                                          {"task", "classification"},
                                          {"label", "churned"},
                                          {"features", "[age,plan,comment]"},
                                          {"model.type", "mlp"},
                                          {"model.hidden_sizes", "[64,32]"},
                                          {"model.dropout", "0.1"},
                                          {"model.activation", "gelu"},
                                          {"learning_rate", "0.001"},
                                          {"num_epochs", "30"},
                                          {"batch_size", "64"},
                                          {"optimizer", "sgd"},
                                          {"momentum", "0.8"},
                                          {"weight_decay", "0.0001"},
                                          {"early_stopping.metric", "val_accuracy"},
                                          {"early_stopping.patience", "5"},
                                          {"early_stopping.mode", "max"},
                                          {"seed", "7"},
                                          {"device", "cpu"},
                                          {"threads", "2"},
                                      });
  // Fractions appear when no data file replaces them; momentum only for sgd.
  CHECK(parse(with_model("  type: text\n  ngrams: 2\n"), {"learning_rate=1e-5"}).params() ==
        Params{
            {"task", "classification"},
            {"label", "churned"},
            {"validation_fraction", "0.2"},
            {"test_fraction", "0.2"},
            {"model.type", "text"},
            {"model.hidden_sizes", "[]"},
            {"model.dropout", "0"},
            {"model.activation", "relu"},
            {"model.vocab_size", "20000"},
            {"model.embedding_dim", "64"},
            {"model.ngrams", "2"},
            {"learning_rate", "1e-05"},
            {"num_epochs", "20"},
            {"batch_size", "32"},
            {"optimizer", "adam"},
            {"weight_decay", "0"},
            {"seed", "42"},
            {"device", "auto"},
            {"threads", "0"},
        });
}

TEST_CASE("train spec: enum names are stable", "[train]") {
  using mlctl::train::to_string;
  CHECK(std::string(to_string(Task::classification)) == "classification");
  CHECK(std::string(to_string(Task::regression)) == "regression");
  CHECK(std::string(to_string(ModelType::linear)) == "linear");
  CHECK(std::string(to_string(ModelType::mlp)) == "mlp");
  CHECK(std::string(to_string(ModelType::text)) == "text");
  CHECK(std::string(to_string(ModelType::cnn)) == "cnn");
}
