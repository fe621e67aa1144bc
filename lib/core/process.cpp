#include <mlctl/core/process.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>

namespace mlctl {
namespace {

struct ProcStat {
  char state = '?';
  std::int64_t start_ticks = 0;
};

std::optional<ProcStat> read_proc_stat(std::int64_t pid) {
  std::string text;
  try {
    text = read_file(fmt::format("/proc/{}/stat", pid));
  } catch (...) {
    return std::nullopt;
  }
  // The command name (field 2) is in parentheses and may hold spaces.
  auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return std::nullopt;
  ProcStat stat;
  stat.state = text[close + 2];
  // Fields after the name start at field 3; start time is field 22.
  std::size_t position = close + 2;
  for (int field = 3; field < 22; ++field) {
    position = text.find(' ', position);
    if (position == std::string::npos) return std::nullopt;
    ++position;
  }
  stat.start_ticks = std::strtoll(text.c_str() + position, nullptr, 10);
  return stat;
}

}  // namespace

std::optional<std::int64_t> process_start_ticks(std::int64_t pid) {
  auto stat = read_proc_stat(pid);
  if (!stat) return std::nullopt;
  return stat->start_ticks;
}

bool is_process_alive(std::int64_t pid, std::optional<std::int64_t> start_ticks) {
  if (pid <= 0) return false;
  auto stat = read_proc_stat(pid);
  if (!stat || stat->state == 'Z' || stat->state == 'X') return false;
  return !start_ticks || *start_ticks == stat->start_ticks;
}

std::string host_name() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

std::string current_executable() {
  char path[PATH_MAX + 1] = {};
  ssize_t length = ::readlink("/proc/self/exe", path, PATH_MAX);
  if (length <= 0) return "mlctl";
  return std::string(path, std::size_t(length));
}

void spawn_detached(const std::vector<std::string>& args, const std::filesystem::path& log_path) {
  std::vector<std::string> copies = args;
  std::vector<char*> argv;
  for (auto& arg : copies) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const std::string log = log_path.string();
  pid_t launcher = ::fork();
  if (launcher < 0) throw Error(ErrorKind::io, fmt::format("cannot start a background process: {}", std::strerror(errno)));
  if (launcher == 0) {
    // Double fork: the daemon is re-parented to init and outlives us.
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    int null_fd = ::open("/dev/null", O_RDWR);
    int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    if (log_fd >= 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
    }
    // Nothing else of ours: a daemon holding the write end of a run's log
    // pipe would keep its supervisor waiting for the end of the log.
    ::close_range(3, ~0u, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(launcher, &status, 0);
}

}  // namespace mlctl
