#include <mlctl/tracking/run_supervisor.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/process.hpp>
#include <mlctl/store/context.hpp>
#include <mlctl/tracking/metric_log.hpp>
#include <mlctl/tracking/metrics_file.hpp>
#include <mlctl/tracking/run_store.hpp>

extern char** environ;

namespace mlctl::tracking {
namespace {

std::atomic<int> g_stop_signal{0};

void on_stop_signal(int signal_number) { g_stop_signal.store(signal_number); }

// Installs handlers for the signals that cancel a run, without SA_RESTART
// so that poll() wakes up; restores the previous ones on destruction.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal.store(0);
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < k_signals.size(); ++i) sigaction(k_signals[i], &action, &m_previous[i]);
  }
  ~StopSignals() {
    for (std::size_t i = 0; i < k_signals.size(); ++i) sigaction(k_signals[i], &m_previous[i], nullptr);
  }

 private:
  static constexpr std::array<int, 3> k_signals = {SIGINT, SIGTERM, SIGHUP};
  std::array<struct sigaction, 3> m_previous{};
};

void write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // a closed terminal must not stop the run
    }
    data += n;
    size -= std::size_t(n);
  }
}

std::string signal_description(int signal_number) {
  const char* name = sigabbrev_np(signal_number);
  return fmt::format("killed by signal {} (SIG{})", signal_number, name ? name : "?");
}

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw Error(ErrorKind::io, fmt::format("cannot create a pipe: {}", errno_text(errno)));
    read_end = fds[0];
    write_end = fds[1];
  }
  ~Pipe() {
    if (read_end >= 0) ::close(read_end);
    if (write_end >= 0) ::close(write_end);
  }
  void close_write() {
    if (write_end >= 0) ::close(write_end);
    write_end = -1;
  }
};

// Everything the child needs, prepared before fork() so the child only
// makes async-signal-safe calls.
struct ChildSetup {
  std::vector<std::string> argv_storage;
  std::vector<char*> argv;
  std::vector<std::string> env_storage;
  std::vector<char*> envp;
  std::string working_dir;
  std::string exec_error_prefix;
};

ChildSetup prepare_child(const LaunchSpec& spec, const std::map<std::string, std::string>& mlctl_env) {
  ChildSetup setup;
  setup.argv_storage = spec.argv;
  for (auto& arg : setup.argv_storage) setup.argv.push_back(arg.data());
  setup.argv.push_back(nullptr);
  std::map<std::string, std::string> env;
  for (char** entry = environ; *entry; ++entry) {
    std::string_view text(*entry);
    auto equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    env[std::string(text.substr(0, equals))] = std::string(text.substr(equals + 1));
  }
  for (const auto& [key, value] : spec.environment) env[key] = value;
  for (const auto& [key, value] : mlctl_env) env[key] = value;
  for (const auto& [key, value] : env) setup.env_storage.push_back(key + "=" + value);
  for (auto& entry : setup.env_storage) setup.envp.push_back(entry.data());
  setup.envp.push_back(nullptr);
  setup.working_dir = spec.working_dir;
  setup.exec_error_prefix = fmt::format("mlctl: cannot run '{}': ", spec.argv.empty() ? "" : spec.argv[0]);
  return setup;
}

[[noreturn]] void run_child(const ChildSetup& setup, int out_fd, int err_fd, pid_t supervisor,
                            const sigset_t& original_mask) {
  ::setpgid(0, 0);
  // If the supervisor dies, the job must not run on untracked.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != supervisor) ::_exit(127);
  int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0) ::dup2(null_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(err_fd, 2);
  // Restore default signal handling the supervisor changed, then unblock:
  // a cancel that arrived since fork() now acts on the job, not on a copy
  // of the supervisor's handler.
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGHUP, SIG_DFL);
  ::signal(SIGPIPE, SIG_DFL);
  ::sigprocmask(SIG_SETMASK, &original_mask, nullptr);
  if (!setup.working_dir.empty() && ::chdir(setup.working_dir.c_str()) != 0) {
    const char* reason = std::strerror(errno);
    const char* prefix = "mlctl: cannot enter the working directory: ";
    (void)!::write(2, prefix, std::strlen(prefix));
    (void)!::write(2, reason, std::strlen(reason));
    (void)!::write(2, "\n", 1);
    ::_exit(127);
  }
  ::execvpe(setup.argv[0], setup.argv.data(), setup.envp.data());
  const char* reason = std::strerror(errno);
  (void)!::write(2, setup.exec_error_prefix.data(), setup.exec_error_prefix.size());
  (void)!::write(2, reason, std::strlen(reason));
  (void)!::write(2, "\n", 1);
  ::_exit(127);
}

