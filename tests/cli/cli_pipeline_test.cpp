// pipeline validate | run | show | resume: the DAG from bindings, steps as
// child runs, parallel branches, reuse of unchanged steps with --explain,
// parameters, failures and resume, and the shipped pipelines.
#include <chrono>
#include <thread>

#include <mlctl/core/files.hpp>

#include "cli/cli_fixture.hpp"

using namespace mlctl::testing;
using mlctl::Json;

namespace {

// a -> b; c independent. a copies the input file, b appends a line to a's
// output, c sleeps. Every step writes its start and end time.
const char* k_pipeline = R"(type: pipeline
display_name: demo
experiment_name: pipes
inputs:
  data: {type: uri_file, path: data.txt}
  message: hello
jobs:
  a:
    command: cp ${{inputs.src}} ${{outputs.copy}}/data.txt && cat ${{inputs.src}}
    inputs:
      src: ${{parent.inputs.data}}
    outputs: {copy: {type: uri_folder}}
  b:
    command: cat ${{inputs.copy}} > ${{outputs.result}}/result.txt && echo ${{inputs.message}} >> ${{outputs.result}}/result.txt && test ! -e fail
    inputs:
      copy: ${{parent.jobs.a.outputs.copy}}
      message: ${{parent.inputs.message}}
    outputs: {result: {type: uri_folder}}
  c:
    command: sleep ${{inputs.seconds}}
    inputs: {seconds: '0.6'}
)";

Json steps_by_name(const Json& report) {
  Json map = Json::object();
  for (const auto& step : report["steps"]) map[step["step"].get<std::string>()] = step;
  return map;
}

}  // namespace

TEST_CASE("cli pipeline: steps run as child runs, outputs flow, unchanged steps are reused", "[cli][pipeline]") {
  ProjectFixture project;
  write_text(project / "data.txt", "first\n");
  write_text(project / "p.yml", k_pipeline);
  auto first = project.mlctl({"pipeline", "run", "-f", "p.yml", "-o", "json"});
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  Json report = Json::parse(first.out);
  CHECK(report["status"] == "completed");
  Json steps = steps_by_name(report);
  REQUIRE(steps.size() == 3);
  std::string b_run = steps["b"]["run_id"];
  Json b = project.json({"run", "show", b_run});
  CHECK(b["parent"] == report["id"]);
  CHECK(b["experiment"] == "pipes");
  project.mlctl({"run", "download", b_run, "--dest", (project / "b").string()});
  CHECK(mlctl::read_file(project / "b" / "outputs" / "result" / "result.txt") == "first\nhello\n");

  // Unchanged: every step is reused and nothing runs.
  auto second = project.mlctl({"pipeline", "run", "-f", "p.yml", "-o", "json", "--explain"});
  REQUIRE(second.exit_code == 0);
  Json again = steps_by_name(Json::parse(second.out));
  for (const char* name : {"a", "b", "c"}) {
    INFO(name);
    CHECK(again[name]["state"] == "reused");
    CHECK(again[name]["explanation"].get<std::string>().rfind("reused: same cache key as run ", 0) == 0);
  }
  CHECK(again["b"]["reused_from"] == b_run);

  // A new input file reruns a and b, not c.
  write_text(project / "data.txt", "second\n");
  auto third = project.mlctl({"pipeline", "run", "-f", "p.yml", "-o", "json", "--explain"});
  REQUIRE(third.exit_code == 0);
  Json changed = steps_by_name(Json::parse(third.out));
  CHECK(changed["a"]["state"] == "completed");
  CHECK(changed["b"]["state"] == "completed");
  CHECK(changed["c"]["state"] == "reused");
  CHECK(changed["a"]["explanation"].get<std::string>().find("input 'src' changed content") != std::string::npos);
  CHECK(changed["b"]["explanation"].get<std::string>().find("input 'copy' changed content") != std::string::npos);

  // A parameter overrides its default; only b depends on it.
  auto fourth = project.mlctl({"pipeline", "run", "-f", "p.yml", "--set", "message=bonjour", "-o", "json", "--explain"});
  REQUIRE(fourth.exit_code == 0);
  Json param = steps_by_name(Json::parse(fourth.out));
  CHECK(param["a"]["state"] == "reused");
  CHECK(param["b"]["state"] == "completed");
  CHECK(param["b"]["explanation"].get<std::string>().find("input 'message' changed ('hello' -> 'bonjour')") !=
        std::string::npos);
  project.mlctl({"run", "download", param["b"]["run_id"].get<std::string>(), "--dest", (project / "b4").string()});
  CHECK(mlctl::read_file(project / "b4" / "outputs" / "result" / "result.txt") == "second\nbonjour\n");

  auto no_reuse = project.mlctl({"pipeline", "run", "-f", "p.yml", "--no-reuse", "-o", "json"});
  for (const auto& step : Json::parse(no_reuse.out)["steps"]) CHECK(step["state"] == "completed");

  auto graph = project.mlctl({"pipeline", "show", Json::parse(no_reuse.out)["id"].get<std::string>(), "--graph", "mermaid"});
  CHECK(graph.out.find("a --> b") != std::string::npos);
}

