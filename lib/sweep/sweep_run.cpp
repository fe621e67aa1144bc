#include <mlctl/sweep/sweep_run.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <csignal>
#include <map>
#include <random>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/signal_waiter.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/git_info.hpp>
#include <mlctl/core/process.hpp>
#include <mlctl/core/yaml_overrides.hpp>
#include <mlctl/data/dataset_store.hpp>
#include <mlctl/store/context.hpp>
#include <mlctl/sweep/sampler.hpp>
#include <mlctl/sweep/sweep_spec.hpp>
#include <mlctl/tracking/command_job.hpp>
#include <mlctl/tracking/liveness.hpp>
#include <mlctl/tracking/metric_log.hpp>
#include <mlctl/tracking/run_store.hpp>
#include <mlctl/tracking/run_supervisor.hpp>
#include <mlctl/train/train_run.hpp>

namespace mlctl::sweep {
namespace {

namespace fs = std::filesystem;

std::uint64_t fresh_seed() {
  std::random_device device;
  return (std::uint64_t(device()) << 32) ^ device();
}

const char* goal_name(Goal goal) { return goal == Goal::maximize ? "maximize" : "minimize"; }

SweepSpec spec_of_run(const tracking::Run& run) {
  const Json& stored = run.spec.at("sweep");
  return parse_sweep_job(stored.at("yaml").get<std::string>(), stored.at("source").get<std::string>(),
                         stored.at("base_dir").get<std::string>(),
                         stored.at("overrides").get<std::vector<std::string>>());
}

std::string describe_values(const Json& values) {
  std::string text;
  for (const auto& [name, value] : values.items()) {
    if (!text.empty()) text += " ";
    text += name + "=" + value_text(value);
  }
  return text;
}

// The child run of one trial, prepared like a submitted job of its own.
tracking::PreparedRun prepare_trial(const SweepSpec& spec, const tracking::Run& sweep, std::uint64_t index,
                                    const std::vector<double>& point, store::Db& db, store::ArtifactStore& artifacts,
                                    const store::ProjectPaths& project, const std::string& mlctl_executable) {
  Json values = spec.space.values_at(point);
  tracking::SubmitRequest request;
  request.job_file = spec.trial_file;
  if (spec.trial_kind == TrialKind::command) {
    YAML::Node document = load_yaml(spec.trial_yaml, spec.trial_source);
    if (document["command"] && document["command"].IsScalar()) {
      document["command"] = substitute_search_space(document["command"].Scalar(), values, spec.trial_source);
    }
    YAML::Emitter emitter;
    emitter << document;
    request.job_text = emitter.c_str();
    for (const auto& [name, value] : values.items()) request.params.emplace_back(name, value_text(value));
  } else {
    request.job_text = spec.trial_yaml;
    for (const auto& [name, value] : values.items()) request.set_overrides.push_back(name + "=" + value_text(value));
  }
  request.experiment = sweep.experiment;
  request.parent = sweep.id;
  request.display_name = fmt::format("{} trial {}", sweep.display_name.empty() ? "sweep" : sweep.display_name, index);
  request.timeout_seconds = spec.trial_timeout_seconds;
  request.working_dir = spec.trial_base_dir;
  request.tags = {{k_trial_tag, std::to_string(index)},
                  {k_point_tag, Json(point).dump()},
                  {k_values_tag, values.dump()}};
  request.resolve_dataset = data::dataset_resolver(db, artifacts);
  tracking::PreparedRun prepared = train::prepare_submission(request, db, artifacts, project, mlctl_executable);
  if (spec.trial_kind == TrialKind::train) {
    // The trainer's params already hold the values the overrides set;
    // names that are not trainer fields are added as they were sampled.
    for (const auto& [name, value] : values.items()) {
      bool present = std::any_of(prepared.run.params.begin(), prepared.run.params.end(),
                                 [&](const auto& param) { return param.first == name; });
      if (!present) prepared.run.params.emplace_back(name, value_text(value));
    }
  }
  return prepared;
}

tracking::PreparedRun prepare_sweep_run(const tracking::SubmitRequest& request, store::Db& db,
                                        store::ArtifactStore& artifacts, const store::ProjectPaths& project,
                                        const std::string& mlctl_executable) {
  const fs::path& file = *request.job_file;
  std::string text = request.job_text ? *request.job_text : read_file(file);
  fs::path base_dir = fs::absolute(file).parent_path();
  SweepSpec spec = parse_sweep_job(text, file.string(), base_dir, request.set_overrides);
  std::uint64_t seed = spec.seed ? *spec.seed : fresh_seed();
  if (spec.algorithm == SamplingAlgorithm::grid) make_grid_sampler(spec.space);

  tracking::PreparedRun prepared;
  prepared.notices = spec.notices;
  prepared.run.id = tracking::new_run_id();
  prepared.run.kind = "sweep";
  prepared.run.experiment = request.experiment ? *request.experiment
                            : !spec.experiment_name.empty() ? spec.experiment_name
                                                            : request.default_experiment;
  prepared.run.display_name = request.display_name.value_or(spec.display_name);
  prepared.run.description = request.description.value_or(spec.description);

  // The trial must prepare with any sampled value: try it at the median
  // of every parameter, storing nothing.
  {
    tracking::Run probe;
    probe.id = *prepared.run.id;
    probe.experiment = prepared.run.experiment;
    std::vector<double> middle(spec.space.parameters.size());
    for (std::size_t i = 0; i < middle.size(); ++i) middle[i] = spec.space.parameters[i].snap(0.5);
    tracking::PreparedRun trial = prepare_trial(spec, probe, 0, middle, db, artifacts, project, mlctl_executable);
    std::error_code ec;
    fs::remove_all(tracking::RunDirectory::of(project, *trial.run.id).root, ec);
    // The trial's own notices are the sweep parser's (with the lines of
    // the file), not those of the trial document written out again.
  }

  prepared.run.command = Json::array(
      {mlctl_executable, "--project", project.root.string(), "sweep", "worker", *prepared.run.id});
  prepared.run.params = {
      {"sampling_algorithm", to_string(spec.algorithm)},
      {"seed", std::to_string(seed)},
      {"primary_metric", spec.primary_metric},
      {"goal", goal_name(spec.goal)},
      {"max_total_trials", std::to_string(spec.max_total_trials)},
      {"max_concurrent_trials", std::to_string(spec.max_concurrent_trials)},
      {"early_termination", to_string(spec.early_termination.type)},
  };
  for (const auto& p : spec.space.parameters) {
    prepared.run.params.emplace_back("search_space." + p.name, to_string(p.distribution));
  }
  for (const auto& param : request.params) prepared.run.params.push_back(param);
  for (const auto& [key, value] : spec.tags) prepared.run.tags.emplace_back(key, value);
  for (const auto& tag : request.tags) prepared.run.tags.push_back(tag);
  prepared.run.tags.emplace_back("mlctl.job_file", fs::absolute(file).string());
  prepared.run.parent_id = request.parent;
  prepared.run.working_dir = base_dir.string();
  prepared.run.git_commit = find_git_commit(base_dir);

  tracking::LaunchSpec launch;
  launch.argv = prepared.run.command.get<std::vector<std::string>>();
  launch.working_dir = base_dir.string();
  launch.timeout_seconds = request.timeout_seconds;
  prepared.run.spec = launch.to_json();
  Json stored = Json::object();
  stored["yaml"] = text;
  stored["source"] = file.string();
  stored["base_dir"] = base_dir.string();
  stored["overrides"] = request.set_overrides;
  stored["seed"] = seed;
  stored["primary_metric"] = spec.primary_metric;
  stored["goal"] = goal_name(spec.goal);
  stored["use_best_value"] = spec.use_best_value;
  std::vector<std::string> names;
  for (const auto& p : spec.space.parameters) names.push_back(p.name);
  stored["parameters"] = names;
  prepared.run.spec["sweep"] = stored;
  return prepared;
}


struct TrialState {
  std::uint64_t index = 0;
  std::string run_id;
  std::int64_t row_id = 0;
  std::vector<double> point;
  Json values;
  enum class Phase { waiting, running, done } phase = Phase::waiting;
  pid_t supervisor = 0;
  std::optional<double> value;
  std::vector<double> series;
  std::size_t checked_interval = 0;  // the last interval the policy was applied at
  bool terminated_early = false;
};

class SweepWorker {
 public:
  SweepWorker(store::Db& db, store::ArtifactStore& artifacts, const store::ProjectPaths& project,
              std::string_view run_id, const std::function<void(std::string_view)>& on_event)
      : m_db(db), m_artifacts(artifacts), m_project(project), m_runs(db), m_metrics(db), m_on_event(on_event) {
    m_sweep = m_runs.get(run_id);
    m_spec = spec_of_run(m_sweep);
    std::uint64_t seed = m_sweep.spec.at("sweep").at("seed").get<std::uint64_t>();
    switch (m_spec.algorithm) {
      case SamplingAlgorithm::grid:
        m_sampler = make_grid_sampler(m_spec.space);
        break;
      case SamplingAlgorithm::random:
        m_sampler = make_random_sampler(m_spec.space, seed);
        break;
      case SamplingAlgorithm::bayesian:
        m_sampler = make_bayesian_sampler(m_spec.space, seed);
        break;
    }
    m_executable = current_executable();
  }

