#include <mlctl/tracking/experiment_store.hpp>
#include <mlctl/tracking/liveness.hpp>
#include <mlctl/tracking/run_store.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {
namespace {

const RenderOptions k_experiment_columns = {
    {{"Name", "name"}, {"Runs", "runs"}, {"Last run", "last_run_at"}, {"Description", "description"}}};

}  // namespace

void register_experiment_commands(CLI::App& app, CommandEnv& env) {
  auto* group = app.add_subcommand("experiment", "Create, list and show experiments; submit runs");
  group->require_subcommand(1);

  auto* create = group->add_subcommand("create", "Create an experiment");
  auto name = std::make_shared<std::string>();
  auto description = std::make_shared<std::string>();
  create->add_option("name", *name, "Experiment name")->required();
  create->add_option("--description", *description, "What the experiment is about");
  set_examples(*create, "mlctl experiment create churn --description \"churn model\"");
  create->callback([&env, name, description] {
    tracking::ExperimentStore experiments(env.context().db());
    auto experiment = experiments.create(*name, *description);
    env.print(tracking::to_json(experiments.summarize(experiment)));
  });

  auto* list = group->add_subcommand("list", "List experiments with their run counts");
  set_examples(*list, "mlctl experiment list -o json");
  list->callback([&env] {
    tracking::ExperimentStore experiments(env.context().db());
    Json rows = Json::array();
    for (const auto& summary : experiments.list()) rows.push_back(tracking::to_json(summary));
    env.print(rows, k_experiment_columns);
  });

  auto* show = group->add_subcommand("show", "Show an experiment and its run counts by status");
  auto show_name = std::make_shared<std::string>();
  show->add_option("name", *show_name, "Experiment name")->required();
  set_examples(*show, "mlctl experiment show churn");
  show->callback([&env, show_name] {
    auto& db = env.context().db();
    tracking::ExperimentStore experiments(db);
    tracking::RunStore runs(db);
    tracking::reap_dead_runs(runs);
    auto experiment = experiments.get(*show_name);
    Json result = tracking::to_json(experiments.summarize(experiment));
    Json by_status = Json::object();
    tracking::RunListQuery query;
    query.experiment = experiment.name;
    query.with_details = false;
    runs.list(query, [&](const tracking::Run& run) {
      std::string status = tracking::to_string(run.status);
      by_status[status] = by_status.value(status, 0) + 1;
    });
    result["runs_by_status"] = by_status;
    env.print(result);
  });

  register_submit_command(*group, env);
}

}  // namespace mlctl::cli
