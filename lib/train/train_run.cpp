#include <mlctl/train/train_run.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cctype>
#include <fstream>
#include <numeric>

#include <mlctl/core/backend.hpp>
#include <mlctl/core/did_you_mean.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/git_info.hpp>
#include <mlctl/core/sha256.hpp>
#include <mlctl/core/version.hpp>
#include <mlctl/core/yaml_overrides.hpp>
#include <mlctl/tracking/command_job.hpp>
#include <yaml-cpp/yaml.h>
#include <sstream>
#include <mlctl/data/csv.hpp>
#include <mlctl/data/dataset_store.hpp>
#include <mlctl/data/table_schema.hpp>
#include <mlctl/tracking/run_store.hpp>
#include <mlctl/tracking/run_supervisor.hpp>
#include <mlctl/train/checkpoint_files.hpp>
#include <mlctl/train/data_split.hpp>
#include <mlctl/train/preprocessor.hpp>
#include <mlctl/train/train_spec.hpp>

namespace mlctl::train {
namespace {

constexpr const char* k_model_files[] = {"model.json", "preprocessor.json", "weights.pt"};


std::string where(const std::string& source, const DataSource& data) {
  return data.line > 0 ? fmt::format("{}:{}:{}", source, data.line, data.column) : source;
}

data::DatasetVersion resolve_source(data::DatasetStore& datasets, const std::string& source, DataSource& data,
                                    std::string_view field) {
  data::DatasetVersion dataset;
  if (data.is_dataset) {
    try {
      dataset = datasets.get(data::parse_dataset_ref(data.value));
    } catch (const Error& error) {
      throw Error(error.kind(), fmt::format("{}: {}: {}", where(source, data), field, error.what()), error.hint());
    }
  } else {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(data.value, ec)) {
      throw Error(ErrorKind::not_found,
                  fmt::format("{}: {}: '{}' does not exist or is not a file", where(source, data), field, data.value));
    }
    // A path is registered as a dataset so that the run's lineage names an
    // immutable version, not a file that may change.
    data::RegisterRequest request;
    request.name = data::dataset_name_for(data.value);
    request.path = data.value;
    request.description = fmt::format("registered by a training job ({})", source);
    dataset = datasets.register_file(request).dataset;
  }
  data.is_dataset = true;
  data.value = dataset.ref();
  return dataset;
}

void check_columns(const TrainSpec& spec, const data::DatasetVersion& dataset) {
  data::TableSchema schema = data::TableSchema::from_json(dataset.schema);
  std::vector<std::string> names;
  for (const auto& column : schema.columns) names.push_back(column.name);
  auto check = [&](const std::string& column, std::string_view role) {
    if (!schema.find_column(column)) {
      throw Error(ErrorKind::invalid_argument,
                  fmt::format("{}: {} '{}' is not a column of {}{}", spec.source, role, column, dataset.ref(),
                              did_you_mean_hint(column, names)),
                  fmt::format("its columns: {}", fmt::join(names, ", ")));
    }
  };
  check(spec.label, "label");
  for (const auto& feature : spec.features) check(feature, "feature");
}

// One split, preprocessed, kept alive while the backend reads it.
struct HostSplit {
  FeatureMatrix features;
  std::vector<std::int32_t> text_ids;
  std::vector<std::int64_t> text_offsets;
  std::vector<std::int64_t> classes;
  std::vector<float> targets;
  std::int64_t rows = 0;

