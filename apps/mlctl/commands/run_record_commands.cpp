// `run create` / `run end`: track work that mlctl does not launch (a
// notebook, a script run by another scheduler), like MLflow's start_run and
// end_run.
#include <fmt/format.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/tracking/metric_log.hpp>
#include <mlctl/tracking/run_store.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {
namespace {

struct CreateOptions {
  std::string experiment;
  std::string name;
  std::string description;
  std::string parent;
  std::string status = "running";
  std::vector<std::string> params;
  std::vector<std::string> tags;
  std::vector<std::string> metrics;
};

void create_run(CommandEnv& env, const CreateOptions& options) {
  auto& context = env.context();
  tracking::RunStatus status = tracking::parse_run_status(options.status);
  if (status == tracking::RunStatus::queued) {
    throw Error(ErrorKind::invalid_argument, "--status must be running, completed, failed or canceled");
  }
  tracking::NewRun new_run;
  new_run.experiment = options.experiment.empty() ? context.settings().experiment : options.experiment;
  new_run.kind = "external";
  new_run.display_name = options.name;
  new_run.description = options.description;
  new_run.working_dir = context.working_dir().string();
  if (!options.parent.empty()) new_run.parent_id = options.parent;
  new_run.params = parse_key_values(options.params, "--param");
  new_run.tags = parse_key_values(options.tags, "--tag");
  std::vector<tracking::MetricPoint> points;
  double now = unix_now();
  for (const auto& [key, text] : parse_key_values(options.metrics, "--metric")) {
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') {
      throw Error(ErrorKind::invalid_argument, fmt::format("--metric {}={}: expected a number", key, text));
    }
    points.push_back({key, value, std::nullopt, now});
  }
  auto& db = context.db();
  tracking::RunStore runs(db);
  std::string id;
  db.write_transaction([&] {
    tracking::Run run = runs.create(new_run);
    id = run.id;
    runs.mark_running_unsupervised(run.row_id);
    tracking::MetricLog(db).append(run.row_id, points);
    if (status != tracking::RunStatus::running) runs.finish(run.row_id, status, std::nullopt, std::nullopt);
  });
  env.print(tracking::to_json(runs.get(id)));
}

void end_run(CommandEnv& env, const std::string& run_id, const std::string& status_text) {
  tracking::RunStatus status = tracking::parse_run_status(status_text);
  if (!tracking::is_terminal(status)) {
    throw Error(ErrorKind::invalid_argument, "--status must be completed, failed or canceled");
  }
  tracking::RunStore runs(env.context().db());
  tracking::Run run = runs.get(run_id, false);
  if (tracking::is_terminal(run.status)) {
    throw Error(ErrorKind::already_exists,
                fmt::format("run {} has already ended ({})", run.id, tracking::to_string(run.status)));
  }
  if (run.supervisor_pid) {
    throw Error(ErrorKind::invalid_argument, fmt::format("run {} is supervised by mlctl and ends with its job", run.id),
                fmt::format("use 'mlctl run cancel {}' to stop it", run.id));
  }
  runs.finish(run.row_id, status, std::nullopt, std::nullopt);
  env.print(tracking::to_json(runs.get(run.id)));
}

}  // namespace

void register_run_record_commands(CLI::App& run, CommandEnv& env) {
  auto options = std::make_shared<CreateOptions>();
  auto* create = run.add_subcommand("create", "Record a run that mlctl does not launch (ended by 'run end')");
  create->add_option("-e,--experiment", options->experiment, "Experiment (created if missing)")
      ->envname("MLCTL_EXPERIMENT");
  create->add_option("-n,--name", options->name, "Display name");
  create->add_option("--description", options->description, "Description");
  create->add_option("--parent", options->parent, "Parent run id");
  create->add_option("--status", options->status, "running (default), or completed/failed/canceled to record a finished run");
  add_repeatable(*create, "--param", options->params, "Param KEY=VALUE (repeatable)");
  add_repeatable(*create, "--tag", options->tags, "Tag KEY=VALUE (repeatable)");
  add_repeatable(*create, "--metric", options->metrics, "Metric NAME=NUMBER (repeatable)");
  set_examples(*create,
               "RUN=$(mlctl run create -e notebook --param lr=0.1 -o tsv --query id)\n"
               "  mlctl run log --run $RUN --metric loss=0.3 && mlctl run end $RUN --status completed");
  create->callback([&env, options] { create_run(env, *options); });

  auto end_id = std::make_shared<std::string>();
  auto end_status = std::make_shared<std::string>("completed");
  auto* end = run.add_subcommand("end", "End a run recorded with 'run create'");
  end->add_option("run", *end_id, "Run id")->required();
  end->add_option("--status", *end_status, "completed (default), failed or canceled");
  set_examples(*end, "mlctl run end 3f2a9c --status failed");
  end->callback([&env, end_id, end_status] { end_run(env, *end_id, *end_status); });
}

}  // namespace mlctl::cli
