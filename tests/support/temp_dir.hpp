#pragma once

#include <filesystem>
#include <string_view>

namespace mlctl::testing {

// A fresh directory for one test. It is removed when the test case ends
// successfully and kept (its path printed) when the test case failed, so a
// failure can be inspected (a Catch2 listener decides; see temp_dir.cpp).
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "mlctl-test-");
  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(std::string_view name) const { return m_path / name; }

 private:
  std::filesystem::path m_path;
};

// Writes a text file, creating parent directories.
void write_text(const std::filesystem::path& path, std::string_view content);

}  // namespace mlctl::testing
