#pragma once

// The step types a pipeline can use, registered in one table
// (step_types()), so adding a type touches no scheduler code. A type says
// which keys its body takes and turns a step, with its inputs resolved to
// values and paths, into the child run that executes it.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <mlctl/pipeline/pipeline_spec.hpp>
#include <mlctl/store/artifact_store.hpp>
#include <mlctl/store/db.hpp>
#include <mlctl/store/project.hpp>
#include <mlctl/tracking/job_submission.hpp>

namespace mlctl::pipeline {

// What a step type gets to build a step's run.
struct StepInvocation {
  const PipelineSpec& pipeline;
  const StepSpec& step;
  // Input name -> its value: literal text, or an absolute path (a file, or
  // a folder of an upstream step's output), or a dataset/model reference.
  std::map<std::string, std::string> inputs;
  // Input name -> the run of the step whose output it is (lineage).
  std::map<std::string, std::string> input_runs;
  std::string experiment;
  std::string parent_run_id;
  store::Db& db;
  store::ArtifactStore& artifacts;
  const store::ProjectPaths& project;
  std::string mlctl_executable;
};

struct StepType {
  StepTypeInfo info;
  // Builds (does not store) the run of a step. Throws Error naming the
  // step for a body the type cannot run.
  std::function<tracking::PreparedRun(const StepInvocation&)> prepare;
};

// Every step type: command, train, sweep, evaluate, compare, register, deploy.
const std::vector<StepType>& step_types();
std::vector<StepTypeInfo> step_type_infos();
const StepType* find_step_type(std::string_view name);

// What each step type needs beyond the document's shape, checked before
// anything runs: a command (and an existing code folder) for command
// steps, the inputs evaluate, compare, register and deploy read, a name to
// register under, a service to deploy to. One line per problem, "FILE:L:C: jobs.NAME: ...".
std::vector<std::string> check_step_requirements(const PipelineSpec& spec);

}  // namespace mlctl::pipeline
