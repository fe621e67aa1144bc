// experiment submit -f sweep.yml: trials as child runs, samplers, limits,
// early termination, failures, resume after a kill, and the sweep commands.
#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include <mlctl/core/files.hpp>

#include "cli/cli_fixture.hpp"

using namespace mlctl::testing;
using mlctl::Json;

namespace {

// A trial script: logs `score` REPORTS times, SLEEP seconds apart; the
// score is -(x - 0.3)^2 - (y - 2)^2, or a failure when x is above FAIL_ABOVE.
const char* k_objective_script = R"(#!/bin/sh
x=$1; y=$2
if [ -n "$FAIL_ABOVE" ] && awk -v x="$x" -v f="$FAIL_ABOVE" 'BEGIN{exit !(x > f)}'; then echo "x too large" >&2; exit 3; fi
for e in $(seq 1 ${REPORTS:-1}); do
  [ -n "$SLEEP" ] && sleep "$SLEEP"
  v=$(awk -v x="$x" -v y="$y" 'BEGIN{print -((x-0.3)^2 + (y-2)^2)}')
  echo "{\"name\": \"score\", \"value\": $v}" >> "$MLCTL_METRICS_FILE"
done
)";

std::string sweep_file(const std::string& sampling, const std::string& limits, const std::string& extra = "",
                       const std::string& environment = "") {
  return "$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json\n"
         "type: sweep\n"
         "trial:\n"
         "  code: src\n"
         "  command: ./objective.sh ${{search_space.x}} ${{search_space.y}}\n"
         "  environment: azureml:AzureML-sklearn-1.0@latest\n" +
         environment +
         "search_space:\n"
         "  x: {type: uniform, min_value: -1, max_value: 1}\n"
         "  y: {type: choice, values: [0, 1, 2, 3]}\n"
         "sampling_algorithm: " +
         sampling +
         "\n"
         "objective: {primary_metric: score, goal: maximize}\n"
         "limits: " +
         limits + "\n" + extra;
}

void write_objective(const ProjectFixture& project) {
  std::filesystem::create_directories(project / "src");
  write_text(project / "src" / "objective.sh", k_objective_script);
  std::filesystem::permissions(project / "src" / "objective.sh", std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::add);
}

Json trials_of(const ProjectFixture& project, const std::string& sweep_id) {
  return project.json({"run", "list", "--parent", sweep_id, "--order-by", "created_at asc"});
}

}  // namespace

