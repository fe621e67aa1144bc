#include <mlctl/tracking/command_job.hpp>

#include <mlctl/core/error.hpp>
#include <mlctl/core/yaml_overrides.hpp>

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

using mlctl::ErrorKind;
using mlctl::tracking::CommandJobSpec;
using mlctl::tracking::JobInput;
using mlctl::tracking::parse_command_job;
using mlctl::tracking::resolve_command;

namespace {

// The command-job example from the az ml docs, trimmed to one file.
const std::string k_docs_job = R"(
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: src
command: python train.py --lr ${{inputs.lr}} --data ${{inputs.data}} --out ${{outputs.model}}
inputs:
  lr: 0.01
  data:
    type: uri_file
    path: data/iris.csv
    mode: ro_mount
outputs:
  model:
    type: mlflow_model
  logs:
environment: azureml:AzureML-sklearn-1.0@latest
compute: azureml:cpu-cluster
experiment_name: iris-example
display_name: iris-lr
description: Train a classifier on iris.
tags:
  team: vision
  stage: dev
)";

const std::filesystem::path k_base = "/jobs/iris";

CommandJobSpec parse(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return parse_command_job(text, "job.yml", k_base, overrides);
}

template <typename Body>
mlctl::Error error_from(Body&& body) {
  try {
    body();
  } catch (const mlctl::Error& error) {
    return error;
  }
  FAIL("expected mlctl::Error");
  throw;  // unreachable: FAIL throws
}

std::string parse_error(const std::string& text, ErrorKind kind = ErrorKind::invalid_argument,
                        const std::vector<std::string>& overrides = {}) {
  const mlctl::Error error = error_from([&] { parse(text, overrides); });
  CHECK(error.kind() == kind);
  return error.what();
}

}  // namespace

TEST_CASE("command job: the az docs example parses into every field", "[tracking]") {
  // The raw string starts with a newline, so the file's line 1 is empty.
  const CommandJobSpec spec = parse(k_docs_job);
  CHECK(spec.source == "job.yml");
  CHECK(spec.command ==
        "python train.py --lr ${{inputs.lr}} --data ${{inputs.data}} --out ${{outputs.model}}");
  CHECK(spec.code_dir == "/jobs/iris/src");

  REQUIRE(spec.inputs.size() == 2);
  const JobInput& lr = spec.inputs.at("lr");
  CHECK(lr.kind == JobInput::Kind::literal);
  CHECK(lr.value == "0.01");
  CHECK(lr.line == 6);
  CHECK(lr.column == 3);
  const JobInput& data = spec.inputs.at("data");
  CHECK(data.kind == JobInput::Kind::uri_file);
  CHECK(data.value == "/jobs/iris/data/iris.csv");
  CHECK(data.line == 7);
  CHECK(data.column == 3);

  REQUIRE(spec.outputs.size() == 2);
  CHECK(spec.outputs.at("model").type == "mlflow_model");
  CHECK(spec.outputs.at("logs").type == "uri_folder");

  CHECK(spec.experiment_name == "iris-example");
  CHECK(spec.display_name == "iris-lr");
  CHECK(spec.description == "Train a classifier on iris.");
  CHECK(spec.name.empty());
  CHECK(spec.tags == std::map<std::string, std::string>{{"stage", "dev"}, {"team", "vision"}});
  CHECK(spec.environment_variables.empty());
  CHECK(spec.properties.empty());
  CHECK_FALSE(spec.timeout_seconds.has_value());
  CHECK(spec.notices == std::vector<std::string>{
                            "job.yml:15:1: 'environment' is ignored when running locally",
                            "job.yml:16:1: 'compute' is ignored when running locally",
                        });
}

