#include <mlctl/core/git_info.hpp>

#include <sstream>

#include <mlctl/core/files.hpp>

namespace mlctl {
namespace {

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

// The git directory for a work tree: `.git` itself, or where a `.git` file
// ("gitdir: PATH", used by worktrees and submodules) points.
std::optional<std::filesystem::path> git_dir_of(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::path dot_git = dir / ".git";
  if (std::filesystem::is_directory(dot_git, ec)) return dot_git;
  if (std::filesystem::is_regular_file(dot_git, ec)) {
    std::string text = trim(read_file(dot_git));
    if (text.rfind("gitdir: ", 0) == 0) {
      std::filesystem::path target = text.substr(8);
      return target.is_absolute() ? target : dir / target;
    }
  }
  return std::nullopt;
}

std::optional<std::string> resolve_ref(const std::filesystem::path& git_dir, const std::string& ref) {
  std::error_code ec;
  // Worktrees keep refs in the common dir.
  std::filesystem::path common = git_dir;
  if (std::filesystem::exists(git_dir / "commondir", ec)) {
    std::filesystem::path relative = trim(read_file(git_dir / "commondir"));
    common = relative.is_absolute() ? relative : git_dir / relative;
  }
  for (const auto& base : {git_dir, common}) {
    if (std::filesystem::exists(base / ref, ec)) return trim(read_file(base / ref));
  }
  if (std::filesystem::exists(common / "packed-refs", ec)) {
    std::istringstream lines(read_file(common / "packed-refs"));
    std::string line;
    while (std::getline(lines, line)) {
      if (line.size() > 41 && line[40] == ' ' && trim(line.substr(41)) == ref) return line.substr(0, 40);
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> find_git_commit(const std::filesystem::path& start) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::absolute(start, ec);
  while (true) {
    if (auto git_dir = git_dir_of(dir)) {
      try {
        std::string head = trim(read_file(*git_dir / "HEAD"));
        if (head.rfind("ref: ", 0) == 0) return resolve_ref(*git_dir, head.substr(5));
        if (head.size() >= 40) return head;
      } catch (...) {
      }
      return std::nullopt;
    }
    if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
    dir = dir.parent_path();
  }
}

}  // namespace mlctl
