#include <mlctl/train/checkpoint_files.hpp>

#include <fmt/format.h>

#include <charconv>
#include <string>
#include <string_view>
#include <system_error>

namespace mlctl::train {
namespace {

constexpr std::string_view k_prefix = "checkpoint-", k_suffix = ".bin", k_earlier_name = "checkpoint.bin";

// The epoch of a checkpoint-EEEEEE.bin name; none for any other name.
std::optional<int> epoch_of(const std::string& name) {
  if (name.size() <= k_prefix.size() + k_suffix.size() || !name.starts_with(k_prefix) || !name.ends_with(k_suffix)) {
    return std::nullopt;
  }
  const char* first = name.data() + k_prefix.size();
  const char* last = name.data() + name.size() - k_suffix.size();
  int epoch = 0;
  auto [end, error] = std::from_chars(first, last, epoch);
  if (error != std::errc() || end != last) return std::nullopt;
  return epoch;
}

}  // namespace

std::filesystem::path checkpoint_file(const std::filesystem::path& directory, int epoch) {
  return directory / fmt::format("{}{:06}{}", k_prefix, epoch, k_suffix);
}

std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& directory) {
  std::error_code ec;
  std::optional<std::filesystem::path> latest;
  int latest_epoch = -1;
  for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
    std::string name = entry.path().filename().string();
    if (auto epoch = epoch_of(name); epoch && *epoch > latest_epoch) {
      latest_epoch = *epoch;
      latest = entry.path();
    } else if (name == k_earlier_name && latest_epoch < 0) {
      latest = entry.path();
    }
  }
  return latest;
}

void remove_checkpoints_before(const std::filesystem::path& directory, int epoch) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
    std::string name = entry.path().filename().string();
    auto older = epoch_of(name);
    if ((older && *older < epoch) || name == k_earlier_name) std::filesystem::remove(entry.path(), ec);
  }
}

}  // namespace mlctl::train
