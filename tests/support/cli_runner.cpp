#include "support/cli_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace mlctl::testing {
namespace {

CliResult run_process(const std::vector<std::string>& argv, const CliOptions& options) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  std::vector<std::string> env_storage;
  for (char** entry = environ; *entry; ++entry) {
    std::string text(*entry);
    std::string key = text.substr(0, text.find('='));
    // Tests choose these themselves; never inherit them from the caller.
    if (options.env.count(key) || key == "MLCTL_PROJECT" || key == "MLCTL_RUN_ID" || key == "MLCTL_OUTPUT" ||
        key == "MLCTL_EXPERIMENT") {
      continue;
    }
    env_storage.push_back(text);
  }
  for (const auto& [key, value] : options.env) env_storage.push_back(key + "=" + value);
  std::vector<char*> envp, args;
  for (auto& entry : env_storage) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& arg : argv_copy) args.push_back(arg.data());
  args.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(126);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  CliResult result;
  std::array<pollfd, 2> fds = {pollfd{out_pipe[0], POLLIN, 0}, pollfd{err_pipe[0], POLLIN, 0}};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(options.timeout_seconds);
  char buffer[65536];
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      result.err += "\n[test harness: killed after timeout]";
      break;
    }
    if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
    for (std::size_t i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buffer, std::size_t(n));
      } else {
        fds[i].fd = -1;
      }
    }
  }
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace

std::string mlctl_binary() { return MLCTL_BINARY; }
std::filesystem::path source_dir() { return MLCTL_SOURCE_DIR; }

CliResult run_mlctl(const std::vector<std::string>& args, const CliOptions& options) {
  std::vector<std::string> argv = {mlctl_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, options);
}

CliResult run_shell(const std::string& script, const CliOptions& options) {
  CliOptions with_path = options;
  // Scripts call `mlctl` by name.
  std::string bin_dir = std::filesystem::path(mlctl_binary()).parent_path().string();
  const char* path = std::getenv("PATH");
  with_path.env["PATH"] = bin_dir + ":" + (path ? path : "/usr/bin:/bin");
  return run_process({"/bin/sh", "-c", script}, with_path);
}

}  // namespace mlctl::testing
