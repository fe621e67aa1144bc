#include "support/temp_dir.hpp"

// Listeners need Catch2's reporter interfaces.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include <fstream>
#include <iostream>
#include <mutex>
#include <vector>

#include <mlctl/core/files.hpp>

namespace mlctl::testing {
namespace {

std::mutex g_mutex;
std::vector<std::filesystem::path> g_pending;

class TempDirListener : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    std::lock_guard lock(g_mutex);
    bool failed = stats.totals.assertions.failed > 0;
    for (const auto& path : g_pending) {
      if (failed) {
        std::cerr << "kept the test directory " << path << " of failed test '" << stats.testInfo.name << "'\n";
      } else {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
      }
    }
    g_pending.clear();
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(TempDirListener)

TempDir::TempDir(std::string_view prefix) : m_path(make_temp_directory(prefix)) {
  std::lock_guard lock(g_mutex);
  g_pending.push_back(m_path);
}

void write_text(const std::filesystem::path& path, std::string_view content) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

}  // namespace mlctl::testing