TEST_CASE("cli sweep: a bayesian sweep runs its trials as child runs and records the best", "[cli][sweep]") {
  ProjectFixture project;
  write_objective(project);
  write_text(project / "sweep.yml", sweep_file("{type: bayesian, seed: 3}", "{max_total_trials: 12, max_concurrent_trials: 2}"));
  auto result = project.mlctl({"experiment", "submit", "-f", "sweep.yml", "-e", "tune", "-o", "json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.find("sweep.yml:6:16: 'environment' is ignored when running locally") != std::string::npos);
  Json sweep = Json::parse(result.out);
  std::string id = sweep["id"];
  CHECK(sweep["status"] == "completed");

  Json trials = trials_of(project, id);
  REQUIRE(trials.size() == 12);
  double best = -1e9;
  std::string best_run;
  std::set<std::string> indices;
  for (const auto& trial : trials) {
    CHECK(trial["status"] == "completed");
    CHECK(trial["experiment"] == "tune");
    double x = std::stod(trial["params"]["x"].get<std::string>());
    int y = std::stoi(trial["params"]["y"].get<std::string>());
    CHECK(x >= -1);
    CHECK(x <= 1);
    CHECK((y >= 0 && y <= 3));
    double score = trial["metrics"]["score"];
    CHECK(score == Approx(-((x - 0.3) * (x - 0.3) + (y - 2) * (y - 2))).margin(1e-5));
    if (score > best) best = score, best_run = trial["id"];
    indices.insert(trial["tags"]["mlctl.sweep.trial"].get<std::string>());
  }
  CHECK(indices.size() == 12);
  CHECK(best > -0.5);  // the model finds y = 2 and x near 0.3

  Json best_params = project.json({"sweep", "best", id});
  CHECK(best_params["run_id"] == best_run);
  CHECK(best_params["value"].get<double>() == Approx(best));
  CHECK(best_params["params"]["y"] == 2);
  auto as_set = project.mlctl({"sweep", "best", id, "--as", "set"});
  CHECK(as_set.out.rfind("--set x=", 0) == 0);
  CHECK(as_set.out.find(" --set y=2\n") != std::string::npos);

  Json shown = project.json({"sweep", "show", id});
  REQUIRE(shown["trials"].size() == 12);
  CHECK(shown["trials"][0]["best"] == "*");
  CHECK(shown["trials"][0]["run_id"] == best_run);
  for (std::size_t i = 1; i < shown["trials"].size(); ++i) {
    CHECK(shown["trials"][i - 1]["score"].get<double>() >= shown["trials"][i]["score"].get<double>());
  }
  Json run = project.json({"run", "show", id});
  CHECK(run["kind"] == "sweep");
  CHECK(run["params"]["sampling_algorithm"] == "bayesian");
  CHECK(run["params"]["seed"] == "3");
  CHECK(run["metrics"]["best_score"].get<double>() == Approx(best));
  CHECK(run["tags"]["mlctl.sweep.best_trial"] == best_run);
  CHECK(run["artifacts"] == Json::parse(R"(["outputs/best_params.json", "outputs/trials.csv"])"));
  project.mlctl({"run", "download", id, "--dest", (project / "dl").string()});
  std::string csv = mlctl::read_file(project / "dl" / "outputs" / "trials.csv");
  CHECK(first_line(csv) == "trial,run_id,state,score,x,y,duration_seconds");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 13);
  CHECK(Json::parse(mlctl::read_file(project / "dl" / "outputs" / "best_params.json"))["run_id"] == best_run);
}

TEST_CASE("cli sweep: seeded random and bayesian sweeps are reproducible", "[cli][sweep]") {
  ProjectFixture project;
  write_objective(project);
  for (const std::string sampling : {"{type: random, seed: 11}", "{type: bayesian, seed: 11}"}) {
    INFO(sampling);
    write_text(project / "sweep.yml", sweep_file(sampling, "{max_total_trials: 9}"));
    std::vector<Json> sequences;
    for (int attempt = 0; attempt < 2; ++attempt) {
      Json sweep = project.json({"experiment", "submit", "-f", "sweep.yml"});
      Json sequence = Json::array();
      for (const auto& trial : trials_of(project, sweep["id"])) sequence.push_back(trial["params"]);
      sequences.push_back(sequence);
    }
    CHECK(sequences[0].size() == 9);
    CHECK(sequences[0] == sequences[1]);
  }
  write_text(project / "sweep.yml", sweep_file("{type: random, seed: 12}", "{max_total_trials: 3}"));
  Json other = project.json({"experiment", "submit", "-f", "sweep.yml"});
  write_text(project / "sweep.yml", sweep_file("{type: random, seed: 11}", "{max_total_trials: 3}"));
  Json same_seed = project.json({"experiment", "submit", "-f", "sweep.yml"});
  CHECK(trials_of(project, other["id"])[0]["params"] != trials_of(project, same_seed["id"])[0]["params"]);
}

TEST_CASE("cli sweep: grid sampling runs every combination once", "[cli][sweep]") {
  ProjectFixture project;
  write_objective(project);
  std::string file = sweep_file("grid", "{max_total_trials: 100, max_concurrent_trials: 3}");
  file.replace(file.find("{type: uniform, min_value: -1, max_value: 1}"), 44, "{type: choice, values: [0.1, 0.3]}");
  write_text(project / "sweep.yml", file);
  Json sweep = project.json({"experiment", "submit", "-f", "sweep.yml"});
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& trial : trials_of(project, sweep["id"])) {
    seen.insert({trial["params"]["x"].get<std::string>(), trial["params"]["y"].get<std::string>()});
  }
  CHECK(seen.size() == 8);
  CHECK(trials_of(project, sweep["id"]).size() == 8);
  CHECK(seen.count({"0.3", "2"}) == 1);
  CHECK(project.json({"sweep", "best", sweep["id"].get<std::string>(), "--as", "params"}) == Json::parse(R"({"x": 0.3, "y": 2})"));
}

