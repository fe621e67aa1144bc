#pragma once

#include <cstdint>
#include <optional>
#include <filesystem>
#include <string>
#include <vector>

namespace mlctl {

// The start time of process `pid` in clock ticks since boot (field 22 of
// /proc/PID/stat), or nullopt if there is no such process. Together with
// the pid it names one process even after the pid is reused.
std::optional<std::int64_t> process_start_ticks(std::int64_t pid);

// Whether the process identified by (pid, start ticks) still exists and is
// not a zombie.
bool is_process_alive(std::int64_t pid, std::optional<std::int64_t> start_ticks);

// This machine's host name.
std::string host_name();

// Starts `args` (args[0] an executable path) as a daemon that outlives
// this process: double fork, new session, stdin from /dev/null, stdout and
// stderr appended to `log_path`. Returns once the intermediate process has
// exited; the daemon's pid is not known here. Throws Error(io) when fork
// fails.
void spawn_detached(const std::vector<std::string>& args, const std::filesystem::path& log_path);

// The path of the running executable (/proc/self/exe).
std::string current_executable();

}  // namespace mlctl
