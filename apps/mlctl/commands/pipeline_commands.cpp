// `mlctl pipeline validate|run|show`: YAML DAGs of steps in the az ml v2
// pipeline-job format; `pipeline worker RUN` is a pipeline run's own job
// (hidden).
#include <cstdlib>

#include <fmt/format.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/process.hpp>
#include <mlctl/pipeline/pipeline_run.hpp>
#include <mlctl/pipeline/pipeline_spec.hpp>
#include <mlctl/pipeline/published_pipelines.hpp>
#include <mlctl/tracking/run_control.hpp>
#include <mlctl/pipeline/step_types.hpp>
#include <mlctl/tracking/run_store.hpp>
#include <mlctl/tracking/run_supervisor.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {
namespace {

struct RunOptions {
  std::string file;
  std::string published;
  std::vector<std::string> sets;
  std::string experiment;
  int max_parallel = 4;
  bool detach = false;
  bool no_reuse = false;
  bool explain = false;
};

Json step_row(const pipeline::StepReport& step, bool explain) {
  Json row = Json::object();
  row["step"] = step.name;
  row["state"] = step.state;
  row["run_id"] = step.run_id ? Json(*step.run_id) : Json(nullptr);
  row["reused_from"] = step.reused_from ? Json(*step.reused_from) : Json(nullptr);
  row["duration"] = step.duration_seconds ? Json(format_duration(*step.duration_seconds)) : Json(nullptr);
  if (explain) {
    row["explanation"] = step.explanation;
    row["key_parts"] = step.key_parts;
  }
  return row;
}

void print_report(CommandEnv& env, const pipeline::PipelineReport& report, bool explain) {
  Json steps = Json::array();
  for (const auto& step : report.steps) steps.push_back(step_row(step, explain));
  OutputFormat format = env.output_format();
  if (format == OutputFormat::json || format == OutputFormat::yaml) {
    env.print(Json{{"id", report.run_id}, {"status", report.status}, {"steps", steps}});
    return;
  }
  RenderOptions columns{{{"Step", "step"}, {"State", "state"}, {"Run", "run_id"}, {"Reused from", "reused_from"},
                         {"Duration", "duration"}}};
  if (explain) columns.columns.push_back({"Why", "explanation"});
  columns.color = env.stdout_color();
  env.note(fmt::format("pipeline run {} ({})", report.run_id, report.status));
  env.print(steps, columns);
}

void run(CommandEnv& env, const RunOptions& options) {
  auto& context = env.context();
  pipeline::PipelineRequest request;
  if (options.file.empty() == options.published.empty()) {
    throw Error(ErrorKind::invalid_argument, "give the pipeline: -f FILE or --published NAME[:VERSION]");
  }
  request.file = options.file;
  if (!options.published.empty()) {
    request = pipeline::published_request(context.db(), options.published);
    env.note(fmt::format("running published pipeline {}", *request.published));
  }
  request.overrides = options.sets;
  if (!options.experiment.empty()) request.experiment = options.experiment;
  request.max_parallel = options.max_parallel;
  request.no_reuse = options.no_reuse;
  request.default_experiment = context.settings().experiment;
  tracking::PreparedRun prepared = pipeline::prepare_pipeline_run(request, context.project(), current_executable());
  for (const auto& notice : prepared.notices) env.note(notice);
  tracking::RunStore runs(context.db());
  tracking::Run run = runs.create(prepared.run);
  if (options.detach) {
    tracking::launch_detached_supervisor(context.db(), context.project(), run.id, current_executable());
    env.note(fmt::format("pipeline run {} started in the background; 'mlctl run wait {}' waits for it", run.id, run.id));
    env.print(Json{{"id", run.id}, {"status", "running"}});
    return;
  }
  env.note(fmt::format("pipeline run {} started (experiment '{}')", run.id, run.experiment));
  tracking::SuperviseOptions supervise;
  tracking::RunOutcome outcome =
      tracking::supervise_run(context.db(), context.artifacts(), context.project(), run.id, supervise);
  print_report(env, pipeline::load_pipeline_report(context.db(), run.id), options.explain);
  if (outcome.status != tracking::RunStatus::completed) env.exit_code = 1;
}

}  // namespace