TEST_CASE("cli sweep: trials never run more at once than max_concurrent_trials", "[cli][sweep]") {
  ProjectFixture project;
  write_objective(project);
  write_text(project / "sweep.yml",
             sweep_file("{type: random, seed: 1}", "{max_total_trials: 8, max_concurrent_trials: 3}", "",
                        "  environment_variables: {SLEEP: '0.2'}\n"));
  Json sweep = project.json({"experiment", "submit", "-f", "sweep.yml"});
  Json trials = trials_of(project, sweep["id"]);
  REQUIRE(trials.size() == 8);
  // Every start and end as an event; the running count never passes 3.
  std::vector<std::pair<std::string, int>> events;
  for (const auto& trial : trials) {
    events.push_back({trial["start_time"], +1});
    events.push_back({trial["end_time"], -1});
  }
  std::sort(events.begin(), events.end());  // ISO times sort as text; an end before a start at the same ms
  int running = 0, most = 0;
  for (const auto& event : events) most = std::max(most, running += event.second);
  CHECK(most <= 3);
  CHECK(most >= 2);
}

TEST_CASE("cli sweep: a failed trial does not stop the sweep; max_failed_trials does", "[cli][sweep]") {
  ProjectFixture project;
  write_objective(project);
  write_text(project / "sweep.yml",
             sweep_file("{type: random, seed: 5}", "{max_total_trials: 10}", "",
                        "  environment_variables: {FAIL_ABOVE: '0.5'}\n"));
  Json sweep = project.json({"experiment", "submit", "-f", "sweep.yml"});
  CHECK(sweep["status"] == "completed");
  Json trials = trials_of(project, sweep["id"]);
  REQUIRE(trials.size() == 10);
  int failed = 0;
  for (const auto& trial : trials) {
    bool too_large = std::stod(trial["params"]["x"].get<std::string>()) > 0.5;
    CHECK(trial["status"] == (too_large ? "failed" : "completed"));
    CHECK(trial["tags"]["mlctl.sweep.state"] == (too_large ? "failed" : "completed"));
    failed += too_large;
  }
  REQUIRE(failed >= 1);

  write_text(project / "sweep.yml",
             sweep_file("{type: random, seed: 5}", "{max_total_trials: 10, max_failed_trials: 1}", "",
                        "  environment_variables: {FAIL_ABOVE: '-2'}\n"));
  auto stopped = project.mlctl({"experiment", "submit", "-f", "sweep.yml", "-o", "json"});
  CHECK(stopped.exit_code == 1);
  CHECK(stopped.err.find("no trial completed: 1 trials failed (limits.max_failed_trials)") != std::string::npos);
  CHECK(trials_of(project, Json::parse(stopped.out)["id"]).size() == 1);
}