  SweepOutcome run(const fs::path& outputs_dir) {
    SignalWaiter signals;
    load_history();
    double started = monotonic_seconds();
    double last_policy_check = 0;
    while (true) {
      reap_finished();
      if (!m_stopping) check_limits(started);
      if (!m_stopping) launch_trials(signals.previous());
      std::size_t running = count(TrialState::Phase::running);
      if (running == 0 && (m_stopping || !can_launch())) break;
      double now = monotonic_seconds();
      if (m_spec.early_termination.type != EarlyTermination::Type::none && now - last_policy_check >= 0.2) {
        apply_policy();
        last_policy_check = now;
      }
      int signal_number = signals.wait(m_spec.early_termination.type != EarlyTermination::Type::none ? 50 : 200);
      if (signal_number == SIGINT || signal_number == SIGTERM || signal_number == SIGHUP) {
        m_interrupted = true;
        stop(fmt::format("interrupted (SIG{})", sigabbrev_np(signal_number)), true);
      }
    }
    finish(outputs_dir);
    if (m_interrupted) throw Error(ErrorKind::failed, "sweep " + m_outcome.stop_reason);
    return m_outcome;
  }

 private:
  std::size_t count(TrialState::Phase phase) const {
    return std::size_t(std::count_if(m_trials.begin(), m_trials.end(), [&](const TrialState& t) { return t.phase == phase; }));
  }

