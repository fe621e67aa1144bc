// `mlctl run log`: what a running job calls to log params, tags, metrics
// and artifacts to its run ($MLCTL_RUN_ID), or any run with --run.
#include <fmt/format.h>

#include <cstdlib>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/tracking/metric_log.hpp>
#include <mlctl/tracking/run_store.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {
namespace {

struct LogOptions {
  std::string run;
  std::vector<std::string> metrics;
  std::vector<std::string> params;
  std::vector<std::string> tags;
  std::vector<std::string> artifacts;
  std::string artifact_path;
  std::int64_t step = -1;
};

double parse_metric_value(const std::string& key, const std::string& text) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) {
    throw Error(ErrorKind::invalid_argument, fmt::format("--metric {}={}: expected a number", key, text));
  }
  return value;
}

void log_to_run(CommandEnv& env, const LogOptions& options) {
  std::string run_id = options.run;
  if (run_id.empty()) {
    const char* from_env = std::getenv("MLCTL_RUN_ID");
    if (!from_env || !*from_env) {
      throw Error(ErrorKind::invalid_argument, "no run to log to: pass --run or call this from a job (MLCTL_RUN_ID)");
    }
    run_id = from_env;
  }
  if (options.metrics.empty() && options.params.empty() && options.tags.empty() && options.artifacts.empty()) {
    throw Error(ErrorKind::invalid_argument, "nothing to log: give --metric, --param, --tag or --artifact");
  }
  auto& context = env.context();
  auto& db = context.db();
  tracking::RunStore runs(db);
  tracking::Run run = runs.get(run_id, false);
  double now = unix_now();
  std::vector<tracking::MetricPoint> points;
  for (const auto& [key, text] : parse_key_values(options.metrics, "--metric")) {
    tracking::MetricPoint point{key, parse_metric_value(key, text), std::nullopt, now};
    if (options.step >= 0) point.step = options.step;
    points.push_back(std::move(point));
  }
  std::vector<tracking::ArtifactRecord> artifacts;
  for (const auto& file : options.artifacts) {
    auto blob = context.artifacts().put_file(file);
    std::string name = std::filesystem::path(file).filename().string();
    std::string path = options.artifact_path.empty() ? name : options.artifact_path + "/" + name;
    artifacts.push_back({path, blob.digest, blob.size});
  }
  db.write_transaction([&] {
    runs.log_params(run.row_id, parse_key_values(options.params, "--param"));
    runs.set_tags(run.row_id, parse_key_values(options.tags, "--tag"));
    tracking::MetricLog(db).append(run.row_id, points);
    runs.add_artifacts(run.row_id, artifacts);
  });
}

}  // namespace

void register_run_log_command(CLI::App& run, CommandEnv& env) {
  auto options = std::make_shared<LogOptions>();
  auto* log = run.add_subcommand("log", "Log metrics, params, tags or artifacts to a run (default: $MLCTL_RUN_ID)");
  log->add_option("--run", options->run, "Run id (default: the run this job is part of)");
  add_repeatable(*log, "--metric", options->metrics, "Metric NAME=NUMBER (repeatable)");
  log->add_option("--step", options->step, "Step of the metrics (default: the next step of each series)");
  add_repeatable(*log, "--param", options->params, "Param KEY=VALUE (repeatable; params cannot change)");
  add_repeatable(*log, "--tag", options->tags, "Tag KEY=VALUE (repeatable)");
  add_repeatable(*log, "--artifact", options->artifacts, "File to store with the run (repeatable)");
  log->add_option("--artifact-path", options->artifact_path, "Directory to store --artifact files under");
  set_examples(*log,
               "mlctl run log --metric loss=0.31 --step 4\n"
               "  mlctl run log --param lr=0.01 --tag stage=tuning\n"
               "  mlctl run log --run 3f2a9c --artifact model.pt --artifact-path model");
  log->callback([&env, options] { log_to_run(env, *options); });
}

}  // namespace mlctl::cli
