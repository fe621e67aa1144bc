#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace mlctl {

// Reads a whole file. Throws Error(io) naming the path if it can't.
std::string read_file(const std::filesystem::path& path);

// Writes `content` to `path` atomically: a temporary file in the same
// directory, fsync'd, then renamed over the target, so readers see the old
// or the new content and never a torn write. Creates parent directories.
// Throws Error(io). `sync` false skips the fsync: the rename still keeps
// a killed writer from leaving a torn file, but a power loss may lose the
// new content (for files rewritten often, such as training checkpoints).
void write_file_atomic(const std::filesystem::path& path, std::string_view content, bool sync = true);

// Creates a fresh, unique directory under the system temp dir (or `parent`)
// and returns its path. Throws Error(io).
std::filesystem::path make_temp_directory(std::string_view prefix,
                                          const std::filesystem::path& parent = {});

// A fresh temporary directory (make_temp_directory) removed with all it
// holds when this goes out of scope.
class ScratchDirectory {
 public:
  explicit ScratchDirectory(std::string_view prefix = "mlctl-") : m_path(make_temp_directory(prefix)) {}
  ~ScratchDirectory() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

// "ENOENT"-style text for errno values, for messages.
std::string errno_text(int error_number);

}  // namespace mlctl
