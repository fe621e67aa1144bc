#include "commands/registry.hpp"

namespace mlctl::cli {

void register_run_commands(CLI::App& app, CommandEnv& env) {
  auto* run = app.add_subcommand("run", "Inspect, log to, compare, wait for and cancel runs");
  run->require_subcommand(1);
  register_run_inspect_commands(*run, env);
  register_run_control_commands(*run, env);
  register_run_log_command(*run, env);
  register_run_record_commands(*run, env);
}

}  // namespace mlctl::cli
