#pragma once

// Training checkpoints. Torch-only: included by libmlctl_torch.so's
// sources, never by libmlctl.
#include <torch/types.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <mlctl/core/json.hpp>

namespace mlctl::torch_backend {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// One checkpoint is one file: "MLCTLCKPT1\n", the length of a JSON header
// (8 bytes, little-endian), the header ({"state": ..., "tensors": [{"name",
// "shape", "offset"}]}), then each tensor's float32 values. It is written
// under a temporary name and then given its own (train/checkpoint_files),
// so a kill at any moment leaves a whole checkpoint. torch's own archive
// format (a zip of pickles) costs milliseconds per file, which a 100-epoch
// run of a small model paid every epoch.
void write_checkpoint(const std::filesystem::path& file, const Json& state, const NamedTensors& tensors);

// Reads a checkpoint into `tensors` (same names and sizes, copied into the
// live tensors on their devices) and returns its state. Throws
// Error(store) naming the file when it is not a checkpoint or does not fit.
Json read_checkpoint(const std::filesystem::path& file, const NamedTensors& tensors);

}  // namespace mlctl::torch_backend
