#include "trainer.hpp"

#include <torch/cuda.h>
#include <torch/nn.h>
#include <torch/serialize.h>
#include <torch/utils.h>

#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/train/checkpoint_files.hpp>
#include <mlctl/train/eval_metrics.hpp>

#include "checkpoint.hpp"
#include "cpu_training_step.hpp"
#include "flat_optimizer.hpp"
#include "models.hpp"

namespace mlctl::torch_backend {
namespace {

constexpr std::int64_t k_eval_chunk = 8192;

// The rows `index` of `source`, on `device`. On the CPU they are copied
// row by row: index_select, with the index tensor it needs, took a sixth of
// a small model's training step.
torch::Tensor rows_of(const torch::Tensor& source, const std::vector<std::int64_t>& index, torch::Device device) {
  if (source.device().is_cpu() && source.is_contiguous() && !device_code_paths_forced()) {
    std::vector<std::int64_t> shape = source.sizes().vec();
    shape[0] = std::int64_t(index.size());
    torch::Tensor rows = torch::empty(shape, source.options());
    const std::size_t row_bytes = std::size_t(source.stride(0)) * source.element_size();
    const auto* from = static_cast<const char*>(source.data_ptr());
    auto* to = static_cast<char*>(rows.data_ptr());
    for (std::int64_t row : index) {
      std::memcpy(to, from + std::size_t(row) * row_bytes, row_bytes);
      to += row_bytes;
    }
    return rows;
  }
  auto rows = torch::from_blob(const_cast<std::int64_t*>(index.data()), {std::int64_t(index.size())}, torch::kInt64);
  return source.index_select(0, rows.to(device));
}

// A split as tensors on the training device.
struct DeviceSplit {
  std::int64_t rows = 0;
  torch::Tensor features;       // dense models
  std::vector<std::int64_t> ids;      // text: host copies, gathered per batch
  std::vector<std::int64_t> offsets;  // text: start of each row in ids
  torch::Tensor labels;         // int64 classes or float targets
  bool text = false;