TEST_CASE("cli sweep: bandit early termination stops the trials that fall behind", "[cli][sweep]") {
  ProjectFixture project;
  write_objective(project);
  // Grid order: x = 0.3 (score 0) runs first, then x = -1 (score -1.69),
  // which falls outside the slack at its second report and is stopped.
  std::string file = sweep_file("grid", "{max_total_trials: 4}",
                                "early_termination: {type: bandit, slack_amount: 0.5, delay_evaluation: 2}\n",
                                "  environment_variables: {REPORTS: '8', SLEEP: '0.25'}\n");
  file.replace(file.find("{type: uniform, min_value: -1, max_value: 1}"), 44, "{type: choice, values: [0.3, -1]}");
  file.replace(file.find("[0, 1, 2, 3]"), 12, "[2]");
  write_text(project / "sweep.yml", file);
  auto result = project.mlctl({"experiment", "submit", "-f", "sweep.yml", "-o", "json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  Json trials = trials_of(project, Json::parse(result.out)["id"]);
  REQUIRE(trials.size() == 2);
  CHECK(trials[0]["status"] == "completed");
  CHECK(trials[0]["tags"]["mlctl.sweep.state"] == "completed");
  CHECK(trials[1]["status"] == "canceled");
  CHECK(trials[1]["tags"]["mlctl.sweep.state"] == "early_terminated");
  CHECK(trials[1]["status_reason"].get<std::string>().rfind("early termination: bandit: best -1.69 at interval 2", 0) == 0);
  CHECK(project.json({"run", "metrics", trials[1]["id"].get<std::string>(), "--name", "score"}).size() < 8);
  Json shown = project.json({"sweep", "show", Json::parse(result.out)["id"].get<std::string>()});
  CHECK(shown["trials"][1]["state"] == "early_terminated");
}

TEST_CASE("cli sweep: a killed sweep resumes, keeping its finished trials", "[cli][sweep]") {
  ProjectFixture project;
  write_objective(project);
  write_text(project / "sweep.yml", sweep_file("{type: random, seed: 9}", "{max_total_trials: 6}", "",
                                               "  environment_variables: {SLEEP: '0.3'}\n"));
  Json reference = project.json({"experiment", "submit", "-f", "sweep.yml"});
  Json detached = project.json({"experiment", "submit", "-f", "sweep.yml", "--detach"});
  std::string id = detached["id"];
  for (int i = 0; i < 500; ++i) {
    auto done = project.json({"run", "list", "--parent", id, "--status", "completed", "--query", "length(@)"});
    if (done.get<int>() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(project.shell("pkill -9 -f '[s]weep worker " + id + "'").exit_code == 0);
  auto killed = project.mlctl({"run", "wait", id, "--timeout", "30", "-o", "json"});
  CHECK(killed.exit_code == 1);
  Json before = trials_of(project, id);
  REQUIRE(before.size() >= 2);
  std::map<std::string, std::string> finished_end;
  for (const auto& trial : before) {
    if (trial["status"] == "completed") finished_end[trial["id"]] = trial["end_time"];
  }

  auto resumed = project.mlctl({"experiment", "submit", "--resume", id, "-o", "json"});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK(resumed.err.find("resuming sweep " + id) != std::string::npos);
  Json after = trials_of(project, id);
  REQUIRE(after.size() == 6);
  Json expected = trials_of(project, reference["id"]);
  for (std::size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i]["status"] == "completed");
    CHECK(after[i]["params"] == expected[i]["params"]);  // the sampler went on where it stopped
    if (finished_end.count(after[i]["id"])) CHECK(after[i]["end_time"] == finished_end[after[i]["id"]]);
  }
  CHECK(project.json({"sweep", "best", id})["params"] == project.json({"sweep", "best", reference["id"].get<std::string>()})["params"]);
}

TEST_CASE("cli sweep: invalid sweep files are rejected before anything runs", "[cli][sweep]") {
  ProjectFixture project;
  write_objective(project);
  struct Case {
    std::string from, to, message;
  };
  std::vector<Case> cases = {
      {"{type: uniform, min_value: -1, max_value: 1}", "{type: uniform, min_value: 1, max_value: -1}",
       "sweep.yml:8:6: search_space.x: min_value (1) must be below max_value (-1)"},
      {"{type: choice, values: [0, 1, 2, 3]}", "{type: choice, values: []}",
       "sweep.yml:9:6: search_space.y: values must be a non-empty list"},
      {"sampling_algorithm: {type: random, seed: 1}", "sampling_algorithm: grid",
       "sweep.yml:10:21: grid sampling needs every parameter to be a choice; search_space.x is uniform"},
      {"sampling_algorithm: {type: random, seed: 1}", "sampling_algorithm: bayesain",
       "sweep.yml:10:21: unknown sampling_algorithm 'bayesain' (expected grid, random or bayesian) (did you mean "
       "'bayesian'?)"},
      {"${{search_space.y}}", "${{search_space.z}}",
       "sweep.yml:5:12: trial: command refers to ${{search_space.z}} but the search space has no parameter 'z'"},
      {"goal: maximize", "goal: max", "sweep.yml:11:42: objective: goal must be maximize or minimize, not 'max'"},
  };
  for (const auto& c : cases) {
    INFO(c.to);
    std::string file = sweep_file("{type: random, seed: 1}", "{max_total_trials: 2}");
    REQUIRE(file.find(c.from) != std::string::npos);
    file.replace(file.find(c.from), c.from.size(), c.to);
    write_text(project / "sweep.yml", file);
    auto result = project.mlctl({"experiment", "submit", "-f", "sweep.yml"});
    CHECK(result.exit_code == 2);
    CHECK(result.err.find(c.message) != std::string::npos);
  }
  CHECK(project.json({"run", "list", "--query", "length(@)"}) == 0);
}

TEST_CASE("cli sweep: a train trial gets the sampled values as overrides", "[cli][sweep][torch]") {
  ProjectFixture project;
  write_text(project / "train.yml",
             "type: train\ntask: classification\ndata:\n  train: " +
                 (source_dir() / "examples" / "churn" / "data" / "breast_cancer.csv").string() +
                 "\nlabel: diagnosis\nmodel: {type: mlp, hidden_sizes: [8]}\nnum_epochs: 3\nseed: 1\ndevice: cpu\n");
  write_text(project / "sweep.yml",
             "type: sweep\ntrial: train.yml\n"
             "search_space:\n"
             "  learning_rate: {type: loguniform, min_value: -6.9, max_value: -2.3}\n"
             "  model.hidden_sizes: {type: choice, values: [[4], [16]]}\n"
             "sampling_algorithm: {type: random, seed: 2}\n"
             "objective: {primary_metric: val_accuracy, goal: maximize}\n"
             "limits: {max_total_trials: 3, max_concurrent_trials: 2}\n"
             "early_termination: {type: median_stopping, delay_evaluation: 2}\n");
  auto result = project.mlctl({"experiment", "submit", "-f", "sweep.yml", "-o", "json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  Json trials = trials_of(project, Json::parse(result.out)["id"]);
  REQUIRE(trials.size() == 3);
  for (const auto& trial : trials) {
    CHECK(trial["kind"] == "train");
    Json values = Json::parse(trial["tags"]["mlctl.sweep.values"].get<std::string>());
    double lr = std::stod(trial["params"]["learning_rate"].get<std::string>());
    CHECK(lr == Approx(values["learning_rate"].get<double>()));
    CHECK(lr >= std::exp(-6.9) * 0.999);
    CHECK(lr <= std::exp(-2.3) * 1.001);
    CHECK(trial["params"]["model.hidden_sizes"] == values["model.hidden_sizes"].dump());
  }
  CHECK(project.json({"sweep", "best", Json::parse(result.out)["id"].get<std::string>()})["value"].get<double>() > 0.8);
}

TEST_CASE("cli sweep: limits.timeout ends the sweep with what it found", "[cli][sweep]") {
  ProjectFixture project;
  write_objective(project);
  write_text(project / "sweep.yml", sweep_file("{type: random, seed: 4}", "{max_total_trials: 50, timeout: 1}", "",
                                               "  environment_variables: {SLEEP: '0.3'}\n"));
  auto result = project.mlctl({"experiment", "submit", "-f", "sweep.yml", "-o", "json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.find("stopping: the sweep reached its timeout of 1s") != std::string::npos);
  std::string id = Json::parse(result.out)["id"];
  Json trials = trials_of(project, id);
  CHECK(trials.size() >= 2);
  CHECK(trials.size() <= 5);
  CHECK(project.json({"sweep", "best", id})["value"].is_number());
}