// Reads the metrics file from where it last stopped.
class MetricsTail {
 public:
  MetricsTail(std::filesystem::path path, MetricLog& log, std::int64_t run_row_id,
              std::function<void(std::string_view)> on_warning)
      : m_path(std::move(path)), m_log(log), m_run(run_row_id), m_on_warning(std::move(on_warning)) {}
  ~MetricsTail() {
    if (m_fd >= 0) ::close(m_fd);
  }

  void poll(bool final) {
    if (m_fd < 0) m_fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
    std::vector<MetricPoint> points;
    std::vector<MetricLineError> errors;
    double now = unix_now();
    if (m_fd >= 0) {
      char buffer[1 << 16];
      while (true) {
        ssize_t n = ::read(m_fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        m_parser.feed(std::string_view(buffer, std::size_t(n)), now, points, errors);
        // Keep memory bounded when a job writes millions of points at once.
        if (points.size() >= 50000) {
          m_log.append(m_run, points);
          points.clear();
        }
      }
    }
    if (final) m_parser.finish(now, points, errors);
    if (!points.empty()) m_log.append(m_run, points);
    for (const auto& error : errors) {
      if (m_on_warning) {
        m_on_warning(fmt::format("metrics file line {}: {} (line skipped)", error.line, error.message));
      }
    }
  }

 private:
  std::filesystem::path m_path;
  MetricLog& m_log;
  std::int64_t m_run;
  std::function<void(std::string_view)> m_on_warning;
  MetricsFileParser m_parser;
  int m_fd = -1;
};

std::vector<ArtifactRecord> store_outputs(store::ArtifactStore& artifacts, const std::filesystem::path& outputs) {
  std::vector<ArtifactRecord> records;
  std::error_code ec;
  if (!std::filesystem::is_directory(outputs, ec)) return records;
  for (auto it = std::filesystem::recursive_directory_iterator(outputs, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    store::StoredBlob blob = artifacts.put_file(it->path());
    std::string relative = std::filesystem::relative(it->path(), outputs).generic_string();
    records.push_back({"outputs/" + relative, blob.digest, blob.size});
  }
  return records;
}

}  // namespace

Json LaunchSpec::to_json() const {
  Json json = Json::object();
  json["working_dir"] = working_dir;
  json["environment"] = environment;
  json["outputs"] = outputs;
  json["timeout_seconds"] = timeout_seconds ? Json(*timeout_seconds) : Json(nullptr);
  return json;
}

LaunchSpec LaunchSpec::from_json(const Json& spec, const Json& command) {
  LaunchSpec launch;
  launch.argv = command.get<std::vector<std::string>>();
  launch.working_dir = spec.value("working_dir", "");
  if (spec.contains("environment")) launch.environment = spec["environment"].get<std::map<std::string, std::string>>();
  if (spec.contains("outputs")) launch.outputs = spec["outputs"].get<std::vector<std::string>>();
  if (spec.contains("timeout_seconds") && spec["timeout_seconds"].is_number()) {
    launch.timeout_seconds = spec["timeout_seconds"].get<double>();
  }
  return launch;
}

RunDirectory RunDirectory::of(const store::ProjectPaths& project, std::string_view run_id) {
  RunDirectory dir;
  dir.root = project.runs / std::string(run_id);
  dir.log = dir.root / "log.txt";
  dir.metrics_file = dir.root / "metrics.jsonl";
  dir.outputs = dir.root / "outputs";
  return dir;
}

RunOutcome supervise_run(store::Db& db, store::ArtifactStore& artifacts, const store::ProjectPaths& project,
                         std::string_view run_id, const SuperviseOptions& options) {
  RunStore runs(db);
  MetricLog metric_log(db);
  Run run = runs.get(run_id, false);
  if (run.status != RunStatus::queued) {
    throw Error(ErrorKind::already_exists, fmt::format("run {} is already {}", run.id, to_string(run.status)));
  }
  LaunchSpec spec = LaunchSpec::from_json(run.spec, run.command);
  if (spec.argv.empty()) throw Error(ErrorKind::invalid_argument, fmt::format("run {} has no command", run.id));

  RunDirectory dir = RunDirectory::of(project, run.id);
  std::error_code ec;
  std::filesystem::create_directories(dir.outputs, ec);
  for (const auto& name : spec.outputs) std::filesystem::create_directories(dir.outputs / name, ec);
  if (ec) throw Error(ErrorKind::io, fmt::format("cannot create '{}': {}", dir.outputs.string(), ec.message()));
  write_file_atomic(dir.metrics_file, "");
  int log_fd = ::open(dir.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw Error(ErrorKind::io, fmt::format("cannot write '{}': {}", dir.log.string(), errno_text(errno)));

  auto warn = [&](std::string_view message) {
    std::string line = fmt::format("mlctl: warning: {}\n", message);
    write_all(log_fd, line.data(), line.size());
    if (options.on_warning) options.on_warning(message);
  };

  std::map<std::string, std::string> mlctl_env = {
      {"MLCTL_RUN_ID", run.id},
      {"MLCTL_PROJECT", project.root.string()},
      {"MLCTL_EXPERIMENT", run.experiment},
      {"MLCTL_OUTPUTS", dir.outputs.string()},
      {"MLCTL_METRICS_FILE", dir.metrics_file.string()},
  };
  // Progress lines may be drawn in place when the job's output reaches a
  // terminal through us.
  if (options.echo_output && ::isatty(2)) mlctl_env["MLCTL_PROGRESS"] = "tty";
  // Jobs call `mlctl run log`: the mlctl that runs them comes first on PATH.
  const char* inherited_path = std::getenv("PATH");
  std::string path = spec.environment.count("PATH") ? spec.environment.at("PATH")
                                                    : (inherited_path ? inherited_path : "/usr/bin:/bin");
  mlctl_env["PATH"] = std::filesystem::path(current_executable()).parent_path().string() + ":" + path;
  ChildSetup setup = prepare_child(spec, mlctl_env);
  StopSignals stop_signals;
  Pipe out_pipe, err_pipe;
  pid_t supervisor = ::getpid();
  sigset_t stop_set, original_mask;
  sigemptyset(&stop_set);
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_set, signal_number);
  ::sigprocmask(SIG_BLOCK, &stop_set, &original_mask);
  pid_t child = ::fork();
  if (child == 0) run_child(setup, out_pipe.write_end, err_pipe.write_end, supervisor, original_mask);
  int fork_errno = errno;
  ::sigprocmask(SIG_SETMASK, &original_mask, nullptr);
  if (child < 0) {
    ::close(log_fd);
    throw Error(ErrorKind::io, fmt::format("cannot start the job: {}", errno_text(fork_errno)));
  }
  ::setpgid(child, child);  // also done in the child; whichever runs first wins
  out_pipe.close_write();
  err_pipe.close_write();

  SupervisorInfo info{supervisor, process_start_ticks(supervisor).value_or(0), child, host_name()};
  runs.mark_running(run.row_id, info);

  MetricsTail metrics(dir.metrics_file, metric_log, run.row_id, warn);
  double started = monotonic_seconds();
  double last_poll = started, last_heartbeat = started;
  std::optional<double> kill_sent_at;
  std::optional<std::string> stop_reason;
  RunStatus stop_status = RunStatus::failed;
  int status = 0;
  bool exited = false;
  std::optional<double> exited_at;
  std::array<pollfd, 2> fds = {pollfd{out_pipe.read_end, POLLIN, 0}, pollfd{err_pipe.read_end, POLLIN, 0}};
  char buffer[1 << 16];
  int quiet_wait_ms = 0;

  while (true) {
    bool pipes_open = fds[0].fd >= 0 || fds[1].fd >= 0;
    if (exited && (!pipes_open || monotonic_seconds() - *exited_at > 1.0)) break;
    int timeout_ms = int(options.poll_interval_seconds * 1000);
    if (pipes_open) {
      int ready = ::poll(fds.data(), fds.size(), timeout_ms);
      if (ready > 0) {
        for (std::size_t i = 0; i < fds.size(); ++i) {
          if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
          ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
          if (n > 0) {
            write_all(log_fd, buffer, std::size_t(n));
            // The job's output is progress: stderr, so stdout carries only the result.
            if (options.echo_output) write_all(2, buffer, std::size_t(n));
          } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            fds[i].fd = -1;
          }
        }
      }
    } else {
      // The job closed its output, so it is usually exiting: look again
      // soon, backing off to the poll interval if it lives on.
      quiet_wait_ms = std::min(timeout_ms, std::max(1, quiet_wait_ms * 2));
      std::this_thread::sleep_for(std::chrono::milliseconds(quiet_wait_ms));
    }

    double now = monotonic_seconds();
    if (!exited) {
      pid_t done = ::waitpid(child, &status, WNOHANG);
      if (done == child) {
        exited = true;
        exited_at = now;
      }
    }
    if (int signal_number = g_stop_signal.exchange(0); signal_number != 0 && !exited) {
      runs.mark_canceled(run.row_id, fmt::format("interrupted (SIG{})", sigabbrev_np(signal_number)));
      ::kill(-child, SIGTERM);
      kill_sent_at = now;
    }
    if (spec.timeout_seconds && !exited && !kill_sent_at && now - started > *spec.timeout_seconds) {
      stop_reason = fmt::format("timed out after {}s", *spec.timeout_seconds);
      stop_status = RunStatus::failed;
      ::kill(-child, SIGTERM);
      kill_sent_at = now;
    }
    if (kill_sent_at && !exited && now - *kill_sent_at > 10.0) ::kill(-child, SIGKILL);
    if (now - last_poll >= options.poll_interval_seconds) {
      metrics.poll(false);
      last_poll = now;
    }
    if (now - last_heartbeat >= options.heartbeat_interval_seconds) {
      runs.record_heartbeat(run.row_id);
      last_heartbeat = now;
    }
  }
  metrics.poll(true);