  bool can_launch() const {
    if (count(TrialState::Phase::waiting) > 0) return true;
    return !m_exhausted && m_next_index < m_spec.max_total_trials;
  }

  // Trials of an earlier attempt of this sweep: finished ones are kept,
  // the others run again.
  void load_history() {
    tracking::reap_dead_runs(m_runs);
    tracking::RunListQuery query;
    query.parent_id = m_sweep.id;
    std::vector<tracking::Run> children;
    m_runs.list(query, [&](const tracking::Run& run) { children.push_back(run); });
    for (const auto& run : children) {
      auto index_tag = run.tags.find(k_trial_tag);
      if (index_tag == run.tags.end()) continue;
      TrialState trial;
      std::from_chars(index_tag->second.data(), index_tag->second.data() + index_tag->second.size(), trial.index);
      trial.run_id = run.id;
      trial.row_id = run.row_id;
      trial.point = Json::parse(run.tags.at(k_point_tag)).get<std::vector<double>>();
      trial.values = Json::parse(run.tags.at(k_values_tag));
      trial.series = series_of(trial.row_id);
      auto state = run.tags.find(k_state_tag);
      if (state != run.tags.end()) {
        trial.phase = TrialState::Phase::done;
        trial.terminated_early = state->second == "early_terminated";
        if (state->second == "completed" || trial.terminated_early) {
          trial.value = objective_value(trial.series, m_spec.goal, m_spec.use_best_value);
        }
        if (state->second == "completed") ++m_outcome.completed;
        if (state->second == "failed") ++m_outcome.failed;
        if (trial.terminated_early) ++m_outcome.early_terminated;
      } else {
        if (tracking::is_terminal(run.status)) {
          if (run.kind == "train") {
            train::requeue_for_resume(m_db, run.id);
          } else {
            m_runs.requeue(run.row_id);
          }
        }
        trial.phase = TrialState::Phase::waiting;
        trial.series.clear();
        event(fmt::format("trial {} (run {}) did not finish before the sweep stopped; it runs again", trial.index, run.id));
      }
      m_next_index = std::max(m_next_index, trial.index + 1);
      m_trials.push_back(std::move(trial));
    }
    std::sort(m_trials.begin(), m_trials.end(), [](const TrialState& a, const TrialState& b) { return a.index < b.index; });
    for (const auto& trial : m_trials) {
      if (trial.value) note_best(trial);
    }
  }

