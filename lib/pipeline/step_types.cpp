#include <mlctl/pipeline/step_types.hpp>

#include <algorithm>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/yaml_overrides.hpp>
#include <mlctl/data/dataset_store.hpp>
#include <mlctl/sweep/search_space.hpp>
#include <mlctl/sweep/sweep_run.hpp>

namespace mlctl::pipeline {
namespace {

namespace fs = std::filesystem;

std::string emit(const YAML::Node& node) {
  YAML::Emitter emitter;
  emitter << node;
  return emitter.c_str();
}

// A job input for a value: an existing absolute path as a uri_file or
// uri_folder input (so the job checks and records it), other text as a
// literal.
YAML::Node job_input(const std::string& value, bool may_be_path) {
  std::error_code ec;
  if (!may_be_path || !fs::path(value).is_absolute() || !fs::exists(value, ec)) return YAML::Node(value);
  YAML::Node input(YAML::NodeType::Map);
  input["type"] = fs::is_directory(value, ec) ? "uri_folder" : "uri_file";
  input["path"] = value;
  return input;
}

tracking::SubmitRequest base_request(const StepInvocation& call) {
  tracking::SubmitRequest request;
  request.job_file = call.step.base_dir / fs::path(call.pipeline.source).filename();
  request.experiment = call.experiment;
  request.parent = call.parent_run_id;
  request.display_name = call.step.name;
  request.timeout_seconds = call.step.timeout_seconds;
  request.working_dir = call.step.base_dir;
  request.resolve_dataset = data::dataset_resolver(call.db, call.artifacts);
  return request;
}

// A command step: an az command job whose inputs are the step's values
// and whose outputs are the step's declared outputs.
tracking::PreparedRun prepare_command(const StepInvocation& call) {
  YAML::Node body = load_yaml(call.step.body_yaml, call.pipeline.source);
  if (!body.IsMap()) body = YAML::Node(YAML::NodeType::Map);
  body["type"] = "command";
  YAML::Node inputs(YAML::NodeType::Map);
  for (const auto& [name, value] : call.inputs) {
    inputs[name] = job_input(value, call.step.inputs.at(name).kind != Binding::Kind::literal);
  }
  body["inputs"] = inputs;
  YAML::Node outputs(YAML::NodeType::Map);
  for (const auto& [name, output] : call.step.outputs) {
    YAML::Node declared(YAML::NodeType::Map);
    declared["type"] = "uri_folder";
    outputs[name] = declared;
  }
  body["outputs"] = outputs;
  tracking::SubmitRequest request = base_request(call);
  request.job_text = emit(body);
  return sweep::prepare_submission(request, call.db, call.artifacts, call.project, call.mlctl_executable);
}

// Overrides from a JSON file of parameters: a sweep's best_params.json
// ({"params": {...}}) or a flat {"name": value} object.
std::vector<std::string> overrides_from_json(const fs::path& file) {
  Json json;
  try {
    json = Json::parse(read_file(file));
  } catch (const Json::parse_error& error) {
    throw Error(ErrorKind::parse, fmt::format("{}: not valid JSON: {}", file.string(), error.what()));
  }
  const Json& params = json.contains("params") ? json["params"] : json;
  std::vector<std::string> overrides;
  if (!params.is_object()) return overrides;
  for (const auto& [name, value] : params.items()) overrides.push_back(name + "=" + sweep::value_text(value));
  return overrides;
}

// A train step: mlctl's train job; each input sets the field it names
// (`data.train`, `learning_rate`), and an input named `best_params` or
// `overrides` (a JSON file, such as a sweep's best_params) sets them all.
tracking::PreparedRun prepare_train(const StepInvocation& call) {
  YAML::Node body = load_yaml(call.step.body_yaml, call.pipeline.source);
  if (!body.IsMap()) body = YAML::Node(YAML::NodeType::Map);
  body["type"] = "train";
  tracking::SubmitRequest request = base_request(call);
  request.job_text = emit(body);
  for (const auto& [name, value] : call.inputs) {
    if (name == "best_params" || name == "overrides") {
      fs::path file = value;
      std::error_code ec;
      if (fs::is_directory(file, ec)) file /= "best_params.json";
      for (auto& assignment : overrides_from_json(file)) request.set_overrides.push_back(std::move(assignment));
    } else {
      request.set_overrides.push_back(name + "=" + value);
    }
  }
  return sweep::prepare_submission(request, call.db, call.artifacts, call.project, call.mlctl_executable);
}

// A sweep step: an az sweep job; its inputs are the sweep's inputs (given
// to a command trial), or set the field they name when it has a dot.
tracking::PreparedRun prepare_sweep(const StepInvocation& call) {
  YAML::Node body = load_yaml(call.step.body_yaml, call.pipeline.source);
  if (!body.IsMap()) body = YAML::Node(YAML::NodeType::Map);
  body["type"] = "sweep";
  tracking::SubmitRequest request = base_request(call);
  for (const auto& [name, value] : call.inputs) {
    if (name.find('.') != std::string::npos) {
      request.set_overrides.push_back(name + "=" + value);
    } else {
      body["inputs"][name] = job_input(value, true);
    }
  }
  request.job_text = emit(body);
  return sweep::prepare_submission(request, call.db, call.artifacts, call.project, call.mlctl_executable);
}

std::string shell_quote(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

// Registry steps run mlctl itself as the step's command, so they get a
// run, a log and a status like any step.
tracking::PreparedRun prepare_mlctl_command(const StepInvocation& call, const std::string& command,
                                            const std::vector<std::string>& outputs) {
  YAML::Node body(YAML::NodeType::Map);
  body["type"] = "command";
  body["command"] = command;
  YAML::Node declared(YAML::NodeType::Map);
  for (const auto& output : outputs) declared[output]["type"] = "uri_folder";
  body["outputs"] = declared;
  tracking::SubmitRequest request = base_request(call);
  request.job_text = emit(body);
  return sweep::prepare_submission(request, call.db, call.artifacts, call.project, call.mlctl_executable);
}

std::string mlctl_prefix(const StepInvocation& call) {
  return shell_quote(call.mlctl_executable) + " --project " + shell_quote(call.project.root.string());
}

std::string required_input(const StepInvocation& call, const std::string& name) {
  auto it = call.inputs.find(name);
  if (it == call.inputs.end() || it->second.empty()) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("{}: step '{}' ({}) needs the input '{}'", call.step.where.to_string(), call.step.name,
                            call.step.type, name));
  }
  return it->second;
}

// A literal path is relative to the pipeline file.
std::string path_input(const StepInvocation& call, const std::string& value) {
  fs::path path(value);
  if (path.is_absolute() || value.rfind("azureml:", 0) == 0) return value;
  std::error_code ec;
  if (fs::exists(call.step.base_dir / path, ec)) return (call.step.base_dir / path).string();
  return value;
}

// evaluate: scores `model` (a registered model or a model folder) on
// `data`; output `metrics` holds metrics.json.
tracking::PreparedRun prepare_evaluate(const StepInvocation& call) {
  std::string command = fmt::format(
      "{} model evaluate {} --data {} -e {} -o json > ${{{{outputs.metrics}}}}/metrics.json", mlctl_prefix(call),
      shell_quote(path_input(call, required_input(call, "model"))),
      shell_quote(path_input(call, required_input(call, "data"))), shell_quote(call.experiment));
  return prepare_mlctl_command(call, command, {"metrics"});
}

// compare: the candidate against the baseline on `data` by `criteria`;
// output `passed` holds true or false (a later step's condition), output
// `report` the comparison as JSON. A failed criterion is not a failed step.
tracking::PreparedRun prepare_compare(const StepInvocation& call) {
  std::string command = fmt::format("{} model compare --candidate {} --data {} --criteria {}", mlctl_prefix(call),
                                    shell_quote(path_input(call, required_input(call, "candidate"))),
                                    shell_quote(path_input(call, required_input(call, "data"))),
                                    shell_quote(path_input(call, required_input(call, "criteria"))));
  if (auto baseline = call.inputs.find("baseline"); baseline != call.inputs.end() && !baseline->second.empty()) {
    command += " --baseline " + shell_quote(path_input(call, baseline->second));
  }
  command +=
      " -o json > ${{outputs.report}}/report.json; code=$?; "
      "if [ $code -eq 0 ]; then echo true; elif [ $code -eq 1 ]; then echo false; else exit $code; fi "
      "> ${{outputs.passed}}/value";
  return prepare_mlctl_command(call, command, {"passed", "report"});
}

// register: registers `model` (a model folder) as the next version of
// `name`, with `alias` when given; output `registered` holds the version.
tracking::PreparedRun prepare_register(const StepInvocation& call) {
  YAML::Node body = load_yaml(call.step.body_yaml, call.pipeline.source);
  std::string name = body["name"] && body["name"].IsScalar() ? body["name"].Scalar() : "";
  if (auto input = call.inputs.find("name"); input != call.inputs.end()) name = input->second;
  if (name.empty()) {
    throw Error(ErrorKind::invalid_argument, fmt::format("{}: register step '{}' needs a model name (name: ...)",
                                                         call.step.where.to_string(), call.step.name));
  }
  std::string command = fmt::format("{} model register --name {} --path {}", mlctl_prefix(call), shell_quote(name),
                                    shell_quote(path_input(call, required_input(call, "model"))));
  // The step that made the model: its datasets and metrics become lineage.
  if (auto producer = call.input_runs.find("model"); producer != call.input_runs.end()) {
    command += " --lineage-run " + shell_quote(producer->second);
  }
  std::string alias = body["alias"] && body["alias"].IsScalar() ? body["alias"].Scalar() : "";
  if (auto input = call.inputs.find("alias"); input != call.inputs.end()) alias = input->second;
  if (!alias.empty()) command += " --alias " + shell_quote(alias);
  if (body["description"] && body["description"].IsScalar()) {
    command += " --description " + shell_quote(body["description"].Scalar());
  }
  command += " --tag " + shell_quote("mlctl.pipeline_run=" + call.parent_run_id);
  command += " -o json > ${{outputs.registered}}/model.json";
  return prepare_mlctl_command(call, command, {"registered"});
}

// deploy: creates the service, or points it at the model when it exists
// (`mlctl service deploy`). `model` is a registered reference, or the
// folder a register step outputs; output `deployed` holds service.json.
tracking::PreparedRun prepare_deploy(const StepInvocation& call) {
  YAML::Node body = load_yaml(call.step.body_yaml, call.pipeline.source);
  auto setting = [&](const char* key) {
    if (auto input = call.inputs.find(key); input != call.inputs.end()) return input->second;
    return body[key] && body[key].IsScalar() ? body[key].Scalar() : std::string();
  };
  const std::string service = setting("service");
  if (service.empty()) {
    throw Error(ErrorKind::invalid_argument, fmt::format("{}: deploy step '{}' needs a service name (service: ...)",
                                                         call.step.where.to_string(), call.step.name));
  }
  const std::string environment = setting("environment").empty() ? "staging" : setting("environment");
  std::string command = fmt::format("{} service deploy --name {} --env {}", mlctl_prefix(call), shell_quote(service),
                                    shell_quote(environment));
  const std::string model = path_input(call, required_input(call, "model"));
  std::error_code ec;
  if (fs::is_directory(model, ec)) {
    command += " --model-json " + shell_quote((fs::path(model) / "model.json").string());
  } else if (fs::is_regular_file(model, ec)) {
    command += " --model-json " + shell_quote(model);
  } else {
    command += " --model " + shell_quote(model);
  }
  for (const char* key : {"threads", "max_batch", "max_delay_ms"}) {
    std::string value = setting(key);
    if (value.empty()) continue;
    std::string flag = key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    command += fmt::format(" --{} {}", flag, shell_quote(value));
  }
  command += " -o json > ${{outputs.deployed}}/service.json";
  return prepare_mlctl_command(call, command, {"deployed"});
}

const std::vector<std::string> k_command_keys = {"command", "code", "environment_variables", "display_name",
                                                 "description", "tags", "limits", "experiment_name", "name",
                                                 "properties", "$schema"};
const std::vector<std::string> k_train_keys = {
    "task", "data", "label", "features", "validation_fraction", "test_fraction", "model", "learning_rate",
    "num_epochs", "batch_size", "optimizer", "momentum", "weight_decay", "early_stopping", "seed", "device",
    "threads", "display_name", "description", "tags", "experiment_name", "$schema"};
const std::vector<std::string> k_sweep_keys = {"trial", "search_space", "sampling_algorithm", "objective", "limits",
                                               "early_termination", "display_name", "description", "tags",
                                               "experiment_name", "$schema", "name", "properties"};

}  // namespace