  MlctlSplit view() const {
    MlctlSplit split{};
    split.rows = rows;
    if (!features.values.empty() || features.cols > 0) {
      split.features = features.values.data();
      split.cols = features.cols;
    }
    if (!text_offsets.empty()) {
      split.text_ids = text_ids.data();
      split.text_id_count = std::int64_t(text_ids.size());
      split.text_offsets = text_offsets.data();
    }
    if (!classes.empty()) split.class_labels = classes.data();
    if (!targets.empty()) split.targets = targets.data();
    return split;
  }
};

HostSplit prepare_split(const Preprocessor& preprocessor, const data::CsvTable& table,
                        std::span<const std::int64_t> rows, bool with_labels) {
  HostSplit split;
  split.rows = std::int64_t(rows.size());
  if (preprocessor.mode() == FeatureMode::text) {
    EncodedBatch batch = preprocessor.transform_text(table, rows);
    split.text_ids = std::move(batch.ids);
    split.text_offsets.assign(batch.offsets.begin(), batch.offsets.end());
  } else {
    split.features = preprocessor.transform(table, rows);
  }
  if (with_labels) {
    if (preprocessor.classification()) {
      split.classes = preprocessor.class_ids(table, rows);
    } else {
      split.targets = preprocessor.regression_targets(table, rows);
    }
  }
  return split;
}

std::vector<std::int64_t> all_rows(const data::CsvTable& table) {
  std::vector<std::int64_t> rows(table.row_count());
  std::iota(rows.begin(), rows.end(), 0);
  return rows;
}

// Label cells as small integers, only to stratify the split.
std::vector<int> label_codes(const data::CsvTable& table, std::size_t label_column) {
  std::vector<int> codes(table.row_count());
  std::map<std::string, int, std::less<>> seen;
  for (std::size_t row = 0; row < table.row_count(); ++row) {
    std::string_view cell = table.cell(row, label_column);
    auto it = seen.find(cell);
    if (it == seen.end()) it = seen.emplace(std::string(cell), int(seen.size())).first;
    codes[row] = it->second;
  }
  return codes;
}

void write_manifest(const std::filesystem::path& model_dir, const Json& model) {
  std::string yaml = fmt::format(
      "# mlctl model directory manifest: every file with its sha256.\n"
      "format: mlctl.model\nversion: 1\ntask: {}\nmodel_type: {}\nmlctl_version: {}\nfiles:\n",
      model.at("task").get<std::string>(), model.at("model").at("type").get<std::string>(), mlctl_version());
  for (const char* name : k_model_files) {
    yaml += fmt::format("  {}: {}\n", name, sha256_file(model_dir / name));
  }
  write_file_atomic(model_dir / "model.yaml", yaml);
}

// One line per epoch on stderr: epoch, losses, the main validation metric,
// samples/s and the time left. On a terminal (the foreground supervisor
// sets MLCTL_PROGRESS=tty) the line is rewritten in place.
class ProgressLine {
 public:
  ProgressLine(int epochs, std::int64_t rows, bool classification)
      : m_epochs(epochs), m_rows(rows), m_classification(classification),
        m_live(std::getenv("MLCTL_PROGRESS") && std::string_view(std::getenv("MLCTL_PROGRESS")) == "tty"),
        m_started(std::chrono::steady_clock::now()) {}

