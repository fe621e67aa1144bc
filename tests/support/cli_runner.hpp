#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mlctl::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

struct CliOptions {
  std::filesystem::path cwd;                  // default: the current directory
  std::map<std::string, std::string> env;     // added to (or replacing) the environment
  double timeout_seconds = 120;
};

// Runs the built mlctl binary with `args` and captures its output.
CliResult run_mlctl(const std::vector<std::string>& args, const CliOptions& options = {});

// Runs `/bin/sh -c script` (for pipelines, background jobs and kill).
CliResult run_shell(const std::string& script, const CliOptions& options = {});

// The path of the mlctl binary under test and of the source tree.
std::string mlctl_binary();
std::filesystem::path source_dir();

}  // namespace mlctl::testing
