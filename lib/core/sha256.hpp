#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace mlctl {

// Incremental SHA-256 (FIPS 180-4). Used to address artifacts by content.
// Not thread-safe; one hasher per stream. On CPUs with the SHA extensions
// (Intel since Ice Lake, AMD since Zen) blocks go through them, ~6x faster
// than the portable code; `portable` forces the portable code (tests
// compare the two).
class Sha256 {
 public:
  enum class Engine { automatic, portable };
  explicit Sha256(Engine engine = Engine::automatic);
  void reset();
  void update(const void* data, std::size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  // Finishes the hash and returns 64 lower-case hex digits. The hasher must
  // be reset() before it is used again.
  std::string hex_digest();

 private:
  // Hashes `count` whole 64-byte blocks into m_state.
  void compress(const std::uint8_t* blocks, std::size_t count);

  bool m_cpu_instructions;

  std::array<std::uint32_t, 8> m_state{};
  std::array<std::uint8_t, 64> m_buffer{};
  std::size_t m_buffered = 0;
  std::uint64_t m_total_bytes = 0;
};

// Whether this CPU has the SHA extensions Sha256 uses.
bool sha256_has_cpu_instructions();

// sha256 of a byte string, as hex.
std::string sha256_hex(std::string_view data);

// sha256 of a file's content, as hex. Throws Error(io) if it can't be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace mlctl
