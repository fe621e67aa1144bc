#include <mlctl/pipeline/pipeline_run.hpp>
#include <mlctl/pipeline/published_pipelines.hpp>

#include <algorithm>
#include <csignal>
#include <map>
#include <set>

#include <fmt/format.h>
#include <sys/wait.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/signal_waiter.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/git_info.hpp>
#include <mlctl/core/process.hpp>
#include <mlctl/core/sha256.hpp>
#include <mlctl/core/version.hpp>
#include <mlctl/core/yaml_overrides.hpp>
#include <mlctl/data/dataset_store.hpp>
#include <mlctl/pipeline/input_hashes.hpp>
#include <mlctl/pipeline/pipeline_spec.hpp>
#include <mlctl/pipeline/step_types.hpp>
#include <mlctl/tracking/liveness.hpp>
#include <mlctl/tracking/run_control.hpp>
#include <mlctl/tracking/run_store.hpp>
#include <mlctl/tracking/run_supervisor.hpp>

namespace mlctl::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_step_tag = "mlctl.pipeline.step";
constexpr const char* k_name_tag = "mlctl.pipeline.name";
constexpr const char* k_key_tag = "mlctl.pipeline.cache_key";
constexpr const char* k_parts_tag = "mlctl.pipeline.key_parts";
constexpr const char* k_reused_tag = "mlctl.pipeline.reused_from";
constexpr const char* k_reuse_off_tag = "mlctl.pipeline.reuse";

PipelineSpec spec_of_run(const tracking::Run& run) {
  const Json& stored = run.spec.at("pipeline");
  return parse_pipeline(stored.at("yaml").get<std::string>(), stored.at("source").get<std::string>(),
                        stored.at("base_dir").get<std::string>(), step_type_infos(),
                        stored.at("overrides").get<std::vector<std::string>>());
}

std::string pipeline_name(const PipelineSpec& spec) {
  return !spec.display_name.empty() ? spec.display_name : fs::path(spec.source).stem().string();
}


struct StepState {
  enum class Phase { waiting, running, done } phase = Phase::waiting;
  std::string outcome;  // completed, reused, failed, skipped, canceled
  std::string run_id;
  std::int64_t row_id = 0;
  pid_t supervisor = 0;
  int attempts = 0;
  std::map<std::string, std::string> outputs;  // name -> path handed to consumers
};

class PipelineWorker {
 public:
  PipelineWorker(store::Db& db, store::ArtifactStore& artifacts, const store::ProjectPaths& project,
                 std::string_view run_id, const std::function<void(std::string_view)>& on_event)
      : m_db(db), m_artifacts(artifacts), m_project(project), m_runs(db), m_on_event(on_event) {
    m_run = m_runs.get(run_id);
    m_spec = spec_of_run(m_run);
    const Json& stored = m_run.spec.at("pipeline");
    m_max_parallel = std::max(1, stored.value("max_parallel", 4));
    m_no_reuse = stored.value("no_reuse", false) || m_spec.settings.force_rerun;
    m_order = topological_order(m_spec);
    m_executable = current_executable();
    m_steps_dir = tracking::RunDirectory::of(project, m_run.id).root / "steps";
  }

  PipelineOutcome run(const fs::path& outputs_dir) {
    SignalWaiter signals;
    load_earlier_attempt();
    bool stopping = false;
    while (true) {
      reap();
      if (!stopping) launch(signals.previous());
      std::size_t running = count(StepState::Phase::running);
      if (running == 0 && (stopping || count(StepState::Phase::waiting) == 0)) break;
      if (running == 0 && !stopping) {
        // Nothing runs and nothing could start: the rest wait on failures.
        skip_blocked();
        continue;
      }
      int signal_number = signals.wait(200);
      if (signal_number == SIGINT || signal_number == SIGTERM || signal_number == SIGHUP) {
        stopping = true;
        event("stopping: interrupted");
        for (auto& [name, state] : m_state) {
          if (state.phase == StepState::Phase::running) ::kill(state.supervisor, SIGTERM);
        }
      }
    }
    publish_outputs(outputs_dir);
    PipelineOutcome outcome;
    for (const auto& [name, state] : m_state) {
      if (state.outcome == "completed") ++outcome.completed;
      if (state.outcome == "reused") ++outcome.reused;
      if (state.outcome == "failed" || state.outcome == "canceled") ++outcome.failed;
      if (state.outcome == "skipped") ++outcome.skipped;
    }
    event(fmt::format("{} steps: {} ran, {} reused, {} failed, {} skipped", m_order.size(), outcome.completed,
                      outcome.reused, outcome.failed, outcome.skipped));
    if (stopping) throw Error(ErrorKind::failed, "pipeline interrupted");
    if (outcome.failed > 0) throw Error(ErrorKind::failed, fmt::format("{} step(s) failed", outcome.failed));
    return outcome;
  }