void register_pipeline_commands(CLI::App& app, CommandEnv& env) {
  auto* group = app.add_subcommand("pipeline", "Validate, run and inspect pipelines (YAML DAGs of steps)");
  group->require_subcommand(1);

  auto file = std::make_shared<std::string>();
  auto sets = std::make_shared<std::vector<std::string>>();
  auto* validate = group->add_subcommand("validate", "Check a pipeline file without running anything");
  validate->add_option("-f,--file", *file, "Pipeline YAML (az ml v2 pipeline job)")->required();
  add_repeatable(*validate, "--set", *sets, "Override an input (NAME=VALUE) or a field (jobs.train.retries=2)");
  validate->callback([&env, file, sets] {
    std::filesystem::path path = *file;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      throw Error(ErrorKind::not_found, fmt::format("pipeline file '{}' does not exist", path.string()));
    }
    pipeline::PipelineSpec spec = pipeline::parse_pipeline(read_file(path), path.string(),
                                                           std::filesystem::absolute(path).parent_path(),
                                                           pipeline::step_type_infos(), *sets);
    for (const auto& notice : spec.notices) env.note(notice);
    if (auto problems = pipeline::check_step_requirements(spec); !problems.empty()) {
      throw Error(ErrorKind::invalid_argument, fmt::format("{}", fmt::join(problems, "\n")));
    }
    Json steps = Json::array();
    for (const auto& name : pipeline::topological_order(spec)) {
      const auto* step = spec.find_step(name);
      steps.push_back({{"step", name}, {"type", step->type}, {"after", step->dependencies()}});
    }
    env.note(fmt::format("{} is valid: {} steps", path.string(), spec.steps.size()));
    env.print(steps);
  });

  auto options = std::make_shared<RunOptions>();
  auto* run_command = group->add_subcommand("run", "Run a pipeline: each step a child run; unchanged steps are reused");
  run_command->add_option("-f,--file", options->file, "Pipeline YAML");
  run_command->add_option("--published", options->published, "A published pipeline: NAME (newest enabled) or NAME:VERSION");
  add_repeatable(*run_command, "--set", options->sets, "Override an input (NAME=VALUE) or a field");
  run_command->add_option("-e,--experiment", options->experiment, "Experiment (default: the file's experiment_name)");
  run_command->add_option("--max-parallel", options->max_parallel, "Steps running at once (default 4)");
  run_command->add_flag("--detach", options->detach, "Return the run id at once");
  run_command->add_flag("--no-reuse", options->no_reuse, "Run every step, even unchanged ones");
  run_command->add_flag("--explain", options->explain, "Say for every step why it ran or was reused");
  set_examples(*run_command,
               "mlctl pipeline run -f pipelines/train-tune.yml --set data=azureml:churn:2\n"
               "  mlctl pipeline run -f pipelines/retrain.yml --explain\n"
               "  mlctl pipeline run --published retrain --set data=azureml:churn:3");
  run_command->callback([&env, options] { run(env, *options); });

  auto run_id = std::make_shared<std::string>();
  auto explain = std::make_shared<bool>(false);
  auto graph = std::make_shared<std::string>();
  auto* show = group->add_subcommand("show", "The steps of a pipeline run: state, reuse, duration");
  show->add_option("run", *run_id, "Pipeline run id (or a unique prefix), or a published pipeline NAME[:VERSION]")->required();
  show->add_flag("--explain", *explain, "Say for every step why it ran or was reused");
  show->add_option("--graph", *graph, "Print the DAG instead: mermaid or dot")->check(CLI::IsMember({"mermaid", "dot"}));
  show->callback([&env, run_id, explain, graph] {
    pipeline::PublishedPipelines published(env.context().db());
    std::string name = run_id->substr(0, run_id->find(':'));
    if (!published.list(std::string_view(name)).empty()) {
      auto version = published.get(*run_id);
      pipeline::PipelineSpec spec = pipeline::parse_pipeline(version.yaml, version.source, version.base_dir,
                                                             pipeline::step_type_infos());
      Json steps = Json::array();
      for (const auto& step : pipeline::topological_order(spec)) steps.push_back(step);
      Json inputs = Json::object();
      for (const auto& input : spec.inputs) inputs[input.name] = input.default_value ? Json(*input.default_value) : Json(nullptr);
      env.print(Json{{"name", version.name}, {"version", version.version}, {"enabled", version.enabled},
                     {"sha256", version.digest}, {"source", version.source}, {"description", version.description},
                     {"created_at", format_iso8601(version.created_at)}, {"inputs", inputs}, {"steps", steps},
                     {"yaml", version.yaml}});
      return;
    }
    auto report = pipeline::load_pipeline_report(env.context().db(), *run_id);
    if (!graph->empty()) {
      std::fputs(pipeline::render_graph(report, *graph).c_str(), stdout);
      return;
    }
    print_report(env, report, *explain);
  });

  auto* resume = group->add_subcommand("resume", "Run a failed or canceled pipeline run again: its completed steps are kept");
  resume->add_option("run", *run_id, "Pipeline run id (or a unique prefix)")->required();
  resume->add_flag("--explain", *explain, "Say for every step why it ran or was reused");
  resume->callback([&env, run_id, explain] {
    auto& context = env.context();
    tracking::RunStore runs(context.db());
    tracking::Run run = runs.get(*run_id, false);
    if (run.kind != "pipeline") {
      throw Error(ErrorKind::invalid_argument, fmt::format("run {} is a {} run, not a pipeline", run.id, run.kind));
    }
    runs.requeue(run.row_id);
    env.note(fmt::format("resuming pipeline run {}: completed steps are kept", run.id));
    tracking::SuperviseOptions supervise;
    tracking::RunOutcome outcome =
        tracking::supervise_run(context.db(), context.artifacts(), context.project(), run.id, supervise);
    print_report(env, pipeline::load_pipeline_report(context.db(), run.id), *explain);
    if (outcome.status != tracking::RunStatus::completed) env.exit_code = 1;
  });

  struct PublishOptions {
    std::string file, name, description;
  };
  auto publish_options = std::make_shared<PublishOptions>();
  auto* publish = group->add_subcommand("publish", "Store an immutable, versioned copy of a pipeline (NAME:1, NAME:2...)");
  publish->add_option("-f,--file", publish_options->file, "Pipeline YAML (validated first)")->required();
  publish->add_option("--name", publish_options->name, "Published name")->required();
  publish->add_option("--description", publish_options->description, "Description");
  set_examples(*publish, "mlctl pipeline publish -f pipelines/retrain.yml --name retrain");
  publish->callback([&env, publish_options] {
    std::filesystem::path path = publish_options->file;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      throw Error(ErrorKind::not_found, fmt::format("pipeline file '{}' does not exist", path.string()));
    }
    std::string text = read_file(path);
    std::filesystem::path base_dir = std::filesystem::absolute(path).parent_path();
    auto spec = pipeline::parse_pipeline(text, path.string(), base_dir, pipeline::step_type_infos());
    if (auto problems = pipeline::check_step_requirements(spec); !problems.empty()) {
      throw Error(ErrorKind::invalid_argument, fmt::format("{}", fmt::join(problems, "\n")));
    }
    bool created = false;
    auto version = pipeline::PublishedPipelines(env.context().db())
                       .publish(publish_options->name, text, path.string(), base_dir.string(),
                                publish_options->description, created);
    env.note(created ? fmt::format("published {}", version.ref())
                     : fmt::format("the same pipeline is published already as {}", version.ref()));
    env.print(Json{{"name", version.name}, {"version", version.version}, {"ref", version.ref()}, {"sha256", version.digest}});
  });

  auto list_name = std::make_shared<std::string>();
  auto* list = group->add_subcommand("list", "Published pipelines, newest version first");
  list->add_option("--name", *list_name, "Only this pipeline");
  list->callback([&env, list_name] {
    std::optional<std::string_view> name;
    if (!list_name->empty()) name = *list_name;
    Json rows = Json::array();
    for (const auto& version : pipeline::PublishedPipelines(env.context().db()).list(name)) {
      rows.push_back({{"name", version.name}, {"version", version.version}, {"enabled", version.enabled},
                      {"description", version.description}, {"created_at", format_iso8601(version.created_at)}});
    }
    env.print(rows);
  });

  for (bool enable : {false, true}) {
    auto* toggle = group->add_subcommand(enable ? "enable" : "disable",
                                         enable ? "Allow runs of a published version again"
                                                : "Refuse runs of a published version (it stays stored)");
    toggle->add_option("pipeline", *run_id, "NAME:VERSION")->required();
    toggle->callback([&env, run_id, enable] {
      pipeline::PublishedPipelines published(env.context().db());
      published.set_enabled(*run_id, enable);
      env.note(fmt::format("{} {}", *run_id, enable ? "enabled" : "disabled"));
    });
  }

  auto* cancel = group->add_subcommand("cancel", "Cancel a pipeline run: running steps are canceled, no new one starts");
  cancel->add_option("run", *run_id, "Pipeline run id (or a unique prefix)")->required();
  cancel->callback([&env, run_id] {
    tracking::RunStore runs(env.context().db());
    tracking::Run run = runs.get(*run_id, false);
    if (run.kind != "pipeline") {
      throw Error(ErrorKind::invalid_argument, fmt::format("run {} is a {} run, not a pipeline", run.id, run.kind));
    }
    tracking::cancel_run(runs, run.id);
    env.note(fmt::format("pipeline run {} canceled", run.id));
  });

  auto* worker = group->add_subcommand("worker", "Run the steps of a pipeline run (started by its supervisor)");
  worker->group("");
  worker->add_option("run", *run_id)->required();
  worker->callback([&env, run_id] {
    auto& context = env.context();
    pipeline::run_pipeline(context.db(), context.artifacts(), context.project(), *run_id,
                           worker_outputs_dir(context, *run_id), print_worker_event);
  });
}

}  // namespace mlctl::cli
