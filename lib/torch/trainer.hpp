#pragma once

#include <mlctl/core/backend_abi.h>
#include <mlctl/core/json.hpp>

namespace mlctl::torch_backend {

// Trains as MlctlBackendV1::train describes; throws on failure (the entry
// point turns exceptions into results).
Json train_model(const Json& config, const MlctlSplit& train, const MlctlSplit& validation, const MlctlSplit* test,
                 MlctlEpochCallback on_epoch, void* context);

// Scores as MlctlBackendV1::predict describes.
void predict_model(const std::string& model_dir, const MlctlSplit& data, float* output, std::int64_t output_size);

}  // namespace mlctl::torch_backend
