#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include <mlctl/store/artifact_store.hpp>
#include <mlctl/store/db.hpp>
#include <mlctl/store/project.hpp>
#include <mlctl/store/settings.hpp>

namespace mlctl::store {

struct ContextOptions {
  // --project or MLCTL_PROJECT; when empty the project is found by walking
  // up from `working_dir`.
  std::optional<std::filesystem::path> project_dir;
  std::filesystem::path working_dir;
};

// What a command works on: the project, its database and artifact store and
// the settings. Each is opened on first use, so commands that need none
// (--help, version, completion) touch nothing. One per command; not
// thread-safe.
class Context {
 public:
  explicit Context(ContextOptions options);

  // Throws Error(not_found) when no project is found.
  const ProjectPaths& project();
  bool has_project();
  // Opens the database (applying migrations). Throws Error(store).
  Db& db();
  ArtifactStore& artifacts();
  // Settings from the files and environment. Throws on a bad settings file.
  const Settings& settings();
  const std::filesystem::path& working_dir() const { return m_options.working_dir; }
  // The database if it was opened, else nullptr.
  const Db* opened_db() const { return m_db ? &*m_db : nullptr; }

 private:
  ContextOptions m_options;
  std::optional<ProjectPaths> m_project;
  std::optional<Db> m_db;
  std::optional<ArtifactStore> m_artifacts;
  std::optional<Settings> m_settings;
};

}  // namespace mlctl::store