TEST_CASE("command job: the remaining fields are read too", "[tracking]") {
  const CommandJobSpec spec = parse(R"(type: command
name: iris-run-7
command: |
  python train.py
environment_variables:
  OMP_NUM_THREADS: 4
  EMPTY:
properties:
  owner: ml-team
limits:
  timeout: 90.5
)");
  CHECK(spec.command == "python train.py");  // a block scalar's final newline is trimmed
  CHECK(spec.name == "iris-run-7");
  CHECK(spec.environment_variables ==
        std::map<std::string, std::string>{{"EMPTY", ""}, {"OMP_NUM_THREADS", "4"}});
  CHECK(spec.properties == std::map<std::string, std::string>{{"owner", "ml-team"}});
  CHECK(spec.timeout_seconds == Approx(90.5));
  CHECK(spec.notices.empty());
  CHECK(spec.inputs.empty());
  CHECK(spec.outputs.empty());
}

TEST_CASE("command job: every cloud-only field gives a notice and is otherwise ignored",
          "[tracking]") {
  const CommandJobSpec spec = parse(R"(command: echo
environment: azureml:env@latest
compute: azureml:cpu-cluster
resources: {instance_count: 2}
distribution: {type: pytorch}
services: {}
identity: {type: managed}
queue_settings: {job_tier: spot}
is_deterministic: true
inputs:
  data: {type: uri_folder, path: d, path_on_compute: /mnt/d}
outputs:
  model: {type: custom_model, path: azureml://datastores/x/paths/y, name: m, version: 2}
)");
  CHECK(spec.notices == std::vector<std::string>{
                            "job.yml:2:1: 'environment' is ignored when running locally",
                            "job.yml:3:1: 'compute' is ignored when running locally",
                            "job.yml:4:1: 'resources' is ignored when running locally",
                            "job.yml:5:1: 'distribution' is ignored when running locally",
                            "job.yml:6:1: 'services' is ignored when running locally",
                            "job.yml:7:1: 'identity' is ignored when running locally",
                            "job.yml:8:1: 'queue_settings' is ignored when running locally",
                            "job.yml:9:1: 'is_deterministic' is ignored when running locally",
                            "job.yml:11:37: 'inputs.data.path_on_compute' is ignored when "
                            "running locally",
                            "job.yml:13:31: 'outputs.model.path' is ignored when running locally",
                            "job.yml:13:69: 'outputs.model.name' is ignored when running locally",
                            "job.yml:13:78: 'outputs.model.version' is ignored when running "
                            "locally",
                        });
  CHECK(spec.outputs.at("model").type == "custom_model");
}

TEST_CASE("command job: code and input paths resolve against the job file's directory",
          "[tracking]") {
  const CommandJobSpec defaults = parse("command: echo\n");
  CHECK(defaults.code_dir == "/jobs/iris");

  const CommandJobSpec spec = parse(R"(command: echo
code: ../shared/src/
inputs:
  rel: {type: uri_folder, path: ./data/../images/}
  abs: {type: uri_file, path: /datasets/iris.csv}
  folder_by_default: {path: raw}
)");
  CHECK(spec.code_dir == "/jobs/shared/src");
  CHECK(spec.inputs.at("rel").kind == JobInput::Kind::uri_folder);
  CHECK(spec.inputs.at("rel").value == "/jobs/iris/images");
  CHECK(spec.inputs.at("abs").kind == JobInput::Kind::uri_file);
  CHECK(spec.inputs.at("abs").value == "/datasets/iris.csv");
  CHECK(spec.inputs.at("folder_by_default").kind == JobInput::Kind::uri_folder);
  CHECK(spec.inputs.at("folder_by_default").value == "/jobs/iris/raw");
}

TEST_CASE("command job: registered datasets are recognised in their az spellings", "[tracking]") {
  const CommandJobSpec spec = parse(R"(command: echo
inputs:
  pinned: azureml:iris:2
  newest: azureml:iris@latest
  as_map: {type: uri_file, path: azureml:iris-csv:1}
  table: {type: mltable, path: iris-table:3}
  table_latest: {type: mltable, path: iris-table@latest}
  local_table: {type: mltable, path: tables/iris}
  clock: "12:30"
  flag: true
)");
  using Kind = JobInput::Kind;
  const auto& in = spec.inputs;
  CHECK((in.at("pinned").kind == Kind::dataset && in.at("pinned").value == "iris:2"));
  CHECK((in.at("newest").kind == Kind::dataset && in.at("newest").value == "iris:latest"));
  CHECK((in.at("as_map").kind == Kind::dataset && in.at("as_map").value == "iris-csv:1"));
  CHECK((in.at("table").kind == Kind::dataset && in.at("table").value == "iris-table:3"));
  CHECK((in.at("table_latest").kind == Kind::dataset &&
         in.at("table_latest").value == "iris-table:latest"));
  CHECK((in.at("local_table").kind == Kind::uri_folder &&
         in.at("local_table").value == "/jobs/iris/tables/iris"));
  // Without azureml: a scalar is a literal, even with a colon in it.
  CHECK((in.at("clock").kind == Kind::literal && in.at("clock").value == "12:30"));
  CHECK((in.at("flag").kind == Kind::literal && in.at("flag").value == "true"));
}

TEST_CASE("command job: malformed YAML is a parse error with line and column", "[tracking]") {
  CHECK(parse_error("command: echo\ninputs:\n  lr: [0.1, 0.2\n", ErrorKind::parse) ==
        "job.yml:4:1: end of sequence flow not found");
  CHECK(parse_error("command: echo\n  lr: 1\n", ErrorKind::parse) ==
        "job.yml:2:5: illegal map value");
}

TEST_CASE("command job: unknown key is rejected with its position and a suggestion", "[tracking]") {
  CHECK(
      parse_error("$schema: https://azuremlschemas.azureedge.net/latest/"
                  "commandJob.schema.json\ntype: command\ncommand: echo hi\ncomand: echo typo\n") ==
      "job.yml:4:1: unknown key 'comand' (did you mean 'command'?)");
  CHECK(parse_error("command: echo\nfavourite_colour: blue\n") ==
        "job.yml:2:1: unknown key 'favourite_colour'");
  CHECK(parse_error("command: echo\ninputs:\n  data: {type: uri_file, pth: x.csv}\n") ==
        "job.yml:3:26: unknown key 'pth' in input 'data' (did you mean 'path'?)");
  CHECK(parse_error("command: echo\nlimits: {timout: 5}\n") ==
        "job.yml:2:10: unknown key 'timout' in 'limits' (did you mean 'timeout'?)");
}

TEST_CASE("command job: a missing or empty command is rejected", "[tracking]") {
  CHECK(parse_error("code: src\n") == "job.yml: missing required key 'command'");
  CHECK(parse_error("command:\n") ==
        "job.yml:1:1: 'command' is empty; expected the shell command to run");
  CHECK(parse_error("command: '  '\n") ==
        "job.yml:1:10: 'command' is empty; expected the shell command to run");
  CHECK(parse_error("") == "job.yml: the job is empty; expected a map with at least 'command'");
  CHECK(parse_error("- command: echo\n") ==
        "job.yml:1:1: expected a map of job fields, found a sequence");
}

TEST_CASE("command job: wrong types name the place and what was expected", "[tracking]") {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"command: [python, train.py]\n",
       "job.yml:1:10: 'command' must be a string, found a sequence"},
      {"command: echo\ninputs: [lr]\n",
       "job.yml:2:9: 'inputs' must be a map of input names to values, found a sequence"},
      {"command: echo\noutputs: model\n",
       "job.yml:2:10: 'outputs' must be a map of output names to outputs, found 'model'"},
      {"command: echo\ninputs:\n  data:\n    type: uri_file\n",
       "job.yml:3:3: input 'data' of type uri_file needs a 'path'"},
      {"command: echo\ninputs:\n  data: {type: uri_fil, path: x}\n",
       "job.yml:3:16: input 'data' has unknown type 'uri_fil' (did you mean 'uri_file'?)"},
      {"command: echo\ninputs:\n  data: {type: csv, path: x}\n",
       "job.yml:3:16: input 'data' has unknown type 'csv'; expected one of uri_file, uri_folder, "
       "mltable, mlflow_model, custom_model, triton_model"},
      {"command: echo\ninputs:\n  data: {path: x, mode: ro_mnt}\n",
       "job.yml:3:25: input 'data' has unknown mode 'ro_mnt' (did you mean 'ro_mount'?)"},
      {"command: echo\ninputs:\n  sizes: [64, 32]\n",
       "job.yml:3:10: input 'sizes' must be a literal value or a map with 'type' and 'path', "
       "found a sequence"},
      {"command: echo\ninputs:\n  lr:\n",
       "job.yml:3:3: input 'lr' has no value; give a literal or a map with 'type' and 'path'"},
      {"command: echo\ninputs:\n  my-lr: 0.1\n",
       "job.yml:3:3: input name 'my-lr' is not valid; use letters, digits and '_', not starting "
       "with a digit"},
      {"command: echo\ninputs:\n  data: azureml:iris\n",
       "job.yml:3:9: input 'data' has an invalid dataset reference 'azureml:iris'; expected "
       "azureml:NAME:VERSION or azureml:NAME@latest"},
      {"command: echo\noutputs:\n  model: {type: pickle}\n",
       "job.yml:3:17: output 'model' has unknown type 'pickle'; expected one of uri_folder, "
       "uri_file, mltable, mlflow_model, custom_model"},
      {"command: echo\noutputs:\n  model: uri_folder\n",
       "job.yml:3:10: output 'model' must be a map such as {type: uri_folder}, or empty, found "
       "'uri_folder'"},
      {"command: echo\ntags:\n  team: [a, b]\n",
       "job.yml:3:9: tag 'team' must be a string, found a sequence"},
      {"command: echo\nenvironment_variables: [A=1]\n",
       "job.yml:2:24: 'environment_variables' must be a map of names to values, found a sequence"},
      {"command: echo\nlimits:\n  timeout: soon\n",
       "job.yml:3:12: 'limits.timeout' must be a positive number of seconds, found 'soon'"},
      {"command: echo\nlimits:\n  timeout: -5\n",
       "job.yml:3:12: 'limits.timeout' must be a positive number of seconds, found '-5'"},
      {"command: echo\ndescription: {text: x}\n",
       "job.yml:2:14: 'description' must be a string, found a map"},
      {"type: sweep\ncommand: echo\n", "job.yml:1:7: expected type 'command', found 'sweep'"},
      {"command: echo\ncommand: echo again\n",
       "job.yml:2:1: duplicate key 'command' (first given at line 1)"},
      {"command: echo\ninputs:\n  lr: 1\n  lr: 2\n",
       "job.yml:4:3: duplicate key 'lr' in 'inputs' (first given at line 3)"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK(parse_error(c.text) == c.message);
  }
}