TEST_CASE("cli pipeline: independent steps overlap in time", "[cli][pipeline]") {
  ProjectFixture project;
  write_text(project / "p.yml",
             "type: pipeline\njobs:\n"
             "  one: {command: sleep 0.5}\n  two: {command: sleep 0.5}\n  three: {command: sleep 0.5}\n");
  auto began = std::chrono::steady_clock::now();
  auto result = project.mlctl({"pipeline", "run", "-f", "p.yml", "--max-parallel", "3", "-o", "json"});
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  REQUIRE(result.exit_code == 0);
  Json runs = project.json({"run", "list", "--parent", Json::parse(result.out)["id"].get<std::string>()});
  REQUIRE(runs.size() == 3);
  std::string latest_start, earliest_end = "9";
  for (const auto& run : runs) {
    latest_start = std::max(latest_start, run["start_time"].get<std::string>());
    earliest_end = std::min(earliest_end, run["end_time"].get<std::string>());
  }
  CHECK(latest_start < earliest_end);  // all three were running at once
  CHECK(wall < 1.4);
}

TEST_CASE("cli pipeline: a failed step stops its dependents; resume reruns from it", "[cli][pipeline]") {
  ProjectFixture project;
  write_text(project / "data.txt", "x\n");
  write_text(project / "p.yml", k_pipeline);
  write_text(project / "fail", "");
  auto failed = project.mlctl({"pipeline", "run", "-f", "p.yml", "-o", "json"});
  CHECK(failed.exit_code == 1);
  Json report = Json::parse(failed.out);
  Json steps = steps_by_name(report);
  CHECK(steps["a"]["state"] == "completed");
  CHECK(steps["b"]["state"] == "failed");
  CHECK(steps["c"]["state"] == "completed");  // an independent branch finishes
  std::string a_run = steps["a"]["run_id"];

  std::filesystem::remove(project / "fail");
  auto resumed = project.mlctl({"pipeline", "resume", report["id"].get<std::string>(), "-o", "json"});
  INFO(resumed.err);
  CHECK(resumed.exit_code == 0);
  Json after = steps_by_name(Json::parse(resumed.out));
  CHECK(after["a"]["run_id"] == a_run);  // kept, not run again
  CHECK(after["b"]["state"] == "completed");
}

TEST_CASE("cli pipeline: validation errors name the place before anything runs", "[cli][pipeline]") {
  ProjectFixture project;
  write_text(project / "p.yml",
             "type: pipeline\njobs:\n"
             "  a:\n    command: echo ${{inputs.x}}\n    inputs:\n      x: ${{parent.jobs.b.outputs.y}}\n"
             "  b:\n    command: echo\n    inputs:\n      x: ${{parent.jobs.a.outputs.z}}\n    outputs: {y: {type: uri_folder}}\n"
             "    retries: two\n");
  auto result = project.mlctl({"pipeline", "validate", "-f", "p.yml"});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("p.yml:") != std::string::npos);
  CHECK(result.err.find("retries") != std::string::npos);
  CHECK(project.mlctl({"pipeline", "run", "-f", "p.yml"}).exit_code == 2);
  CHECK(project.json({"run", "list", "--query", "length(@)"}) == 0);
  CHECK(project.mlctl({"pipeline", "validate", "-f", "missing.yml"}).exit_code == 3);
}

