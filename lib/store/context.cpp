#include <mlctl/store/context.hpp>

#include <fmt/format.h>

#include <mlctl/core/error.hpp>
#include <mlctl/store/schema.hpp>

namespace mlctl::store {

Context::Context(ContextOptions options) : m_options(std::move(options)) {
  if (m_options.working_dir.empty()) m_options.working_dir = std::filesystem::current_path();
}

bool Context::has_project() {
  if (m_project) return true;
  try {
    project();
    return true;
  } catch (const Error&) {
    return false;
  }
}

const ProjectPaths& Context::project() {
  if (m_project) return *m_project;
  if (m_options.project_dir) {
    std::error_code ec;
    std::filesystem::path root = std::filesystem::absolute(*m_options.project_dir, ec).lexically_normal();
    if (root.filename().empty()) root = root.parent_path();
    ProjectPaths paths = ProjectPaths::at(root);
    if (!std::filesystem::is_directory(paths.state_dir, ec)) {
      throw Error(ErrorKind::not_found, fmt::format("'{}' is not an mlctl project (no .mlctl/ directory)", root.string()),
                  fmt::format("run 'mlctl init {}' first", m_options.project_dir->string()));
    }
    m_project = paths;
    return *m_project;
  }
  m_project = find_project(m_options.working_dir);
  if (!m_project) {
    throw Error(ErrorKind::not_found,
                fmt::format("no mlctl project in '{}' or any parent directory", m_options.working_dir.string()),
                "run 'mlctl init' to create one, or pass --project DIR");
  }
  return *m_project;
}

Db& Context::db() {
  if (!m_db) m_db.emplace(Db::open(project().database, project_migrations()));
  return *m_db;
}

ArtifactStore& Context::artifacts() {
  if (!m_artifacts) m_artifacts.emplace(project().objects);
  return *m_artifacts;
}

const Settings& Context::settings() {
  if (!m_settings) {
    std::optional<std::filesystem::path> project_config;
    if (has_project()) project_config = project().config;
    m_settings = load_settings(project_config, user_config_path());
  }
  return *m_settings;
}

}  // namespace mlctl::store
