// Verbs that read runs: list, show, metrics, artifacts, compare.
#include <fmt/format.h>

#include <mlctl/core/error.hpp>
#include <mlctl/data/dataset_store.hpp>
#include <mlctl/tracking/liveness.hpp>
#include <mlctl/tracking/metric_log.hpp>
#include <mlctl/tracking/run_compare.hpp>
#include <mlctl/tracking/run_store.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {
namespace {

const RenderOptions k_run_columns = {{{"Id", "id"},
                                      {"Experiment", "experiment"},
                                      {"Name", "display_name"},
                                      {"Status", "status"},
                                      {"Created", "created_at"},
                                      {"Duration (s)", "duration"}}};

struct ListOptions {
  std::string experiment;
  std::string status;
  std::string parent;
  std::vector<std::string> tags;
  std::string filter;
  std::string order_by;
  std::int64_t top = 0;
};

void list_runs(CommandEnv& env, const ListOptions& options) {
  tracking::RunListQuery query;
  if (!options.experiment.empty()) query.experiment = options.experiment;
  if (!options.status.empty()) query.status = tracking::parse_run_status(options.status);
  if (!options.parent.empty()) query.parent_id = options.parent;
  query.tags = parse_key_values(options.tags, "--tag");
  query.filter = options.filter;
  query.order_by = options.order_by;
  if (options.top < 0) throw Error(ErrorKind::invalid_argument, "--top must be a positive number");
  if (options.top > 0) query.top = options.top;
  // The table shows no params or metrics: skip reading them.
  query.with_details = !(env.output_format() == OutputFormat::table && env.options.query.empty());
  tracking::RunStore runs(env.context().db());
  tracking::reap_dead_runs(runs);
  CommandEnv::RowPrinter printer(env, k_run_columns);
  runs.list(query, [&](const tracking::Run& run) { printer.add(tracking::to_json(run)); });
  printer.finish();
}

void show_run(CommandEnv& env, const std::string& run_id) {
  auto& context = env.context();
  tracking::RunStore runs(context.db());
  tracking::reap_dead_runs(runs);
  tracking::Run run = runs.get(run_id);
  Json result = tracking::to_json(run);
  result["supervisor_pid"] = run.supervisor_pid ? Json(*run.supervisor_pid) : Json(nullptr);
  result["children"] = runs.child_ids(run.row_id);
  Json artifacts = Json::array();
  for (const auto& artifact : runs.artifacts(run.row_id)) artifacts.push_back(artifact.path);
  result["artifacts"] = artifacts;
  Json inputs = Json::object();
  data::DatasetStore datasets(context.db(), context.artifacts());
  for (const auto& [name, dataset] : datasets.run_inputs(run.row_id)) inputs[name] = dataset.ref();
  result["inputs"] = inputs;
  env.print(result);
}

void show_metrics(CommandEnv& env, const std::string& run_id, const std::string& name) {
  auto& db = env.context().db();
  tracking::RunStore runs(db);
  tracking::Run run = runs.get(run_id, false);
  tracking::MetricLog metrics(db);
  std::optional<std::string_view> key;
  if (!name.empty()) key = name;
  auto series = metrics.history(run.row_id, key);
  if (series.empty() && key) {
    throw Error(ErrorKind::not_found, fmt::format("run {} has no metric '{}'", run.id, name));
  }
  Json rows = Json::array();
  for (const auto& point : series) rows.push_back(tracking::to_json(point));
  env.print(rows, {{{"Name", "name"}, {"Step", "step"}, {"Value", "value"}, {"Timestamp", "timestamp"}}});
}

void list_artifacts(CommandEnv& env, const std::string& run_id) {
  tracking::RunStore runs(env.context().db());
  tracking::Run run = runs.get(run_id, false);
  Json rows = Json::array();
  for (const auto& artifact : runs.artifacts(run.row_id)) {
    rows.push_back({{"path", artifact.path}, {"size", artifact.size}, {"sha256", artifact.digest}});
  }
  env.print(rows, {{{"Path", "path"}, {"Size", "size"}, {"SHA-256", "sha256"}}});
}

void compare(CommandEnv& env, const std::vector<std::string>& run_ids) {
  if (run_ids.size() < 2) throw Error(ErrorKind::invalid_argument, "run compare needs at least two runs");
  tracking::RunStore runs(env.context().db());
  std::vector<tracking::Run> selected;
  for (const auto& id : run_ids) selected.push_back(runs.get(id));
  Json rows = tracking::compare_runs(selected);
  RenderOptions columns;
  columns.columns.push_back({"", "marker"});
  columns.columns.push_back({"Kind", "kind"});
  columns.columns.push_back({"Key", "key"});
  for (const auto& run : selected) columns.columns.push_back({run.id, run.id});
  // A visible marker on differing rows for people; scripts read "differs".
  for (auto& row : rows) row["marker"] = row["differs"].get<bool>() ? "*" : "";
  if (env.output_format() != OutputFormat::table && env.output_format() != OutputFormat::markdown) {
    for (auto& row : rows) row.erase("marker");
  }
  env.print(rows, columns);
}

}  // namespace

