// `mlctl model ...`: the model registry (register, list, show, download,
// delete, archive, aliases, schema) and batch scoring.
#include <fmt/format.h>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/process.hpp>
#include <mlctl/core/clock.hpp>
#include <mlctl/evaluation/criteria.hpp>
#include <mlctl/evaluation/model_evaluation.hpp>
#include <mlctl/registry/model_package.hpp>
#include <mlctl/registry/model_registry.hpp>
#include <mlctl/tracking/run_control.hpp>
#include <mlctl/train/train_run.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {
namespace {

struct PredictOptions {
  std::string run;
  std::string model;
  std::string input;
  std::string output;
};

void predict(CommandEnv& env, const PredictOptions& options) {
  auto& context = env.context();
  if (options.run.empty() == options.model.empty()) {
    throw Error(ErrorKind::invalid_argument, "give the model to score with: --model NAME[:V|@ALIAS] or --run RUN");
  }
  std::optional<std::filesystem::path> output;
  if (!options.output.empty()) output = options.output;
  Json predictions;
  if (!options.model.empty()) {
    registry::ModelRegistry models(context.db(), context.artifacts());
    registry::ModelVersion model = models.get(options.model);
    data::CsvTable table = data::read_csv(options.input);
    train::TableScores scores = evaluation::score_model(models, model, table).scores;
    predictions = train::predictions_json(scores);
    if (output) write_file_atomic(*output, train::predictions_csv(scores));
  } else {
    // The model directory comes out of the artifact store verified.
    ScratchDirectory scratch("mlctl-model-");
    tracking::RunStore runs(context.db());
    tracking::download_artifacts(runs, context.artifacts(), options.run, "outputs/model", scratch.path());
    predictions = train::predict_csv(scratch.path() / "outputs" / "model", options.input, output);
  }
  if (output) {
    env.print(Json{{"rows", predictions.size()}, {"output", *output}});
  } else {
    env.print(predictions, {{{"Prediction", "prediction"}, {"Probabilities", "probabilities"}}});
  }
}

struct RegisterOptions {
  std::string name, run, artifact = "outputs/model", path, format = "mlctl", schema, description, alias, lineage_run;
  std::vector<std::string> tags;
};

void register_model(CommandEnv& env, const RegisterOptions& options) {
  auto& context = env.context();
  registry::RegisterRequest request;
  request.name = options.name;
  if (!options.run.empty()) request.run = options.run;
  if (!options.path.empty()) request.path = options.path;
  request.artifact = options.artifact;
  request.format = options.format;
  if (!options.schema.empty()) {
    try {
      request.schema = Json::parse(read_file(options.schema));
    } catch (const Json::parse_error& error) {
      throw Error(ErrorKind::parse, fmt::format("{}: not valid JSON: {}", options.schema, error.what()));
    }
  }
  request.description = options.description;
  request.tags = parse_key_values(options.tags, "--tag");
  if (!options.alias.empty()) request.alias = options.alias;
  if (!options.lineage_run.empty()) request.lineage_run = options.lineage_run;
  registry::ModelRegistry models(context.db(), context.artifacts());
  registry::RegisterResult result = models.register_model(request);
  if (!result.created) {
    env.note(fmt::format("the same files are registered already as {}", result.model.ref()));
  } else {
    env.note(fmt::format("registered {}", result.model.ref()));
  }
  env.print(registry::to_json(result.model));
}

const RenderOptions k_model_columns = {{{"Name", "name"},
                                        {"Version", "version"},
                                        {"Aliases", "aliases"},
                                        {"Format", "format"},
                                        {"Run", "source_run"},
                                        {"Created", "created_at"}}};

struct CompareOptions {
  std::string candidate, baseline, data, criteria;
};

void compare(CommandEnv& env, const CompareOptions& options) {
  auto& context = env.context();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(options.criteria, ec)) {
    throw Error(ErrorKind::not_found, fmt::format("criteria file '{}' does not exist", options.criteria));
  }
  auto criteria = evaluation::parse_criteria(read_file(options.criteria), options.criteria);
  std::optional<std::string> baseline;
  if (!options.baseline.empty()) baseline = options.baseline;
  auto result = evaluation::compare_models(context.db(), context.artifacts(), options.candidate, baseline, options.data,
                                           criteria);
  for (const auto& note : result.notes) env.note(note);
  // One row per metric of either model, the criteria's first.
  std::vector<std::string> names;
  for (const auto& outcome : result.outcomes) names.push_back(outcome.metric);
  for (const auto& [key, value] : result.candidate_metrics.items()) {
    if (std::find(names.begin(), names.end(), key) == names.end()) names.push_back(key);
  }
  Json rows = Json::array();
  for (const auto& name : names) {
    auto number = [&](const std::optional<Json>& metrics) -> std::optional<double> {
      if (metrics && metrics->contains(name) && (*metrics)[name].is_number()) return (*metrics)[name].get<double>();
      return std::nullopt;
    };
    auto candidate = number(result.candidate_metrics);
    auto base = number(result.baseline_metrics);
    Json row = Json::object();
    row["metric"] = name;
    row["candidate"] = candidate ? Json(*candidate) : Json(nullptr);
    row["baseline"] = base ? Json(*base) : Json(nullptr);
    row["difference"] = candidate && base ? Json(*candidate - *base) : Json(nullptr);
    auto outcome = std::find_if(result.outcomes.begin(), result.outcomes.end(),
                                [&](const evaluation::CriterionOutcome& o) { return o.metric == name; });
    row["rule"] = outcome != result.outcomes.end() ? Json(outcome->rules) : Json("");
    row["result"] = outcome == result.outcomes.end() ? "" : outcome->passed ? "pass" : "FAIL";
    rows.push_back(row);
  }
  std::vector<std::string> failures;
  for (const auto& outcome : result.outcomes) failures.insert(failures.end(), outcome.failures.begin(), outcome.failures.end());
  std::string baseline_name = result.baseline ? result.baseline->ref() : std::string("no baseline");
  if (result.baseline && baseline && *baseline != result.baseline->ref()) baseline_name = *baseline + " = " + result.baseline->ref();
  RenderOptions columns{{{"Metric", "metric"}, {"Candidate", "candidate"}, {"Baseline", "baseline"},
                         {"Difference", "difference"}, {"Rule", "rule"}, {"Result", "result"}}};
  OutputFormat format = env.output_format();
  if (format == OutputFormat::json || format == OutputFormat::yaml) {
    Json json = Json::object();
    json["candidate"] = result.candidate.ref();
    json["baseline"] = result.baseline ? Json(result.baseline->ref()) : Json(nullptr);
    json["data"] = result.data;
    json["rows"] = result.rows;
    json["passed"] = result.passed;
    json["differing_predictions"] = result.differing_predictions ? Json(*result.differing_predictions) : Json(nullptr);
    json["metrics"] = rows;
    json["failures"] = failures;
    env.print(json);
  } else if (format == OutputFormat::markdown) {
    std::string text = fmt::format("**{}** vs **{}** on `{}` ({} rows): **{}**\n\n", result.candidate.ref(),
                                   baseline_name, result.data, result.rows, result.passed ? "passed" : "failed");
    text += render(rows, OutputFormat::markdown, columns);
    if (result.differing_predictions) {
      text += fmt::format("\n{} of {} predictions differ.\n", *result.differing_predictions, result.rows);
    }
    for (const auto& failure : failures) text += "\n- " + failure;
    if (!failures.empty()) text += "\n";
    std::fputs(text.c_str(), stdout);
  } else {
    columns.color = env.stdout_color();
    env.note(fmt::format("{} vs {} on {} ({} rows)", result.candidate.ref(), baseline_name, result.data, result.rows));
    env.print(rows, columns);
    if (result.differing_predictions) {
      env.note(fmt::format("{} of {} predictions differ", *result.differing_predictions, result.rows));
    }
  }
  for (const auto& failure : failures) env.warn("criterion failed: " + failure);
  if (!result.passed) {
    env.exit_code = 1;
  } else {
    env.note(fmt::format("{} passes the criteria", result.candidate.ref()));
  }
}

