#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace mlctl {

// The commit checked out in the git repository containing `dir` (read from
// .git/HEAD, loose refs and packed-refs, without running git), or nullopt
// outside a repository.
std::optional<std::string> find_git_commit(const std::filesystem::path& dir);

}  // namespace mlctl