const std::vector<StepType>& step_types() {
  static const std::vector<StepType> types = {
      {{"command", k_command_keys, {}}, prepare_command},
      {{"train", k_train_keys, {"model", "evaluation"}}, prepare_train},
      {{"sweep", k_sweep_keys, {"best_params"}}, prepare_sweep},
      {{"evaluate", {"display_name", "description"}, {"metrics"}, false}, prepare_evaluate},
      {{"compare", {"display_name", "description"}, {"passed", "report"}, false}, prepare_compare},
      {{"register", {"name", "alias", "description", "display_name"}, {"registered"}, false}, prepare_register},
      {{"deploy", {"service", "environment", "threads", "max_batch", "max_delay_ms", "description", "display_name"},
        {"deployed"}, false},
       prepare_deploy},
  };
  return types;
}

std::vector<std::string> check_step_requirements(const PipelineSpec& spec) {
  std::vector<std::string> problems;
  for (const auto& step : spec.steps) {
    YAML::Node body = load_yaml(step.body_yaml, spec.source);
    auto problem = [&](const std::string& text) {
      problems.push_back(fmt::format("{}: jobs.{}: {}", step.where.to_string(), step.name, text));
    };
    auto has_input = [&](const char* name) { return step.inputs.count(name) > 0; };
    if (step.type == "command") {
      if (!body["command"] || !body["command"].IsScalar() || body["command"].Scalar().empty()) {
        problem("a command step needs a 'command'");
      }
      if (body["code"] && body["code"].IsScalar()) {
        fs::path code = fs::path(body["code"].Scalar()).is_absolute() ? fs::path(body["code"].Scalar())
                                                                       : step.base_dir / body["code"].Scalar();
        std::error_code ec;
        if (!fs::is_directory(code, ec)) problem(fmt::format("code folder '{}' does not exist", code.string()));
      }
    } else if (step.type == "evaluate") {
      for (const char* name : {"model", "data"}) {
        if (!has_input(name)) problem(fmt::format("an evaluate step needs the input '{}'", name));
      }
    } else if (step.type == "compare") {
      for (const char* name : {"candidate", "data", "criteria"}) {
        if (!has_input(name)) problem(fmt::format("a compare step needs the input '{}'", name));
      }
    } else if (step.type == "register") {
      if (!has_input("model")) problem("a register step needs the input 'model'");
      if (!has_input("name") && !(body["name"] && body["name"].IsScalar())) problem("a register step needs a 'name'");
    } else if (step.type == "deploy") {
      if (!has_input("model")) problem("a deploy step needs the input 'model'");
      if (!has_input("service") && !(body["service"] && body["service"].IsScalar())) {
        problem("a deploy step needs a 'service' name");
      }
    }
  }
  return problems;
}

std::vector<StepTypeInfo> step_type_infos() {
  std::vector<StepTypeInfo> infos;
  for (const auto& type : step_types()) infos.push_back(type.info);
  return infos;
}

const StepType* find_step_type(std::string_view name) {
  for (const auto& type : step_types()) {
    if (type.info.name == name) return &type;
  }
  return nullptr;
}

}  // namespace mlctl::pipeline