TEST_CASE("command job: cloud-only code and data locations are not supported locally",
          "[tracking]") {
  CHECK(parse_error("command: echo\ncode: azureml:my-code:1\n", ErrorKind::not_supported) ==
        "job.yml:2:7: 'code' refers to 'azureml:my-code:1', which only Azure ML can fetch; "
        "give a local directory");
  CHECK(parse_error("command: echo\ninputs:\n  data:\n    type: uri_folder\n"
                    "    path: azureml://datastores/blob/paths/iris/\n",
                    ErrorKind::not_supported) ==
        "job.yml:5:11: input 'data' refers to the cloud path "
        "'azureml://datastores/blob/paths/iris/', which cannot be read locally; give a local "
        "path or a registered dataset");
}

TEST_CASE("command job: every problem is reported at once, one per line", "[tracking]") {
  CHECK(parse_error("comand: echo\ninputs: 3\nlimits: {timeout: 0}\n") ==
        "job.yml:1:1: unknown key 'comand' (did you mean 'command'?)\n"
        "job.yml:2:9: 'inputs' must be a map of input names to values, found '3'\n"
        "job.yml:3:19: 'limits.timeout' must be a positive number of seconds, found '0'\n"
        "job.yml: missing required key 'command'");
}

TEST_CASE("command job: --set overrides are applied before the job is read", "[tracking]") {
  const CommandJobSpec spec =
      parse(k_docs_job,
            {"inputs.lr=0.1", "inputs.data.path=other/iris.csv", "outputs.model.type=custom_model",
             "experiment_name=iris-tuning", "tags.stage=prod", "environment_variables.SEED=7",
             "limits.timeout=60", "inputs.epochs=5", "compute=local"});
  CHECK(spec.inputs.at("lr").kind == JobInput::Kind::literal);
  CHECK(spec.inputs.at("lr").value == "0.1");
  CHECK(spec.inputs.at("lr").line == 6);  // the name is still where the file declares it
  CHECK(spec.inputs.at("data").value == "/jobs/iris/other/iris.csv");
  CHECK(spec.inputs.at("epochs").value == "5");
  CHECK(spec.inputs.at("epochs").line == 0);  // added by --set: no place in the file
  CHECK(spec.outputs.at("model").type == "custom_model");
  CHECK(spec.experiment_name == "iris-tuning");
  CHECK(spec.tags.at("stage") == "prod");
  CHECK(spec.tags.at("team") == "vision");
  CHECK(spec.environment_variables.at("SEED") == "7");
  CHECK(spec.timeout_seconds == Approx(60));
  CHECK(spec.notices.at(1) == "job.yml:16:1: 'compute' is ignored when running locally");
}

