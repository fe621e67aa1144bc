#pragma once

// Starting, stopping, reloading and inspecting a service's server process
// from the CLI. The server (service_runtime) keeps its state in files under
// .mlctl/services/NAME/: it holds an exclusive lock on server.lock while it
// lives (so a dead process is told apart from a live one even after its pid
// is reused), writes status.json on every change of state, and logs to
// server.log.

#include <filesystem>
#include <optional>
#include <string>

#include <mlctl/core/json.hpp>
#include <mlctl/serving/environments.hpp>
#include <mlctl/serving/service_store.hpp>
#include <mlctl/store/project.hpp>

namespace mlctl::serving {

struct ServiceFiles {
  std::filesystem::path directory;  // .mlctl/services/NAME
  std::filesystem::path status;     // status.json, written by the server
  std::filesystem::path lock;       // server.lock, held by the server
  std::filesystem::path log;        // server.log
  std::filesystem::path requests;   // requests/ (the request log)
  std::filesystem::path models;     // models/ (the loaded models' files)
  static ServiceFiles of(const store::ProjectPaths& project, std::string_view service);
};

// What the service's process is doing: "running" (ready), "starting"
// (loading its model), "stopping" (finishing its requests), "stopped" (on
// purpose), "dead" (should run but its process is gone), with the server's last
// status.json ({"pid", "state", "url", "model", "generation", "error"...}).
struct ServiceHealth {
  std::string state;
  Json status = Json::object();
  bool running() const { return state == "running"; }
};
ServiceHealth inspect_service(const store::ProjectPaths& project, const Service& service);

// A free port of the environment's range, not recorded for another
// service and bindable now. Throws Error(already_exists) when none is.
int choose_port(const Environment& environment, const std::vector<int>& recorded);

// Starts the server in the background (`mlctl service serve NAME`) and
// waits until it is ready; returns its status.json. Throws Error(failed)
// with the server's own message when it fails to start (bad model, port in
// use) or is not ready within `timeout_seconds`; Error(already_exists)
// when it runs already.
Json start_service(const store::ProjectPaths& project, const Service& service, const std::string& mlctl_executable,
                   double timeout_seconds = 60);
// Sends SIGTERM and waits until the process has finished its requests and
// exited (SIGKILL after `timeout_seconds`). No-op when not running.
// Returns whether it had to kill.
bool stop_service(const store::ProjectPaths& project, const Service& service, double timeout_seconds = 20);
// Asks the running server to re-read its record (model, keys, limits) with
// SIGHUP and waits for it to report. Returns the new status; its "error"
// names a failed reload (the old model then keeps serving). Throws
// Error(io) when the server is not running or does not answer in time.
Json reload_service(const store::ProjectPaths& project, const Service& service, double timeout_seconds = 120);

// The last `count` lines of `text`, without the final line break; all of
// it when it has fewer. For log tails in messages and `service logs`.
std::string_view last_lines(std::string_view text, std::size_t count);

// The service's URL as clients reach it: http://HOST:PORT (0.0.0.0 is
// reached as 127.0.0.1).
std::string service_url(const std::string& host, int port);

}  // namespace mlctl::serving
