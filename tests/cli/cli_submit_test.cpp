// experiment submit: command lines and az ml command-job files, metrics
// through the file and `run log`, outputs, failures, detach, cancel,
// timeouts, child runs and runs whose process died.
#include <chrono>
#include <thread>

#include "cli/cli_fixture.hpp"

using namespace mlctl::testing;
using mlctl::Json;

TEST_CASE("cli submit: a command's metrics, params, logs and outputs are recorded", "[cli][submit]") {
  ProjectFixture project;
  auto result = project.mlctl({"experiment", "submit", "-e", "demo", "--param", "epochs=3", "--tag", "team=a", "-o",
                               "json", "--", "/bin/sh", "-c",
                               "echo hello from the job; "
                               "for i in 0 1 2; do echo \"{\\\"name\\\": \\\"loss\\\", \\\"value\\\": 0.$((9 - i)), "
                               "\\\"step\\\": $i}\" >> \"$MLCTL_METRICS_FILE\"; done; "
                               "mlctl run log --metric acc=0.75 --param lr=0.01 --tag stage=test; "
                               "echo result > \"$MLCTL_OUTPUTS/result.txt\"; mkdir \"$MLCTL_OUTPUTS/model\"; "
                               "echo w > \"$MLCTL_OUTPUTS/model/weights.bin\""});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.find("hello from the job") != std::string::npos);  // the job's output streams to stderr
  Json summary = Json::parse(result.out);
  CHECK(summary["status"] == "completed");
  std::string id = summary["id"];

  Json run = project.json({"run", "show", id});
  CHECK(run["experiment"] == "demo");
  CHECK(run["exit_code"] == 0);
  CHECK(run["params"] == Json::parse(R"({"epochs": "3", "lr": "0.01"})"));
  CHECK(run["tags"] == Json::parse(R"({"stage": "test", "team": "a"})"));
  CHECK(run["metrics"]["loss"] == 0.7);
  CHECK(run["metrics"]["acc"] == 0.75);
  CHECK(run["artifacts"] == Json::parse(R"(["outputs/model/weights.bin", "outputs/result.txt"])"));
  CHECK(run["command"][0] == "/bin/sh");
  CHECK(run["duration"].get<double>() >= 0);
  CHECK(run["mlctl_version"] == "0.1.0");
  CHECK_FALSE(run["host"].get<std::string>().empty());

  Json loss = project.json({"run", "metrics", id, "--name", "loss"});
  REQUIRE(loss.size() == 3);
  CHECK(loss[0]["step"] == 0);
  CHECK(loss[2]["value"] == 0.7);
  CHECK(project.mlctl({"run", "logs", id}).out == "hello from the job\n");
  CHECK(project.mlctl({"run", "metrics", id, "--name", "nope"}).exit_code == 3);
}

TEST_CASE("cli submit: a failing command is a failed run and exit code 1", "[cli][submit]") {
  ProjectFixture project;
  auto failed = project.mlctl({"experiment", "submit", "-o", "json", "--", "/bin/sh", "-c", "exit 3"});
  CHECK(failed.exit_code == 1);
  Json summary = Json::parse(failed.out);
  CHECK(summary["status"] == "failed");
  CHECK(summary["exit_code"] == 3);
  CHECK(summary["status_reason"] == "exit code 3");

  auto missing = project.mlctl({"experiment", "submit", "-o", "json", "--", "no-such-program-xyz"});
  CHECK(missing.exit_code == 1);
  CHECK(Json::parse(missing.out)["exit_code"] == 127);
  CHECK(missing.err.find("mlctl: cannot run 'no-such-program-xyz': No such file or directory") != std::string::npos);
}