TEST_CASE("command job: a problem in a --set value is reported without a line", "[tracking]") {
  // A sequence is valid YAML for --set, but not a valid input value.
  CHECK(parse_error(k_docs_job, ErrorKind::invalid_argument, {"inputs.sizes=[64, 32]"}) ==
        "job.yml: input 'sizes' must be a literal value or a map with 'type' and 'path', "
        "found a sequence");
  // Replacing a value keeps its key, whose place is still known.
  CHECK(parse_error(k_docs_job, ErrorKind::invalid_argument, {"inputs=[a]"}) ==
        "job.yml:5:1: 'inputs' must be a map of input names to values, found a sequence");
  CHECK(parse_error(k_docs_job, ErrorKind::invalid_argument, {"comand=echo"}) ==
        "job.yml: unknown key 'comand' (did you mean 'command'?)");
  CHECK(parse_error(k_docs_job, ErrorKind::invalid_argument, {"inputs.lr"}) ==
        "--set 'inputs.lr': expected PATH=VALUE, such as inputs.lr=0.01");
  CHECK(parse_error(k_docs_job, ErrorKind::parse, {"inputs.lr=[0.1"}) ==
        "--set 'inputs.lr=[0.1': the value is not valid YAML: end of sequence flow not found");
}

TEST_CASE("job type: defaults to command and is read as written", "[tracking]") {
  using mlctl::tracking::job_type;
  CHECK(job_type(mlctl::load_yaml("command: echo\n", "job.yml")) == "command");
  CHECK(job_type(mlctl::load_yaml("type:\ncommand: echo\n", "job.yml")) == "command");
  CHECK(job_type(mlctl::load_yaml("type: sweep\n", "job.yml")) == "sweep");
  CHECK(job_type(mlctl::load_yaml("- a\n", "job.yml")) == "command");
  const mlctl::Error error =
      error_from([] { job_type(mlctl::load_yaml("type: [a]\n", "job.yml"), "job.yml"); });
  CHECK(error.kind() == ErrorKind::invalid_argument);
  CHECK(std::string(error.what()) ==
        "job.yml:1:7: 'type' must be a string such as 'command', found a sequence");
}