  std::vector<double> series_of(std::int64_t row_id) {
    std::vector<double> series;
    for (const auto& point : m_metrics.history(row_id, m_spec.primary_metric)) series.push_back(point.value);
    return series;
  }

  std::vector<TrialPoint> sampler_history() const {
    std::vector<TrialPoint> history;
    for (const auto& trial : m_trials) {
      TrialPoint point;
      point.point = trial.point;
      if (trial.value) point.loss = m_spec.goal == Goal::maximize ? -*trial.value : *trial.value;
      point.pending = trial.phase != TrialState::Phase::done;
      history.push_back(std::move(point));
    }
    return history;
  }

  void launch_trials(const sigset_t& mask) {
    while (count(TrialState::Phase::running) < m_spec.max_concurrent_trials) {
      auto waiting = std::find_if(m_trials.begin(), m_trials.end(),
                                  [](const TrialState& t) { return t.phase == TrialState::Phase::waiting; });
      if (waiting != m_trials.end()) {
        start(*waiting, mask);
        continue;
      }
      if (m_exhausted || m_next_index >= m_spec.max_total_trials) return;
      auto point = m_sampler->propose(m_next_index, sampler_history());
      if (!point) {
        m_exhausted = true;
        event(fmt::format("the search space is exhausted after {} trials", m_next_index));
        return;
      }
      TrialState trial;
      trial.index = m_next_index++;
      trial.point = *point;
      trial.values = m_spec.space.values_at(*point);
      tracking::PreparedRun prepared =
          prepare_trial(m_spec, m_sweep, trial.index, trial.point, m_db, m_artifacts, m_project, m_executable);
      tracking::Run run = m_runs.create(prepared.run);
      trial.run_id = run.id;
      trial.row_id = run.row_id;
      m_trials.push_back(std::move(trial));
      start(m_trials.back(), mask);
    }
  }

  void start(TrialState& trial, const sigset_t& mask) {
    trial.supervisor = tracking::start_supervisor_process(m_project, trial.run_id, mask);
    trial.phase = TrialState::Phase::running;
    trial.checked_interval = 0;
    event(fmt::format("trial {} (run {}) started: {}", trial.index, trial.run_id, describe_values(trial.values)));
  }

  void reap_finished() {
    while (true) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) return;
      auto it = std::find_if(m_trials.begin(), m_trials.end(), [&](const TrialState& t) {
        return t.phase == TrialState::Phase::running && t.supervisor == pid;
      });
      if (it != m_trials.end()) trial_ended(*it);
    }
  }

