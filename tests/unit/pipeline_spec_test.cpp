#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <mlctl/core/error.hpp>
#include <mlctl/pipeline/pipeline_spec.hpp>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

using mlctl::ErrorKind;
using mlctl::pipeline::Binding;
using mlctl::pipeline::Location;
using mlctl::pipeline::parse_pipeline;
using mlctl::pipeline::PipelineSpec;
using mlctl::pipeline::StepSpec;
using mlctl::pipeline::StepTypeInfo;
using mlctl::pipeline::topological_order;
using mlctl::pipeline::ValueType;
using mlctl::testing::TempDir;
using mlctl::testing::write_text;

namespace fs = std::filesystem;

namespace {

const std::vector<StepTypeInfo> k_types = {
    {"command",
     {"command", "code", "environment_variables", "display_name", "description", "experiment_name", "tags", "limits"},
     {}},
    {"train",
     {"task",          "data",     "label",           "features",       "validation_fraction",
      "test_fraction", "model",    "learning_rate",   "num_epochs",     "batch_size",
      "optimizer",     "momentum", "weight_decay",    "early_stopping", "seed",
      "device",        "threads",  "experiment_name", "display_name",   "description",
      "tags"},
     {"model", "evaluation"}},
    {"compare", {"candidate", "baseline", "data", "criteria"}, {"passed", "report"}},
};

const fs::path k_base = "/work/pipelines";

PipelineSpec parse(const std::string& text, const std::vector<std::string>& overrides = {},
                   const fs::path& base = k_base) {
  return parse_pipeline(text, "pipe.yml", base, k_types, overrides);
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
                        const std::vector<std::string>& overrides = {}, const fs::path& base = k_base) {
  const mlctl::Error error = error_from([&] { parse(text, overrides, base); });
  CHECK(error.kind() == kind);
  return error.what();
}

struct Case {
  std::string text;
  std::string message;
};

void check_errors(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK(parse_error(c.text) == c.message);
  }
}

// "file:line:column", as Location::to_string writes it.
std::string at(const std::string& file, int line, int column) { return Location{file, line, column}.to_string(); }

void check_binding(const Binding& actual, Binding::Kind kind, const std::string& literal, const std::string& step,
                   const std::string& name, const std::string& where) {
  CHECK(actual.kind == kind);
  CHECK(actual.literal == literal);
  CHECK(actual.step == step);
  CHECK(actual.name == name);
  CHECK(actual.where.to_string() == where);
}

// Line N of the file is line N here (the raw string starts on line 1).
const std::string k_full_pipeline = R"($schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline
display_name: prep-fit-gate-train
description: Prepare, fit, gate and train.
experiment_name: churn
tags: {team: ml, stage: dev}
compute: azureml:cpu-cluster
inputs:
  data:
    type: uri_file
    path: data/churn.csv
  epochs: 20
  lr: 0.01
  run_id: "42"
  note: data/readme.csv
  fast: true
  model_name: {type: string, default: churn, description: Registry name, optional: true}
outputs:
  model: ${{parent.jobs.train.outputs.model}}
  report: {type: uri_folder}
settings:
  continue_on_step_failure: true
  force_rerun: true
  default_compute: azureml:gpu-cluster
jobs:
  prep:
    code: src
    command: python prep.py --in ${{inputs.raw}} --out ${{outputs.clean}}
    environment: azureml:sklearn:1
    inputs:
      raw: ${{parent.inputs.data}}
      mode: fast
    outputs:
      clean: {type: uri_folder}
  fit:
    component: components/fit.yml
    inputs:
      data: ${{ parent.jobs.prep.outputs.clean }}
      epochs: ${{parent.inputs.epochs}}
    retries: 2
    timeout: 600
    display_name: fit the model
    environment_variables: {B: three}
  train:
    type: train
    task: classification
    label: churned
    model: {type: mlp}
    inputs:
      data.train: ${{parent.jobs.prep.outputs.clean}}
    needs: [fit]
    condition: ${{parent.jobs.gate.outputs.passed}}
    reuse: false
  gate:
    type: compare
    baseline: azureml:churn-model@production
    criteria: ["accuracy >= 0.8"]
    inputs:
      candidate: ${{parent.jobs.fit.outputs.model}}
    outputs:
      report: ${{parent.outputs.report}}
)";