TEST_CASE("command: placeholders are replaced by input values and output paths", "[tracking]") {
  const std::map<std::string, std::string> inputs = {{"lr", "0.01"},
                                                     {"data", "/jobs/iris/data/iris.csv"}};
  const std::map<std::string, std::string> outputs = {{"model", "/runs/7/outputs/model"}};
  CHECK(resolve_command("python train.py --lr ${{inputs.lr}} --data ${{inputs.data}} "
                        "--out ${{outputs.model}}",
                        inputs, outputs, "job.yml") ==
        "python train.py --lr 0.01 --data /jobs/iris/data/iris.csv --out /runs/7/outputs/model");
  CHECK(resolve_command("echo ${{ inputs.lr }}${{  outputs.model}}", inputs, outputs, "job.yml") ==
        "echo 0.01/runs/7/outputs/model");
  CHECK(resolve_command("echo no placeholders", inputs, outputs, "job.yml") ==
        "echo no placeholders");
  CHECK(resolve_command("echo ${{inputs.lr}} ${{inputs.lr}}", inputs, {}, "job.yml") ==
        "echo 0.01 0.01");
}

TEST_CASE("command: optional blocks are kept when their inputs are given, dropped otherwise",
          "[tracking]") {
  const std::map<std::string, std::string> inputs = {{"lr", "0.01"}};
  CHECK(resolve_command("python train.py $[[--lr ${{inputs.lr}}]] $[[--seed ${{inputs.seed}}]]",
                        inputs, {}, "job.yml") == "python train.py --lr 0.01 ");
  CHECK(resolve_command("run $[[ --warm ${{ inputs.seed }} --lr ${{inputs.lr}} ]]end", inputs, {},
                        "job.yml") == "run end");
  CHECK(resolve_command("run $[[ --verbose ]]", inputs, {}, "job.yml") == "run  --verbose ");
}