  RunOutcome outcome;
  if (WIFEXITED(status)) {
    outcome.exit_code = WEXITSTATUS(status);
    outcome.status = *outcome.exit_code == 0 ? RunStatus::completed : RunStatus::failed;
    if (*outcome.exit_code != 0) outcome.reason = fmt::format("exit code {}", *outcome.exit_code);
  } else if (WIFSIGNALED(status)) {
    outcome.exit_code = 128 + WTERMSIG(status);
    outcome.status = RunStatus::failed;
    outcome.reason = signal_description(WTERMSIG(status));
  }
  if (stop_reason) {
    outcome.status = stop_status;
    outcome.reason = stop_reason;
  }
  try {
    runs.add_artifacts(run.row_id, store_outputs(artifacts, dir.outputs));
    std::filesystem::remove_all(dir.outputs, ec);
  } catch (const Error& error) {
    warn(fmt::format("outputs were not stored: {}", error.what()));
    outcome.status = RunStatus::failed;
    outcome.reason = fmt::format("outputs were not stored: {}", error.what());
  }
  ::close(log_fd);
  outcome.status = runs.finish(run.row_id, outcome.status, outcome.exit_code, outcome.reason);
  if (outcome.status == RunStatus::canceled) outcome.reason = runs.get(run.id, false).status_reason;
  return outcome;
}