  void epoch_done(std::int64_t epoch, const Json& values) {
    // The first epoch reported (a resumed run starts past epoch 1) also
    // waited for the backend to load, a few tenths of a second: the rate
    // comes from the epochs after it once there are any.
    const auto now = std::chrono::steady_clock::now();
    if (m_seen++ == 0) m_first_reported = now;
    const double per_epoch =
        m_seen > 1 ? std::chrono::duration<double>(now - m_first_reported).count() / double(m_seen - 1)
                   : std::chrono::duration<double>(now - m_started).count();
    double eta = per_epoch * double(m_epochs - epoch);
    const char* main_metric = m_classification ? "val_accuracy" : "val_rmse";
    std::string line = fmt::format("epoch {}/{}  train_loss {:.4f}  val_loss {:.4f}", epoch, m_epochs,
                                   values.value("train_loss", 0.0), values.value("val_loss", 0.0));
    if (values.contains(main_metric)) line += fmt::format("  {} {:.4f}", main_metric, values[main_metric].get<double>());
    line += fmt::format("  {:.0f} samples/s  ETA {:.1f}s", per_epoch > 0 ? double(m_rows) / per_epoch : 0.0, eta);
    if (m_live) {
      std::fprintf(stderr, "\r%-100s", line.c_str());
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
    m_printed = true;
  }

  void finish() {
    if (m_live && m_printed) std::fprintf(stderr, "\n");
  }

 private:
  int m_epochs;
  std::int64_t m_rows;
  bool m_classification;
  bool m_live;
  bool m_printed = false;
  int m_seen = 0;
  std::chrono::steady_clock::time_point m_started, m_first_reported;
};


}  // namespace

tracking::PreparedRun prepare_train_run(const tracking::SubmitRequest& request, store::Db& db,
                                        store::ArtifactStore& artifacts, const store::ProjectPaths& project,
                                        const std::string& mlctl_executable) {
  const std::filesystem::path& file = *request.job_file;
  std::filesystem::path base_dir = std::filesystem::absolute(file).parent_path();
  TrainSpec spec = parse_train_job(request.job_text ? *request.job_text : read_file(file), file.string(), base_dir,
                                   request.set_overrides);

  tracking::PreparedRun prepared;
  data::DatasetStore datasets(db, artifacts);
  data::DatasetVersion train_data = resolve_source(datasets, spec.source, spec.train, "data.train");
  check_columns(spec, train_data);
  prepared.run.dataset_inputs.emplace_back("train", train_data.row_id);
  if (spec.validation) {
    auto dataset = resolve_source(datasets, spec.source, *spec.validation, "data.validation");
    check_columns(spec, dataset);
    prepared.run.dataset_inputs.emplace_back("validation", dataset.row_id);
  }
  if (spec.test) {
    auto dataset = resolve_source(datasets, spec.source, *spec.test, "data.test");
    check_columns(spec, dataset);
    prepared.run.dataset_inputs.emplace_back("test", dataset.row_id);
  }

  prepared.run.id = tracking::new_run_id();
  prepared.run.kind = "train";
  prepared.run.command = Json::array(
      {mlctl_executable, "--project", project.root.string(), "train", "worker", *prepared.run.id});
  prepared.run.experiment = request.experiment ? *request.experiment
                            : !spec.experiment_name.empty() ? spec.experiment_name
                                                            : request.default_experiment;
  prepared.run.display_name = request.display_name.value_or(spec.display_name);
  prepared.run.description = request.description.value_or(spec.description);
  prepared.run.params = spec.params();
  for (const auto& param : request.params) prepared.run.params.push_back(param);
  for (const auto& [key, value] : spec.tags) prepared.run.tags.emplace_back(key, value);
  for (const auto& tag : request.tags) prepared.run.tags.push_back(tag);
  prepared.run.tags.emplace_back("mlctl.job_file", std::filesystem::absolute(file).string());
  prepared.run.parent_id = request.parent;
  prepared.run.working_dir = base_dir.string();
  prepared.run.git_commit = find_git_commit(base_dir);

  tracking::LaunchSpec launch;
  launch.argv = prepared.run.command.get<std::vector<std::string>>();
  launch.working_dir = base_dir.string();
  launch.outputs = {"model", "evaluation"};
  launch.timeout_seconds = request.timeout_seconds;
  prepared.run.spec = launch.to_json();
  prepared.run.spec["train"] = spec.to_json();
  return prepared;
}

tracking::PreparedRun prepare_submission(const tracking::SubmitRequest& request, store::Db& db,
                                         store::ArtifactStore& artifacts, const store::ProjectPaths& project,
                                         const std::string& mlctl_executable) {
  if (request.job_file && request.command.empty()) {
    std::error_code ec;
    if (request.job_text || std::filesystem::is_regular_file(*request.job_file, ec)) {
      YAML::Node root =
          load_yaml(request.job_text ? *request.job_text : read_file(*request.job_file), request.job_file->string());
      if (tracking::job_type(root) == "train") {
        return prepare_train_run(request, db, artifacts, project, mlctl_executable);
      }
    }
  }
  return tracking::prepare_run(request, project);
}

void requeue_for_resume(store::Db& db, std::string_view run_id) {
  tracking::RunStore runs(db);
  tracking::Run run = runs.get(run_id, false);
  if (run.kind != "train") {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("run {} is a {} run; only training runs resume from a checkpoint", run.id, run.kind));
  }
  runs.requeue(run.row_id);
}

TrainPaths TrainPaths::for_run(const store::ProjectPaths& project, std::string_view run_id) {
  tracking::RunDirectory dir = tracking::RunDirectory::of(project, run_id);
  return {dir.outputs / "model", dir.root / "checkpoints", dir.metrics_file, dir.outputs / "evaluation"};
}

