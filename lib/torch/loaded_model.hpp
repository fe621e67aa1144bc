#pragma once

#include <cstdint>
#include <memory>

#include <mlctl/core/backend_abi.h>
#include <mlctl/core/json.hpp>

namespace mlctl::torch_backend {

// A model held in memory for the HTTP service: loaded and put in eval mode
// once, then scored from several threads at once in inference mode, on the
// CPU (for models of this size a GPU round trip costs more than the
// forward pass).
class LoadedModel {
 public:
  virtual ~LoadedModel() = default;
  // Values per row: classes, or 1.
  virtual std::int64_t outputs() const = 0;
  // As MlctlBackendV1::score_loaded: probabilities or the scaled value for
  // built-in models, raw outputs for TorchScript modules.
  virtual void score(const MlctlSplit& data, float* output, std::int64_t output_size) const = 0;
};

// Loads what MlctlBackendV1::load_model's config describes. Throws on a
// missing or unreadable model.
std::unique_ptr<LoadedModel> load_model(const Json& config);

}  // namespace mlctl::torch_backend