void register_alias_commands(CLI::App& group, CommandEnv& env) {
  auto* alias = group.add_subcommand("alias", "Point aliases (production, staging...) at versions; see their history");
  alias->require_subcommand(1);
  struct AliasOptions {
    std::string name, alias, reason;
    int version = 0;
  };
  auto options = std::make_shared<AliasOptions>();
  auto* set = alias->add_subcommand("set", "Point NAME@ALIAS at a version (recorded in the alias history)");
  set->add_option("name", options->name, "Model name")->required();
  set->add_option("alias", options->alias, "Alias, e.g. production")->required();
  set->add_option("version", options->version, "Version number")->required();
  set->add_option("--reason", options->reason, "Why (kept in the history)");
  set_examples(*set, "mlctl model alias set churn production 3 --reason \"passed the champion/challenger criteria\"");
  set->callback([&env, options] {
    auto& context = env.context();
    registry::ModelRegistry models(context.db(), context.artifacts());
    models.set_alias(options->name, options->alias, options->version, options->reason);
    env.print(registry::to_json(models.get(options->name + "@" + options->alias)));
  });
  auto* remove = alias->add_subcommand("delete", "Remove an alias (recorded in the alias history)");
  remove->add_option("name", options->name, "Model name")->required();
  remove->add_option("alias", options->alias, "Alias")->required();
  remove->add_option("--reason", options->reason, "Why (kept in the history)");
  remove->callback([&env, options] {
    auto& context = env.context();
    registry::ModelRegistry models(context.db(), context.artifacts());
    models.delete_alias(options->name, options->alias, options->reason);
    env.note(fmt::format("alias {}@{} deleted", options->name, options->alias));
  });
  auto* history = alias->add_subcommand("history", "Every move of an alias, oldest first");
  history->add_option("name", options->name, "Model name")->required();
  history->add_option("alias", options->alias, "Alias")->required();
  history->callback([&env, options] {
    auto& context = env.context();
    registry::ModelRegistry models(context.db(), context.artifacts());
    Json rows = Json::array();
    for (const auto& change : models.alias_history(options->name, options->alias)) {
      rows.push_back({{"changed_at", format_iso8601(change.changed_at)},
                      {"alias", change.alias},
                      {"version", change.version ? Json(*change.version) : Json(nullptr)},
                      {"previous_version", change.previous_version ? Json(*change.previous_version) : Json(nullptr)},
                      {"reason", change.reason},
                      {"changed_by", change.changed_by}});
    }
    env.print(rows);
  });
}

}  // namespace