Json run_training(store::Db& db, store::ArtifactStore& artifacts, std::string_view run_id, const TrainPaths& paths) {
  BackendPreload backend_loading;  // while the data is read and preprocessed
  tracking::RunStore runs(db);
  tracking::Run run = runs.get(run_id, false);
  if (!run.spec.contains("train")) throw Error(ErrorKind::invalid_argument, fmt::format("run {} is not a training run", run.id));
  TrainSpec spec = TrainSpec::from_json(run.spec.at("train"));
  const bool classification = spec.task == Task::classification;

  data::DatasetStore datasets(db, artifacts);
  auto load = [&](const DataSource& source) {
    auto dataset = datasets.get(data::parse_dataset_ref(source.value));
    return data::parse_csv(datasets.read_verified(dataset), dataset.ref());
  };
  data::CsvTable train_table = load(spec.train);
  std::optional<data::CsvTable> validation_table, test_table;
  if (spec.validation) validation_table = load(*spec.validation);
  if (spec.test) test_table = load(*spec.test);

  data::TableSchema schema = data::infer_schema(train_table, spec.label);
  auto label_column = train_table.find_column(spec.label);
  if (!label_column) throw Error(ErrorKind::invalid_argument, fmt::format("label '{}' is not a column", spec.label));

  // Rows held out of the training table for validation and test, unless
  // the job gives those splits as their own data.
  double validation_fraction = validation_table ? 0.0 : spec.validation_fraction;
  double test_fraction = test_table ? 0.0 : spec.test_fraction;
  SplitIndices split = classification
                           ? stratified_split(label_codes(train_table, *label_column), validation_fraction,
                                              test_fraction, spec.seed)
                           : random_split(train_table.row_count(), validation_fraction, test_fraction, spec.seed);
  if (!validation_table && split.validation.empty()) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("{}: no validation data: give data.validation or a validation_fraction above 0", spec.source));
  }

  PreprocessOptions options;
  options.classification = classification;
  options.label = spec.label;
  options.features = spec.features;
  options.mode = spec.model.type == ModelType::text  ? FeatureMode::text
                 : spec.model.type == ModelType::cnn ? FeatureMode::image
                                                     : FeatureMode::tabular;
  options.text.vocab_size = spec.model.vocab_size;
  options.text.ngram_max = spec.model.ngrams;
  Preprocessor preprocessor = Preprocessor::fit(train_table, schema, split.train, options);

  HostSplit train = prepare_split(preprocessor, train_table, split.train, true);
  std::vector<std::int64_t> validation_rows = validation_table ? all_rows(*validation_table) : split.validation;
  HostSplit validation =
      prepare_split(preprocessor, validation_table ? *validation_table : train_table, validation_rows, true);
  std::optional<HostSplit> test;
  if (test_table) {
    test = prepare_split(preprocessor, *test_table, all_rows(*test_table), true);
  } else if (!split.test.empty()) {
    test = prepare_split(preprocessor, train_table, split.test, true);
  }

  Json spec_json = spec.to_json();
  Json config = Json::object();
  config["task"] = to_string(spec.task);
  config["model"] = spec_json.at("model");
  config["num_features"] = preprocessor.feature_count();
  config["num_outputs"] = classification ? std::int64_t(preprocessor.class_names().size()) : std::int64_t(1);
  for (const char* key : {"learning_rate", "num_epochs", "batch_size", "optimizer", "momentum", "weight_decay", "seed",
                          "device", "threads"}) {
    config[key] = spec_json.at(key);
  }
  if (spec.early_stopping) {
    config["early_stopping"] = {{"metric", spec.early_stopping->metric},
                                {"patience", spec.early_stopping->patience},
                                {"maximize", spec.early_stopping->maximize}};
  }
  config["target_mean"] = classification ? 0.0 : preprocessor.unscale_target(0.0);
  config["target_std"] = classification ? 1.0 : preprocessor.unscale_target(1.0) - preprocessor.unscale_target(0.0);
  config["output_dir"] = paths.model_dir.string();
  config["checkpoint_dir"] = paths.checkpoint_dir.string();
  if (auto checkpoint = latest_checkpoint(paths.checkpoint_dir)) config["resume_from"] = checkpoint->string();

  std::ofstream metrics(paths.metrics_file, std::ios::app);
  auto log_metrics = [&](const Json& values, std::int64_t step) {
    Json line = {{"metrics", values}, {"step", step}};
    metrics << line.dump() << '\n';
    metrics.flush();
  };
  MlctlSplit train_view = train.view(), validation_view = validation.view();
  MlctlSplit test_view = test ? test->view() : MlctlSplit{};
  ProgressLine progress(spec.num_epochs, train.rows, classification);
  Json result = Backend::get().train(config, train_view, validation_view, test ? &test_view : nullptr,
                                     [&](const Json& epoch) {
                                       Json values = epoch;
                                       std::int64_t step = values.at("epoch");
                                       values.erase("epoch");
                                       for (auto it = values.begin(); it != values.end();) {
                                         it = it->is_number() ? std::next(it) : values.erase(it);
                                       }
                                       log_metrics(values, step);
                                       progress.epoch_done(step, values);
                                     });
  progress.finish();

  Json final_metrics = Json::object();
  if (result.contains("test") && result["test"].is_object()) {
    for (const auto& [key, value] : result["test"].items()) {
      if (value.is_number()) final_metrics["test_" + key] = value;
    }
  }
  final_metrics["samples_per_second"] = result.at("samples_per_second");
  final_metrics["train_seconds"] = result.at("train_seconds");
  final_metrics["peak_memory_bytes"] = result.at("peak_memory_bytes");
  final_metrics["best_epoch"] = result.at("best_epoch");
  log_metrics(final_metrics, result.at("epochs_run"));

  std::filesystem::create_directories(paths.evaluation_dir);
  if (result.contains("test_confusion_matrix") && !result["test_confusion_matrix"].is_null()) {
    write_file_atomic(paths.evaluation_dir / "confusion_matrix.json",
                      Json{{"classes", preprocessor.class_names()}, {"matrix", result["test_confusion_matrix"]}}.dump(2));
  }
  if (result.contains("test_roc_curve") && !result["test_roc_curve"].is_null()) {
    write_file_atomic(paths.evaluation_dir / "roc_curve.json", result["test_roc_curve"].dump(2));
  }

  Json model = Json::object();
  model["format"] = "mlctl.model";
  model["version"] = 1;
  model["task"] = config["task"];
  model["model"] = config["model"];
  model["num_features"] = config["num_features"];
  model["num_outputs"] = config["num_outputs"];
  model["label"] = spec.label;
  model["class_names"] = classification ? Json(preprocessor.class_names()) : Json(nullptr);
  model["input_schema"] = preprocessor.input_schema();
  model["device"] = "auto";
  model["training"] = {{"run", run.id},
                       {"data", spec_json.at("data")},
                       {"seed", spec.seed},
                       {"mlctl_version", mlctl_version()}};
  Json recorded = result;
  recorded.erase("test_confusion_matrix");
  recorded.erase("test_roc_curve");
  model["metrics"] = recorded;
  write_file_atomic(paths.model_dir / "model.json", model.dump(2));
  write_file_atomic(paths.model_dir / "preprocessor.json", preprocessor.to_json().dump());
  write_manifest(paths.model_dir, model);
  return result;
}

