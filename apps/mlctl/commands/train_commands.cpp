// `mlctl train worker RUN`: the trainer a training run's supervisor starts
// (hidden; users submit train jobs with `experiment submit -f`).
#include <mlctl/train/train_run.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {

void register_train_commands(CLI::App& app, CommandEnv& env) {
  auto* group = app.add_subcommand("train", "");
  group->group("");  // internal
  group->require_subcommand(1);
  auto run_id = std::make_shared<std::string>();
  auto* worker = group->add_subcommand("worker", "Train the model of a training run (started by its supervisor)");
  worker->add_option("run", *run_id)->required();
  worker->callback([&env, run_id] {
    auto& context = env.context();
    train::run_training(context.db(), context.artifacts(), *run_id,
                        train::TrainPaths::for_run(context.project(), *run_id));
  });
}

}  // namespace mlctl::cli