 private:
  std::size_t count(StepState::Phase phase) {
    std::size_t n = 0;
    for (const auto& name : m_order) n += m_state[name].phase == phase;
    return n;
  }

  void event(const std::string& line) {
    if (m_on_event) m_on_event(line);
  }

  // Steps that completed in an earlier attempt of this run (before a
  // resume) are kept; the others run again.
  void load_earlier_attempt() {
    tracking::reap_dead_runs(m_runs);
    tracking::RunListQuery query;
    query.parent_id = m_run.id;
    query.order_by = "created_at asc";
    m_runs.list(query, [&](const tracking::Run& child) {
      auto step = child.tags.find(k_step_tag);
      if (step == child.tags.end() || !m_spec.find_step(step->second)) return;
      if (child.status != tracking::RunStatus::completed) return;
      StepState& state = m_state[step->second];
      state.phase = StepState::Phase::done;
      state.outcome = child.tags.count(k_reused_tag) ? "reused" : "completed";
      state.run_id = child.id;
      state.row_id = child.row_id;
    });
    for (auto& [name, state] : m_state) {
      if (state.phase == StepState::Phase::done) {
        collect_outputs(name, state);
        event(fmt::format("{}: kept from the earlier attempt (run {})", name, state.run_id));
      }
    }
  }

