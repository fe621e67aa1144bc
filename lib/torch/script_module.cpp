// Bring-your-own models: TorchScript modules saved from Python with
// torch.jit.save, scored on CPU in inference mode.
#include "script_module.hpp"

#include <torch/script.h>

#include <cstring>

#include <fmt/format.h>

#include <mlctl/core/error.hpp>

namespace mlctl::torch_backend {

void predict_script_module(const std::string& model_file, const MlctlSplit& data, float* output,
                           std::int64_t output_size) {
  if (!data.features || data.rows <= 0) throw Error(ErrorKind::invalid_argument, "no rows to score");
  const std::int64_t expected = output_size / data.rows;
  torch::jit::script::Module module;
  try {
    module = torch::jit::load(model_file, torch::kCPU);
  } catch (const c10::Error& error) {
    throw Error(ErrorKind::train, fmt::format("'{}' is not a TorchScript module torch.jit.load can read: {}", model_file,
                                              std::string(error.what_without_backtrace()).substr(0, 300)));
  }
  module.eval();
  torch::InferenceMode inference;
  torch::Tensor input = torch::from_blob(const_cast<float*>(data.features), {data.rows, data.cols}, torch::kFloat32);
  torch::Tensor result;
  try {
    torch::IValue value = module.forward({input});
    if (!value.isTensor()) throw Error(ErrorKind::train, "the TorchScript module must return one tensor");
    result = value.toTensor().to(torch::kFloat32).contiguous();
  } catch (const c10::Error& error) {
    throw Error(ErrorKind::train, fmt::format("the TorchScript module failed on a {}x{} input: {}", data.rows,
                                              data.cols, std::string(error.what_without_backtrace()).substr(0, 300)));
  }
  if (result.dim() == 1) result = result.unsqueeze(1);
  if (result.dim() != 2 || result.size(0) != data.rows || result.size(1) != expected) {
    throw Error(ErrorKind::train,
                fmt::format("the TorchScript module returned shape {} for {} rows; expected [{}, {}] (one column per "
                            "class in the schema's outputs.classes, or one for regression)",
                            fmt::format("[{}]", fmt::join(result.sizes(), ", ")), data.rows, data.rows, expected));
  }
  std::memcpy(output, result.data_ptr<float>(), std::size_t(output_size) * sizeof(float));
}

}  // namespace mlctl::torch_backend
