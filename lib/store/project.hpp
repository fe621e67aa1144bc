#pragma once

#include <filesystem>
#include <optional>

namespace mlctl::store {

// Where a project keeps its state. Everything lives under `<root>/.mlctl/`.
struct ProjectPaths {
  std::filesystem::path root;        // the user's project directory
  std::filesystem::path state_dir;   // <root>/.mlctl
  std::filesystem::path database;    // <root>/.mlctl/mlctl.db
  std::filesystem::path objects;     // <root>/.mlctl/objects (artifact store)
  std::filesystem::path runs;        // <root>/.mlctl/runs/<run id>/ (logs, live outputs)
  std::filesystem::path config;      // <root>/mlctl.yaml (optional)

  static ProjectPaths at(const std::filesystem::path& root);
};

// Walks up from `start` like git does and returns the first directory that
// holds a `.mlctl/` project, or nullopt.
std::optional<ProjectPaths> find_project(const std::filesystem::path& start);

// Creates a project in `root` (created if missing): the state directory,
// the database at the current schema version and the artifact store.
// Throws Error(already_exists) if `root` already holds a project, Error(io).
ProjectPaths init_project(const std::filesystem::path& root);

}  // namespace mlctl::store
