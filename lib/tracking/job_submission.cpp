#include <mlctl/tracking/job_submission.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/git_info.hpp>
#include <mlctl/core/yaml_overrides.hpp>
#include <mlctl/tracking/command_job.hpp>

namespace mlctl::tracking {
namespace {

// az ml runs a job's command through bash; so do we when it exists.
std::vector<std::string> shell_command(const std::string& text) {
  const char* shell = ::access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh";
  return {shell, "-c", text};
}

void check_input_paths(const CommandJobSpec& job) {
  for (const auto& [name, input] : job.inputs) {
    if (input.kind == JobInput::Kind::dataset) continue;
    if (input.kind == JobInput::Kind::literal) continue;
    std::error_code ec;
    bool is_dir = std::filesystem::is_directory(input.value, ec);
    bool exists = std::filesystem::exists(input.value, ec);
    if (!exists || (input.kind == JobInput::Kind::uri_file && is_dir) ||
        (input.kind == JobInput::Kind::uri_folder && !is_dir)) {
      throw Error(ErrorKind::not_found,
                  fmt::format("{}:{}:{}: input '{}' expects {} '{}', which {}", job.source, input.line, input.column,
                              name, input.kind == JobInput::Kind::uri_file ? "a file" : "a directory", input.value,
                              exists ? "is not one" : "does not exist"));
    }
  }
}

void prepare_job_file(const SubmitRequest& request, const store::ProjectPaths& project, PreparedRun& prepared,
                      LaunchSpec& launch) {
  const std::filesystem::path& file = *request.job_file;
  std::error_code ec;
  if (!request.job_text && !std::filesystem::exists(file, ec)) {
    throw Error(ErrorKind::not_found, fmt::format("job file '{}' does not exist", file.string()));
  }
  if (!request.job_text && std::filesystem::is_directory(file, ec)) {
    throw Error(ErrorKind::invalid_argument, fmt::format("job file '{}' is a directory, not a YAML file", file.string()));
  }
  std::string text = request.job_text ? *request.job_text : read_file(file);
  std::filesystem::path base_dir = std::filesystem::absolute(file).parent_path();
  CommandJobSpec job = parse_command_job(text, file.string(), base_dir, request.set_overrides);
  check_input_paths(job);
  if (!std::filesystem::is_directory(job.code_dir, ec)) {
    throw Error(ErrorKind::not_found,
                fmt::format("{}: code directory '{}' does not exist", job.source, job.code_dir.string()));
  }

  RunDirectory dir = RunDirectory::of(project, *prepared.run.id);
  std::map<std::string, std::string> input_values, output_paths;
  for (const auto& [name, input] : job.inputs) input_values[name] = input.value;
  for (const auto& [name, input] : job.inputs) {
    if (input.kind != JobInput::Kind::dataset) continue;
    if (!request.resolve_dataset) {
      throw Error(ErrorKind::not_supported, fmt::format("{}:{}:{}: input '{}' refers to dataset '{}', which this command cannot resolve",
                                                        job.source, input.line, input.column, name, input.value));
    }
    ResolvedDataset dataset;
    try {
      dataset = request.resolve_dataset(input.value);
    } catch (const Error& error) {
      throw Error(error.kind(), fmt::format("{}:{}:{}: input '{}': {}", job.source, input.line, input.column, name,
                                            error.what()),
                  error.hint());
    }
    // The job sees the file under its registered name, in the run's
    // directory; the link points at the verified, read-only blob.
    std::filesystem::path link = dir.root / "inputs" / name / dataset.file_name;
    std::filesystem::create_directories(link.parent_path(), ec);
    std::filesystem::remove(link, ec);
    std::filesystem::create_symlink(dataset.file, link, ec);
    if (ec) throw Error(ErrorKind::io, fmt::format("cannot link input '{}' into '{}': {}", name, link.string(), ec.message()));
    input_values[name] = link.string();
    prepared.run.dataset_inputs.emplace_back(name, dataset.row_id);
    prepared.run.tags.emplace_back("mlctl.input." + name, dataset.ref);
  }
  for (const auto& [name, output] : job.outputs) {
    output_paths[name] = (dir.outputs / name).string();
    launch.outputs.push_back(name);
  }
  std::string command = resolve_command(job.command, input_values, output_paths, job.source);

  prepared.notices = job.notices;
  prepared.run.command = shell_command(command);
  prepared.run.experiment = request.experiment ? *request.experiment
                            : !job.experiment_name.empty() ? job.experiment_name
                                                           : request.default_experiment;
  prepared.run.display_name = request.display_name.value_or(job.display_name);
  prepared.run.description = request.description.value_or(job.description);
  launch.working_dir = job.code_dir.string();
  launch.environment = job.environment_variables;
  launch.timeout_seconds = request.timeout_seconds ? request.timeout_seconds : job.timeout_seconds;
  // Literal inputs are the job's parameters; paths are recorded as tags.
  for (const auto& [name, input] : job.inputs) {
    if (input.kind == JobInput::Kind::literal) {
      prepared.run.params.emplace_back(name, input.value);
    } else if (input.kind != JobInput::Kind::dataset) {
      prepared.run.tags.emplace_back("mlctl.input." + name, input.value);
    }
  }
  for (const auto& [key, value] : job.tags) prepared.run.tags.emplace_back(key, value);
  prepared.run.tags.emplace_back("mlctl.job_file", std::filesystem::absolute(file).string());
}

}  // namespace

PreparedRun prepare_run(const SubmitRequest& request, const store::ProjectPaths& project) {
  if (request.job_file && !request.command.empty()) {
    throw Error(ErrorKind::invalid_argument, "give either a job file (-f) or a command after '--', not both");
  }
  if (!request.job_file && request.command.empty()) {
    throw Error(ErrorKind::invalid_argument, "nothing to run: give a job file with -f or a command after '--'",
                "mlctl experiment submit --experiment demo -- python train.py");
  }
  if (!request.job_file && !request.set_overrides.empty()) {
    throw Error(ErrorKind::invalid_argument, "--set applies to a job file (-f); pass values as --param instead");
  }
  if (request.timeout_seconds && *request.timeout_seconds <= 0) {
    throw Error(ErrorKind::invalid_argument, "--timeout must be a positive number of seconds");
  }
  PreparedRun prepared;
  prepared.run.id = new_run_id();
  LaunchSpec launch;
  if (request.job_file) {
    prepare_job_file(request, project, prepared, launch);
  } else {
    prepared.run.command = request.command;
    prepared.run.experiment = request.experiment.value_or(request.default_experiment);
    prepared.run.display_name = request.display_name.value_or("");
    prepared.run.description = request.description.value_or("");
    launch.working_dir = request.working_dir.string();
    launch.timeout_seconds = request.timeout_seconds;
  }
  launch.argv = prepared.run.command.get<std::vector<std::string>>();
  prepared.run.working_dir = launch.working_dir;
  prepared.run.git_commit = find_git_commit(launch.working_dir);
  prepared.run.parent_id = request.parent;
  prepared.run.spec = launch.to_json();
  for (const auto& param : request.params) prepared.run.params.push_back(param);
  for (const auto& tag : request.tags) prepared.run.tags.push_back(tag);
  return prepared;
}

}  // namespace mlctl::tracking
