#include "checkpoint.hpp"

#include <torch/utils.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>

namespace mlctl::torch_backend {
namespace {

constexpr std::string_view k_magic = "MLCTLCKPT1\n";

std::string little_endian_u64(std::uint64_t value) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[std::size_t(i)] = char((value >> (8 * i)) & 0xff);
  return bytes;
}

std::uint64_t read_u64(const std::string& bytes, std::size_t at) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | std::uint8_t(bytes[at + std::size_t(i)]);
  return value;
}

}  // namespace

void write_checkpoint(const std::filesystem::path& file, const Json& state, const NamedTensors& tensors) {
  Json header = {{"state", state}, {"tensors", Json::array()}};
  std::vector<torch::Tensor> host;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    torch::Tensor values = tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    header["tensors"].push_back({{"name", name}, {"shape", values.sizes().vec()}, {"offset", offset}});
    offset += std::uint64_t(values.numel()) * sizeof(float);
    host.push_back(std::move(values));
  }
  std::string header_text = header.dump();
  std::string content;
  content.reserve(k_magic.size() + 8 + header_text.size() + offset);
  content += k_magic;
  content += little_endian_u64(header_text.size());
  content += header_text;
  for (const auto& values : host) {
    content.append(static_cast<const char*>(values.data_ptr()), std::size_t(values.numel()) * sizeof(float));
  }
  write_file_atomic(file, content, /*sync=*/false);
}

Json read_checkpoint(const std::filesystem::path& file, const NamedTensors& tensors) {
  std::string content = read_file(file);
  auto fail = [&](const std::string& why) {
    return Error(ErrorKind::store, fmt::format("checkpoint {}: {}", file.string(), why),
                 "submit the job again instead of resuming it");
  };
  if (content.compare(0, k_magic.size(), k_magic) != 0 || content.size() < k_magic.size() + 8) {
    throw fail("not an mlctl checkpoint (written by another mlctl version?)");
  }
  std::uint64_t header_size = read_u64(content, k_magic.size());
  std::size_t data_start = k_magic.size() + 8 + header_size;
  if (data_start > content.size()) throw fail("truncated header");
  Json header = Json::parse(content.substr(k_magic.size() + 8, header_size), nullptr, false);
  if (header.is_discarded() || !header.contains("tensors")) throw fail("unreadable header");
  for (const auto& [name, tensor] : tensors) {
    const Json* entry = nullptr;
    for (const auto& candidate : header["tensors"]) {
      if (candidate.value("name", "") == name) entry = &candidate;
    }
    if (!entry) throw fail(fmt::format("no tensor '{}'", name));
    auto shape = (*entry).at("shape").get<std::vector<std::int64_t>>();
    if (shape != tensor.sizes().vec()) {
      throw fail(fmt::format("tensor '{}' has shape [{}], the model expects [{}]", name, fmt::join(shape, ", "),
                             fmt::join(tensor.sizes().vec(), ", ")));
    }
    std::uint64_t offset = (*entry).at("offset");
    std::uint64_t bytes = std::uint64_t(tensor.numel()) * sizeof(float);
    if (data_start + offset + bytes > content.size()) throw fail(fmt::format("tensor '{}' is truncated", name));
    torch::NoGradGuard no_grad;
    torch::Tensor stored = torch::from_blob(content.data() + data_start + offset, tensor.sizes(), torch::kFloat32);
    tensor.copy_(stored);
  }
  return header.value("state", Json::object());
}

}  // namespace mlctl::torch_backend