void launch_detached_supervisor(store::Db& db, const store::ProjectPaths& project, std::string_view run_id,
                                const std::string& mlctl_executable) {
  RunStore runs(db);
  Run run = runs.get(run_id, false);
  RunDirectory dir = RunDirectory::of(project, run.id);
  std::error_code ec;
  std::filesystem::create_directories(dir.root, ec);
  std::string log_path = (dir.root / "supervisor.txt").string();
  spawn_detached({mlctl_executable, "--project", project.root.string(), "run", "supervise", run.id}, log_path);
  // Wait until the supervisor has taken the run over, so that `run wait`
  // or `run cancel` right after us see a running run.
  double deadline = monotonic_seconds() + 10.0;
  while (monotonic_seconds() < deadline) {
    Run current = runs.get(run.id, false);
    if (current.status != RunStatus::queued) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::string detail;
  try {
    detail = read_file(log_path);
  } catch (...) {
  }
  runs.finish(run.row_id, RunStatus::failed, std::nullopt, "the background supervisor did not start");
  throw Error(ErrorKind::io, fmt::format("the background supervisor for run {} did not start{}", run.id,
                                         detail.empty() ? "" : ": " + detail));
}

pid_t start_supervisor_process(const store::ProjectPaths& project, const std::string& run_id, const sigset_t& mask) {
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw Error(ErrorKind::io, fmt::format("cannot start a supervisor: {}", errno_text(errno)));
  if (pid > 0) return pid;
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(70);
  ::sigprocmask(SIG_SETMASK, &mask, nullptr);
  int code = 70;
  try {
    store::Context context({project.root, project.root});
    SuperviseOptions options;
    options.echo_output = false;
    RunOutcome outcome = supervise_run(context.db(), context.artifacts(), context.project(), run_id, options);
    code = outcome.status == RunStatus::completed ? 0 : 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "run %s: %s\n", run_id.c_str(), error.what());
  }
  std::fflush(nullptr);
  ::_exit(code);
}

}  // namespace mlctl::tracking