  // Downloads a finished step's outputs where consumers read them.
  void collect_outputs(const std::string& name, StepState& state) {
    const StepSpec& step = *m_spec.find_step(name);
    std::vector<std::string> names;
    for (const auto& [output, declared] : step.outputs) names.push_back(output);
    if (names.empty()) {
      if (const StepType* type = find_step_type(step.type)) names = type->info.fixed_outputs;
    }
    std::vector<tracking::ArtifactRecord> records = m_runs.artifacts(state.row_id);
    for (const auto& output : names) {
      fs::path dir = m_steps_dir / name / output;
      std::error_code ec;
      fs::remove_all(dir, ec);
      fs::create_directories(dir, ec);
      std::string folder = "outputs/" + output + "/";
      std::string file_prefix = "outputs/" + output + ".";
      for (const auto& record : records) {
        if (record.path.rfind(folder, 0) == 0) {
          fs::path target = dir / record.path.substr(folder.size());
          fs::create_directories(target.parent_path(), ec);
          m_artifacts.copy_out(record.digest, target);
        } else if (record.path.rfind(file_prefix, 0) == 0 && record.path.find('/', file_prefix.size()) == std::string::npos) {
          m_artifacts.copy_out(record.digest, dir / record.path.substr(std::string("outputs/").size()));
        }
      }
      // A folder holding one file is handed on as that file (a uri_file).
      std::vector<fs::path> files;
      for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec)) files.push_back(it->path());
      }
      state.outputs[output] = files.size() == 1 ? files.front().string() : dir.string();
    }
  }

  // The value of a binding, or nullopt while its step has not produced it.
  std::optional<std::string> value_of(const Binding& binding) {
    switch (binding.kind) {
      case Binding::Kind::literal:
        return binding.literal;
      case Binding::Kind::parent_input: {
        const PipelineInput* input = m_spec.find_input(binding.name);
        if (!input || !input->default_value) return std::string();
        return *input->default_value;
      }
      case Binding::Kind::step_output: {
        StepState& producer = m_state[binding.step];
        if (producer.phase != StepState::Phase::done) return std::nullopt;
        auto it = producer.outputs.find(binding.name);
        if (it == producer.outputs.end()) return std::string();
        return it->second;
      }
    }
    return std::nullopt;
  }

  bool succeeded(const std::string& name) {
    const StepState& state = m_state[name];
    return state.phase == StepState::Phase::done && (state.outcome == "completed" || state.outcome == "reused");
  }

  bool condition_holds(const StepSpec& step) {
    if (!step.condition) return true;
    auto value = value_of(*step.condition);
    std::string text = value.value_or("false");
    std::error_code ec;
    if (fs::is_regular_file(text, ec)) text = read_file(text);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    return text == "true" || text == "True" || text == "1";
  }

  void launch(const sigset_t& mask) {
    for (const auto& name : m_order) {
      if (count(StepState::Phase::running) >= std::size_t(m_max_parallel)) return;
      StepState& state = m_state[name];
      if (state.phase != StepState::Phase::waiting) continue;
      const StepSpec& step = *m_spec.find_step(name);
      auto dependencies = step.dependencies();
      bool ready = std::all_of(dependencies.begin(), dependencies.end(),
                               [&](const std::string& d) { return m_state[d].phase == StepState::Phase::done; });
      if (!ready) continue;
      for (const auto& dependency : dependencies) {
        if (!succeeded(dependency)) {
          finish_without_running(name, "skipped", fmt::format("'{}' did not succeed", dependency));
          break;
        }
      }
      if (state.phase == StepState::Phase::done) continue;
      if (!condition_holds(step)) {
        finish_without_running(name, "skipped", "its condition is false");
        continue;
      }
      start(name, step, state, mask);
    }
  }

  void finish_without_running(const std::string& name, const std::string& outcome, const std::string& why) {
    StepState& state = m_state[name];
    state.phase = StepState::Phase::done;
    state.outcome = outcome;
    event(fmt::format("{}: {} ({})", name, outcome, why));
  }

  void skip_blocked() {
    for (const auto& name : m_order) {
      if (m_state[name].phase == StepState::Phase::waiting) finish_without_running(name, "skipped", "an earlier step failed");
    }
  }

  void start(const std::string& name, const StepSpec& step, StepState& state, const sigset_t& mask) {
    const StepType* type = find_step_type(step.type);
    std::map<std::string, std::string> inputs;
    std::map<std::string, std::string> input_runs;
    for (const auto& [input, binding] : step.inputs) {
      inputs[input] = value_of(binding).value_or("");
      if (binding.kind == Binding::Kind::step_output && !m_state[binding.step].run_id.empty()) {
        input_runs[input] = m_state[binding.step].run_id;
      }
    }

    // The cache key: what the step does and what it reads.
    Json parts = Json::object();
    parts["type"] = step.type;
    parts["body"] = sha256_hex(step.body_yaml);
    InputHasher hasher(m_db);
    // What the body names by path (a code folder, a data file, a trial
    // file) or as a dataset counts by content, so editing a script or
    // registering a new version of `latest` runs the step again.
    Json body_files = Json::object();
    collect_body_references(load_yaml(step.body_yaml, m_spec.source), step.base_dir, hasher, body_files);
    if (!body_files.empty()) parts["files"] = body_files;
    Json input_parts = Json::object();
    for (const auto& [input, value] : inputs) input_parts[input] = content_of(value, hasher);
    parts["inputs"] = input_parts;
    Json output_names = Json::array();
    for (const auto& [output, declared] : step.outputs) output_names.push_back(output);
    parts["outputs"] = output_names;
    parts["mlctl_version"] = mlctl_version();
    std::string key = sha256_hex(parts.dump());
    bool reuse = step.reuse && !m_no_reuse && type->info.reusable;

    std::vector<std::pair<std::string, std::string>> tags = {
        {k_step_tag, name}, {k_name_tag, pipeline_name(m_spec)}, {k_key_tag, key}, {k_parts_tag, parts.dump()}};
    if (!reuse) {
      tags.emplace_back(k_reuse_off_tag, !type->info.reusable ? fmt::format("off ({} steps change the registry or services)", step.type)
                                         : m_no_reuse       ? std::string("off (--no-reuse or force_rerun)")
                                                            : std::string("off (reuse: false)"));
    }

    if (reuse) {
      tracking::RunListQuery query;
      query.status = tracking::RunStatus::completed;
      query.tags = {{k_key_tag, key}};
      query.top = 1;
      query.with_details = true;
      std::optional<tracking::Run> earlier;
      m_runs.list(query, [&](const tracking::Run& run) {
        if (!earlier) earlier = run;
      });
      if (earlier) {
        std::string source = earlier->tags.count(k_reused_tag) ? earlier->tags.at(k_reused_tag) : earlier->id;
        tracking::NewRun reused;
        reused.experiment = m_run.experiment;
        reused.parent_id = m_run.id;
        reused.kind = earlier->kind;
        reused.display_name = name;
        reused.tags = tags;
        reused.tags.emplace_back(k_reused_tag, source);
        tracking::Run created = m_runs.create(reused);
        m_runs.mark_running_unsupervised(created.row_id);
        m_runs.add_artifacts(created.row_id, m_runs.artifacts(earlier->row_id));
        m_runs.finish(created.row_id, tracking::RunStatus::completed, 0, "reused the outputs of run " + source);
        state.phase = StepState::Phase::done;
        state.outcome = "reused";
        state.run_id = created.id;
        state.row_id = created.row_id;
        collect_outputs(name, state);
        event(fmt::format("{}: reused (run {}, from run {})", name, created.id, source));
        return;
      }
    }

    StepInvocation call{m_spec,  step,   inputs, input_runs, m_run.experiment, m_run.id, m_db, m_artifacts,
                        m_project, m_executable};
    tracking::PreparedRun prepared;
    try {
      prepared = type->prepare(call);
    } catch (const Error& error) {
      // Recorded as a failed step run, so show and resume see it.
      tracking::NewRun failed;
      failed.experiment = m_run.experiment;
      failed.parent_id = m_run.id;
      failed.kind = step.type;
      failed.display_name = name;
      failed.tags = tags;
      tracking::Run created = m_runs.create(failed);
      m_runs.mark_running_unsupervised(created.row_id);
      m_runs.finish(created.row_id, tracking::RunStatus::failed, std::nullopt,
                    fmt::format("the step could not start: {}", error.what()));
      state.phase = StepState::Phase::done;
      state.outcome = "failed";
      state.run_id = created.id;
      state.row_id = created.row_id;
      event(fmt::format("{}: failed before it started: {}", name, error.what()));
      return;
    }
    for (auto& tag : tags) prepared.run.tags.push_back(tag);
    prepared.run.display_name = name;
    tracking::Run created = m_runs.create(prepared.run);
    state.run_id = created.id;
    state.row_id = created.row_id;
    state.phase = StepState::Phase::running;
    ++state.attempts;
    state.supervisor = tracking::start_supervisor_process(m_project, created.id, mask);
    event(fmt::format("{}: started (run {})", name, created.id));
  }

  // An input's part of the cache key: a path by its content hash, a
  // dataset reference by the version and digest it resolves to now, other
  // text as it is.
  std::string content_of(const std::string& value, InputHasher& hasher) {
    std::error_code ec;
    fs::path path(value);
    if (path.is_absolute() && fs::exists(path, ec)) return "sha256:" + hasher.hash(path);
    bool looks_like_dataset = value.rfind("azureml:", 0) == 0 ||
                              (value.find(':') != std::string::npos && value.find('/') == std::string::npos &&
                               value.find(' ') == std::string::npos);
    if (looks_like_dataset && value.find('@') == std::string::npos) {
      try {
        data::DatasetStore datasets(m_db, m_artifacts);
        data::DatasetVersion dataset = datasets.get(data::parse_dataset_ref(value));
        return fmt::format("dataset {} sha256:{}", dataset.ref(), dataset.digest);
      } catch (const Error&) {
        // not a dataset: the text stands for itself
      }
    }
    return value;
  }

  void collect_body_references(const YAML::Node& node, const fs::path& base_dir, InputHasher& hasher, Json& out,
                               bool is_code = false) {
    if (node.IsMap()) {
      for (const auto& entry : node) {
        collect_body_references(entry.second, base_dir, hasher, out, entry.first.Scalar() == "code");
      }
    } else if (node.IsSequence()) {
      for (const auto& item : node) collect_body_references(item, base_dir, hasher, out);
    } else if (node.IsScalar()) {
      const std::string& text = node.Scalar();
      if (text.empty() || text.size() > 4096 || text.find('\n') != std::string::npos) return;
      std::error_code ec;
      fs::path path = fs::path(text).is_absolute() ? fs::path(text) : base_dir / text;
      bool pathlike = is_code || text.find('/') != std::string::npos || text.find('.') != std::string::npos;
      if (pathlike && fs::exists(path, ec) && path.lexically_normal() != base_dir.lexically_normal()) {
        out[text] = "sha256:" + hasher.hash(path);
      } else if (text.rfind("azureml:", 0) == 0) {
        std::string resolved = content_of(text, hasher);
        if (resolved != text) out[text] = resolved;
      }
    }
  }

  void reap() {
    while (true) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) return;
      for (const auto& name : m_order) {
        StepState& state = m_state[name];
        if (state.phase != StepState::Phase::running || state.supervisor != pid) continue;
        tracking::Run run = m_runs.get(state.run_id, false);
        if (!tracking::is_terminal(run.status)) {
          m_runs.finish(run.row_id, tracking::RunStatus::failed, std::nullopt, "its supervisor exited unexpectedly");
          run = m_runs.get(state.run_id, false);
        }
        const StepSpec& step = *m_spec.find_step(name);
        if (run.status == tracking::RunStatus::completed) {
          state.phase = StepState::Phase::done;
          state.outcome = "completed";
          collect_outputs(name, state);
          auto duration = run.duration();
          event(fmt::format("{}: completed in {}", name, duration ? format_duration(*duration) : "?"));
        } else if (run.status == tracking::RunStatus::failed && state.attempts <= step.retries) {
          event(fmt::format("{}: failed ({}); retrying ({} of {})", name, run.status_reason.value_or("?"),
                            state.attempts, step.retries));
          state.phase = StepState::Phase::waiting;
        } else {
          state.phase = StepState::Phase::done;
          state.outcome = run.status == tracking::RunStatus::canceled ? "canceled" : "failed";
          event(fmt::format("{}: {} ({}); see: mlctl run logs {}", name, state.outcome,
                            run.status_reason.value_or("?"), run.id));
        }
      }
    }
  }

  void publish_outputs(const fs::path& outputs_dir) {
    for (const auto& output : m_spec.outputs) {
      std::string step = output.step, name = output.step_output;
      if (step.empty()) {
        for (const auto& candidate : m_spec.steps) {
          for (const auto& [step_output, declared] : candidate.outputs) {
            if (declared.pipeline_output == output.name) step = candidate.name, name = step_output;
          }
        }
      }
      if (step.empty() || !succeeded(step)) continue;
      auto it = m_state[step].outputs.find(name);
      if (it == m_state[step].outputs.end()) continue;
      std::error_code ec;
      fs::path target = outputs_dir / output.name;
      fs::create_directories(target, ec);
      if (fs::is_directory(it->second, ec)) {
        fs::copy(it->second, target, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
      } else {
        fs::copy_file(it->second, target / fs::path(it->second).filename(), fs::copy_options::overwrite_existing, ec);
      }
    }
  }

  store::Db& m_db;
  store::ArtifactStore& m_artifacts;
  const store::ProjectPaths& m_project;
  tracking::RunStore m_runs;
  std::function<void(std::string_view)> m_on_event;
  tracking::Run m_run;
  PipelineSpec m_spec;
  int m_max_parallel = 4;
  bool m_no_reuse = false;
  std::vector<std::string> m_order;
  std::string m_executable;
  fs::path m_steps_dir;
  std::map<std::string, StepState> m_state;
};