  // The rows `index` of this split, as model inputs.
  void batch(const std::vector<std::int64_t>& index, torch::Device device, torch::Tensor& x, torch::Tensor& batch_ids,
             torch::Tensor& batch_offsets) const {
    if (!text) {
      x = rows_of(features, index, device);
      return;
    }
    std::vector<std::int64_t> gathered, starts;
    starts.reserve(index.size());
    for (std::int64_t row : index) {
      starts.push_back(std::int64_t(gathered.size()));
      std::int64_t begin = offsets[row];
      std::int64_t end = row + 1 < rows ? offsets[row + 1] : std::int64_t(ids.size());
      gathered.insert(gathered.end(), ids.begin() + begin, ids.begin() + end);
    }
    batch_ids = torch::tensor(gathered, torch::kInt64).to(device);
    batch_offsets = torch::tensor(starts, torch::kInt64).to(device);
  }
};

DeviceSplit to_device(const MlctlSplit& split, bool text, bool classification, torch::Device device) {
  DeviceSplit result;
  result.rows = split.rows;
  result.text = text;
  if (text) {
    if (!split.text_ids || !split.text_offsets) throw Error(ErrorKind::internal, "text split without ids");
    result.ids.assign(split.text_ids, split.text_ids + split.text_id_count);
    result.offsets.assign(split.text_offsets, split.text_offsets + split.rows);
  } else {
    if (!split.features) throw Error(ErrorKind::internal, "split without features");
    auto host = torch::from_blob(const_cast<float*>(split.features), {split.rows, split.cols}, torch::kFloat32);
    result.features = device.is_cuda() ? host.pin_memory().to(device, /*non_blocking=*/true) : host.clone();
  }
  if (classification && split.class_labels) {
    result.labels = torch::from_blob(const_cast<std::int64_t*>(split.class_labels), {split.rows}, torch::kInt64)
                        .clone()
                        .to(device);
  } else if (!classification && split.targets) {
    result.labels = torch::from_blob(const_cast<float*>(split.targets), {split.rows}, torch::kFloat32).clone().to(device);
  }
  return result;
}

// Model outputs for every row of a split, in row order, on the CPU:
// probabilities (classification) or scaled values (regression).
torch::Tensor predict_all(Network& network, const DeviceSplit& split, bool classification, torch::Device device) {
  torch::NoGradGuard no_grad;
  network.module().eval();
  std::vector<torch::Tensor> parts;
  for (std::int64_t begin = 0; begin < split.rows; begin += k_eval_chunk) {
    std::int64_t end = std::min(split.rows, begin + k_eval_chunk);
    std::vector<std::int64_t> index(end - begin);
    std::iota(index.begin(), index.end(), begin);
    torch::Tensor x, ids, offsets;
    split.batch(index, device, x, ids, offsets);
    torch::Tensor out = network.forward(x, ids, offsets);
    parts.push_back(classification ? torch::softmax(out, 1) : out.squeeze(1));
  }
  return torch::cat(parts).to(torch::kCPU).contiguous();
}

struct Evaluation {
  double loss = 0;
  Json metrics;  // without prefix
  Json report;   // classification with `with_report`: confusion matrix and ROC curve; else null
};

// The loss and metrics of `split`; with `with_report`, also the confusion
// matrix and ROC curve (only the final test evaluation keeps them).
Evaluation evaluate(Network& network, const DeviceSplit& split, bool classification, int num_classes,
                    double target_mean, double target_std, torch::Device device, bool with_report = false) {
  torch::Tensor outputs = predict_all(network, split, classification, device);
  Evaluation result;
  torch::Tensor labels = split.labels.to(torch::kCPU);
  if (classification) {
    auto probabilities = outputs.to(torch::kFloat32);
    result.loss = torch::nll_loss(torch::log(probabilities.clamp_min(1e-12)), labels).item<double>();
    std::vector<int> label_ids(labels.data_ptr<std::int64_t>(), labels.data_ptr<std::int64_t>() + labels.numel());
    std::span<const float> probs(probabilities.data_ptr<float>(), std::size_t(probabilities.numel()));
    train::ClassificationReport report = train::classification_metrics(label_ids, probs, num_classes);
    result.metrics["accuracy"] = report.accuracy;
    result.metrics["f1"] = report.scores.f1_macro;
    result.metrics["precision"] = report.scores.precision_macro;
    result.metrics["recall"] = report.scores.recall_macro;
    if (num_classes == 2) result.metrics["auc"] = report.roc_auc ? Json(*report.roc_auc) : Json(nullptr);
    if (with_report) result.report = report.to_json();
  } else {
    result.loss = torch::mse_loss(outputs, labels).item<double>();
    // Through the raw values: Tensor::operator[] and item() would be two
    // dispatched tensor operations per row, every epoch.
    torch::Tensor label_values = labels.to(torch::kFloat32).contiguous();
    torch::Tensor output_values = outputs.to(torch::kFloat32).contiguous();
    const float* label_data = label_values.data_ptr<float>();
    const float* output_data = output_values.data_ptr<float>();
    std::vector<double> targets(std::size_t(labels.numel())), predictions(std::size_t(labels.numel()));
    for (std::size_t i = 0; i < targets.size(); ++i) {
      targets[i] = double(label_data[i]) * target_std + target_mean;
      predictions[i] = double(output_data[i]) * target_std + target_mean;
    }
    train::RegressionMetrics metrics = train::regression_metrics(targets, predictions);
    result.metrics["rmse"] = metrics.rmse;
    result.metrics["mae"] = metrics.mae;
    result.metrics["r2"] = metrics.r2;
  }
  return result;
}

void save_module(torch::nn::Module& module, const std::filesystem::path& path) {
  torch::serialize::OutputArchive archive;
  module.save(archive);
  std::filesystem::path temp = path.string() + ".tmp";
  archive.save_to(temp.string());
  std::filesystem::rename(temp, path);
}

void load_module(torch::nn::Module& module, const std::filesystem::path& path) {
  torch::serialize::InputArchive archive;
  archive.load_from(path.string());
  module.load(archive);
}

torch::Device choose_device(const std::string& requested) {
  if (requested == "cuda") {
    if (!torch::cuda::is_available()) {
      throw Error(ErrorKind::not_supported, "device 'cuda' was asked for, but libtorch sees no CUDA GPU",
                  "use device: auto or cpu");
    }
    return torch::kCUDA;
  }
  if (requested == "auto" && torch::cuda::is_available()) return torch::kCUDA;
  return torch::kCPU;
}

bool is_improvement(double value, double best, bool maximize) { return maximize ? value > best : value < best; }

}  // namespace

Json train_model(const Json& config, const MlctlSplit& train_split, const MlctlSplit& validation_split,
                 const MlctlSplit* test_split, MlctlEpochCallback on_epoch, void* context) {
  const bool classification = config.at("task") == "classification";
  const bool text = config.at("model").at("type") == "text";
  const int num_classes = classification ? int(config.at("num_outputs")) : 0;
  const std::uint64_t seed = config.value("seed", std::uint64_t(42));
  const int epochs = config.at("num_epochs");
  const std::int64_t batch_size = config.at("batch_size");
  const double target_mean = config.value("target_mean", 0.0), target_std = config.value("target_std", 1.0);
  if (int threads = config.value("threads", 0); threads > 0) torch::set_num_threads(threads);
  torch::Device device = choose_device(config.value("device", "auto"));

  torch::manual_seed(seed);
  Network network(config, /*for_training=*/true);
  network.module().to(device);
  FlatOptimizer optimizer(network.module(), OptimizerSettings::from_config(config), network.sparse_parameters(),
                          device_code_paths_forced());
  // The CNN and the MLP train on the CPU without autograd.
  std::unique_ptr<CpuTrainingStep> cpu_step =
      device.is_cpu() ? CpuTrainingStep::for_network(network, classification) : nullptr;
  DeviceSplit train = to_device(train_split, text, classification, device);
  DeviceSplit validation = to_device(validation_split, text, classification, device);

  std::filesystem::path output_dir = config.at("output_dir").get<std::string>();
  std::filesystem::path checkpoint_dir = config.at("checkpoint_dir").get<std::string>();
  std::filesystem::create_directories(output_dir);
  std::filesystem::create_directories(checkpoint_dir);

  // Early stopping: the metric to watch, its direction, the patience.
  std::string watched = "val_loss";
  bool maximize = false;
  int patience = epochs + 1;
  if (config.contains("early_stopping") && config["early_stopping"].is_object()) {
    watched = config["early_stopping"].value("metric", "val_loss");
    maximize = config["early_stopping"].value("maximize", false);
    patience = config["early_stopping"].value("patience", 3);
  }
  double best = maximize ? -INFINITY : INFINITY;
  int best_epoch = 0, since_best = 0, first_epoch = 1;

  // The weights of the best epoch so far, kept in memory and in every
  // checkpoint; the checkpoint also holds the optimiser's moments and any
  // module buffers.
  NamedTensors parameters = optimizer.parameter_tensors();
  NamedTensors best_parameters;
  for (const auto& [name, tensor] : parameters) best_parameters.emplace_back("best." + name, tensor.detach().clone());
  NamedTensors checkpointed = optimizer.state_tensors();
  checkpointed.insert(checkpointed.end(), best_parameters.begin(), best_parameters.end());
  for (auto& buffer : network.module().named_buffers()) checkpointed.emplace_back("buffer." + buffer.key(), buffer.value());

  if (config.contains("resume_from") && config["resume_from"].is_string()) {
    Json state = read_checkpoint(config["resume_from"].get<std::string>(), checkpointed);
    first_epoch = int(state.at("epoch")) + 1;
    best = state.at("best").is_number() ? state.at("best").get<double>() : best;
    best_epoch = state.at("best_epoch");
    since_best = state.at("since_best");
    optimizer.set_steps(state.at("optimizer_steps"));
  }

  double train_seconds = 0;
  std::int64_t samples_seen = 0;
  int epoch = first_epoch;
  bool stopped_early = false;
  for (; epoch <= epochs; ++epoch) {
    // Batch order and dropout depend on (seed, epoch) only, so a resumed
    // run continues exactly as the uninterrupted one would have.
    torch::manual_seed(seed + std::uint64_t(epoch));
    std::mt19937_64 shuffle(seed * 1000003ULL + std::uint64_t(epoch));
    std::vector<std::int64_t> order(train.rows);
    std::iota(order.begin(), order.end(), 0);
    for (std::int64_t i = train.rows - 1; i > 0; --i) {
      std::int64_t j = std::int64_t(shuffle() % std::uint64_t(i + 1));
      std::swap(order[i], order[j]);
    }
    auto started = std::chrono::steady_clock::now();
    network.module().train();
    torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().device(device));
    double cpu_loss_sum = 0;
    std::vector<std::int64_t> index;
    for (std::int64_t begin = 0; begin < train.rows; begin += batch_size) {
      std::int64_t end = std::min(train.rows, begin + batch_size);
      index.assign(order.begin() + begin, order.begin() + end);
      torch::Tensor x, ids, offsets;
      train.batch(index, device, x, ids, offsets);
      torch::Tensor labels = rows_of(train.labels, index, device);
      if (cpu_step) {
        // The step replaces every gradient: no zero_grad.
        cpu_loss_sum += cpu_step->run(x, labels) * double(end - begin);
        optimizer.step();
        continue;
      }
      optimizer.zero_grad();
      torch::Tensor out = network.forward(x, ids, offsets);
      torch::Tensor loss =
          classification ? torch::cross_entropy_loss(out, labels) : torch::mse_loss(out.squeeze(1), labels);
      loss.backward();
      optimizer.step();
      // Summed on the device: no synchronisation per batch.
      loss_sum += loss.detach() * double(end - begin);
    }
    double train_loss = (loss_sum.item<double>() + cpu_loss_sum) / double(train.rows);
    train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    samples_seen += train.rows;

    Evaluation val = evaluate(network, validation, classification, num_classes, target_mean, target_std, device);
    Json metrics = Json::object();
    metrics["epoch"] = epoch;
    metrics["train_loss"] = train_loss;
    metrics["val_loss"] = val.loss;
    for (auto& [key, value] : val.metrics.items()) metrics["val_" + key] = value;
    if (on_epoch) on_epoch(context, metrics.dump().c_str());

    double watched_value = metrics.contains(watched) && metrics[watched].is_number() ? metrics[watched].get<double>()
                                                                                     : val.loss;
    if (is_improvement(watched_value, best, maximize)) {
      best = watched_value;
      best_epoch = epoch;
      since_best = 0;
      torch::NoGradGuard no_grad;
      for (std::size_t i = 0; i < parameters.size(); ++i) best_parameters[i].second.copy_(parameters[i].second);
    } else {
      ++since_best;
    }
    // A new file each epoch, complete before it gets its name; the older
    // ones go after it, so a kill at any moment leaves a whole checkpoint.
    write_checkpoint(train::checkpoint_file(checkpoint_dir, epoch),
                     Json{{"epoch", epoch},
                          {"best", best},
                          {"best_epoch", best_epoch},
                          {"since_best", since_best},
                          {"optimizer_steps", optimizer.steps()}},
                     checkpointed);
    train::remove_checkpoints_before(checkpoint_dir, epoch);
    if (since_best >= patience) {
      stopped_early = true;
      ++epoch;
      break;
    }
  }

