// mlctl: parses the command line, runs one command, maps errors to one line
// on stderr and an exit code (docs/cli.md lists them).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>
#include <unistd.h>

#include <mlctl/core/backend.hpp>
#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>

#include "cli/command_env.hpp"
#include "commands/registry.hpp"

namespace {

using mlctl::cli::CommandEnv;

struct CommandGroup {
  void (*register_group)(CLI::App&, CommandEnv&);
};

// Every command group, in the order `mlctl --help` lists them.
constexpr CommandGroup k_command_groups[] = {
    {mlctl::cli::register_init_command},
    {mlctl::cli::register_data_commands},
    {mlctl::cli::register_experiment_commands},
    {mlctl::cli::register_run_commands},
    {mlctl::cli::register_sweep_commands},
    {mlctl::cli::register_pipeline_commands},
    {mlctl::cli::register_model_commands},
    {mlctl::cli::register_env_commands},
    {mlctl::cli::register_service_commands},
    {mlctl::cli::register_monitor_commands},
    {mlctl::cli::register_train_commands},
    {mlctl::cli::register_completion_command},
    {mlctl::cli::register_version_command},
};

void print_error(const CommandEnv& env, std::string_view message, std::string_view hint) {
  bool color = env.stderr_color();
  std::cerr << (color ? "\033[31merror:\033[0m " : "error: ") << message << '\n';
  if (!hint.empty()) std::cerr << (color ? "\033[2mhint:\033[0m " : "hint: ") << hint << '\n';
}

// The command path of the deepest subcommand that was parsed ("mlctl run list").
std::string command_path(const CLI::App* app) {
  std::string path = app->get_name();
  while (true) {
    auto subcommands = app->get_subcommands();
    if (subcommands.empty()) return path;
    app = subcommands.front();
    path += " " + app->get_name();
  }
}

}  // namespace

int main(int argc, char** argv) {
  const double started = mlctl::monotonic_seconds();
  CommandEnv env;
  CLI::App app{"mlctl: train, track, tune, register and serve models on one machine.", "mlctl"};
  app.fallthrough();
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  app.add_option("-o,--output", env.options.output, "Output format: table, json, yaml, tsv or markdown")
      ->envname("MLCTL_OUTPUT");
  app.add_option("--query", env.options.query, "JMESPath query applied to the JSON result, e.g. \"[].id\"");
  app.add_option("--project", env.options.project, "Project directory (default: found from the working directory)")
      ->envname("MLCTL_PROJECT");
  app.add_flag("--verbose", env.options.verbose, "Print more detail on errors");
  app.add_flag("--no-color", env.options.no_color, "Never colour output (also: NO_COLOR)");
  app.footer(
      "Examples:\n"
      "  mlctl init\n"
      "  mlctl experiment submit --experiment demo -- python train.py --lr 0.01\n"
      "  mlctl run list --filter \"metrics.accuracy > 0.9\" -o json\n\n"
      "Exit codes: 0 success, 1 the operation ran and failed, 2 usage or validation error,\n"
      "3 not found, 4 conflict, 5 I/O or database error, 70 internal error.");
  for (const auto& group : k_command_groups) group.register_group(app, env);

  // Everything after the first `--` is a command to run, parsed by nobody.
  int parsed_argc = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      parsed_argc = i;
      env.trailing_args.assign(argv + i + 1, argv + argc);
      break;
    }
  }
  try {
    app.parse(parsed_argc, argv);
    if (!env.trailing_args.empty() && !env.trailing_args_used) {
      throw CLI::ExtrasError(env.trailing_args);
    }
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& error) {
    // Help of a subcommand arrives as CallForHelp from that subcommand.
    if (error.get_exit_code() == 0) {
      return app.exit(error);
    }
    print_error(env, error.what(), fmt::format("run '{} --help' for usage", command_path(&app)));
    return 2;
  } catch (const mlctl::Error& error) {
    print_error(env, error.what(), error.hint());
    if (env.options.verbose) std::cerr << "(error kind: " << mlctl::to_string(error.kind()) << ")\n";
    return mlctl::exit_code_for(error.kind());
  } catch (const std::exception& error) {
    print_error(env, fmt::format("internal error: {}", error.what()),
                "this is a bug in mlctl; please report it with the command you ran");
    return 70;
  }
  env.report_timing(mlctl::monotonic_seconds() - started);
  if (mlctl::Backend::is_loaded()) {
    // libtorch's static destructors (thousands of registered operators
    // across ~290 libraries) take ~60 ms and release nothing the kernel
    // would not: close the project, flush, and leave without them.
    env.close_context();
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    std::_Exit(env.exit_code);
  }
  return env.exit_code;
}