const std::string k_fit_component = R"($schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
type: command
name: fit
version: 1
display_name: Fit
description: Fits a model.
is_deterministic: false
inputs:
  data: {type: uri_folder}
  epochs: {type: integer, default: 10}
  lr: {type: number, default: 0.1}
  seed: {type: integer, optional: true}
  vocab: {type: uri_file, default: vocab.txt}
outputs:
  model: {type: mlflow_model}
code: ../src/fit
command: python fit.py --data ${{inputs.data}} --epochs ${{inputs.epochs}}
environment: azureml:torch:2
environment_variables: {A: "1", B: two}
)";

// A component with one required and one optional input, for error cases.
const std::string k_small_component = R"(type: command
inputs:
  epochs: {type: integer}
  data: {type: uri_file, optional: true}
command: python fit.py
)";

}  // namespace

TEST_CASE("pipeline: a full example parses into every field", "[pipeline]") {
  TempDir dir;
  write_text(dir / "components/fit.yml", k_fit_component);
  const fs::path base = dir.path();
  const PipelineSpec spec = parse(k_full_pipeline, {}, base);

  CHECK(spec.source == "pipe.yml");
  CHECK(spec.base_dir == base);
  CHECK(spec.display_name == "prep-fit-gate-train");
  CHECK(spec.description == "Prepare, fit, gate and train.");
  CHECK(spec.experiment_name == "churn");
  CHECK(spec.tags == std::map<std::string, std::string>{{"team", "ml"}, {"stage", "dev"}});
  CHECK(spec.settings.continue_on_step_failure);
  CHECK(spec.settings.force_rerun);
  CHECK(spec.notices == std::vector<std::string>{
                            "pipe.yml:7:1: 'compute' is ignored when running locally",
                            "pipe.yml:24:3: 'settings.default_compute' is ignored when running locally",
                            "pipe.yml:29:5: 'jobs.prep.environment' is ignored when running locally",
                            "components/fit.yml:18:1: 'environment' is ignored when running locally",
                        });

  // Inputs, in file order: literals are typed by their form, never as paths.
  REQUIRE(spec.inputs.size() == 7);
  struct InputCase {
    std::string name;
    ValueType type;
    std::optional<std::string> value;
    int line, column;
  };
  const std::vector<InputCase> inputs = {
      {"data", ValueType::uri_file, (base / "data/churn.csv").string(), 9, 3},
      {"epochs", ValueType::integer, "20", 12, 3},
      {"lr", ValueType::number, "0.01", 13, 3},
      {"run_id", ValueType::string, "42", 14, 3},
      {"note", ValueType::string, "data/readme.csv", 15, 3},
      {"fast", ValueType::boolean, "true", 16, 3},
      {"model_name", ValueType::string, "churn", 17, 3},
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    INFO(inputs[i].name);
    CHECK(spec.inputs[i].name == inputs[i].name);
    CHECK(spec.inputs[i].type == inputs[i].type);
    CHECK(spec.inputs[i].default_value == inputs[i].value);
    CHECK(spec.inputs[i].where.to_string() == at("pipe.yml", inputs[i].line, inputs[i].column));
  }
  CHECK(spec.inputs[6].description == "Registry name");
  CHECK(spec.inputs[6].optional);
  CHECK_FALSE(spec.inputs[0].optional);
  CHECK(spec.find_input("epochs") == &spec.inputs[1]);
  CHECK(spec.find_input("epoch") == nullptr);

  REQUIRE(spec.outputs.size() == 2);
  CHECK(spec.outputs[0].name == "model");
  CHECK(spec.outputs[0].step == "train");
  CHECK(spec.outputs[0].step_output == "model");
  CHECK(spec.outputs[0].type == ValueType::uri_folder);
  CHECK(spec.outputs[0].where.to_string() == at("pipe.yml", 19, 3));
  CHECK(spec.outputs[1].name == "report");
  CHECK(spec.outputs[1].step.empty());
  CHECK(spec.outputs[1].type == ValueType::uri_folder);

  REQUIRE(spec.steps.size() == 4);
  const StepSpec& prep = spec.steps[0];
  CHECK(prep.name == "prep");
  CHECK(prep.type == "command");
  CHECK(prep.where.to_string() == at("pipe.yml", 26, 3));
  CHECK(prep.base_dir == base);
  CHECK_FALSE(prep.component_file);
  REQUIRE(prep.inputs.size() == 2);
  check_binding(prep.inputs.at("raw"), Binding::Kind::parent_input, "", "", "data", at("pipe.yml", 31, 12));
  check_binding(prep.inputs.at("mode"), Binding::Kind::literal, "fast", "", "", at("pipe.yml", 32, 13));
  REQUIRE(prep.outputs.size() == 1);
  CHECK(prep.outputs.at("clean").type == ValueType::uri_folder);
  CHECK_FALSE(prep.outputs.at("clean").pipeline_output);
  CHECK(prep.outputs.at("clean").where.to_string() == at("pipe.yml", 34, 7));
  CHECK(prep.retries == 0);
  CHECK_FALSE(prep.timeout_seconds);
  CHECK(prep.reuse);
  CHECK_FALSE(prep.condition);
  CHECK(prep.dependencies().empty());
  // The body keeps the step's own fields; cloud-only ones are dropped.
  const YAML::Node prep_body = YAML::Load(prep.body_yaml);
  CHECK(prep_body.size() == 2);
  CHECK(prep_body["code"].Scalar() == "src");
  CHECK(prep_body["command"].Scalar() == "python prep.py --in ${{inputs.raw}} --out ${{outputs.clean}}");

  // A component step: the component's fields under the step's.
  const StepSpec& fit = spec.steps[1];
  CHECK(fit.name == "fit");
  CHECK(fit.type == "command");
  REQUIRE(fit.component_file);
  CHECK(*fit.component_file == base / "components/fit.yml");
  CHECK(fit.retries == 2);
  CHECK(fit.timeout_seconds == 600.0);
  CHECK_FALSE(fit.reuse);           // is_deterministic: false
  REQUIRE(fit.inputs.size() == 4);  // `seed` is optional and unbound
  check_binding(fit.inputs.at("data"), Binding::Kind::step_output, "", "prep", "clean", at("pipe.yml", 38, 13));
  check_binding(fit.inputs.at("epochs"), Binding::Kind::parent_input, "", "", "epochs", at("pipe.yml", 39, 15));
  check_binding(fit.inputs.at("lr"), Binding::Kind::literal, "0.1", "", "", at("components/fit.yml", 11, 31));
  check_binding(fit.inputs.at("vocab"), Binding::Kind::literal, (base / "components/vocab.txt").string(), "", "",
                at("components/fit.yml", 13, 36));
  REQUIRE(fit.outputs.size() == 1);
  CHECK(fit.outputs.at("model").type == ValueType::mlflow_model);
  CHECK(fit.dependencies() == std::vector<std::string>{"prep"});
  const YAML::Node fit_body = YAML::Load(fit.body_yaml);
  CHECK(fit_body.size() == 5);
  CHECK(fit_body["display_name"].Scalar() == "fit the model");
  CHECK(fit_body["description"].Scalar() == "Fits a model.");
  CHECK(fit_body["code"].Scalar() == (base / "src/fit").string());
  CHECK(fit_body["command"].Scalar() == "python fit.py --data ${{inputs.data}} --epochs ${{inputs.epochs}}");
  CHECK(fit_body["environment_variables"]["A"].Scalar() == "1");
  CHECK(fit_body["environment_variables"]["A"].Tag() == "!");  // still text, not a number
  CHECK(fit_body["environment_variables"]["B"].Scalar() == "three");

  const StepSpec& train = spec.steps[2];
  CHECK(train.type == "train");
  check_binding(train.inputs.at("data.train"), Binding::Kind::step_output, "", "prep", "clean", at("pipe.yml", 50, 19));
  CHECK(train.needs == std::vector<std::string>{"fit"});
  REQUIRE(train.condition);
  check_binding(*train.condition, Binding::Kind::step_output, "", "gate", "passed", at("pipe.yml", 52, 16));
  CHECK_FALSE(train.reuse);
  CHECK(train.outputs.empty());
  CHECK(train.dependencies() == std::vector<std::string>{"fit", "prep", "gate"});
  const YAML::Node train_body = YAML::Load(train.body_yaml);
  CHECK(train_body.size() == 3);
  CHECK(train_body["task"].Scalar() == "classification");
  CHECK(train_body["model"]["type"].Scalar() == "mlp");

  const StepSpec& gate = spec.steps[3];
  CHECK(gate.type == "compare");
  REQUIRE(gate.outputs.size() == 1);
  CHECK(gate.outputs.at("report").pipeline_output == std::optional<std::string>("report"));
  CHECK(gate.dependencies() == std::vector<std::string>{"fit"});
  const YAML::Node gate_body = YAML::Load(gate.body_yaml);
  CHECK(gate_body["baseline"].Scalar() == "azureml:churn-model@production");
  CHECK(gate_body["criteria"][0].Scalar() == "accuracy >= 0.8");

  CHECK(spec.find_step("gate") == &spec.steps[3]);
  CHECK(spec.find_step("nope") == nullptr);
  // gate runs before train, which comes first in the file but reads gate.
  CHECK(topological_order(spec) == std::vector<std::string>{"prep", "fit", "gate", "train"});
}

