// Training jobs on real data (the breast-cancer table of examples/churn):
// metrics, reproducibility, overrides, early validation, scoring, resume.
#include <chrono>
#include <sstream>
#include <thread>

#include "cli/cli_fixture.hpp"

using namespace mlctl::testing;
using mlctl::Json;

namespace {

// A train job over the example data, with the given model section.
std::string train_job(const std::string& model, int epochs, const std::string& extra = "") {
  return "type: train\n"
         "task: classification\n"
         "data:\n"
         "  train: " +
         (source_dir() / "examples" / "churn" / "data" / "breast_cancer.csv").string() +
         "\n"
         "label: diagnosis\n"
         "model:\n" +
         model +
         "learning_rate: 0.01\n"
         "num_epochs: " +
         std::to_string(epochs) +
         "\n"
         "batch_size: 32\n"
         "seed: 7\n" +
         extra;
}

// A text job over a 600-mail sample of the SpamAssassin corpus
// (tests/fixtures/README.md), with the given extra lines.
std::string text_job(int epochs, const std::string& extra = "", const std::string& learning_rate = "0.01") {
  return "type: train\n"
         "task: classification\n"
         "data:\n"
         "  train: " +
         (source_dir() / "tests" / "fixtures" / "spam_sample.csv").string() +
         "\n"
         "label: label\n"
         "features: [text]\n"
         "validation_fraction: 0.2\n"
         "test_fraction: 0.2\n"
         "model:\n"
         "  type: text\n"
         "  vocab_size: 5000\n"
         "  embedding_dim: 32\n"
         "learning_rate: " +
         learning_rate +
         "\n"
         "num_epochs: " +
         std::to_string(epochs) +
         "\n"
         "batch_size: 32\n"
         "seed: 11\n" +
         extra;
}

// Submits `job` detached, kills its trainer with SIGKILL once `epochs`
// epochs are logged, and returns the run id.
std::string submit_and_kill(const ProjectFixture& project, const std::string& job, int epochs) {
  auto detached = project.json({"experiment", "submit", "-f", job, "--detach"});
  std::string id = detached["id"];
  for (int i = 0; i < 1000; ++i) {
    auto points = project.json({"run", "metrics", id, "--query", "[?name=='train_loss'] | length(@)"});
    if (points.get<int>() >= epochs) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(project.shell("pkill -9 -f '[t]rain worker " + id + "'").exit_code == 0);
  auto killed = project.mlctl({"run", "wait", id, "--timeout", "30", "-o", "json"});
  CHECK(killed.exit_code == 1);
  CHECK(Json::parse(killed.out)["status_reason"] == "killed by signal 9 (SIGKILL)");
  return id;
}

}  // namespace

TEST_CASE("cli train: the churn example reaches its accuracy and AUC on the held-out split", "[cli][train][torch]") {
  ProjectFixture project;
  auto result = project.mlctl(
      {"experiment", "submit", "-f", (source_dir() / "examples" / "churn" / "train.yml").string(), "-o", "json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  std::string id = Json::parse(result.out)["id"];
  Json run = project.json({"run", "show", id});
  CHECK(run["kind"] == "train");
  CHECK(run["experiment"] == "churn");
  CHECK(run["metrics"]["test_accuracy"].get<double>() >= 0.95);
  CHECK(run["metrics"]["test_auc"].get<double>() >= 0.98);
  CHECK(run["params"]["model.type"] == "linear");
  CHECK(run["params"]["learning_rate"] == "0.01");
  CHECK(run["inputs"]["train"] == "breast_cancer:1");  // a path is registered: lineage is kept
  for (const char* artifact : {"outputs/model/model.json", "outputs/model/preprocessor.json",
                               "outputs/model/weights.pt", "outputs/model/model.yaml",
                               "outputs/evaluation/confusion_matrix.json", "outputs/evaluation/roc_curve.json"}) {
    CHECK(std::find(run["artifacts"].begin(), run["artifacts"].end(), artifact) != run["artifacts"].end());
  }
  // Every epoch logged the validation metrics of a binary classifier.
  auto epochs = project.json({"run", "metrics", id, "--name", "val_auc"});
  CHECK(epochs.size() >= 2);
  CHECK(project.json({"run", "metrics", id, "--name", "train_loss"}).size() == epochs.size());
}

TEST_CASE("cli train: the same seed on CPU gives the same metrics bit for bit", "[cli][train][torch]") {
  ProjectFixture project;
  write_text(project / "mlp.yml", train_job("  type: mlp\n  hidden_sizes: [16]\n  dropout: 0.2\n", 5,
                                            "device: cpu\n"));
  auto first = project.json({"experiment", "submit", "-f", "mlp.yml"});
  auto second = project.json({"experiment", "submit", "-f", "mlp.yml"});
  for (const char* metric : {"train_loss", "val_loss", "val_accuracy", "test_loss", "test_auc"}) {
    CHECK(project.json({"run", "metrics", first["id"], "--name", metric, "--query", "[].value"}) ==
          project.json({"run", "metrics", second["id"], "--name", metric, "--query", "[].value"}));
  }
  auto weights = [&](const Json& run) {
    return project.json({"run", "artifacts", run["id"], "--query", "[?path=='outputs/model/weights.pt'].sha256 | [0]"});
  };
  CHECK(weights(first) == weights(second));
}

TEST_CASE("cli train: --set overrides hyperparameters and records them as params", "[cli][train][torch]") {
  ProjectFixture project;
  write_text(project / "mlp.yml", train_job("  type: mlp\n  hidden_sizes: [8]\n", 2));
  auto run = project.json({"experiment", "submit", "-f", "mlp.yml", "--set", "model.hidden_sizes=[12,6]", "--set",
                           "learning_rate=0.02", "--set", "optimizer=sgd"});
  Json shown = project.json({"run", "show", run["id"]});
  CHECK(shown["params"]["model.hidden_sizes"] == "[12,6]");
  CHECK(shown["params"]["learning_rate"] == "0.02");
  CHECK(shown["params"]["optimizer"] == "sgd");
  CHECK(shown["status"] == "completed");
}

TEST_CASE("cli train: a wrong label or model type is rejected before anything trains", "[cli][train]") {
  ProjectFixture project;
  write_text(project / "label.yml", train_job("  type: linear\n", 2));
  auto label = project.mlctl({"experiment", "submit", "-f", "label.yml", "--set", "label=diagnosys"});
  CHECK(label.exit_code == 2);
  CHECK(first_line(label.err) == "error: label.yml: label 'diagnosys' is not a column of breast_cancer:1 (did you mean 'diagnosis'?)");
  write_text(project / "type.yml", train_job("  type: mpl\n", 2));
  auto type = project.mlctl({"experiment", "submit", "-f", "type.yml"});
  CHECK(type.exit_code == 2);
  CHECK(type.err.find("unknown model type 'mpl'") != std::string::npos);
  CHECK(type.err.find("did you mean 'mlp'") != std::string::npos);
  CHECK(project.json({"run", "list"}).empty());
}

TEST_CASE("cli train: model predict scores a CSV with the saved preprocessing", "[cli][train][torch]") {
  ProjectFixture project;
  auto run = project.json({"experiment", "submit", "-f", (source_dir() / "examples" / "churn" / "train.yml").string()});
  std::string data = (source_dir() / "examples" / "churn" / "data" / "breast_cancer.csv").string();
  auto predictions = project.json({"model", "predict", "--run", run["id"], "--input", data});
  REQUIRE(predictions.size() == 569);
  int correct = 0;
  auto labels = project.shell("tail -n +2 '" + data + "' | awk -F, '{print $NF}'").out;
  std::istringstream lines(labels);
  std::string label;
  for (const auto& prediction : predictions) {
    std::getline(lines, label);
    correct += prediction["prediction"] == label;
    CHECK(prediction["probabilities"].size() == 2);
  }
  CHECK(correct >= 540);  // 95% of all rows, training rows included
  auto written = project.json({"model", "predict", "--run", run["id"], "--input", data, "--output", "preds.csv"});
  CHECK(written["rows"] == 569);
  CHECK(project.shell("head -1 preds.csv").out == "prediction,probability_benign,probability_malignant\n");

  write_text(project / "partial.csv", "mean_radius,mean_texture\n1,2\n");
  auto missing = project.mlctl({"model", "predict", "--run", run["id"], "--input", "partial.csv"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("no column 'mean_perimeter'") != std::string::npos);
}

TEST_CASE("cli train: a run killed mid-training resumes to the same final result", "[cli][train][torch]") {
  ProjectFixture project;
  // An epoch of this MLP takes well under a millisecond: enough of them
  // that the kill comes long before the end.
  write_text(project / "long.yml", train_job("  type: mlp\n  hidden_sizes: [16]\n", 1500, "device: cpu\n"));
  auto reference = project.json({"experiment", "submit", "-f", "long.yml"});
  std::string id = submit_and_kill(project, "long.yml", 10);

  auto resumed = project.mlctl({"experiment", "submit", "--resume", id, "-o", "json"});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK(resumed.err.find("resuming run " + id) != std::string::npos);
  Json finished = project.json({"run", "show", id});
  Json expected = project.json({"run", "show", reference["id"]});
  CHECK(finished["status"] == "completed");
  for (const char* metric : {"test_accuracy", "test_loss", "test_auc", "val_loss", "best_epoch"}) {
    INFO(metric);
    CHECK(finished["metrics"][metric] == expected["metrics"][metric]);
  }
  CHECK(project.mlctl({"experiment", "submit", "--resume", reference["id"]}).exit_code == 4);
}

TEST_CASE("cli train: the digits example trains a CNN on 8x8 images to 95%", "[cli][train][torch]") {
  ProjectFixture project;
  auto run = project.json(
      {"experiment", "submit", "-f", (source_dir() / "examples" / "digits" / "train.yml").string()});
  CHECK(run["status"] == "completed");
  Json shown = project.json({"run", "show", run["id"]});
  CHECK(shown["params"]["model.type"] == "cnn");
  CHECK(shown["metrics"]["test_accuracy"].get<double>() >= 0.95);
  auto confusion = project.shell("mlctl run download " + run["id"].get<std::string>() +
                                 " --artifact outputs/evaluation/confusion_matrix.json --dest out >/dev/null && "
                                 "cat out/outputs/evaluation/confusion_matrix.json");
  Json matrix = Json::parse(confusion.out);
  CHECK(matrix["classes"].size() == 10);
  CHECK(matrix["matrix"].size() == 10);
}

TEST_CASE("cli train: a text model learns spam from e-mails", "[cli][train][torch]") {
  ProjectFixture project;
  write_text(project / "text.yml", text_job(8));
  auto run = project.json({"experiment", "submit", "-f", "text.yml"});
  CHECK(run["status"] == "completed");
  Json shown = project.json({"run", "show", run["id"]});
  CHECK(shown["params"]["model.type"] == "text");
  CHECK(shown["metrics"]["test_accuracy"].get<double>() >= 0.9);
  // The model scores the raw text with the vocabulary fitted in training.
  write_text(project / "mails.csv",
             "text\n\"Re: the build is broken again, I will look at the patch tomorrow\"\n"
             "\"FREE!!! Click here to claim your prize, limited offer, order now\"\n");
  Json scored = project.json({"model", "predict", "--run", run["id"], "--input", "mails.csv"});
  REQUIRE(scored.size() == 2);
  CHECK(scored[0]["prediction"] == "ham");
  CHECK(scored[1]["prediction"] == "spam");
}

TEST_CASE("cli train: the GPU code paths match the CPU training step for every model, optimiser and loss",
          "[cli][train][torch]") {
  // MLCTL_TRAIN_TENSOR_OPS=1 runs on the CPU what a GPU runs: autograd
  // over ATen's operations (max pooling and dropout included) and the
  // optimiser's tensor operations, instead of mlctl's CPU training step and
  // loops. Both must give the same model, dense (MLP, CNN, with dropout,
  // classification and regression) and sparse (text).
  ProjectFixture project;
  const std::string digits = (source_dir() / "examples" / "digits" / "data" / "digits.csv").string();
  // 63 of the 64 pixels as 9x7 and as 7x9 images: odd sizes, whose last
  // row or column pooling drops, and windows that do not fill whole lanes.
  std::string odd_pixels = "features: [p0";
  for (int pixel = 1; pixel < 63; ++pixel) odd_pixels += ", p" + std::to_string(pixel);
  odd_pixels += "]\n";
  auto odd_cnn = [&](int height, int width) {
    return "type: train\ntask: classification\ndata:\n  train: " + digits + "\nlabel: digit\n" + odd_pixels +
           "model:\n  type: cnn\n  image_height: " + std::to_string(height) + "\n  image_width: " +
           std::to_string(width) + "\n  channels: [4, 8]\nlearning_rate: 0.002\nnum_epochs: 2\nbatch_size: 32\nseed: 3\n";
  };
  // The breast-cancer table's mean radius from its other columns.
  std::string regression_job = train_job("  type: mlp\n  hidden_sizes: [16]\n  dropout: 0.1\n", 4);
  regression_job.replace(regression_job.find("task: classification"), 20, "task: regression");
  regression_job.replace(regression_job.find("label: diagnosis"), 16, "label: mean_radius");
  const std::vector<std::pair<std::string, std::string>> jobs = {
      {"mlp-adam", train_job("  type: mlp\n  hidden_sizes: [16]\n", 4)},
      {"mlp-adamw", train_job("  type: mlp\n  hidden_sizes: [16]\n", 4, "optimizer: adamw\nweight_decay: 0.01\n")},
      {"mlp-sgd", train_job("  type: mlp\n  hidden_sizes: [16]\n", 4,
                            "optimizer: sgd\nmomentum: 0.9\nweight_decay: 0.001\n")},
      {"cnn", "type: train\ntask: classification\ndata:\n  train: " + digits +
                  "\nlabel: digit\nmodel:\n  type: cnn\n  image_height: 8\n  image_width: 8\n  channels: [4, 8]\n"
                  "learning_rate: 0.002\nnum_epochs: 2\nbatch_size: 32\nseed: 3\n"},
      {"cnn-head-dropout", "type: train\ntask: classification\ndata:\n  train: " + digits +
                               "\nlabel: digit\nmodel:\n  type: cnn\n  image_height: 8\n  image_width: 8\n"
                               "  channels: [4, 8]\n  hidden_sizes: [16]\n  dropout: 0.3\n"
                               "learning_rate: 0.002\nnum_epochs: 2\nbatch_size: 32\nseed: 3\n"},
      {"mlp-dropout", train_job("  type: mlp\n  hidden_sizes: [16, 8]\n  dropout: 0.3\n", 4)},
      {"mlp-regression", regression_job},
      {"cnn-9x7", odd_cnn(9, 7)},
      {"cnn-7x9", odd_cnn(7, 9)},
      {"text-adam", text_job(3, "weight_decay: 0.001\n")},
      {"text-adamw", text_job(3, "optimizer: adamw\nweight_decay: 0.01\n")},
      {"text-sgd", text_job(3, "optimizer: sgd\nmomentum: 0.9\n", "0.5")},
  };
  for (const auto& [name, job] : jobs) {
    INFO(name);
    write_text(project / (name + ".yml"), job);
    Json loops = project.json({"experiment", "submit", "-f", name + ".yml"});
    auto tensors = project.shell("MLCTL_TRAIN_TENSOR_OPS=1 mlctl experiment submit -f " + name + ".yml -o json");
    INFO(tensors.err);
    REQUIRE(tensors.exit_code == 0);
    Json tensor_run = Json::parse(tensors.out);
    const bool regression = name.find("regression") != std::string::npos;
    for (const char* metric : {"test_loss", regression ? "test_rmse" : "test_accuracy"}) {
      INFO(metric);
      double expected = loops["metrics"][metric], found = tensor_run["metrics"][metric];
      CHECK(found == Approx(expected).epsilon(1e-6));
    }
    // Training moved the model away from its initial loss.
    auto losses = project.json({"run", "metrics", loops["id"], "--name", "train_loss"});
    CHECK(losses.back()["value"].get<double>() < losses.front()["value"].get<double>());
  }
}

TEST_CASE("cli train: a killed text model resumes to the same result and a damaged checkpoint is refused",
          "[cli][train][torch]") {
  ProjectFixture project;
  write_text(project / "text.yml", text_job(40));
  auto reference = project.json({"experiment", "submit", "-f", "text.yml"});
  std::string id = submit_and_kill(project, "text.yml", 3);
  auto resumed = project.mlctl({"experiment", "submit", "--resume", id, "-o", "json"});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  Json finished = project.json({"run", "show", id});
  Json expected = project.json({"run", "show", reference["id"]});
  for (const char* metric : {"test_accuracy", "test_loss", "val_loss", "best_epoch"}) {
    INFO(metric);
    CHECK(finished["metrics"][metric] == expected["metrics"][metric]);
  }

  std::string damaged = submit_and_kill(project, "text.yml", 2);
  // The newest checkpoint-EEEEEE.bin of the run (zero-padded: names sort as epochs).
  std::filesystem::path checkpoint;
  for (const auto& entry : std::filesystem::directory_iterator(project / ".mlctl" / "runs" / damaged / "checkpoints")) {
    std::string name = entry.path().filename().string();
    if (name.starts_with("checkpoint-") && name.ends_with(".bin") && entry.path() > checkpoint) checkpoint = entry.path();
  }
  REQUIRE_FALSE(checkpoint.empty());
  write_text(checkpoint, "not a checkpoint");
  auto refused = project.mlctl({"experiment", "submit", "--resume", damaged, "-o", "json"});
  CHECK(refused.exit_code != 0);
  CHECK(refused.err.find("checkpoint " + checkpoint.string() + ": not an mlctl checkpoint") != std::string::npos);
}
