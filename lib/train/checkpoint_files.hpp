#pragma once

// Where a training run's checkpoints live. Torch-free: the worker decides
// whether a run resumes, the torch backend writes and reads the files.
#include <filesystem>
#include <optional>

namespace mlctl::train {

// The checkpoint written after `epoch`: checkpoint-EEEEEE.bin. Each epoch
// gets a new name and the older files are removed after it, because
// renaming over an existing file makes ext4 write the new one back at once
// (its auto_da_alloc guard), ~0.3 ms an epoch against ~0.05 ms for a new
// name.
std::filesystem::path checkpoint_file(const std::filesystem::path& directory, int epoch);

// The newest checkpoint in `directory`: the highest epoch, or the single
// checkpoint.bin of earlier builds; none when there is neither.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& directory);

// Removes the checkpoints of epochs before `epoch` (and an earlier build's
// checkpoint.bin): called once the checkpoint of `epoch` is in place.
void remove_checkpoints_before(const std::filesystem::path& directory, int epoch);

}  // namespace mlctl::train