std::string explain(const tracking::Run& step_run, const std::optional<tracking::Run>& previous) {
  if (step_run.tags.count(k_reused_tag)) {
    return fmt::format("reused: same cache key as run {}", step_run.tags.at(k_reused_tag));
  }
  std::string prefix;
  if (step_run.tags.count(k_reuse_off_tag)) prefix = "ran: reuse " + step_run.tags.at(k_reuse_off_tag) + "; ";
  if (!previous) return prefix.empty() ? "ran: no earlier execution of this step" : prefix + "no earlier execution";
  Json now = Json::parse(step_run.tags.count(k_parts_tag) ? step_run.tags.at(k_parts_tag) : "{}", nullptr, false);
  Json before = Json::parse(previous->tags.count(k_parts_tag) ? previous->tags.at(k_parts_tag) : "{}", nullptr, false);
  std::vector<std::string> changes;
  if (now.value("type", "") != before.value("type", "")) changes.push_back("its type changed");
  if (now.value("body", "") != before.value("body", "")) changes.push_back("its job fields changed");
  if (now.value("mlctl_version", "") != before.value("mlctl_version", "")) changes.push_back("mlctl's version changed");
  if (now.value("outputs", Json()) != before.value("outputs", Json())) changes.push_back("its outputs changed");
  Json files_now = now.value("files", Json::object()), files_before = before.value("files", Json::object());
  for (const auto& [name, value] : files_now.items()) {
    if (files_before.contains(name) && files_before[name] != value) changes.push_back(fmt::format("'{}' changed", name));
  }
  Json inputs_now = now.value("inputs", Json::object()), inputs_before = before.value("inputs", Json::object());
  for (const auto& [name, value] : inputs_now.items()) {
    if (!inputs_before.contains(name)) {
      changes.push_back(fmt::format("input '{}' is new", name));
    } else if (inputs_before[name] != value) {
      std::string a = inputs_before[name].get<std::string>(), b = value.get<std::string>();
      bool hashed = b.rfind("sha256:", 0) == 0 || b.rfind("dataset ", 0) == 0;
      changes.push_back(hashed ? fmt::format("input '{}' changed content ({} -> {})", name, a.substr(0, 15), b.substr(0, 15))
                               : fmt::format("input '{}' changed ('{}' -> '{}')", name, a, b));
    }
  }
  for (const auto& [name, value] : inputs_before.items()) {
    if (!inputs_now.contains(name)) changes.push_back(fmt::format("input '{}' was removed", name));
  }
  std::string base = prefix.empty() ? "ran: " : prefix;
  if (changes.empty()) {
    if (!prefix.empty()) return prefix + fmt::format("unchanged since run {}", previous->id);
    return base + fmt::format("same key as run {}, which had not succeeded ({})", previous->id,
                              tracking::to_string(previous->status));
  }
  return base + fmt::format("{} (since run {})", fmt::join(changes, ", "), previous->id);
}

}  // namespace

