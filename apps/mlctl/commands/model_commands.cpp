// `mlctl model ...`: scoring with a trained model (the registry comes with
// its own issue).
#include <fmt/format.h>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/tracking/run_control.hpp>
#include <mlctl/train/train_run.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {
namespace {

struct PredictOptions {
  std::string run;
  std::string input;
  std::string output;
};

void predict(CommandEnv& env, const PredictOptions& options) {
  auto& context = env.context();
  tracking::RunStore runs(context.db());
  // The model directory comes out of the artifact store verified.
  std::filesystem::path scratch = make_temp_directory("mlctl-model-");
  struct Cleanup {
    std::filesystem::path path;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } cleanup{scratch};
  tracking::download_artifacts(runs, context.artifacts(), options.run, "outputs/model", scratch);
  std::optional<std::filesystem::path> output;
  if (!options.output.empty()) output = options.output;
  Json predictions = train::predict_csv(scratch / "outputs" / "model", options.input, output);
  if (output) {
    env.print(Json{{"rows", predictions.size()}, {"output", *output}});
  } else {
    env.print(predictions, {{{"Prediction", "prediction"}, {"Probabilities", "probabilities"}}});
  }
}

}  // namespace

void register_model_commands(CLI::App& app, CommandEnv& env) {
  auto* group = app.add_subcommand("model", "Score data with trained models");
  group->require_subcommand(1);
  auto options = std::make_shared<PredictOptions>();
  auto* predict_command = group->add_subcommand("predict", "Batch-score a CSV file with the model a training run produced");
  predict_command->add_option("--run", options->run, "The training run")->required();
  predict_command->add_option("--input", options->input, "CSV file with the model's input columns")->required();
  predict_command->add_option("--output", options->output, "Write predictions to this CSV file");
  set_examples(*predict_command, "mlctl model predict --run 3f2a9c --input new_customers.csv --output preds.csv");
  predict_command->callback([&env, options] { predict(env, *options); });
}

}  // namespace mlctl::cli