TEST_CASE("pipeline: the smallest pipeline takes the documented defaults", "[pipeline]") {
  const PipelineSpec spec = parse("jobs:\n  hello:\n    command: echo hi\n");
  CHECK(spec.base_dir == k_base);
  CHECK(spec.display_name.empty());
  CHECK(spec.inputs.empty());
  CHECK(spec.outputs.empty());
  CHECK_FALSE(spec.settings.continue_on_step_failure);
  CHECK_FALSE(spec.settings.force_rerun);
  CHECK(spec.notices.empty());
  REQUIRE(spec.steps.size() == 1);
  CHECK(spec.steps[0].type == "command");
  CHECK(spec.steps[0].reuse);
  CHECK(spec.steps[0].retries == 0);
  CHECK(YAML::Load(spec.steps[0].body_yaml)["command"].Scalar() == "echo hi");
}

TEST_CASE("pipeline: typed inputs, az input maps and literal conditions", "[pipeline]") {
  const PipelineSpec spec = parse(R"(inputs:
  rate: {type: number, default: 3}
  folder: {type: uri_folder, path: /data/raw/}
  dataset: {type: uri_file, path: "azureml:churn:2"}
  flag: {type: boolean, default: False}
  later: {type: string, optional: true}
jobs:
  a:
    command: echo
    inputs:
      table: {type: uri_file, path: ../t.csv}
      count: {type: integer, value: 3}
      by_ref: {type: uri_folder, path: "${{parent.inputs.folder}}"}
    condition: true
    timeout: 1.5
  b:
    command: echo
    condition: ${{parent.inputs.flag}}
)");
  REQUIRE(spec.inputs.size() == 5);
  CHECK(spec.inputs[0].type == ValueType::number);
  CHECK(spec.inputs[0].default_value == "3");
  CHECK(spec.inputs[1].default_value == "/data/raw");
  CHECK(spec.inputs[2].default_value == "azureml:churn:2");
  CHECK(spec.inputs[3].default_value == "false");
  CHECK_FALSE(spec.inputs[4].default_value);
  const StepSpec& a = spec.steps[0];
  CHECK(a.inputs.at("table").literal == "/work/t.csv");
  CHECK(a.inputs.at("count").literal == "3");
  CHECK(a.inputs.at("by_ref").kind == Binding::Kind::parent_input);
  CHECK(a.inputs.at("by_ref").name == "folder");
  REQUIRE(a.condition);
  CHECK(a.condition->kind == Binding::Kind::literal);
  CHECK(a.condition->literal == "true");
  CHECK(a.timeout_seconds == 1.5);
  REQUIRE(spec.steps[1].condition);
  CHECK(spec.steps[1].condition->kind == Binding::Kind::parent_input);
}