TEST_CASE("command: unknown placeholders are rejected with a suggestion", "[tracking]") {
  struct Case {
    std::string command;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"python train.py --lr ${{inputs.lr}}",
       "job.yml: command refers to ${{inputs.lr}} but the job has no input 'lr' (did you mean "
       "'lr0'?)"},
      {"python train.py --lr ${{ inputs.rate }}",
       "job.yml: command refers to ${{inputs.rate}} but the job has no input 'rate'"},
      {"python train.py --out ${{outputs.modle}}",
       "job.yml: command refers to ${{outputs.modle}} but the job has no output 'modle' (did "
       "you mean 'model'?)"},
      {"python train.py --lr ${{search_space.lr}}",
       "job.yml: command refers to ${{search_space.lr}}, which a command job cannot resolve; use "
       "${{inputs.NAME}} or ${{outputs.NAME}}"},
      {"python train.py $[[--lr ${{parent.inputs.lr}}]]",
       "job.yml: command refers to ${{parent.inputs.lr}}, which a command job cannot resolve; "
       "use ${{inputs.NAME}} or ${{outputs.NAME}}"},
      {"python train.py --lr ${{inputs.lr0",
       "job.yml: command has a '${{' without its closing '}}'"},
      {"python train.py $[[--lr ${{inputs.lr0}}",
       "job.yml: command has a '$[[' without its closing ']]'"},
      {"python train.py $[[ $[[--lr ${{inputs.lr0}} ]]",
       "job.yml: command has a '$[[' inside another; optional blocks cannot be nested"},
  };
  for (const Case& c : cases) {
    INFO(c.command);
    const mlctl::Error error = error_from([&] {
      resolve_command(c.command, {{"lr0", "0.1"}}, {{"model", "/out"}}, "job.yml");
    });
    CHECK(error.kind() == ErrorKind::invalid_argument);
    CHECK(std::string(error.what()) == c.message);
  }
}
