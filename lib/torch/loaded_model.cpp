// Models loaded once and scored many times, for the HTTP service.
#include "loaded_model.hpp"

#include <torch/script.h>
#include <torch/torch.h>

#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>

#include "models.hpp"

namespace mlctl::torch_backend {
namespace {

void check_output(const torch::Tensor& result, const MlctlSplit& data, std::int64_t outputs, std::int64_t output_size) {
  if (result.dim() != 2 || result.size(0) != data.rows || result.size(1) != outputs) {
    throw Error(ErrorKind::train, fmt::format("the model returned shape [{}] for {} rows; expected [{}, {}]",
                                              fmt::join(result.sizes(), ", "), data.rows, data.rows, outputs));
  }
  if (output_size < data.rows * outputs) throw Error(ErrorKind::internal, "prediction buffer too small");
}

// A model directory written by mlctl's trainer (model.json, weights.pt).
class BuiltinModel final : public LoadedModel {
 public:
  explicit BuiltinModel(const std::filesystem::path& model_dir)
      : m_config(Json::parse(read_file(model_dir / "model.json"))), m_network(m_config) {
    m_classification = m_config.at("task") == "classification";
    m_outputs = m_classification ? std::int64_t(m_config.at("num_outputs")) : 1;
    torch::serialize::InputArchive archive;
    archive.load_from((model_dir / "weights.pt").string());
    m_network.module().load(archive);
    m_network.module().to(torch::kCPU);
    m_network.module().eval();
  }

  std::int64_t outputs() const override { return m_outputs; }

  void score(const MlctlSplit& data, float* output, std::int64_t output_size) const override {
    torch::InferenceMode inference;
    torch::Tensor features, ids, offsets;
    if (m_network.is_text()) {
      std::vector<std::int64_t> wide_ids(data.text_ids, data.text_ids + data.text_id_count);
      ids = torch::tensor(wide_ids, torch::kInt64);
      offsets = torch::from_blob(const_cast<std::int64_t*>(data.text_offsets), {data.rows}, torch::kInt64).clone();
    } else {
      features = torch::from_blob(const_cast<float*>(data.features), {data.rows, data.cols}, torch::kFloat32);
    }
    // Network::forward is not const, but in eval and inference mode it
    // changes nothing: concurrent calls are safe.
    torch::Tensor out = const_cast<Network&>(m_network).forward(features, ids, offsets);
    torch::Tensor result = (m_classification ? torch::softmax(out, 1) : out).to(torch::kFloat32).contiguous();
    check_output(result, data, m_outputs, output_size);
    std::memcpy(output, result.data_ptr<float>(), std::size_t(data.rows * m_outputs) * sizeof(float));
  }

 private:
  Json m_config;
  Network m_network;
  bool m_classification = true;
  std::int64_t m_outputs = 1;
};

// A TorchScript module (torch.jit.save) called as module(features).
class ScriptModel final : public LoadedModel {
 public:
  ScriptModel(const std::string& file, std::int64_t outputs) : m_outputs(outputs) {
    try {
      m_module = torch::jit::load(file, torch::kCPU);
    } catch (const c10::Error& error) {
      throw Error(ErrorKind::train, fmt::format("'{}' is not a TorchScript module torch.jit.load can read: {}", file,
                                                std::string(error.what_without_backtrace()).substr(0, 300)));
    }
    m_module.eval();
  }

  std::int64_t outputs() const override { return m_outputs; }

  void score(const MlctlSplit& data, float* output, std::int64_t output_size) const override {
    torch::InferenceMode inference;
    torch::Tensor input = torch::from_blob(const_cast<float*>(data.features), {data.rows, data.cols}, torch::kFloat32);
    torch::Tensor result;
    try {
      // Module::forward is not const; a scripted forward in inference mode
      // keeps no state, so concurrent calls are safe.
      torch::IValue value = const_cast<torch::jit::script::Module&>(m_module).forward({input});
      if (!value.isTensor()) throw Error(ErrorKind::train, "the TorchScript module must return one tensor");
      result = value.toTensor().to(torch::kFloat32).contiguous();
    } catch (const c10::Error& error) {
      throw Error(ErrorKind::train, fmt::format("the TorchScript module failed on a {}x{} input: {}", data.rows,
                                                data.cols, std::string(error.what_without_backtrace()).substr(0, 300)));
    }
    if (result.dim() == 1) result = result.unsqueeze(1);
    if (result.dim() != 2 || result.size(0) != data.rows || result.size(1) != m_outputs) {
      throw Error(ErrorKind::train,
                  fmt::format("the TorchScript module returned shape [{}] for {} rows; expected [{}, {}] (one column "
                              "per class in the schema's outputs.classes, or one for regression)",
                              fmt::join(result.sizes(), ", "), data.rows, data.rows, m_outputs));
    }
    check_output(result, data, m_outputs, output_size);
    std::memcpy(output, result.data_ptr<float>(), std::size_t(data.rows * m_outputs) * sizeof(float));
  }

 private:
  torch::jit::script::Module m_module;
  std::int64_t m_outputs;
};

}  // namespace

std::unique_ptr<LoadedModel> load_model(const Json& config) {
  // The service asks for one intra-op thread: it scores small batches from
  // several threads of its own, and a pool per call would only add
  // hand-offs. Batch scoring keeps libtorch's default.
  if (config.contains("threads")) at::set_num_threads(config.at("threads").get<int>());
  const std::string format = config.value("format", "mlctl");
  if (format == "mlctl") return std::make_unique<BuiltinModel>(config.at("model_dir").get<std::string>());
  if (format == "torchscript") {
    return std::make_unique<ScriptModel>(config.at("file").get<std::string>(), config.at("outputs").get<std::int64_t>());
  }
  throw Error(ErrorKind::invalid_argument, fmt::format("unknown model format '{}'", format));
}

}  // namespace mlctl::torch_backend