TEST_CASE("pipeline: broken pipelines are rejected with their position and a suggestion", "[pipeline]") {
  check_errors({
      // a cycle, named from its first step in the file, in the order it would run
      {R"(jobs:
  a:
    command: echo a
    needs: [c]
  b:
    command: echo b
    needs: [a]
  c:
    command: echo c
    inputs:
      x: ${{parent.jobs.b.outputs.out}}
  d:
    command: echo d
)",
       "pipe.yml:11:10: jobs.c.inputs.x: step 'b' has no output 'out'; it declares no outputs\n"
       "pipe.yml:2:3: jobs form a cycle: a -> b -> c -> a"},
      // a dangling step reference
      {R"(jobs:
  prep:
    command: echo
    outputs: {clean: {type: uri_folder}}
  train:
    command: echo
    inputs:
      x: ${{parent.jobs.prpe.outputs.clean}}
)",
       "pipe.yml:8:10: jobs.train.inputs.x: no step 'prpe' in jobs (did you mean 'prep'?)"},
      // an unknown key, with a suggestion from the step type's keys
      {"jobs:\n  a:\n    comand: echo\n",
       "pipe.yml:3:5: unknown key 'comand' for a command step (did you mean 'command'?)"},
      {"jobs:\n  a:\n    type: train\n    num_epoch: 3\n",
       "pipe.yml:4:5: unknown key 'num_epoch' for a train step (did you mean 'num_epochs'?)"},
      // an unknown step type
      {"jobs:\n  a:\n    type: trian\n", "pipe.yml:3:11: unknown step type 'trian' (did you mean 'train'?)"},
      {"jobs:\n  a:\n    type: deploy\n",
       "pipe.yml:3:11: unknown step type 'deploy'; expected one of command, train, compare"},
      // a value of the wrong type
      {"jobs:\n  a:\n    command: echo\n    retries: two\n",
       "pipe.yml:4:14: jobs.a.retries: expected a whole number of at least 0, got 'two'"},
      {"jobs:\n  a:\n    command: echo\n    retries: -1\n    timeout: 0\n    reuse: maybe\n",
       "pipe.yml:4:14: jobs.a.retries: expected a whole number of at least 0, got '-1'\n"
       "pipe.yml:5:14: jobs.a.timeout: expected a positive number of seconds, got '0'\n"
       "pipe.yml:6:12: jobs.a.reuse: expected true or false, got 'maybe'"},
      // a duplicate step name
      {"jobs:\n  a:\n    command: echo 1\n  a:\n    command: echo 2\n",
       "pipe.yml:4:3: duplicate step 'a' (first given at line 2)"},
      {"inputs:\n  x: 1\n  x: 2\njobs:\n  a:\n    command: echo\n",
       "pipe.yml:3:3: duplicate input 'x' (first given at line 2)"},
      // a reference to a missing pipeline input
      {"inputs:\n  data: a.csv\njobs:\n  a:\n    command: echo\n    inputs:\n      d: ${{parent.inputs.dta}}\n",
       "pipe.yml:7:10: jobs.a.inputs.d: the pipeline has no input 'dta' (did you mean 'data'?)"},
      // the output of a step that has no such output
      {R"(jobs:
  prep:
    command: echo
    outputs:
      clean:
  train:
    command: echo
    inputs:
      x: ${{parent.jobs.prep.outputs.cleen}}
)",
       "pipe.yml:9:10: jobs.train.inputs.x: step 'prep' has no output 'cleen' (did you mean 'clean'?)"},
      // a type's fixed outputs are what it can be read from
      {R"(jobs:
  gate:
    type: compare
  a:
    command: echo
    inputs:
      x: ${{parent.jobs.gate.outputs.pased}}
    condition: ${{parent.jobs.gate.outputs.passed}}
)",
       "pipe.yml:7:10: jobs.a.inputs.x: step 'gate' has no output 'pased' (did you mean 'passed'?)"},
      {"jobs:\n  t:\n    type: train\n    outputs:\n      modle: {type: uri_folder}\n",
       "pipe.yml:5:7: jobs.t.outputs.modle: a train step has no output 'modle' (did you mean 'model'?)"},
      // references a step cannot make
      {"jobs:\n  a:\n    command: echo\n    outputs: {o: }\n    inputs:\n      x: ${{parent.jobs.a.outputs.o}}\n",
       "pipe.yml:6:10: jobs.a.inputs.x: a step cannot depend on itself"},
      {"jobs:\n  a:\n    command: echo\n    needs: [a, b]\n",
       "pipe.yml:4:13: jobs.a.needs: a step cannot depend on itself\n"
       "pipe.yml:4:16: jobs.a.needs: no step 'b' in jobs"},
      {"jobs:\n  a:\n    command: echo\n    inputs:\n      x: data ${{parent.inputs.y}}\n",
       "pipe.yml:5:10: jobs.a.inputs.x: a reference must be the whole value, found 'data ${{parent.inputs.y}}'; "
       "expected ${{parent.inputs.NAME}} or ${{parent.jobs.STEP.outputs.NAME}}"},
      {"jobs:\n  a:\n    command: echo\n    inputs:\n      x: ${{inputs.y}}\n",
       "pipe.yml:5:10: jobs.a.inputs.x: '${{inputs.y}}' is not a reference mlctl understands; "
       "expected ${{parent.inputs.NAME}} or ${{parent.jobs.STEP.outputs.NAME}}"},
      {"jobs:\n  a:\n    command: echo\n    condition: maybe\n",
       "pipe.yml:4:16: jobs.a.condition: expected ${{parent.jobs.STEP.outputs.NAME}}, true or false, got 'maybe'"},
      {"inputs:\n  n: 3\njobs:\n  a:\n    command: echo\n    condition: ${{parent.inputs.n}}\n",
       "pipe.yml:6:16: jobs.a.condition: expected a boolean (true or false), got pipeline input 'n' of type "
       "integer"},
      // pipeline outputs
      {"outputs:\n  m: ${{parent.jobs.a.outputs.m}}\njobs:\n  a:\n    command: echo\n    outputs: {n: }\n",
       "pipe.yml:2:6: outputs.m: step 'a' has no output 'm'; its outputs are n"},
      {"outputs:\n  m: {type: uri_folder}\njobs:\n  a:\n    command: echo\n    outputs:\n      n: "
       "${{parent.outputs.mm}}\n",
       "pipe.yml:7:7: jobs.a.outputs.n: the pipeline has no output 'mm' (did you mean 'm'?)\n"
       "pipe.yml:2:3: outputs.m: no step writes it; add 'm: ${{parent.outputs.m}}' to a step's outputs"},
      {"outputs:\n  m: ${{parent.jobs.a.outputs.n}}\njobs:\n  a:\n    command: echo\n    outputs:\n"
       "      n: ${{parent.outputs.m}}\n  b:\n    command: echo\n    outputs:\n      o: ${{parent.outputs.m}}\n",
       "pipe.yml:11:7: jobs.b.outputs.o: pipeline output 'm' is already jobs.a.outputs.n"},
      // top-level keys
      {"jobs:\n  a:\n    command: echo\nsetings: {}\n",
       "pipe.yml:4:1: unknown key 'setings' in a pipeline job (did you mean 'settings'?)"},
      {"type: command\njobs:\n  a:\n    command: echo\n", "pipe.yml:1:7: expected type 'pipeline', found 'command'"},
      {"display_name: x\n", "pipe.yml: missing required key 'jobs'; expected a map of step names to steps"},
      {"jobs: {}\n", "pipe.yml:1:1: 'jobs' is empty; expected at least one step"},
      {"jobs: [a, b]\n", "pipe.yml:1:7: 'jobs' must be a map of step names to steps, found a sequence"},
      {"settings: {force_rerun: yes, continue_on_step_failures: true}\njobs:\n  a:\n    command: echo\n",
       "pipe.yml:1:25: settings.force_rerun: expected true or false, got 'yes'\n"
       "pipe.yml:1:30: unknown key 'continue_on_step_failures' in 'settings' (did you mean "
       "'continue_on_step_failure'?)"},
      // pipeline inputs
      {"inputs:\n  my-data: a.csv\njobs:\n  a:\n    command: echo\n",
       "pipe.yml:2:3: input name 'my-data' is not valid; use letters, digits and '_', not starting with a digit"},
      {"inputs:\n  epochs: {type: integer, default: ten}\njobs:\n  a:\n    command: echo\n",
       "pipe.yml:2:36: inputs.epochs: expected an integer, got 'ten'"},
      {"inputs:\n  epochs: {type: intger, default: 3}\njobs:\n  a:\n    command: echo\n",
       "pipe.yml:2:18: inputs.epochs: unknown type 'intger' (did you mean 'integer'?)"},
      {"inputs:\n  data: {type: uri_file}\n  n:\njobs:\n  a:\n    command: echo\n",
       "pipe.yml:2:3: inputs.data: no value; give a 'path', mark it 'optional: true' or set it with --set "
       "data=VALUE\n"
       "pipe.yml:3:3: inputs.n: no value; give a 'default', mark it 'optional: true' or set it with --set n=VALUE"},
      // steps
      {"jobs:\n  a:\n    type: train\n    component: c.yml\n",
       "pipe.yml:4:5: jobs.a: 'component' applies only to command steps, not to a train step"},
      {"jobs:\n  a:\n    component: missing.yml\n",
       "pipe.yml:3:16: jobs.a.component: the file '/work/pipelines/missing.yml' does not exist"},
      {"jobs:\n  a:\n",
       "pipe.yml:2:3: jobs.a: expected a map of step fields such as {type: command, command: ...}, "
       "found nothing"},
  });
}