  void trial_ended(TrialState& trial) {
    trial.phase = TrialState::Phase::done;
    tracking::Run run = m_runs.get(trial.run_id, false);
    if (!tracking::is_terminal(run.status)) {
      // The supervisor died before recording an end.
      m_runs.finish(run.row_id, tracking::RunStatus::failed, std::nullopt, "the trial's supervisor exited unexpectedly");
      run = m_runs.get(trial.run_id, false);
    }
    trial.series = series_of(trial.row_id);
    std::string state;
    if (trial.terminated_early) {
      state = "early_terminated";
      ++m_outcome.early_terminated;
    } else if (run.status == tracking::RunStatus::completed) {
      state = "completed";
      ++m_outcome.completed;
    } else if (run.status == tracking::RunStatus::failed) {
      state = "failed";
      ++m_outcome.failed;
    } else if (m_stopping) {
      // Canceled because the sweep stopped: left without a state, so a
      // resume runs it again.
      event(fmt::format("trial {} (run {}) canceled", trial.index, trial.run_id));
      return;
    } else {
      state = "canceled";
    }
    m_runs.set_tags(trial.row_id, {{k_state_tag, state}});
    if (state == "completed" || state == "early_terminated") {
      trial.value = objective_value(trial.series, m_spec.goal, m_spec.use_best_value);
    }
    std::string result;
    if (trial.value) {
      result = fmt::format(": {} {}", m_spec.primary_metric, value_text(Json(*trial.value)));
    } else if (state == "completed") {
      result = fmt::format(", but it logged no '{}'", m_spec.primary_metric);
    } else if (run.status_reason) {
      result = ": " + *run.status_reason;
    }
    event(fmt::format("trial {} (run {}) {}{}", trial.index, trial.run_id, state == "early_terminated" ? "stopped early" : state,
                      result));
    if (trial.value) note_best(trial);
  }

  void note_best(const TrialState& trial) {
    bool improved = !m_best || (m_spec.goal == Goal::maximize ? *trial.value > *m_best : *trial.value < *m_best);
    if (!improved) return;
    m_best = trial.value;
    tracking::MetricPoint point{"best_" + m_spec.primary_metric, *trial.value, std::nullopt, unix_now()};
    m_metrics.append(m_sweep.row_id, std::span(&point, 1));
  }

  void check_limits(double started) {
    if (m_spec.timeout_seconds && monotonic_seconds() - started > *m_spec.timeout_seconds) {
      stop(fmt::format("the sweep reached its timeout of {}s", *m_spec.timeout_seconds), true);
    } else if (m_spec.max_failed_trials && m_outcome.failed >= *m_spec.max_failed_trials) {
      m_outcome.too_many_failures = true;
      stop(fmt::format("{} trials failed (limits.max_failed_trials)", m_outcome.failed), false);
    }
  }

  // Stops launching trials; with `cancel_running`, also cancels those running.
  void stop(const std::string& reason, bool cancel_running) {
    if (m_stopping) return;
    m_stopping = true;
    m_outcome.stopped = true;
    m_outcome.stop_reason = reason;
    event("stopping: " + reason);
    if (!cancel_running) return;
    for (auto& trial : m_trials) {
      if (trial.phase == TrialState::Phase::running) ::kill(trial.supervisor, SIGTERM);
    }
  }

  void apply_policy() {
    std::vector<TrialSeries> all;
    std::vector<std::size_t> position(m_trials.size(), SIZE_MAX);
    for (std::size_t i = 0; i < m_trials.size(); ++i) {
      auto& trial = m_trials[i];
      if (trial.phase == TrialState::Phase::waiting) continue;
      if (trial.phase == TrialState::Phase::running) trial.series = series_of(trial.row_id);
      position[i] = all.size();
      all.push_back({trial.series, trial.phase == TrialState::Phase::done});
    }
    for (std::size_t i = 0; i < m_trials.size(); ++i) {
      auto& trial = m_trials[i];
      if (trial.phase != TrialState::Phase::running || trial.terminated_early) continue;
      for (std::size_t k = trial.checked_interval + 1; k <= trial.series.size(); ++k) {
        trial.checked_interval = k;
        auto reason = should_terminate(m_spec.early_termination, m_spec.goal, all, position[i], k);
        if (!reason) continue;
        terminate_early(trial, *reason);
        break;
      }
    }
  }

  void terminate_early(TrialState& trial, const std::string& reason) {
    trial.terminated_early = true;
    m_runs.set_tags(trial.row_id, {{k_state_tag, "early_terminated"}});
    if (m_runs.mark_canceled(trial.row_id, "early termination: " + reason)) {
      tracking::Run run = m_runs.get(trial.run_id, false);
      if (run.process_group && *run.process_group > 0) ::kill(-pid_t(*run.process_group), SIGTERM);
    }
    event(fmt::format("trial {} (run {}) early termination: {}", trial.index, trial.run_id, reason));
  }

