#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace YAML {
class Node;
}

namespace mlctl::tracking {

// One entry of a job's `inputs`.
struct JobInput {
  enum class Kind { literal, uri_file, uri_folder, dataset };
  Kind kind = Kind::literal;
  // Literal text (numbers and booleans as written); the absolute, normalised
  // path for uri_file and uri_folder; "NAME:VERSION" for a registered dataset,
  // where VERSION may be "latest".
  std::string value;
  // 1-based position of the input's name in the job file, for later errors
  // ("the file does not exist"); 0 when --set added the input.
  int line = 0, column = 0;
};

// One entry of a job's `outputs`; mlctl creates a directory for each.
struct JobOutput {
  std::string type = "uri_folder";  // uri_folder, uri_file, mltable, mlflow_model, custom_model
};

// A command job as written in Azure ML CLI v2 YAML
// (https://azuremlschemas.azureedge.net/latest/commandJob.schema.json), so a
// job written for Azure ML runs locally.
struct CommandJobSpec {
  std::string source;              // job file name, for messages
  std::string command;             // with ${{...}} placeholders unresolved
  std::filesystem::path code_dir;  // absolute and normalised
  std::map<std::string, JobInput> inputs;
  std::map<std::string, JobOutput> outputs;
  std::map<std::string, std::string> environment_variables;
  std::string name;  // the job's unique name, if the file gives one
  std::string experiment_name, display_name, description;
  std::map<std::string, std::string> tags;
  std::map<std::string, std::string> properties;
  std::optional<double> timeout_seconds;  // limits.timeout
  // Cloud-only fields that were accepted and will be ignored, one line each:
  // "job.yml:9:1: 'compute' is ignored when running locally".
  std::vector<std::string> notices;
};

// Fields of a command job that only the cloud honours ("environment",
// "compute", ...): accepted and ignored when running locally.
const std::vector<std::string>& cloud_only_command_fields();

// Whether `name` may name a job input or output: inputs and outputs become
// ${{inputs.NAME}} placeholders and directory names, so they follow az's
// rule, a Python identifier. Pure.
bool is_identifier(std::string_view name);

// The top-level `type` of a job document: its text, or "command" when absent,
// null or empty (as az does) or when `root` is not a map (the job parser then says
// what is wrong). Throws Error(invalid_argument) "SOURCE:LINE:COL: 'type' must
// be a string ..." when it is a map or a sequence.
std::string job_type(const YAML::Node& root, std::string_view source_name = {});

// Parses a command job from YAML text. `source_name` prefixes every message;
// `base_dir` is the directory of the job file, against which `code` and input
// paths are resolved (made absolute first if relative). `overrides` are
// `--set PATH=VALUE` assignments (see apply_override) applied to the tree
// before it is read; values they set have no line in messages.
// Paths are resolved, not checked: whether they exist is the caller's
// business, so parsing touches no file.
// Throws Error(parse) for malformed YAML ("job.yml:3:5: <yaml-cpp message>")
// and for a --set value that is not valid YAML; Error(invalid_argument) for a
// bad --set, and for every problem in the job at once, one per line
// ("job.yml:4:1: unknown key 'comand' (did you mean 'command'?)");
// Error(not_supported) for fields only the cloud can honour, such as a code
// asset or a datastore URI. Pure and thread-safe.
CommandJobSpec parse_command_job(std::string_view yaml_text, std::string_view source_name,
                                 const std::filesystem::path& base_dir,
                                 const std::vector<std::string>& overrides = {});

// The same, from a document already loaded (by load_yaml, so marks are set).
CommandJobSpec parse_command_job(const YAML::Node& root, std::string_view source_name,
                                 const std::filesystem::path& base_dir);

// Substitutes the placeholders of a job's command: ${{inputs.NAME}} by
// input_values[NAME] (literal text or a path) and ${{outputs.NAME}} by
// output_paths[NAME]; whitespace inside the braces is allowed
// (`${{ inputs.x }}`). Values are inserted verbatim, not shell-quoted: the
// command may already quote them, as az commands do.
// An optional block `$[[ --flag ${{inputs.x}} ]]` is kept, without its
// brackets, when every input and output it refers to is given, and dropped
// otherwise.
// Throws Error(invalid_argument) "SOURCE: command refers to ${{inputs.lr}} but
// the job has no input 'lr' (did you mean 'lr0'?)" for an unknown name outside
// an optional block, and for another namespace, an unclosed `${{` or `$[[`,
// or a nested `$[[`. Pure and thread-safe.
std::string resolve_command(std::string_view command,
                            const std::map<std::string, std::string>& input_values,
                            const std::map<std::string, std::string>& output_paths,
                            std::string_view source_name);

}  // namespace mlctl::tracking