TEST_CASE("pipeline: every problem is reported at once, in file order", "[pipeline]") {
  CHECK(parse_error(R"(tpye: pipeline
jobs:
  a:
    command: echo
    retries: two
  b:
    type: trian
    inputs:
      x: ${{parent.jobs.z.outputs.o}}
)") == "pipe.yml:1:1: unknown key 'tpye' in a pipeline job (did you mean 'type'?)\n"
       "pipe.yml:5:14: jobs.a.retries: expected a whole number of at least 0, got 'two'\n"
       "pipe.yml:7:11: unknown step type 'trian' (did you mean 'train'?)\n"
       "pipe.yml:9:10: jobs.b.inputs.x: no step 'z' in jobs");
}

TEST_CASE("pipeline: cloud-only fields of a step are noted, not rejected", "[pipeline]") {
  const PipelineSpec spec = parse(
      "identity: {type: managed}\njobs:\n  t:\n    type: train\n    compute: azureml:gpu\n"
      "    resources: {instance_count: 2}\n");
  CHECK(spec.notices == std::vector<std::string>{
                            "pipe.yml:1:1: 'identity' is ignored when running locally",
                            "pipe.yml:5:5: 'jobs.t.compute' is ignored when running locally",
                            "pipe.yml:6:5: 'jobs.t.resources' is ignored when running locally",
                        });
  CHECK(YAML::Load(spec.steps[0].body_yaml).size() == 0);
}

