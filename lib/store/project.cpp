#include <mlctl/store/project.hpp>

#include <fmt/format.h>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/store/db.hpp>
#include <mlctl/store/schema.hpp>

namespace mlctl::store {

ProjectPaths ProjectPaths::at(const std::filesystem::path& root) {
  ProjectPaths paths;
  paths.root = root;
  paths.state_dir = root / ".mlctl";
  paths.database = paths.state_dir / "mlctl.db";
  paths.objects = paths.state_dir / "objects";
  paths.runs = paths.state_dir / "runs";
  paths.config = root / "mlctl.yaml";
  return paths;
}

std::optional<ProjectPaths> find_project(const std::filesystem::path& start) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::absolute(start, ec);
  if (ec) return std::nullopt;
  dir = dir.lexically_normal();
  while (true) {
    if (std::filesystem::is_directory(dir / ".mlctl", ec)) return ProjectPaths::at(dir);
    if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
    dir = dir.parent_path();
  }
}

ProjectPaths init_project(const std::filesystem::path& root) {
  std::error_code ec;
  std::filesystem::path absolute_root = std::filesystem::absolute(root, ec).lexically_normal();
  if (absolute_root.filename().empty()) absolute_root = absolute_root.parent_path();
  ProjectPaths paths = ProjectPaths::at(absolute_root);
  if (std::filesystem::exists(paths.state_dir, ec)) {
    throw Error(ErrorKind::already_exists,
                fmt::format("'{}' is already an mlctl project", absolute_root.string()));
  }
  for (const auto& dir : {paths.root, paths.state_dir, paths.objects, paths.runs}) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      throw Error(ErrorKind::io, fmt::format("cannot create '{}': {}", dir.string(), ec.message()));
    }
  }
  // The state is data, not source: keep it out of the user's git history.
  write_file_atomic(paths.state_dir / ".gitignore", "*\n");
  Db::open(paths.database, project_migrations(), /*create=*/true);
  return paths;
}

}  // namespace mlctl::store