  void finish(const fs::path& outputs_dir) {
    SweepReport report = load_sweep_report(m_db, m_sweep.id);
    std::error_code ec;
    fs::create_directories(outputs_dir, ec);
    write_file_atomic(outputs_dir / "trials.csv", trials_csv(report));
    Json best = best_params_json(report);
    write_file_atomic(outputs_dir / "best_params.json", best.dump(2) + "\n");
    if (const TrialSummary* trial = report.best()) {
      m_runs.set_tags(m_sweep.row_id, {{"mlctl.sweep.best_trial", trial->run.id},
                                       {"mlctl.sweep.best_params", trial->values.dump()}});
      event(fmt::format("best: trial {} (run {}) {} {}: {}", trial->index, trial->run.id, m_spec.primary_metric,
                        value_text(Json(*trial->value)), describe_values(trial->values)));
    }
    event(fmt::format("{} trials: {} completed, {} failed, {} stopped early", report.trials.size(), m_outcome.completed,
                      m_outcome.failed, m_outcome.early_terminated));
  }

  void event(const std::string& line) {
    if (m_on_event) m_on_event(line);
  }

  store::Db& m_db;
  store::ArtifactStore& m_artifacts;
  const store::ProjectPaths& m_project;
  tracking::RunStore m_runs;
  tracking::MetricLog m_metrics;
  std::function<void(std::string_view)> m_on_event;
  tracking::Run m_sweep;
  SweepSpec m_spec;
  std::unique_ptr<Sampler> m_sampler;
  std::string m_executable;
  std::vector<TrialState> m_trials;
  std::uint64_t m_next_index = 0;
  bool m_exhausted = false;
  bool m_stopping = false;
  bool m_interrupted = false;
  std::optional<double> m_best;
  SweepOutcome m_outcome;
};

}  // namespace

tracking::PreparedRun prepare_submission(const tracking::SubmitRequest& request, store::Db& db,
                                         store::ArtifactStore& artifacts, const store::ProjectPaths& project,
                                         const std::string& mlctl_executable) {
  if (request.job_file && request.command.empty()) {
    std::error_code ec;
    if (request.job_text || fs::is_regular_file(*request.job_file, ec)) {
      std::string text = request.job_text ? *request.job_text : read_file(*request.job_file);
      if (tracking::job_type(load_yaml(text, request.job_file->string()), request.job_file->string()) == "sweep") {
        return prepare_sweep_run(request, db, artifacts, project, mlctl_executable);
      }
    }
  }
  return train::prepare_submission(request, db, artifacts, project, mlctl_executable);
}

void requeue_for_resume(store::Db& db, std::string_view run_id) {
  tracking::RunStore runs(db);
  tracking::Run run = runs.get(run_id, false);
  if (run.kind == "sweep") {
    runs.requeue(run.row_id);
    return;
  }
  if (run.kind != "train") {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("run {} is a {} run; only training runs and sweeps can resume", run.id, run.kind));
  }
  train::requeue_for_resume(db, run_id);
}

SweepOutcome run_sweep(store::Db& db, store::ArtifactStore& artifacts, const store::ProjectPaths& project,
                       std::string_view run_id, const fs::path& outputs_dir,
                       const std::function<void(std::string_view)>& on_event) {
  SweepWorker worker(db, artifacts, project, run_id, on_event);
  SweepOutcome outcome = worker.run(outputs_dir);
  if (outcome.completed == 0 && outcome.early_terminated == 0) {
    throw Error(ErrorKind::failed, outcome.stopped ? fmt::format("no trial completed: {}", outcome.stop_reason)
                                                   : std::string("no trial completed"));
  }
  if (outcome.too_many_failures) throw Error(ErrorKind::failed, "sweep stopped: " + outcome.stop_reason);
  return outcome;
}

}  // namespace mlctl::sweep