TEST_CASE("pipeline: malformed YAML is a parse error with line and column", "[pipeline]") {
  CHECK(parse_error("jobs:\n  a:\n    command: [echo\n", ErrorKind::parse) ==
        "pipe.yml:4:1: end of sequence flow not found");
  CHECK(parse_error("- a\n- b\n") == "pipe.yml:1:1: expected a map of pipeline fields, found a sequence");
  CHECK(parse_error("") == "pipe.yml: the pipeline is empty; expected a map with at least 'jobs'");
}

TEST_CASE("pipeline: component inputs are checked against their declarations", "[pipeline]") {
  TempDir dir;
  write_text(dir / "fit.yml", k_small_component);
  write_text(dir / "broken.yml", "type: command\ninputs: [a\n");
  write_text(dir / "odd.yml",
             "type: command\ncommand: echo\nenviroment: x\ninputs:\n  n: {type: integer, default: x}\n");
  const auto error = [&](const std::string& text, ErrorKind kind = ErrorKind::invalid_argument) {
    return parse_error(text, kind, {}, dir.path());
  };
  // missing required input
  CHECK(error("jobs:\n  fit:\n    component: fit.yml\n") == "pipe.yml:2:3: jobs.fit: missing required input 'epochs'");
  // an input the component does not declare
  CHECK(error("jobs:\n  fit:\n    component: fit.yml\n    inputs:\n      epochs: 3\n      dat: x.csv\n") ==
        "pipe.yml:6:7: jobs.fit.inputs.dat: the component declares no input 'dat' (did you mean 'data'?)");
  // a literal of the wrong type
  CHECK(error("jobs:\n  fit:\n    component: fit.yml\n    inputs:\n      epochs: ten\n") ==
        "pipe.yml:5:15: jobs.fit.inputs.epochs: expected an integer, got 'ten'");
  // a pipeline input of the wrong type, both ways
  CHECK(error("inputs:\n  d: {type: uri_file, path: a.csv}\n  n: 3\njobs:\n  fit:\n    component: fit.yml\n"
              "    inputs:\n      epochs: ${{parent.inputs.d}}\n      data: ${{parent.inputs.n}}\n") ==
        "pipe.yml:8:15: jobs.fit.inputs.epochs: expected an integer, got pipeline input 'd' of type uri_file\n"
        "pipe.yml:9:13: jobs.fit.inputs.data: expected a uri_file, got pipeline input 'n' of type integer");
  // a step output may feed any input
  CHECK_NOTHROW(
      parse("jobs:\n  p:\n    command: echo\n    outputs: {n: }\n  fit:\n    component: fit.yml\n"
            "    inputs:\n      epochs: ${{parent.jobs.p.outputs.n}}\n",
            {}, dir.path()));
  // an output the component does not declare
  CHECK(error("jobs:\n  fit:\n    component: fit.yml\n    inputs: {epochs: 1}\n    outputs:\n      model:\n") ==
        "pipe.yml:6:7: jobs.fit.outputs.model: the component declares no output 'model'");
  // problems in the component file name that file
  CHECK(error("jobs:\n  fit:\n    component: broken.yml\n", ErrorKind::parse) ==
        "broken.yml:3:1: end of sequence flow not found");
  CHECK(error("jobs:\n  fit:\n    component: odd.yml\n") ==
        "odd.yml:3:1: unknown key 'enviroment' in a command component (did you mean 'environment'?)\n"
        "odd.yml:5:31: inputs.n.default: expected an integer, got 'x'");
}

