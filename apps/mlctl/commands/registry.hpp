#pragma once

#include <CLI/CLI.hpp>

#include "cli/command_env.hpp"
#include "cli/options.hpp"

namespace mlctl::cli {

// Each command group registers its verbs on the root app. The table of
// groups is in main.cpp.
void register_init_command(CLI::App& app, CommandEnv& env);
void register_experiment_commands(CLI::App& app, CommandEnv& env);
void register_run_commands(CLI::App& app, CommandEnv& env);
void register_data_commands(CLI::App& app, CommandEnv& env);
void register_model_commands(CLI::App& app, CommandEnv& env);
void register_train_commands(CLI::App& app, CommandEnv& env);
void register_sweep_commands(CLI::App& app, CommandEnv& env);
void register_pipeline_commands(CLI::App& app, CommandEnv& env);
void register_env_commands(CLI::App& app, CommandEnv& env);
void register_service_commands(CLI::App& app, CommandEnv& env);
void register_monitor_commands(CLI::App& app, CommandEnv& env);
void register_service_stats_command(CLI::App& service, CommandEnv& env);
void register_completion_command(CLI::App& app, CommandEnv& env);
void register_version_command(CLI::App& app, CommandEnv& env);

// Verbs of `experiment` and `run` live in several files.
void register_submit_command(CLI::App& experiment, CommandEnv& env);
void register_run_inspect_commands(CLI::App& run, CommandEnv& env);
void register_run_control_commands(CLI::App& run, CommandEnv& env);
void register_run_log_command(CLI::App& run, CommandEnv& env);
void register_run_record_commands(CLI::App& run, CommandEnv& env);

}  // namespace mlctl::cli
