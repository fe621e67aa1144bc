#pragma once

// A pipeline: a YAML DAG of steps in the az ml v2 pipeline-job format
// (https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json), so
// a pipeline written for Azure ML runs locally:
//
//   type: pipeline
//   display_name: train-tune
//   experiment_name: churn
//   inputs:                                  # pipeline parameters
//     data: {type: uri_file, path: ../examples/churn/data/breast_cancer.csv}
//     epochs: 20                             # a literal
//   outputs:
//     model: ${{parent.jobs.train.outputs.model}}   (or {type: uri_folder})
//   settings: {continue_on_step_failure: false, force_rerun: false, default_compute: azureml:cpu}
//   jobs:
//     prep:
//       type: command                        # the default
//       code: src
//       command: python prep.py --in ${{inputs.raw}} --out ${{outputs.clean}}
//       inputs:
//         raw: ${{parent.inputs.data}}         # (inside a flow map {..} quote it)
//       outputs: {clean: {type: uri_folder}}
//     train:
//       component: ./train.yml               # a command component file
//       inputs:
//         data: ${{parent.jobs.prep.outputs.clean}}
//         epochs: ${{parent.inputs.epochs}}
//       needs: [prep]                        # mlctl: order without data
//       retries: 1                           # mlctl
//       timeout: 600                         # mlctl, seconds
//       reuse: true                          # mlctl; a component's is_deterministic means the same
//       condition: ${{parent.jobs.gate.outputs.passed}}   # mlctl: run only if true
//
// Parsing checks the document on its own (keys, types, references,
// cycles); what a step type needs beyond the common fields is checked by
// that type (StepTypes). Pure apart from reading component files.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mlctl/core/json.hpp>

namespace YAML {
class Node;
}

namespace mlctl::pipeline {

// A place in a file, for messages: "pipelines/retrain.yml:12:5".
struct Location {
  std::string file;
  int line = 0, column = 0;  // 1-based; 0 when unknown (a value set by --set)
  std::string to_string() const;
};

// Typed values a pipeline input, a step input or an output has.
// string, number, integer, boolean: literals; uri_file, uri_folder,
// mlflow_model, custom_model: paths (datasets "azureml:NAME:V" and
// models "azureml:NAME@ALIAS" are accepted as uri_file / custom_model).
enum class ValueType { string, number, integer, boolean, uri_file, uri_folder, mlflow_model, custom_model };
const char* to_string(ValueType type) noexcept;
bool is_path_type(ValueType type) noexcept;

struct PipelineInput {
  std::string name;
  ValueType type = ValueType::string;
  std::optional<std::string> default_value;  // literal text, an absolute path, or a dataset/model reference
  std::string description;
  bool optional = false;
  Location where;
};

struct PipelineOutput {
  std::string name;
  ValueType type = ValueType::uri_folder;
  // ${{parent.jobs.STEP.outputs.NAME}} that this output is; empty when the
  // output is only declared and a step binds to it.
  std::string step, step_output;
  Location where;
};

// What a step input (or `condition`) is bound to.
struct Binding {
  enum class Kind { literal, parent_input, step_output };
  Kind kind = Kind::literal;
  std::string literal;          // Kind::literal: the text (paths made absolute for path-typed inputs)
  std::string name;             // parent_input: the pipeline input; step_output: the output name
  std::string step;             // step_output: the producing step
  Location where;
};

struct StepOutput {
  std::string name;
  ValueType type = ValueType::uri_folder;
  // ${{parent.outputs.NAME}}: the pipeline output this step output is.
  std::optional<std::string> pipeline_output;
  Location where;
};

struct StepSpec {
  std::string name;
  std::string type = "command";
  Location where;  // the step's key under `jobs`
  // The step's own job document (its fields other than the common ones
  // below, with a component file's fields merged in: the step's win),
  // as YAML text the step type reads; relative paths in it are resolved
  // against `base_dir`.
  std::string body_yaml;
  std::filesystem::path base_dir;
  std::optional<std::filesystem::path> component_file;
  std::map<std::string, Binding> inputs;
  std::map<std::string, StepOutput> outputs;
  std::vector<std::string> needs;   // explicit order, beside the bindings
  int retries = 0;
  std::optional<double> timeout_seconds;
  bool reuse = true;
  std::optional<Binding> condition;  // step_output (a boolean) or a literal true/false

  // Steps this one depends on: `needs`, the steps of its input bindings
  // and of its condition, without duplicates, in first-mention order.
  std::vector<std::string> dependencies() const;
};

struct PipelineSettings {
  bool continue_on_step_failure = false;
  bool force_rerun = false;
};

struct PipelineSpec {
  std::string source;  // file name for messages
  std::filesystem::path base_dir;
  std::string display_name, description, experiment_name;
  std::map<std::string, std::string> tags;
  std::vector<PipelineInput> inputs;     // file order
  std::vector<PipelineOutput> outputs;   // file order
  PipelineSettings settings;
  std::vector<StepSpec> steps;           // file order
  std::vector<std::string> notices;      // cloud-only fields ignored ("... is ignored when running locally")

  const StepSpec* find_step(std::string_view name) const;
  const PipelineInput* find_input(std::string_view name) const;
};

// What the parser needs to know of the step types (the registry lives in
// the executor's domain): the type names, and for each the keys its body
// may hold (beyond the common ones) and its output names when fixed (for
// reference checks; empty: any the step declares).
struct StepTypeInfo {
  std::string name;
  std::vector<std::string> body_keys;
  std::vector<std::string> fixed_outputs;
  // False for types whose result depends on more than their inputs (the
  // registry's state) or that change it: they are never reused.
  bool reusable = true;
};

// Parses and validates a pipeline file. `overrides` are `--set NAME=VALUE`
// assignments of pipeline inputs (`data=azureml:spam:3`, `epochs=40`) or of
// any field by its dotted path (`jobs.train.retries=2`): a first segment
// naming an input sets that input's value.
// Every problem is collected and reported at once, one per line, each with
// file:line:column: malformed YAML (Error(parse)), unknown keys (with a
// did-you-mean), unknown step types, references to missing steps, inputs
// or outputs, type mismatches between a binding and an input's type,
// cycles (naming the steps in order: "a -> b -> c -> a"), missing
// required inputs (no default, not optional), duplicate names.
// Throws Error(invalid_argument) for those (Error(parse) when the first is
// malformed YAML). `types` lists the step types; a step type may be
// `component` only when it is command.
PipelineSpec parse_pipeline(std::string_view yaml_text, std::string_view source_name,
                            const std::filesystem::path& base_dir, const std::vector<StepTypeInfo>& types,
                            const std::vector<std::string>& overrides = {});

// The steps in an order where each comes after its dependencies (file order
// among independent ones). The spec is assumed valid (no cycle).
std::vector<std::string> topological_order(const PipelineSpec& spec);

}  // namespace mlctl::pipeline
