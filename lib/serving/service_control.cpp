#include <mlctl/serving/service_control.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include <fmt/format.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/process.hpp>

namespace mlctl::serving {
namespace {

namespace fs = std::filesystem;

// Whether a process holds the lock. Probing takes the lock for a moment;
// the server retries its own attempt for a while, so a probe never keeps
// it from starting.
bool lock_held(const fs::path& lock) {
  int fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

Json read_status(const fs::path& path) {
  try {
    Json status = Json::parse(read_file(path));
    if (status.is_object()) return status;
  } catch (...) {
  }
  return Json::object();
}

std::string log_tail(const fs::path& log, std::size_t lines) {
  try {
    return std::string(last_lines(read_file(log), lines));
  } catch (...) {
    return {};
  }
}

void sleep_ms(int milliseconds) { std::this_thread::sleep_for(std::chrono::milliseconds(milliseconds)); }

bool port_bindable(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(std::uint16_t(port));
  ::inet_pton(AF_INET, host.c_str(), &address.sin_addr);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::string_view last_lines(std::string_view text, std::size_t count) {
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (count == 0) return {};
  std::size_t position = text.size();
  for (std::size_t i = 0; i < count; ++i) {
    position = position == 0 ? std::string_view::npos : text.rfind('\n', position - 1);
    if (position == std::string_view::npos) return text;
  }
  return text.substr(position + 1);
}

ServiceFiles ServiceFiles::of(const store::ProjectPaths& project, std::string_view service) {
  ServiceFiles files;
  files.directory = project.state_dir / "services" / std::string(service);
  files.status = files.directory / "status.json";
  files.lock = files.directory / "server.lock";
  files.log = files.directory / "server.log";
  files.requests = files.directory / "requests";
  files.models = files.directory / "models";
  return files;
}

std::string service_url(const std::string& host, int port) {
  return fmt::format("http://{}:{}", host == "0.0.0.0" ? "127.0.0.1" : host, port);
}

ServiceHealth inspect_service(const store::ProjectPaths& project, const Service& service) {
  ServiceFiles files = ServiceFiles::of(project, service.name);
  ServiceHealth health;
  health.status = read_status(files.status);
  if (lock_held(files.lock)) {
    // Alive: ready, or still loading its model, or finishing its requests.
    const std::string state = health.status.value("state", "");
    health.state = state == "ready" ? "running" : state == "stopping" ? "stopping" : "starting";
  } else {
    health.state = service.stopped ? "stopped" : "dead";
  }
  return health;
}

int choose_port(const Environment& environment, const std::vector<int>& recorded) {
  for (int port = environment.port_min; port <= environment.port_max; ++port) {
    if (std::find(recorded.begin(), recorded.end(), port) != recorded.end()) continue;
    if (port_bindable(environment.host, port)) return port;
  }
  throw Error(ErrorKind::already_exists,
              fmt::format("no free port in environment '{}' ({}-{})", environment.name, environment.port_min,
                          environment.port_max),
              "give one with --port N, or widen the range: mlctl env create NAME --port-range LOW-HIGH");
}

Json start_service(const store::ProjectPaths& project, const Service& service, const std::string& mlctl_executable,
                   double timeout_seconds) {
  ServiceFiles files = ServiceFiles::of(project, service.name);
  std::error_code ec;
  fs::create_directories(files.directory, ec);
  if (lock_held(files.lock)) {
    throw Error(ErrorKind::already_exists, fmt::format("service '{}' is already running", service.name),
                fmt::format("restart it with: mlctl service restart {}", service.name));
  }
  // A fresh status, so that an old "ready" is not mistaken for this start.
  write_file_atomic(files.status, Json{{"state", "launching"}, {"launched_at", unix_now()}}.dump());
  const auto log_size = fs::exists(files.log, ec) ? fs::file_size(files.log, ec) : 0;
  spawn_detached({mlctl_executable, "--project", project.root.string(), "service", "serve", service.name}, files.log);
  const double deadline = monotonic_seconds() + timeout_seconds;
  const double started = monotonic_seconds();
  while (monotonic_seconds() < deadline) {
    Json status = read_status(files.status);
    const std::string state = status.value("state", "");
    if (state == "ready") return status;
    if (state == "failed") {
      throw Error(ErrorKind::failed, fmt::format("service '{}' failed to start: {}", service.name, status.value("error", "unknown error")),
                  fmt::format("see its log: {}", files.log.string()));
    }
    // Gone without a word (killed, or crashed before writing a status).
    if (state != "launching" && !lock_held(files.lock) && monotonic_seconds() - started > 1.0) break;
    if (state == "launching" && monotonic_seconds() - started > 10.0 && !lock_held(files.lock)) break;
    sleep_ms(20);
  }
  std::string tail;
  try {
    const std::string log = read_file(files.log);
    tail = last_lines(std::string_view(log).substr(std::min<std::size_t>(log.size(), log_size)), 1);
  } catch (...) {
  }
  throw Error(ErrorKind::failed,
              fmt::format("service '{}' did not become ready within {:.0f} s{}", service.name, timeout_seconds,
                          tail.empty() ? "" : ": " + tail),
              fmt::format("see its log: {}", files.log.string()));
}

bool stop_service(const store::ProjectPaths& project, const Service& service, double timeout_seconds) {
  ServiceFiles files = ServiceFiles::of(project, service.name);
  if (!lock_held(files.lock)) return false;
  Json status = read_status(files.status);
  const auto pid = status.value("pid", std::int64_t(0));
  if (pid <= 0) {
    throw Error(ErrorKind::io, fmt::format("service '{}' is running but its status names no process", service.name));
  }
  ::kill(pid_t(pid), SIGTERM);
  const double deadline = monotonic_seconds() + timeout_seconds;
  while (monotonic_seconds() < deadline) {
    if (!lock_held(files.lock)) return false;
    sleep_ms(20);
  }
  ::kill(pid_t(pid), SIGKILL);
  for (int i = 0; i < 100 && lock_held(files.lock); ++i) sleep_ms(20);
  return true;
}

Json reload_service(const store::ProjectPaths& project, const Service& service, double timeout_seconds) {
  ServiceFiles files = ServiceFiles::of(project, service.name);
  if (!lock_held(files.lock)) {
    throw Error(ErrorKind::io, fmt::format("service '{}' is not running", service.name),
                fmt::format("start it with: mlctl service start {}", service.name));
  }
  Json status = read_status(files.status);
  const auto pid = status.value("pid", std::int64_t(0));
  const auto generation = status.value("generation", std::int64_t(0));
  if (pid <= 0) throw Error(ErrorKind::io, fmt::format("service '{}' has no process id in its status", service.name));
  ::kill(pid_t(pid), SIGHUP);
  const double deadline = monotonic_seconds() + timeout_seconds;
  while (monotonic_seconds() < deadline) {
    Json now = read_status(files.status);
    if (now.value("generation", std::int64_t(0)) > generation) return now;
    if (!lock_held(files.lock)) {
      throw Error(ErrorKind::io, fmt::format("service '{}' exited while reloading: {}", service.name, log_tail(files.log, 1)));
    }
    sleep_ms(20);
  }
  throw Error(ErrorKind::io, fmt::format("service '{}' did not finish reloading within {:.0f} s", service.name, timeout_seconds));
}

}  // namespace mlctl::serving