void register_model_commands(CLI::App& app, CommandEnv& env) {
  auto* group = app.add_subcommand("model", "Register, version, alias and score models");
  group->require_subcommand(1);

  auto reg = std::make_shared<RegisterOptions>();
  auto* register_command = group->add_subcommand("register", "Register a run's model or a model file/directory as NAME:N");
  register_command->add_option("--name", reg->name, "Model name")->required();
  register_command->add_option("--run", reg->run, "The run whose artifacts hold the model");
  register_command->add_option("--artifact", reg->artifact, "The run's artifact path of the model (default outputs/model)");
  register_command->add_option("--path", reg->path, "A model directory or file instead of a run");
  register_command->add_option("--lineage-run", reg->lineage_run,
                               "With --path: the run that made it (its datasets, metrics and id are recorded)");
  register_command->add_option("--format", reg->format, "mlctl (a model directory, the default) or torchscript")
      ->check(CLI::IsMember({"mlctl", "torchscript"}));
  register_command->add_option("--schema", reg->schema, "JSON schema of the inputs (see model schema); required for torchscript");
  register_command->add_option("--description", reg->description, "Description");
  add_repeatable(*register_command, "--tag", reg->tags, "Tag KEY=VALUE (repeatable)");
  register_command->add_option("--alias", reg->alias, "Point this alias at the new version");
  set_examples(*register_command,
               "mlctl model register --name churn --run 3f2a9c --alias staging\n"
               "  mlctl model register --name churn-ts --path model.pt --format torchscript --schema schema.json");
  register_command->callback([&env, reg] { register_model(env, *reg); });

  struct ListOptions {
    std::string name;
    std::vector<std::string> tags;
    bool all = false;
  };
  auto list_options = std::make_shared<ListOptions>();
  auto* list = group->add_subcommand("list", "Registered model versions, newest first");
  list->add_option("--name", list_options->name, "Only this model");
  add_repeatable(*list, "--tag", list_options->tags, "Only versions with tag KEY=VALUE (repeatable)");
  list->add_flag("--all", list_options->all, "Include archived versions");
  list->callback([&env, list_options] {
    auto& context = env.context();
    registry::ModelRegistry models(context.db(), context.artifacts());
    std::optional<std::string_view> name;
    if (!list_options->name.empty()) name = list_options->name;
    Json rows = Json::array();
    for (const auto& model : models.list(name, parse_key_values(list_options->tags, "--tag"), list_options->all)) {
      rows.push_back(registry::to_json(model));
    }
    env.print(rows, k_model_columns);
  });

  auto reference = std::make_shared<std::string>();
  auto* show = group->add_subcommand("show", "A model version: metrics, lineage, schema, files");
  show->add_option("model", *reference, "NAME, NAME:VERSION, NAME:latest or NAME@ALIAS")->required();
  show->callback([&env, reference] {
    auto& context = env.context();
    registry::ModelRegistry models(context.db(), context.artifacts());
    env.print(registry::to_json(models.get(*reference)));
  });

  auto destination = std::make_shared<std::string>();
  auto* download = group->add_subcommand("download", "Copy a model version's files, verified, into a directory");
  download->add_option("model", *reference, "NAME, NAME:VERSION, NAME:latest or NAME@ALIAS")->required();
  download->add_option("--dest", *destination, "Destination directory")->required();
  download->callback([&env, reference, destination] {
    auto& context = env.context();
    registry::ModelRegistry models(context.db(), context.artifacts());
    registry::ModelVersion model = models.get(*reference);
    models.materialize(model, *destination);
    env.print(Json{{"model", model.ref()}, {"files", model.files.size()}, {"dest", *destination}});
  });

  auto* remove = group->add_subcommand("delete", "Delete a model version (refused while aliased)");
  remove->add_option("model", *reference, "NAME:VERSION")->required();
  remove->callback([&env, reference] {
    auto& context = env.context();
    registry::ModelRef ref = registry::parse_model_ref(*reference);
    if (!ref.version) throw Error(ErrorKind::invalid_argument, "model delete needs an exact version: NAME:VERSION");
    registry::ModelRegistry models(context.db(), context.artifacts());
    models.remove(ref);
    env.note(fmt::format("model {} deleted", ref.to_string()));
  });

  auto restore = std::make_shared<bool>(false);
  auto* archive = group->add_subcommand("archive", "Hide a version from list and NAME:latest (files are kept)");
  archive->add_option("model", *reference, "NAME:VERSION")->required();
  archive->add_flag("--restore", *restore, "Bring an archived version back");
  archive->callback([&env, reference, restore] {
    auto& context = env.context();
    registry::ModelRegistry models(context.db(), context.artifacts());
    env.print(registry::to_json(models.archive(registry::parse_model_ref(*reference), !*restore)));
  });

  register_alias_commands(*group, env);

  auto package_output = std::make_shared<std::string>();
  auto no_runtime = std::make_shared<bool>(false);
  auto* package = group->add_subcommand(
      "package", "Bundle a model version (files, schema, manifest with hashes, README, a Dockerfile serving it, mlctl)");
  package->add_option("model", *reference, "NAME, NAME:VERSION or NAME@ALIAS")->required();
  package->add_option("--output", *package_output, "A new directory, or a file ending in .tar")->required();
  package->add_flag("--no-runtime", *no_runtime,
                    "Leave out bin/ (this mlctl and its torch backend, which the Dockerfile copies into the image)");
  set_examples(*package, "mlctl model package churn@production --output churn-3.tar");
  package->callback([&env, reference, package_output, no_runtime] {
    auto& context = env.context();
    registry::ModelRegistry models(context.db(), context.artifacts());
    registry::ModelVersion model = models.get(*reference);
    std::optional<std::filesystem::path> runtime;
    if (!*no_runtime) runtime = std::filesystem::path(current_executable()).parent_path();
    auto path = registry::package_model(models, model, *package_output, runtime);
    env.print(Json{{"model", model.ref()}, {"package", path.string()}, {"files", model.files.size()}});
  });

  auto import_name = std::make_shared<std::string>();
  auto* import_command = group->add_subcommand("import", "Register a model package (made by model package) in this project");
  import_command->add_option("package", *reference, "Package directory or .tar file")->required();
  import_command->add_option("--name", *import_name, "Register under this name (default: the package's)");
  import_command->callback([&env, reference, import_name] {
    auto& context = env.context();
    registry::ModelRegistry models(context.db(), context.artifacts());
    std::optional<std::string> name;
    if (!import_name->empty()) name = *import_name;
    auto result = registry::import_package(models, *reference, name);
    env.note(result.created ? fmt::format("imported as {}", result.model.ref())
                            : fmt::format("the same files are registered already as {}", result.model.ref()));
    env.print(registry::to_json(result.model));
  });

  struct EvaluateOptions {
    std::string model, data, experiment = "model-evaluation";
  };
  auto evaluate_options = std::make_shared<EvaluateOptions>();
  auto* evaluate = group->add_subcommand("evaluate", "Score a model on a dataset and log the metrics as an evaluation run");
  evaluate->add_option("model", evaluate_options->model, "NAME, NAME:VERSION or NAME@ALIAS")->required();
  evaluate->add_option("--data", evaluate_options->data, "Dataset NAME[:VERSION] or a CSV file with the label column")->required();
  evaluate->add_option("-e,--experiment", evaluate_options->experiment, "Experiment of the evaluation run");
  set_examples(*evaluate, "mlctl model evaluate churn@production --data churn-holdout:2");
  evaluate->callback([&env, evaluate_options] {
    auto& context = env.context();
    auto result = evaluation::evaluate_model(context.db(), context.artifacts(), evaluate_options->model,
                                             evaluate_options->data, evaluate_options->experiment);
    env.note(fmt::format("evaluation run {}", result.run_id));
    env.print(Json{{"run_id", result.run_id}, {"model", result.model.ref()}, {"data", result.data}, {"metrics", result.metrics}});
  });

  auto compare_options = std::make_shared<CompareOptions>();
  auto* compare_command = group->add_subcommand(
      "compare", "Score a challenger and the champion on the same rows; exit 1 unless the criteria hold");
  compare_command->add_option("--candidate", compare_options->candidate, "The challenger: NAME:VERSION")->required();
  compare_command->add_option("--baseline", compare_options->baseline,
                              "The champion, e.g. NAME@production (none or not set yet: thresholds alone decide)");
  compare_command->add_option("--data", compare_options->data, "Hold-out dataset NAME[:VERSION] or CSV file")->required();
  compare_command->add_option("--criteria", compare_options->criteria, "Criteria YAML (see docs/registry.md)")->required();
  set_examples(*compare_command,
               "mlctl model compare --candidate churn:4 --baseline churn@production --data churn-holdout --criteria "
               "criteria.yaml -o markdown");
  compare_command->callback([&env, compare_options] { compare(env, *compare_options); });

  struct SchemaOptions {
    std::string from, label, output;
  };
  auto schema_options = std::make_shared<SchemaOptions>();
  auto* schema = group->add_subcommand("schema", "Write a model input schema from a sample CSV (for --schema)");
  schema->add_option("--from", schema_options->from, "Sample CSV with a header row")->required();
  schema->add_option("--label", schema_options->label, "The label column (left out of the inputs)");
  schema->add_option("--output", schema_options->output, "Write the schema to this file");
  schema->callback([&env, schema_options] {
    std::optional<std::string> label;
    if (!schema_options->label.empty()) label = schema_options->label;
    Json result = registry::schema_from_csv(read_file(schema_options->from), schema_options->from, label);
    if (!schema_options->output.empty()) {
      write_file_atomic(schema_options->output, result.dump(2) + "\n");
      env.note(fmt::format("schema written to {}", schema_options->output));
    }
    env.print(result);
  });

  auto options = std::make_shared<PredictOptions>();
  auto* predict_command = group->add_subcommand("predict", "Batch-score a CSV file with a registered model or a run's model");
  predict_command->add_option("--model", options->model, "NAME, NAME:VERSION or NAME@ALIAS");
  predict_command->add_option("--run", options->run, "A training run");
  predict_command->add_option("--input", options->input, "CSV file with the model's input columns")->required();
  predict_command->add_option("--output", options->output, "Write predictions to this CSV file");
  set_examples(*predict_command,
               "mlctl model predict --model churn@production --input new_customers.csv --output preds.csv\n"
               "  mlctl model predict --run 3f2a9c --input new_customers.csv");
  predict_command->callback([&env, options] { predict(env, *options); });
}

}  // namespace mlctl::cli