TEST_CASE("cli pipeline: retrain stages a model only when it passes the comparison with production",
          "[cli][pipeline][torch]") {
  ProjectFixture project;
  std::string pipeline = (source_dir() / "pipelines" / "retrain.yml").string();
  ServiceGuard guard{project, "churn-staging"};
  auto first = project.mlctl({"pipeline", "run", "-f", pipeline, "--set", "trials=2", "-o", "json"});
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  Json steps = steps_by_name(Json::parse(first.out));
  for (const char* step : {"tune", "train", "evaluate", "compare", "register", "deploy"}) {
    INFO(step);
    CHECK(steps[step]["state"] == "completed");
  }
  // No production model yet: the thresholds alone decided, and it passed.
  Json staged = project.json({"model", "show", "churn@staging"});
  CHECK(staged["version"] == 1);
  CHECK(staged["tags"]["mlctl.pipeline_run"] == Json::parse(first.out)["id"]);
  project.mlctl({"run", "download", steps["evaluate"]["run_id"].get<std::string>(), "--dest", (project / "e").string()});
  Json metrics = Json::parse(mlctl::read_file(project / "e" / "outputs" / "metrics" / "metrics.json"));
  CHECK(metrics["metrics"]["accuracy"].get<double>() > 0.9);
  // The staged model is served in staging.
  Json service = project.json({"service", "show", "churn-staging"});
  CHECK(service["state"] == "running");
  CHECK(service["environment"] == "staging");
  CHECK(service["serving"] == "churn:1");
  CHECK(project.json({"model", "show", "churn:1"})["deployments"][0]["service"] == "churn-staging");

  // With a production model that is better than anything the criteria allow,
  // compare fails and register is skipped; the pipeline still succeeds.
  write_text(project / "strict.yaml", "metrics:\n  accuracy: {threshold: 0.9999}\n");
  auto second = project.mlctl({"pipeline", "run", "-f", pipeline, "--set", "trials=2", "--set",
                               "jobs.compare.inputs.criteria=" + (project / "strict.yaml").string(), "-o", "json",
                               "--explain"});
  INFO(second.err);
  REQUIRE(second.exit_code == 0);
  Json again = steps_by_name(Json::parse(second.out));
  CHECK(again["train"]["state"] == "reused");
  CHECK(again["compare"]["state"] == "completed");
  CHECK(again["register"]["state"] == "skipped");
  CHECK(again["deploy"]["state"] == "skipped");
  CHECK(project.json({"model", "list", "--query", "length(@)"}) == 1);
}

