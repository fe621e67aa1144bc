#include <mlctl/serving/scoring_model.hpp>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/serving/score_request.hpp>

namespace mlctl::serving {
std::shared_ptr<const ScoringModel> ScoringModel::load(const registry::ModelVersion& model,
                                                       const std::filesystem::path& files_dir) {
  std::shared_ptr<ScoringModel> result(new ScoringModel());
  result->m_name = model.name;
  result->m_version = model.version;
  result->m_reference = model.ref();
  const Backend& backend = Backend::get();
  if (model.format == "torchscript") {
    if (!model.schema.is_object() || !model.schema.contains("inputs")) {
      throw Error(ErrorKind::invalid_argument, fmt::format("model {} has no input schema", model.ref()));
    }
    result->m_inputs = input_columns(model.schema);
    for (const InputColumn& column : result->m_inputs) {
      if (column.type != data::ColumnType::numeric) {
        throw Error(ErrorKind::invalid_argument,
                    fmt::format("model {}: input '{}' is {}, but a TorchScript model takes numeric inputs", model.ref(),
                                column.name, data::to_string(column.type)));
      }
    }
    const Json outputs = model.schema.value("outputs", Json::object());
    result->m_label = outputs.value("label", "");
    if (outputs.contains("classes") && outputs["classes"].is_array() && !outputs["classes"].empty()) {
      result->m_classes = outputs["classes"].get<std::vector<std::string>>();
    }
    result->m_classification = !result->m_classes.empty();
    result->m_softmax = result->m_classification;
    const auto outputs_per_row = std::int64_t(result->m_classification ? result->m_classes.size() : 1);
    result->m_network = backend.load_model(
        {{"format", "torchscript"}, {"file", (files_dir / model.files.front().path).string()}, {"outputs", outputs_per_row}, {"threads", 1}});
    return result;
  }
  result->m_preprocessor = train::Preprocessor::from_json(Json::parse(read_file(files_dir / "preprocessor.json")));
  const train::Preprocessor& preprocessor = *result->m_preprocessor;
  result->m_inputs = input_columns(Json{{"inputs", preprocessor.input_schema()}});
  result->m_classification = preprocessor.classification();
  result->m_classes = preprocessor.class_names();
  result->m_label = preprocessor.label();
  result->m_network = backend.load_model({{"format", "mlctl"}, {"model_dir", files_dir.string()}, {"threads", 1}});
  return result;
}

Json ScoringModel::schema() const {
  Json inputs = Json::array();
  for (const InputColumn& column : m_inputs) inputs.push_back({{"name", column.name}, {"type", data::to_string(column.type)}});
  Json outputs = {{"label", m_label}, {"task", m_classification ? "classification" : "regression"}};
  if (m_classification) outputs["classes"] = m_classes;
  return {{"inputs", std::move(inputs)}, {"outputs", std::move(outputs)}};
}

void ScoringModel::score(std::span<const train::InputCell> cells, std::size_t rows, BatchScores& scores) const {
  const std::size_t width = m_inputs.size();
  MlctlSplit split{};
  split.rows = std::int64_t(rows);
  std::vector<float> features;
  train::EncodedBatch encoded;
  std::vector<std::int64_t> offsets;
  if (m_preprocessor && m_preprocessor->mode() == train::FeatureMode::text) {
    std::vector<std::string_view> documents(rows);
    for (std::size_t row = 0; row < rows; ++row) documents[row] = cells[row * width].text;
    encoded = m_preprocessor->vectorizer().encode_batch(std::span<const std::string_view>(documents));
    offsets.assign(encoded.offsets.begin(), encoded.offsets.end());
    split.text_ids = encoded.ids.data();
    split.text_id_count = std::int64_t(encoded.ids.size());
    split.text_offsets = offsets.data();
  } else if (m_preprocessor) {
    split.cols = m_preprocessor->feature_count();
    features.resize(rows * std::size_t(split.cols));
    m_preprocessor->transform_cells(cells, rows, features.data());
    split.features = features.data();
  } else {
    // TorchScript: the numeric inputs as they are; null becomes NaN, which
    // the schema check has already refused.
    split.cols = std::int64_t(width);
    features.resize(rows * width);
    for (std::size_t i = 0; i < rows * width; ++i) {
      features[i] = cells[i].kind == train::InputCell::Kind::number ? float(cells[i].number) : NAN;
    }
    split.features = features.data();
  }
  const std::int64_t outputs = m_network->outputs();
  std::vector<float> raw(rows * std::size_t(outputs));
  m_network->score(split, raw.data());

  scores.rows = rows;
  scores.best_class.clear();
  scores.values.clear();
  if (!m_classification) {
    scores.probabilities.clear();
    for (std::size_t row = 0; row < rows; ++row) {
      scores.values.push_back(m_preprocessor ? m_preprocessor->unscale_target(raw[row]) : double(raw[row]));
    }
    return;
  }
  if (m_softmax) {
    for (std::size_t row = 0; row < rows; ++row) {
      float* logits = raw.data() + row * std::size_t(outputs);
      const float top = *std::max_element(logits, logits + outputs);
      double total = 0;
      for (std::int64_t k = 0; k < outputs; ++k) total += std::exp(double(logits[k] - top));
      for (std::int64_t k = 0; k < outputs; ++k) logits[k] = float(std::exp(double(logits[k] - top)) / total);
    }
  }
  for (std::size_t row = 0; row < rows; ++row) {
    const float* probabilities = raw.data() + row * std::size_t(outputs);
    scores.best_class.push_back(int(std::max_element(probabilities, probabilities + outputs) - probabilities));
  }
  scores.probabilities = std::move(raw);
}

}  // namespace mlctl::serving
