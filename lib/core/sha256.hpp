#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace mlctl {

// Incremental SHA-256 (FIPS 180-4). Used to address artifacts by content.
// Not thread-safe; one hasher per stream.
class Sha256 {
 public:
  Sha256() { reset(); }
  void reset();
  void update(const void* data, std::size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  // Finishes the hash and returns 64 lower-case hex digits. The hasher must
  // be reset() before it is used again.
  std::string hex_digest();

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> m_state{};
  std::array<std::uint8_t, 64> m_buffer{};
  std::size_t m_buffered = 0;
  std::uint64_t m_total_bytes = 0;
};

// sha256 of a byte string, as hex.
std::string sha256_hex(std::string_view data);

// sha256 of a file's content, as hex. Throws Error(io) if it can't be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace mlctl
