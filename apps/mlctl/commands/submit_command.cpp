#include <fmt/format.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/process.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/data/dataset_store.hpp>
#include <mlctl/sweep/sweep_run.hpp>
#include <mlctl/tracking/job_submission.hpp>
#include <mlctl/tracking/run_store.hpp>
#include <mlctl/tracking/run_supervisor.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {
namespace {

struct SubmitOptions {
  std::string file;
  std::string experiment;
  std::string name;
  std::string description;
  std::string parent;
  std::vector<std::string> params;
  std::vector<std::string> tags;
  std::vector<std::string> sets;
  std::vector<std::string> command;  // the words after `--`
  double timeout = 0;
  bool detach = false;
  std::string resume;
};

Json run_summary(const tracking::Run& run) {
  Json summary = Json::object();
  summary["id"] = run.id;
  summary["experiment"] = run.experiment;
  summary["status"] = tracking::to_string(run.status);
  summary["status_reason"] = run.status_reason ? Json(*run.status_reason) : Json(nullptr);
  summary["exit_code"] = run.exit_code ? Json(*run.exit_code) : Json(nullptr);
  auto duration = run.duration();
  summary["duration"] = duration ? Json(format_duration(*duration)) : Json(nullptr);
  Json metrics = Json::object();
  for (const auto& [key, point] : run.metrics) metrics[key] = tracking::to_json(point)["value"];
  summary["metrics"] = metrics;
  return summary;
}

void submit(CommandEnv& env, const SubmitOptions& options) {
  auto& context = env.context();
  tracking::SubmitRequest request;
  if (!options.file.empty()) request.job_file = options.file;
  request.set_overrides = options.sets;
  request.command = options.command;
  if (!options.experiment.empty()) request.experiment = options.experiment;
  if (!options.name.empty()) request.display_name = options.name;
  if (!options.description.empty()) request.description = options.description;
  if (!options.parent.empty()) request.parent = options.parent;
  if (options.timeout != 0) request.timeout_seconds = options.timeout;
  request.params = parse_key_values(options.params, "--param");
  request.tags = parse_key_values(options.tags, "--tag");
  request.working_dir = context.working_dir();
  request.default_experiment = context.settings().experiment;
  request.resolve_dataset = data::dataset_resolver(context.db(), context.artifacts());

  tracking::RunStore runs(context.db());
  tracking::Run run;
  if (!options.resume.empty()) {
    if (!options.file.empty() || !options.command.empty()) {
      throw Error(ErrorKind::invalid_argument, "--resume continues a run as it was: give no job file or command");
    }
    sweep::requeue_for_resume(context.db(), options.resume);
    run = runs.get(options.resume, false);
    env.note(run.kind == "sweep" ? fmt::format("resuming sweep {}: finished trials are kept", run.id)
                                 : fmt::format("resuming run {} from its last checkpoint", run.id));
  } else {
    tracking::PreparedRun prepared = sweep::prepare_submission(request, context.db(), context.artifacts(),
                                                               context.project(), current_executable());
    for (const auto& notice : prepared.notices) env.note(notice);
    run = runs.create(prepared.run);
  }

  if (options.detach) {
    tracking::launch_detached_supervisor(context.db(), context.project(), run.id, current_executable());
    env.note(fmt::format("run {} started in the background; 'mlctl run wait {}' waits for it", run.id, run.id));
    env.print(run_summary(runs.get(run.id)));
    return;
  }
  env.note(fmt::format("run {} started (experiment '{}')", run.id, run.experiment));
  tracking::SuperviseOptions supervise;
  supervise.on_warning = [&env, &run](std::string_view message) {
    env.warn(fmt::format("run {}: {}", run.id, message));
  };
  tracking::RunOutcome outcome =
      tracking::supervise_run(context.db(), context.artifacts(), context.project(), run.id, supervise);
  tracking::Run finished = runs.get(run.id);
  env.print(run_summary(finished));
  if (outcome.status != tracking::RunStatus::completed) env.exit_code = 1;
}

}  // namespace

void register_submit_command(CLI::App& experiment, CommandEnv& env) {
  auto options = std::make_shared<SubmitOptions>();
  auto* command = experiment.add_subcommand(
      "submit", "Run a command (after --) or an az ml command-job file as a tracked run");
  command->add_option("-f,--file", options->file, "Job file: an az ml v2 command job, a sweep job (type: sweep) or an mlctl train job (type: train)");
  command->add_option("-e,--experiment", options->experiment, "Experiment (created if missing)")
      ->envname("MLCTL_EXPERIMENT");
  command->add_option("-n,--name", options->name, "Display name of the run");
  command->add_option("--description", options->description, "Description of the run");
  add_repeatable(*command, "--param", options->params, "Parameter KEY=VALUE (repeatable)");
  add_repeatable(*command, "--tag", options->tags, "Tag KEY=VALUE (repeatable)");
  add_repeatable(*command, "--set", options->sets, "Override a job-file field, e.g. inputs.lr=0.1 (repeatable)")
      ;
  command->add_option("--parent", options->parent, "Parent run id: submit as a child run");
  command->add_option("--timeout", options->timeout, "Cancel the run after this many seconds (marked failed)");
  command->add_option("--resume", options->resume, "Continue a failed or canceled training run (from its last checkpoint) or sweep (keeping finished trials)");
  command->add_flag("--detach", options->detach, "Return the run id at once; the run goes on in the background");
  set_examples(*command,
               "mlctl experiment submit --experiment demo --param lr=0.01 -- python train.py --lr 0.01\n"
               "  mlctl experiment submit -f job.yml --set inputs.learning_rate=0.1\n"
               "  mlctl experiment submit -f train.yml --set model.hidden_sizes=[64,32] --set learning_rate=0.01\n"
               "  mlctl experiment submit --resume 3f2a9c\n"
               "  RUN=$(mlctl experiment submit --detach -o tsv --query id -- ./train.sh) && mlctl run wait $RUN");
  command->callback([&env, options] {
    options->command = env.trailing_args;
    env.trailing_args_used = true;
    submit(env, *options);
  });
}

}  // namespace mlctl::cli