PipelineRequest published_request(store::Db& db, std::string_view reference) {
  PublishedPipeline published = PublishedPipelines(db).get(reference);
  if (!published.enabled) {
    throw Error(ErrorKind::invalid_argument, fmt::format("published pipeline {} is disabled", published.ref()),
                fmt::format("enable it with: mlctl pipeline enable {}", published.ref()));
  }
  PipelineRequest request;
  request.file = published.source;
  request.text = published.yaml;
  request.base_dir = published.base_dir;
  request.published = published.ref();
  return request;
}

tracking::PreparedRun prepare_pipeline_run(const PipelineRequest& request, const store::ProjectPaths& project,
                                           const std::string& mlctl_executable) {
  std::error_code ec;
  if (!request.text && !fs::is_regular_file(request.file, ec)) {
    throw Error(ErrorKind::not_found, fmt::format("pipeline file '{}' does not exist", request.file.string()));
  }
  std::string text = request.text ? *request.text : read_file(request.file);
  fs::path base_dir = request.base_dir ? *request.base_dir : fs::absolute(request.file).parent_path();
  PipelineSpec spec = parse_pipeline(text, request.file.string(), base_dir, step_type_infos(), request.overrides);
  if (auto problems = check_step_requirements(spec); !problems.empty()) {
    throw Error(ErrorKind::invalid_argument, fmt::format("{}", fmt::join(problems, "\n")));
  }
  if (request.max_parallel < 1) throw Error(ErrorKind::invalid_argument, "--max-parallel must be at least 1");

  tracking::PreparedRun prepared;
  prepared.notices = spec.notices;
  prepared.run.id = tracking::new_run_id();
  prepared.run.kind = "pipeline";
  prepared.run.experiment = request.experiment ? *request.experiment
                            : !spec.experiment_name.empty() ? spec.experiment_name
                                                            : request.default_experiment;
  prepared.run.display_name = pipeline_name(spec);
  prepared.run.description = spec.description;
  prepared.run.command = Json::array(
      {mlctl_executable, "--project", project.root.string(), "pipeline", "worker", *prepared.run.id});
  for (const auto& input : spec.inputs) prepared.run.params.emplace_back(input.name, input.default_value.value_or(""));
  for (const auto& [key, value] : spec.tags) prepared.run.tags.emplace_back(key, value);
  prepared.run.tags.emplace_back(k_name_tag, pipeline_name(spec));
  if (request.published) {
    prepared.run.tags.emplace_back("mlctl.pipeline.published", *request.published);
  } else {
    prepared.run.tags.emplace_back("mlctl.job_file", fs::absolute(request.file).string());
  }
  prepared.run.working_dir = base_dir.string();
  prepared.run.git_commit = find_git_commit(base_dir);
  tracking::LaunchSpec launch;
  launch.argv = prepared.run.command.get<std::vector<std::string>>();
  launch.working_dir = base_dir.string();
  prepared.run.spec = launch.to_json();
  Json stored = Json::object();
  stored["yaml"] = text;
  stored["source"] = request.file.string();
  stored["base_dir"] = base_dir.string();
  stored["overrides"] = request.overrides;
  stored["max_parallel"] = request.max_parallel;
  stored["no_reuse"] = request.no_reuse;
  prepared.run.spec["pipeline"] = stored;
  return prepared;
}