TEST_CASE("cli submit: an az ml command job runs locally with inputs, outputs and overrides", "[cli][submit]") {
  ProjectFixture project;
  write_text(project / "job" / "src" / "train.sh",
             "#!/bin/sh\n"
             "echo \"lr=$1 data=$(cat $2) greeting=$GREETING\"\n"
             "mlctl run log --metric score=$1\n"
             "echo model > $3/model.txt\n");
  write_text(project / "job" / "data.csv", "x,y\n1,2\n");
  write_text(project / "job" / "job.yml",
             "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
             "type: command\n"
             "code: src\n"
             "command: sh train.sh ${{inputs.lr}} ${{inputs.data}} ${{outputs.model}}\n"
             "inputs:\n"
             "  lr: 0.25\n"
             "  data:\n"
             "    type: uri_file\n"
             "    path: data.csv\n"
             "outputs:\n"
             "  model:\n"
             "    type: uri_folder\n"
             "environment_variables:\n"
             "  GREETING: hi\n"
             "environment: azureml:AzureML-sklearn-1.0@latest\n"
             "compute: azureml:cpu-cluster\n"
             "experiment_name: az-jobs\n"
             "display_name: first-job\n"
             "tags:\n"
             "  source: az\n");
  auto result = project.mlctl({"experiment", "submit", "-f", "job/job.yml", "--set", "inputs.lr=0.5", "-o", "json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.find("'compute' is ignored") != std::string::npos);
  CHECK(result.err.find("lr=0.5 data=x,y") != std::string::npos);
  CHECK(result.err.find("greeting=hi") != std::string::npos);
  std::string id = Json::parse(result.out)["id"];
  Json run = project.json({"run", "show", id});
  CHECK(run["experiment"] == "az-jobs");
  CHECK(run["display_name"] == "first-job");
  CHECK(run["params"]["lr"] == "0.5");
  CHECK(run["tags"]["source"] == "az");
  CHECK(run["metrics"]["score"] == 0.5);
  CHECK(run["artifacts"] == Json::parse(R"(["outputs/model/model.txt"])"));
  CHECK(run["working_dir"] == (project / "job" / "src").string());
}

TEST_CASE("cli submit: bad job files fail before anything runs", "[cli][submit]") {
  ProjectFixture project;
  auto missing = project.mlctl({"experiment", "submit", "-f", "nope.yml"});
  CHECK(missing.exit_code == 3);
  CHECK(first_line(missing.err) == "error: job file 'nope.yml' does not exist");

  write_text(project / "bad.yml", "command: echo hi\ninputs: [1, 2\n");
  auto malformed = project.mlctl({"experiment", "submit", "-f", "bad.yml"});
  CHECK(malformed.exit_code == 2);
  CHECK(first_line(malformed.err).rfind("error: bad.yml:", 0) == 0);

  write_text(project / "typo.yml", "comand: echo hi\n");
  auto typo = project.mlctl({"experiment", "submit", "-f", "typo.yml"});
  CHECK(typo.exit_code == 2);
  CHECK(typo.err.find("typo.yml:1:1: unknown key 'comand' (did you mean 'command'?)") != std::string::npos);

  write_text(project / "input.yml", "command: cat ${{inputs.data}}\ninputs:\n  data:\n    type: uri_file\n    path: missing.csv\n");
  auto input = project.mlctl({"experiment", "submit", "-f", "input.yml"});
  CHECK(input.exit_code == 3);
  CHECK(first_line(input.err) == "error: input.yml:3:3: input 'data' expects a file '" +
                                     (project / "missing.csv").string() + "', which does not exist");

  auto dir = project.mlctl({"experiment", "submit", "-f", "."});
  CHECK(dir.exit_code == 2);
  CHECK(project.json({"run", "list"}).empty());  // nothing was stored
  auto nothing = project.mlctl({"experiment", "submit"});
  CHECK(nothing.exit_code == 2);
}

TEST_CASE("cli submit: a malformed metrics line is reported and the others are kept", "[cli][submit]") {
  ProjectFixture project;
  auto result = project.mlctl({"experiment", "submit", "-o", "json", "--", "/bin/sh", "-c",
                               "printf '{\"name\":\"a\",\"value\":1}\\nnot json\\n{\"name\":\"a\",\"value\":2}\\n' "
                               ">> \"$MLCTL_METRICS_FILE\""});
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.find("metrics file line 2: invalid JSON") != std::string::npos);
  std::string id = Json::parse(result.out)["id"];
  CHECK(project.json({"run", "metrics", id}).size() == 2);
  CHECK(project.mlctl({"run", "logs", id}).out.find("metrics file line 2") != std::string::npos);
}

TEST_CASE("cli submit: --detach returns at once and run wait waits for the end", "[cli][submit]") {
  ProjectFixture project;
  auto start = std::chrono::steady_clock::now();
  auto detached = project.mlctl({"experiment", "submit", "--detach", "-o", "json", "--", "/bin/sh", "-c",
                                 "sleep 1; mlctl run log --metric done=1"});
  REQUIRE(detached.exit_code == 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(900));
  Json summary = Json::parse(detached.out);
  CHECK(summary["status"] == "running");
  auto waited = project.mlctl({"run", "wait", summary["id"], "-o", "json"});
  CHECK(waited.exit_code == 0);
  CHECK(Json::parse(waited.out)["status"] == "completed");
  CHECK(Json::parse(waited.out)["metrics"]["done"] == 1);
}

TEST_CASE("cli submit: run cancel stops the process group and marks the run canceled", "[cli][submit]") {
  ProjectFixture project;
  std::string id = project.submit("sleep 61 & sleep 61; wait", {"--detach"});
  Json canceled = project.json({"run", "cancel", id});
  CHECK(canceled["status"] == "canceled");
  CHECK(canceled["status_reason"] == "canceled by the user");
  auto waited = project.mlctl({"run", "wait", id, "--timeout", "20"});
  CHECK(waited.exit_code == 1);
  CHECK(project.shell("pgrep -f '^sleep 61' || true").out.empty());
  auto again = project.mlctl({"run", "cancel", id});
  CHECK(again.exit_code == 4);
}

TEST_CASE("cli submit: --timeout fails a run that runs too long", "[cli][submit]") {
  ProjectFixture project;
  auto result = project.mlctl({"experiment", "submit", "--timeout", "0.5", "-o", "json", "--", "sleep", "20"});
  CHECK(result.exit_code == 1);
  Json summary = Json::parse(result.out);
  CHECK(summary["status"] == "failed");
  CHECK(summary["status_reason"] == "timed out after 0.5s");
}

TEST_CASE("cli submit: child runs are listed under their parent", "[cli][submit]") {
  ProjectFixture project;
  std::string parent = project.submit("true");
  std::string child = project.submit("true", {"--parent", parent});
  CHECK(project.json({"run", "list", "--parent", parent, "--query", "[].id"}) == Json::array({child}));
  CHECK(project.json({"run", "show", child})["parent"] == parent);
  CHECK(project.json({"run", "show", parent})["children"] == Json::array({child}));
  CHECK(project.mlctl({"experiment", "submit", "--parent", "ffffffff", "--", "true"}).exit_code == 3);
}

TEST_CASE("cli submit: a run whose supervisor is killed with SIGKILL is shown as failed", "[cli][submit]") {
  ProjectFixture project;
  std::string id = project.submit("sleep 62 & sleep 62; wait", {"--detach"});
  Json running = project.json({"run", "show", id});
  REQUIRE(running["status"] == "running");
  int pid = running["supervisor_pid"];
  REQUIRE(pid > 0);
  REQUIRE(project.shell("kill -9 " + std::to_string(pid)).exit_code == 0);
  Json after;
  for (int i = 0; i < 100; ++i) {  // the kernel reaps the process asynchronously
    after = project.json({"run", "show", id});
    if (after["status"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(after["status"] == "failed");
  CHECK(after["status_reason"].get<std::string>().find("died without recording an end") != std::string::npos);
  // Nothing of the job is left running untracked.
  CHECK(project.shell("sleep 0.2; pgrep -f '^sleep 62' || true").out.empty());
}

TEST_CASE("cli submit: a job killed with SIGKILL is a failed run naming the signal", "[cli][submit]") {
  ProjectFixture project;
  auto result = project.mlctl({"experiment", "submit", "-o", "json", "--", "/bin/sh", "-c", "kill -9 $$"});
  CHECK(result.exit_code == 1);
  Json summary = Json::parse(result.out);
  CHECK(summary["status"] == "failed");
  CHECK(summary["status_reason"] == "killed by signal 9 (SIGKILL)");
  CHECK(summary["exit_code"] == 137);
}