  // The model kept is the best one on the watched validation metric, saved
  // in torch's own format for scoring. Each parameter gets storage of its
  // own again (training kept them as views into one buffer).
  {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < parameters.size(); ++i) parameters[i].second.copy_(best_parameters[i].second);
    for (auto& parameter : network.module().parameters()) parameter.set_data(parameter.detach().clone());
  }
  save_module(network.module(), output_dir / "weights.pt");

  Json result = Json::object();
  result["device"] = device.is_cuda() ? "cuda" : "cpu";
  result["epochs_run"] = epoch - 1;
  result["best_epoch"] = best_epoch;
  result["stopped_early"] = stopped_early;
  result["train_seconds"] = train_seconds;
  result["samples_per_second"] = train_seconds > 0 ? double(samples_seen) / train_seconds : 0.0;
  Evaluation val = evaluate(network, validation, classification, num_classes, target_mean, target_std, device);
  result["validation"] = val.metrics;
  result["validation"]["loss"] = val.loss;
  if (test_split && test_split->rows > 0) {
    DeviceSplit test = to_device(*test_split, text, classification, device);
    Evaluation tested =
        evaluate(network, test, classification, num_classes, target_mean, target_std, device, /*with_report=*/true);
    result["test"] = tested.metrics;
    result["test"]["loss"] = tested.loss;
    if (tested.report.is_object()) {
      result["test_confusion_matrix"] = tested.report.value("confusion_matrix", Json(nullptr));
      result["test_roc_curve"] = tested.report.value("roc_curve", Json(nullptr));
    }
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  result["peak_memory_bytes"] = std::int64_t(usage.ru_maxrss) * 1024;
  return result;
}

void predict_model(const std::string& model_dir, const MlctlSplit& data, float* output, std::int64_t output_size) {
  Json config = Json::parse(read_file(std::filesystem::path(model_dir) / "model.json"));
  const bool classification = config.at("task") == "classification";
  const bool text = config.at("model").at("type") == "text";
  const std::int64_t outputs = classification ? std::int64_t(config.at("num_outputs")) : 1;
  if (output_size < data.rows * outputs) throw Error(ErrorKind::internal, "prediction buffer too small");
  torch::Device device = choose_device(config.value("device", "auto") == "cuda" ? "auto" : "auto");
  Network network(config);
  load_module(network.module(), std::filesystem::path(model_dir) / "weights.pt");
  network.module().to(device);
  DeviceSplit split = to_device(data, text, classification, device);
  torch::Tensor result = predict_all(network, split, classification, device).to(torch::kFloat32).contiguous();
  std::memcpy(output, result.data_ptr<float>(), std::size_t(data.rows * outputs) * sizeof(float));
}

}  // namespace mlctl::torch_backend
