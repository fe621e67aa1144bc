#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <mlctl/core/json.hpp>

#include "support/cli_runner.hpp"
#include "support/temp_dir.hpp"

namespace mlctl::testing {

// A temporary project and helpers to run mlctl in it.
class ProjectFixture {
 public:
  ProjectFixture() {
    auto result = run_mlctl({"init", m_dir.path().string(), "-o", "json"});
    REQUIRE(result.exit_code == 0);
  }
  const std::filesystem::path& path() const { return m_dir.path(); }
  std::filesystem::path operator/(std::string_view name) const { return m_dir / name; }

  CliOptions options() const {
    CliOptions options;
    options.cwd = m_dir.path();
    return options;
  }
  CliResult mlctl(const std::vector<std::string>& args) const { return run_mlctl(args, options()); }
  CliResult shell(const std::string& script) const { return run_shell(script, options()); }

  // Runs mlctl with -o json and parses stdout; fails the test on a non-zero exit.
  Json json(std::vector<std::string> args) const {
    args.push_back("-o");
    args.push_back("json");
    auto result = mlctl(args);
    INFO("stderr: " << result.err);
    REQUIRE(result.exit_code == 0);
    return Json::parse(result.out);
  }

  // Submits a shell command as a run and returns its id.
  std::string submit(const std::string& script, std::vector<std::string> flags = {}) const {
    std::vector<std::string> args = {"experiment", "submit", "-o", "json"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--", "/bin/sh", "-c", script});
    auto result = mlctl(args);
    INFO("stderr: " << result.err);
    REQUIRE(!result.out.empty());
    return Json::parse(result.out)["id"].get<std::string>();
  }

 private:
  TempDir m_dir{"mlctl-cli-"};
};

// Deletes a service when the test ends, so that no server outlives it.
struct ServiceGuard {
  const ProjectFixture& project;
  std::string name;
  ~ServiceGuard() { project.mlctl({"service", "delete", name}); }
};

// The first line of a text.
inline std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace mlctl::testing