TEST_CASE("cli pipeline: published versions are immutable copies run with new parameters", "[cli][pipeline]") {
  ProjectFixture project;
  const std::string first_text =
      "type: pipeline\ninputs:\n  msg: hi\njobs:\n  say:\n    command: echo ${{inputs.m}} > ${{outputs.o}}/said.txt\n"
      "    inputs:\n      m: ${{parent.inputs.msg}}\n    outputs:\n      o: {type: uri_folder}\n";
  write_text(project / "p.yml", first_text);
  CHECK(project.json({"pipeline", "publish", "-f", "p.yml", "--name", "greet"})["ref"] == "greet:1");
  CHECK(project.json({"pipeline", "publish", "-f", "p.yml", "--name", "greet"})["ref"] == "greet:1");  // same content
  std::string second_text = first_text;
  second_text.replace(second_text.find("msg: hi"), 7, "msg: hello");
  write_text(project / "p.yml", second_text);
  CHECK(project.json({"pipeline", "publish", "-f", "p.yml", "--name", "greet"})["ref"] == "greet:2");
  // The stored copy of version 1 is the text as it was published.
  CHECK(project.json({"pipeline", "show", "greet:1"})["yaml"] == first_text);
  CHECK(project.json({"pipeline", "show", "greet"})["version"] == 2);

  auto said = [&](const Json& result) {
    std::string step_run = result["steps"][0]["run_id"];
    std::string dest = (project / ("dl-" + step_run)).string();
    project.mlctl({"run", "download", step_run, "--dest", dest});
    return mlctl::read_file(std::filesystem::path(dest) / "outputs" / "o" / "said.txt");
  };
  CHECK(said(project.json({"pipeline", "run", "--published", "greet:1"})) == "hi\n");
  CHECK(said(project.json({"pipeline", "run", "--published", "greet", "--set", "msg=bonjour"})) == "bonjour\n");

  project.mlctl({"pipeline", "disable", "greet:2"});
  auto refused = project.mlctl({"pipeline", "run", "--published", "greet:2"});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("published pipeline greet:2 is disabled") != std::string::npos);
  CHECK(project.json({"pipeline", "show", "greet"})["version"] == 1);  // the newest enabled one
  project.mlctl({"pipeline", "enable", "greet:2"});
  CHECK(project.json({"pipeline", "list", "--query", "[].version"}) == Json::parse("[2, 1]"));
  CHECK(project.mlctl({"pipeline", "run", "--published", "nope"}).exit_code == 3);
}

TEST_CASE("cli pipeline: editing a step's code or registering a new dataset version reruns it", "[cli][pipeline]") {
  ProjectFixture project;
  std::filesystem::create_directories(project / "src");
  write_text(project / "src" / "job.sh", "echo one\n");
  write_text(project / "rows.csv", "a,b\n1,2\n");
  project.json({"data", "register", "--name", "rows", "--path", "rows.csv"});
  write_text(project / "p.yml",
             "type: pipeline\ninputs:\n  data: azureml:rows:latest\njobs:\n"
             "  script:\n    code: src\n    command: sh job.sh\n"
             "  reader:\n    command: cat ${{inputs.d}}\n    inputs:\n      d: ${{parent.inputs.data}}\n");
  project.json({"pipeline", "run", "-f", "p.yml"});
  Json same = steps_by_name(project.json({"pipeline", "run", "-f", "p.yml", "--explain"}));
  CHECK(same["script"]["state"] == "reused");
  CHECK(same["reader"]["state"] == "reused");

  write_text(project / "src" / "job.sh", "echo two\n");
  Json edited = steps_by_name(project.json({"pipeline", "run", "-f", "p.yml", "--explain"}));
  CHECK(edited["script"]["state"] == "completed");
  CHECK(edited["script"]["explanation"].get<std::string>().find("'src' changed") != std::string::npos);
  CHECK(edited["reader"]["state"] == "reused");

  write_text(project / "rows.csv", "a,b\n3,4\n");
  project.json({"data", "register", "--name", "rows", "--path", "rows.csv"});  // rows:2 is now latest
  Json new_data = steps_by_name(project.json({"pipeline", "run", "-f", "p.yml", "--explain"}));
  CHECK(new_data["script"]["state"] == "reused");
  CHECK(new_data["reader"]["state"] == "completed");
  CHECK(new_data["reader"]["explanation"].get<std::string>().find("input 'd' changed content") != std::string::npos);
}

TEST_CASE("cli pipeline: what a step type needs is checked before anything runs", "[cli][pipeline]") {
  ProjectFixture project;
  write_text(project / "p.yml",
             "type: pipeline\njobs:\n  nothing:\n    code: missing\n  judge:\n    type: compare\n"
             "    inputs:\n      candidate: churn:1\n");
  auto result = project.mlctl({"pipeline", "validate", "-f", "p.yml"});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("p.yml:3:3: jobs.nothing: a command step needs a 'command'") != std::string::npos);
  CHECK(result.err.find("jobs.nothing: code folder") != std::string::npos);
  CHECK(result.err.find("p.yml:5:3: jobs.judge: a compare step needs the input 'data'") != std::string::npos);
  CHECK(project.mlctl({"pipeline", "run", "-f", "p.yml"}).exit_code == 2);
}