PipelineOutcome run_pipeline(store::Db& db, store::ArtifactStore& artifacts, const store::ProjectPaths& project,
                             std::string_view run_id, const fs::path& outputs_dir,
                             const std::function<void(std::string_view)>& on_event) {
  PipelineWorker worker(db, artifacts, project, run_id, on_event);
  return worker.run(outputs_dir);
}

PipelineReport load_pipeline_report(store::Db& db, std::string_view run_id) {
  tracking::RunStore runs(db);
  tracking::Run run = runs.get(run_id);
  if (run.kind != "pipeline" || !run.spec.contains("pipeline")) {
    throw Error(ErrorKind::invalid_argument, fmt::format("run {} is a {} run, not a pipeline", run.id, run.kind));
  }
  PipelineSpec spec = spec_of_run(run);
  PipelineReport report;
  report.run_id = run.id;
  report.status = tracking::to_string(run.status);
  std::map<std::string, tracking::Run> latest;
  tracking::RunListQuery query;
  query.parent_id = run.id;
  query.order_by = "created_at asc";
  runs.list(query, [&](const tracking::Run& child) {
    auto step = child.tags.find(k_step_tag);
    if (step != child.tags.end()) latest[step->second] = child;
  });
  for (const auto& name : topological_order(spec)) {
    StepReport step;
    step.name = name;
    auto it = latest.find(name);
    if (it == latest.end()) {
      step.state = run.status == tracking::RunStatus::running || run.status == tracking::RunStatus::queued ? "pending"
                                                                                                              : "skipped";
      step.explanation = "not run";
    } else {
      const tracking::Run& child = it->second;
      step.run_id = child.id;
      step.duration_seconds = child.duration();
      if (child.tags.count(k_reused_tag)) {
        step.state = "reused";
        step.reused_from = child.tags.at(k_reused_tag);
      } else {
        step.state = tracking::to_string(child.status);
      }
      step.key_parts = Json::parse(child.tags.count(k_parts_tag) ? child.tags.at(k_parts_tag) : "null", nullptr, false);
      // The previous execution of this step in this pipeline, elsewhere.
      std::optional<tracking::Run> previous;
      tracking::RunListQuery earlier;
      earlier.tags = {{k_step_tag, name}, {k_name_tag, child.tags.count(k_name_tag) ? child.tags.at(k_name_tag) : ""}};
      earlier.order_by = "created_at desc";
      runs.list(earlier, [&](const tracking::Run& candidate) {
        if (previous || candidate.id == child.id || candidate.created_at >= child.created_at) return;
        if (candidate.tags.count(k_reused_tag)) return;
        previous = candidate;
      });
      step.explanation = explain(child, previous);
    }
    report.steps.push_back(std::move(step));
  }
  for (const auto& step : spec.steps) {
    for (const auto& dependency : step.dependencies()) report.edges.emplace_back(dependency, step.name);
  }
  return report;
}

std::string render_graph(const PipelineReport& report, std::string_view format) {
  std::string text;
  auto label = [](const StepReport& step) { return fmt::format("{} ({})", step.name, step.state); };
  if (format == "dot") {
    text = "digraph pipeline {\n  rankdir=LR;\n";
    for (const auto& step : report.steps) text += fmt::format("  \"{}\" [label=\"{}\"];\n", step.name, label(step));
    for (const auto& [from, to] : report.edges) text += fmt::format("  \"{}\" -> \"{}\";\n", from, to);
    return text + "}\n";
  }
  if (format != "mermaid") {
    throw Error(ErrorKind::invalid_argument, fmt::format("unknown graph format '{}' (expected mermaid or dot)", format));
  }
  text = "graph LR\n";
  for (const auto& step : report.steps) text += fmt::format("  {}[\"{}\"]\n", step.name, label(step));
  for (const auto& [from, to] : report.edges) text += fmt::format("  {} --> {}\n", from, to);
  return text;
}

}  // namespace mlctl::pipeline