void verify_model_directory(const std::filesystem::path& model_dir) {
  std::string manifest = read_file(model_dir / "model.yaml");
  std::size_t files = manifest.find("\nfiles:\n");
  if (files == std::string::npos) {
    throw Error(ErrorKind::store, fmt::format("{}: no 'files' in the model manifest", (model_dir / "model.yaml").string()));
  }
  std::istringstream lines(manifest.substr(files + 8));
  std::string line;
  while (std::getline(lines, line)) {
    auto colon = line.find(": ");
    if (line.rfind("  ", 0) != 0 || colon == std::string::npos) continue;
    std::string name = line.substr(2, colon - 2), digest = line.substr(colon + 2);
    std::error_code ec;
    if (!std::filesystem::exists(model_dir / name, ec)) {
      throw Error(ErrorKind::store, fmt::format("model file '{}' is missing from {}", name, model_dir.string()));
    }
    if (sha256_file(model_dir / name) != digest) {
      throw Error(ErrorKind::store,
                  fmt::format("model file '{}' in {} does not match its manifest (tampered or corrupted)", name,
                              model_dir.string()));
    }
  }
}

TableScores score_table(const std::filesystem::path& model_dir, const data::CsvTable& table) {
  BackendPreload backend_loading;  // while the model is verified and the rows encoded
  verify_model_directory(model_dir);
  Preprocessor preprocessor = Preprocessor::from_json(Json::parse(read_file(model_dir / "preprocessor.json")));
  preprocessor.check_columns(table);
  std::vector<std::int64_t> rows = all_rows(table);
  HostSplit split = prepare_split(preprocessor, table, rows, false);
  TableScores result;
  result.classification = preprocessor.classification();
  result.label = preprocessor.label();
  const std::int64_t outputs = result.classification ? std::int64_t(preprocessor.class_names().size()) : 1;
  std::vector<float> scores = Backend::get().predict(model_dir, split.view(), outputs);
  if (result.classification) {
    result.class_names = preprocessor.class_names();
    result.probabilities = std::move(scores);
    for (std::size_t row = 0; row < rows.size(); ++row) {
      const float* probabilities = result.probabilities.data() + row * std::size_t(outputs);
      auto best = std::max_element(probabilities, probabilities + outputs) - probabilities;
      result.predicted.push_back(result.class_names[std::size_t(best)]);
    }
  } else {
    for (std::size_t row = 0; row < rows.size(); ++row) result.values.push_back(preprocessor.unscale_target(scores[row]));
  }
  return result;
}