void register_run_inspect_commands(CLI::App& run, CommandEnv& env) {
  auto list_options = std::make_shared<ListOptions>();
  auto* list = run.add_subcommand("list", "List runs, newest first, with filters");
  list->add_option("-e,--experiment", list_options->experiment, "Only runs of this experiment");
  list->add_option("--status", list_options->status, "Only runs with this status (queued, running, completed, failed, canceled)");
  list->add_option("--parent", list_options->parent, "Only the child runs of this run");
  add_repeatable(*list, "--tag", list_options->tags, "Only runs with tag KEY=VALUE (repeatable)");
  list->add_option("--filter", list_options->filter,
                   "Boolean search over metrics., params., tags. and attributes: and, or, not, (), "
                   "= != < <= > >=, in (...), like, ilike, is null");
  list->add_option("--order-by", list_options->order_by, "Sort keys, e.g. \"metrics.accuracy desc, start_time\"");
  list->add_option("--top", list_options->top, "At most this many runs");
  set_examples(*list,
               "mlctl run list --experiment churn --status completed\n"
               "  mlctl run list --filter \"metrics.accuracy > 0.9 and (params.lr = '0.01' or tags.team in ('a','b'))\"\n"
               "  mlctl run list --order-by \"metrics.val_loss asc\" --top 5 -o json --query \"[].id\"");
  list->callback([&env, list_options] { list_runs(env, *list_options); });

  auto show_id = std::make_shared<std::string>();
  auto* show = run.add_subcommand("show", "Show a run: status, params, tags, final metrics, artifacts");
  show->add_option("run", *show_id, "Run id (or a unique prefix)")->required();
  set_examples(*show, "mlctl run show 3f2a9c\n  mlctl run show 3f2a9c --query metrics.accuracy");
  show->callback([&env, show_id] { show_run(env, *show_id); });

  auto metrics_id = std::make_shared<std::string>();
  auto metrics_name = std::make_shared<std::string>();
  auto* metrics = run.add_subcommand("metrics", "Show the metric series of a run");
  metrics->add_option("run", *metrics_id, "Run id")->required();
  metrics->add_option("--name", *metrics_name, "Only this metric");
  set_examples(*metrics, "mlctl run metrics 3f2a9c --name loss -o tsv");
  metrics->callback([&env, metrics_id, metrics_name] { show_metrics(env, *metrics_id, *metrics_name); });

  auto artifacts_id = std::make_shared<std::string>();
  auto* artifacts = run.add_subcommand("artifacts", "List the files a run stored");
  artifacts->add_option("run", *artifacts_id, "Run id")->required();
  set_examples(*artifacts, "mlctl run artifacts 3f2a9c");
  artifacts->callback([&env, artifacts_id] { list_artifacts(env, *artifacts_id); });

  auto compare_ids = std::make_shared<std::vector<std::string>>();
  auto* compare_command = run.add_subcommand("compare", "Params and final metrics of runs side by side");
  compare_command->add_option("runs", *compare_ids, "Two or more run ids")->required();
  set_examples(*compare_command, "mlctl run compare 3f2a9c 71be04\n  mlctl run compare 3f2a9c 71be04 -o markdown");
  compare_command->callback([&env, compare_ids] { compare(env, *compare_ids); });
}

}  // namespace mlctl::cli