TEST_CASE("pipeline: --set replaces an input's value or any field by its path", "[pipeline]") {
  const std::string text = R"(inputs:
  epochs: 20
  lr: {type: number, default: 0.1}
  data: {type: uri_file, path: a.csv}
jobs:
  a:
    command: echo
    inputs:
      n: ${{parent.inputs.epochs}}
)";
  const PipelineSpec spec = parse(
      text, {"epochs=40", "lr=0.5", "data=b/c.csv", "jobs.a.retries=3", "display_name=tuned", "data.type=uri_folder"});
  CHECK(spec.inputs[0].default_value == "40");
  CHECK(spec.inputs[0].type == ValueType::integer);
  CHECK(spec.inputs[0].where.to_string() == at("pipe.yml", 2, 3));  // the key is still where the file has it
  CHECK(spec.inputs[1].default_value == "0.5");
  CHECK(spec.inputs[2].default_value == "/work/pipelines/b/c.csv");
  CHECK(spec.inputs[2].type == ValueType::uri_folder);
  CHECK(spec.steps[0].retries == 3);
  CHECK(spec.display_name == "tuned");

  CHECK(parse(text, {"data=azureml:churn:3"}).inputs[2].default_value == "azureml:churn:3");
  CHECK(parse(text, {"epochs=ten"}).inputs[0].type == ValueType::string);  // a literal takes any form

  // An unknown input, with a suggestion.
  const mlctl::Error unknown = error_from([&] { parse(text, {"epoch=3"}); });
  CHECK(unknown.kind() == ErrorKind::invalid_argument);
  CHECK(std::string(unknown.what()) == "--set: the pipeline has no input 'epoch' (did you mean 'epochs'?)");
  // A typed input keeps its type, and its key's position.
  CHECK(parse_error(text, ErrorKind::invalid_argument, {"lr=fast"}) ==
        "pipe.yml:3:22: inputs.lr: expected a "
        "number, got 'fast'");
  // A value set on a new path has no position.
  CHECK(parse_error(text, ErrorKind::invalid_argument, {"jobs.a.timeout=-5"}) ==
        "pipe.yml: jobs.a.timeout: expected a positive number of seconds, got '-5'");
  CHECK(parse_error(text, ErrorKind::invalid_argument, {"no-equals"}) ==
        "--set 'no-equals': expected PATH=VALUE, such as inputs.lr=0.01");
}

TEST_CASE("pipeline: topological order keeps file order among ready steps", "[pipeline]") {
  const PipelineSpec spec = parse(R"(jobs:
  report:
    command: echo
    needs: [train, evaluate]
  train:
    command: echo
    inputs:
      d: ${{parent.jobs.prep.outputs.clean}}
    outputs: {model: }
  prep:
    command: echo
    outputs: {clean: }
  evaluate:
    command: echo
    inputs:
      m: ${{parent.jobs.train.outputs.model}}
  lint:
    command: echo
)");
  CHECK(spec.steps[0].dependencies() == std::vector<std::string>{"train", "evaluate"});
  CHECK(topological_order(spec) == std::vector<std::string>{"prep", "train", "evaluate", "report", "lint"});
  // Independent steps stay in file order.
  CHECK(topological_order(parse("jobs:\n  c: {command: x}\n  a: {command: x}\n  b: {command: x}\n")) ==
        std::vector<std::string>{"c", "a", "b"});
}