TableScores score_torchscript(const std::filesystem::path& model_file, const Json& schema, const data::CsvTable& table) {
  const Json& inputs = schema.at("inputs");
  const Json outputs = schema.value("outputs", Json::object());
  TableScores result;
  result.label = outputs.value("label", "");
  result.classification = outputs.contains("classes") && outputs["classes"].is_array() && !outputs["classes"].empty();
  if (result.classification) result.class_names = outputs["classes"].get<std::vector<std::string>>();
  const std::int64_t width = std::int64_t(inputs.size());
  const std::size_t rows = table.row_count();
  std::vector<float> features(rows * std::size_t(width));
  for (std::int64_t c = 0; c < width; ++c) {
    std::string name = inputs[std::size_t(c)].at("name").get<std::string>();
    auto column = table.find_column(name);
    if (!column) {
      throw Error(ErrorKind::invalid_argument, fmt::format("{}: the model's input column '{}' is missing", table.source_name, name));
    }
    for (std::size_t row = 0; row < rows; ++row) {
      std::string_view cell = table.cell(row, *column);
      float value = 0;
      auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
      if (ec != std::errc() || end != cell.data() + cell.size()) {
        throw Error(ErrorKind::invalid_argument,
                    fmt::format("{}:{}: column '{}': '{}' is not a number (a TorchScript model takes numeric inputs)",
                                table.source_name, table.row_lines[row], name, cell));
      }
      features[row * std::size_t(width) + std::size_t(c)] = value;
    }
  }
  MlctlSplit split{};
  split.rows = std::int64_t(rows);
  split.features = features.data();
  split.cols = width;
  const std::int64_t outputs_per_row = result.classification ? std::int64_t(result.class_names.size()) : 1;
  std::vector<float> raw = Backend::get().predict_script(model_file, split, outputs_per_row);
  if (result.classification) {
    result.probabilities.resize(raw.size());
    for (std::size_t row = 0; row < rows; ++row) {
      const float* logits = raw.data() + row * std::size_t(outputs_per_row);
      float* probabilities = result.probabilities.data() + row * std::size_t(outputs_per_row);
      float top = *std::max_element(logits, logits + outputs_per_row);
      double total = 0;
      for (std::int64_t k = 0; k < outputs_per_row; ++k) total += std::exp(double(logits[k] - top));
      for (std::int64_t k = 0; k < outputs_per_row; ++k) probabilities[k] = float(std::exp(double(logits[k] - top)) / total);
      auto best = std::max_element(probabilities, probabilities + outputs_per_row) - probabilities;
      result.predicted.push_back(result.class_names[std::size_t(best)]);
    }
  } else {
    for (float value : raw) result.values.push_back(value);
  }
  return result;
}

Json predictions_json(const TableScores& scores) {
  Json predictions = Json::array();
  const std::size_t classes = scores.class_names.size();
  for (std::size_t row = 0; row < scores.rows(); ++row) {
    Json item = Json::object();
    if (scores.classification) {
      const float* probabilities = scores.probabilities.data() + row * classes;
      item["prediction"] = scores.predicted[row];
      item["probabilities"] = std::vector<float>(probabilities, probabilities + classes);
    } else {
      item["prediction"] = scores.values[row];
    }
    predictions.push_back(std::move(item));
  }
  return predictions;
}

std::string predictions_csv(const TableScores& scores) {
  std::string csv = "prediction";
  for (const auto& name : scores.class_names) csv += ",probability_" + data::csv_field(name);
  csv += "\n";
  const std::size_t classes = scores.class_names.size();
  for (std::size_t row = 0; row < scores.rows(); ++row) {
    if (scores.classification) {
      const float* probabilities = scores.probabilities.data() + row * classes;
      csv += data::csv_field(scores.predicted[row]);
      for (std::size_t k = 0; k < classes; ++k) csv += fmt::format(",{}", probabilities[k]);
    } else {
      csv += fmt::format("{}", scores.values[row]);
    }
    csv += "\n";
  }
  return csv;
}

Json predict_csv(const std::filesystem::path& model_dir, const std::filesystem::path& input_csv,
                 const std::optional<std::filesystem::path>& output_csv) {
  TableScores scores = score_table(model_dir, data::read_csv(input_csv));
  if (output_csv) write_file_atomic(*output_csv, predictions_csv(scores));
  return predictions_json(scores);
}

}  // namespace mlctl::train
