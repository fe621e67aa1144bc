#pragma once

#include <cstdint>
#include <string>

#include <mlctl/core/backend_abi.h>

namespace mlctl::torch_backend {

// Scores as MlctlBackendV1::predict_script describes; throws on failure.
void predict_script_module(const std::string& model_file, const MlctlSplit& data, float* output,
                           std::int64_t output_size);

}  // namespace mlctl::torch_backend
