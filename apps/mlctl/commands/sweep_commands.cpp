// `mlctl sweep show|best RUN`: what a hyperparameter sweep found; and
// `sweep worker RUN`, the sweep's own job (hidden: users submit sweeps
// with `experiment submit -f sweep.yml`).
#include <cstdlib>

#include <fmt/format.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/sweep/search_space.hpp>
#include <mlctl/sweep/sweep_report.hpp>
#include <mlctl/sweep/sweep_run.hpp>
#include <mlctl/tracking/run_supervisor.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {
namespace {

Json trial_row(const sweep::SweepReport& report, const sweep::TrialSummary& trial, bool best) {
  Json row = Json::object();
  row["best"] = best ? "*" : "";
  row["trial"] = trial.index;
  row["run_id"] = trial.run.id;
  row["state"] = trial.state;
  row[report.primary_metric] = trial.value ? Json(*trial.value) : Json(nullptr);
  row["params"] = trial.values;
  auto duration = trial.run.duration();
  row["duration"] = duration ? Json(format_duration(*duration)) : Json(nullptr);
  row["reason"] = trial.state == "completed" || !trial.reason ? Json(nullptr) : Json(*trial.reason);
  return row;
}

void show(CommandEnv& env, const std::string& run_id) {
  auto report = sweep::load_sweep_report(env.context().db(), run_id);
  const sweep::TrialSummary* best = report.best();
  if (env.output_format() == OutputFormat::json || env.output_format() == OutputFormat::yaml) {
    Json result = Json::object();
    result["id"] = report.sweep.id;
    result["status"] = tracking::to_string(report.sweep.status);
    result["primary_metric"] = report.primary_metric;
    result["goal"] = report.goal == sweep::Goal::maximize ? "maximize" : "minimize";
    result["best"] = sweep::best_params_json(report);
    Json trials = Json::array();
    for (const auto& trial : report.trials) trials.push_back(trial_row(report, trial, &trial == best));
    result["trials"] = trials;
    env.print(result);
    return;
  }
  RenderOptions columns;
  columns.color = env.stdout_color();
  columns.columns = {{"", "best"}, {"Trial", "trial"}, {"Run", "run_id"}, {"State", "state"},
                     {report.primary_metric, report.primary_metric}};
  for (const auto& name : report.parameter_names) columns.columns.push_back({name, "params." + name});
  columns.columns.push_back({"Duration", "duration"});
  Json rows = Json::array();
  for (const auto& trial : report.trials) rows.push_back(trial_row(report, trial, &trial == best));
  env.note(fmt::format("sweep {} ({}): {} {}, {} trials", report.sweep.id, tracking::to_string(report.sweep.status),
                       report.goal == sweep::Goal::maximize ? "maximize" : "minimize", report.primary_metric,
                       report.trials.size()));
  env.print(rows, columns);
}

void best(CommandEnv& env, const std::string& run_id, const std::string& format) {
  auto report = sweep::load_sweep_report(env.context().db(), run_id);
  const sweep::TrialSummary* trial = report.best();
  if (!trial) {
    throw Error(ErrorKind::not_found, fmt::format("sweep {} has no trial with a value of '{}' yet", report.sweep.id,
                                                  report.primary_metric));
  }
  if (format == "set") {
    std::string line;
    for (const auto& [name, value] : trial->values.items()) {
      if (!line.empty()) line += " ";
      line += "--set " + name + "=" + sweep::value_text(value);
    }
    std::fputs((line + "\n").c_str(), stdout);
    return;
  }
  if (format == "params") {
    env.print(trial->values);
    return;
  }
  env.print(sweep::best_params_json(report));
}

}  // namespace

void register_sweep_commands(CLI::App& app, CommandEnv& env) {
  auto* group = app.add_subcommand("sweep", "Look at hyperparameter sweeps (submit them with experiment submit -f)");
  group->require_subcommand(1);
  auto run_id = std::make_shared<std::string>();

  auto* show_command = group->add_subcommand("show", "Trials of a sweep sorted by the objective, the best marked");
  show_command->add_option("run", *run_id, "Sweep run id (or a unique prefix)")->required();
  set_examples(*show_command, "mlctl sweep show 3f2a9c\n  mlctl sweep show 3f2a9c -o json --query best.params");
  show_command->callback([&env, run_id] { show(env, *run_id); });

  auto format = std::make_shared<std::string>("json");
  auto* best_command = group->add_subcommand("best", "The best trial's parameters");
  best_command->add_option("run", *run_id, "Sweep run id (or a unique prefix)")->required();
  best_command->add_option("--as", *format, "json (the best trial and its params), params (the params alone) or set "
                                             "(--set NAME=VALUE words for a job)")
      ->check(CLI::IsMember({"json", "params", "set"}));
  set_examples(*best_command,
               "mlctl sweep best 3f2a9c\n"
               "  mlctl experiment submit -f train.yml $(mlctl sweep best 3f2a9c --as set)");
  best_command->callback([&env, run_id, format] { best(env, *run_id, *format); });

  auto* worker = group->add_subcommand("worker", "Run the trials of a sweep run (started by its supervisor)");
  worker->group("");  // internal
  worker->add_option("run", *run_id)->required();
  worker->callback([&env, run_id] {
    auto& context = env.context();
    sweep::run_sweep(context.db(), context.artifacts(), context.project(), *run_id,
                     worker_outputs_dir(context, *run_id), print_worker_event);
  });
}

}  // namespace mlctl::cli
