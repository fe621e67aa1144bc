// Verbs that act on runs: logs, download, wait, cancel, delete, and the
// hidden `supervise` that a detached submit starts.
#include <fmt/format.h>

#include <fcntl.h>
#include <iostream>
#include <thread>
#include <unistd.h>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/tracking/liveness.hpp>
#include <mlctl/tracking/run_control.hpp>
#include <mlctl/tracking/run_supervisor.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {
namespace {

// Copies the run's log to stdout; with `follow`, keeps copying as it grows
// until the run ends.
void show_logs(CommandEnv& env, const std::string& run_id, bool follow) {
  auto& context = env.context();
  tracking::RunStore runs(context.db());
  tracking::Run run = runs.get(run_id, false);
  auto log_path = tracking::RunDirectory::of(context.project(), run.id).log;
  int fd = ::open(log_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && !follow) {
    throw Error(ErrorKind::not_found, fmt::format("run {} has no log (it never started)", run.id));
  }
  char buffer[1 << 16];
  int round = 0;
  while (true) {
    if (fd < 0) fd = ::open(log_path.c_str(), O_RDONLY | O_CLOEXEC);
    bool read_any = false;
    while (fd >= 0) {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      std::cout.write(buffer, n);
      read_any = true;
    }
    std::cout.flush();
    if (!follow) break;
    if (!read_any) {
      tracking::Run current = runs.get(run.id, false);
      if (tracking::is_terminal(current.status)) {
        if (fd >= 0) {  // one last read: the end may have landed meanwhile
          ssize_t n;
          while ((n = ::read(fd, buffer, sizeof buffer)) > 0) std::cout.write(buffer, n);
          std::cout.flush();
        }
        break;
      }
      if (++round % 20 == 0) tracking::reap_dead_runs(runs);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  if (fd >= 0) ::close(fd);
}

void download(CommandEnv& env, const std::string& run_id, const std::string& artifact, const std::string& dest) {
  auto& context = env.context();
  tracking::RunStore runs(context.db());
  std::optional<std::string_view> path;
  if (!artifact.empty()) path = artifact;
  auto written = tracking::download_artifacts(runs, context.artifacts(), run_id, path, dest);
  Json rows = Json::array();
  for (const auto& file : written) rows.push_back(file.string());
  env.print(rows);
}

void wait(CommandEnv& env, const std::string& run_id, double timeout) {
  tracking::RunStore runs(env.context().db());
  std::optional<double> limit;
  if (timeout > 0) limit = timeout;
  tracking::Run run = tracking::wait_for_run(runs, run_id, limit);
  Json result = tracking::to_json(run);
  env.print(result);
  if (!tracking::is_terminal(run.status)) {
    env.warn(fmt::format("run {} is still {} after {}s", run.id, tracking::to_string(run.status), timeout));
    env.exit_code = 1;
  } else if (run.status != tracking::RunStatus::completed) {
    env.exit_code = 1;
  }
}

void supervise(CommandEnv& env, const std::string& run_id) {
  auto& context = env.context();
  tracking::SuperviseOptions options;
  options.echo_output = false;
  auto outcome = tracking::supervise_run(context.db(), context.artifacts(), context.project(), run_id, options);
  if (outcome.status != tracking::RunStatus::completed) env.exit_code = 1;
}

}  // namespace

void register_run_control_commands(CLI::App& run, CommandEnv& env) {
  auto logs_id = std::make_shared<std::string>();
  auto follow = std::make_shared<bool>(false);
  auto* logs = run.add_subcommand("logs", "Print a run's output (stdout and stderr)");
  logs->add_option("run", *logs_id, "Run id")->required();
  logs->add_flag("-f,--follow", *follow, "Keep printing until the run ends");
  set_examples(*logs, "mlctl run logs 3f2a9c --follow");
  logs->callback([&env, logs_id, follow] { show_logs(env, *logs_id, *follow); });

  auto download_id = std::make_shared<std::string>();
  auto artifact = std::make_shared<std::string>();
  auto dest = std::make_shared<std::string>();
  auto* download_command = run.add_subcommand("download", "Copy a run's artifacts out of the store");
  download_command->add_option("run", *download_id, "Run id")->required();
  download_command->add_option("--artifact", *artifact, "Only this artifact or directory (e.g. outputs/model)");
  download_command->add_option("--dest", *dest, "Destination directory")->required();
  set_examples(*download_command, "mlctl run download 3f2a9c --artifact outputs/model --dest ./model");
  download_command->callback([&env, download_id, artifact, dest] { download(env, *download_id, *artifact, *dest); });

  auto wait_id = std::make_shared<std::string>();
  auto timeout = std::make_shared<double>(0);
  auto* wait_command = run.add_subcommand("wait", "Wait until a run ends; exit 0 if it completed, 1 otherwise");
  wait_command->add_option("run", *wait_id, "Run id")->required();
  wait_command->add_option("--timeout", *timeout, "Give up after this many seconds (exit 1)");
  set_examples(*wait_command, "mlctl run wait 3f2a9c --timeout 600");
  wait_command->callback([&env, wait_id, timeout] { wait(env, *wait_id, *timeout); });

  auto cancel_id = std::make_shared<std::string>();
  auto* cancel = run.add_subcommand("cancel", "Stop a run: SIGTERM to its process group, SIGKILL after 10 s");
  cancel->add_option("run", *cancel_id, "Run id")->required();
  set_examples(*cancel, "mlctl run cancel 3f2a9c");
  cancel->callback([&env, cancel_id] {
    tracking::RunStore runs(env.context().db());
    env.print(tracking::to_json(tracking::cancel_run(runs, *cancel_id)));
  });

  auto delete_id = std::make_shared<std::string>();
  auto* remove = run.add_subcommand("delete", "Delete a run that has ended, with what it logged");
  remove->add_option("run", *delete_id, "Run id")->required();
  set_examples(*remove, "mlctl run delete 3f2a9c");
  remove->callback([&env, delete_id] {
    auto& context = env.context();
    tracking::RunStore runs(context.db());
    std::string id = runs.get(*delete_id, false).id;
    tracking::delete_run(runs, context.project(), id);
    env.print(Json{{"deleted", id}});
  });

  auto supervise_id = std::make_shared<std::string>();
  auto* supervise_command = run.add_subcommand("supervise", "");  // internal: the detached supervisor
  supervise_command->group("");
  supervise_command->add_option("run", *supervise_id)->required();
  supervise_command->callback([&env, supervise_id] { supervise(env, *supervise_id); });
}

}  // namespace mlctl::cli
