#include <mlctl/core/tar_archive.hpp>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>

namespace mlctl {
namespace {

constexpr std::size_t k_block = 512;

bool unsafe_name(const std::string& name) {
  if (name.empty() || name.front() == '/') return true;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    if (name.compare(start, end - start, "..") == 0 && end - start == 2) return true;
    start = end + 1;
  }
  return false;
}

void put_octal(char* field, std::size_t width, std::uint64_t value) {
  std::string digits = fmt::format("{:0{}o}", value, width - 1);
  std::memcpy(field, digits.data(), width - 1);
  field[width - 1] = '\0';
}

std::uint64_t get_octal(const char* field, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width && field[i]; ++i) {
    if (field[i] == ' ') continue;
    if (field[i] < '0' || field[i] > '7') break;
    value = value * 8 + std::uint64_t(field[i] - '0');
  }
  return value;
}

std::uint64_t checksum(const char* header) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < k_block; ++i) {
    sum += (i >= 148 && i < 156) ? std::uint64_t(' ') : std::uint64_t(static_cast<unsigned char>(header[i]));
  }
  return sum;
}

}  // namespace

void write_tar(const std::filesystem::path& path, const std::vector<TarEntry>& entries) {
  std::string archive;
  for (const auto& entry : entries) {
    if (unsafe_name(entry.name) || entry.name.size() > 255) {
      throw Error(ErrorKind::invalid_argument, fmt::format("cannot store '{}' in a tar file", entry.name));
    }
    char header[k_block] = {};
    std::string name = entry.name, prefix;
    if (name.size() > 100) {
      auto slash = name.rfind('/', 155);
      if (slash == std::string::npos || name.size() - slash - 1 > 100) {
        throw Error(ErrorKind::invalid_argument, fmt::format("name too long for a tar file: '{}'", entry.name));
      }
      prefix = name.substr(0, slash);
      name = name.substr(slash + 1);
    }
    std::memcpy(header, name.data(), name.size());
    put_octal(header + 100, 8, 0644);
    put_octal(header + 108, 8, 0);
    put_octal(header + 116, 8, 0);
    put_octal(header + 124, 12, entry.content.size());
    put_octal(header + 136, 12, 0);
    header[156] = '0';
    std::memcpy(header + 257, "ustar", 6);
    std::memcpy(header + 263, "00", 2);
    std::memcpy(header + 345, prefix.data(), prefix.size());
    put_octal(header + 148, 7, checksum(header));
    header[155] = ' ';
    archive.append(header, k_block);
    archive += entry.content;
    archive.append((k_block - entry.content.size() % k_block) % k_block, '\0');
  }
  archive.append(2 * k_block, '\0');
  write_file_atomic(path, archive);
}

std::vector<TarEntry> read_tar(const std::filesystem::path& path) {
  std::string archive = read_file(path);
  std::vector<TarEntry> entries;
  std::size_t offset = 0;
  auto corrupt = [&](const std::string& why) {
    return Error(ErrorKind::parse, fmt::format("{}: not a valid tar file: {} (at byte {})", path.string(), why, offset));
  };
  while (offset + k_block <= archive.size()) {
    const char* header = archive.data() + offset;
    if (std::all_of(header, header + k_block, [](char c) { return c == '\0'; })) break;
    if (get_octal(header + 148, 8) != checksum(header)) throw corrupt("header checksum mismatch");
    std::string name(header, strnlen(header, 100));
    std::string prefix(header + 345, strnlen(header + 345, 155));
    if (!prefix.empty()) name = prefix + "/" + name;
    while (name.rfind("./", 0) == 0) name = name.substr(2);
    std::uint64_t size = get_octal(header + 124, 12);
    char type = header[156];
    offset += k_block;
    if (offset + size > archive.size()) throw corrupt(fmt::format("'{}' is truncated", name));
    if (type == '0' || type == '\0') {
      if (unsafe_name(name)) throw corrupt(fmt::format("unsafe name '{}'", name));
      entries.push_back({name, archive.substr(offset, size)});
    } else if (type == '1' || type == '2') {
      throw corrupt(fmt::format("'{}' is a link; packages hold regular files only", name));
    }
    offset += (size + k_block - 1) / k_block * k_block;
  }
  return entries;
}

}  // namespace mlctl
