#include <mlctl/sweep/sweep_spec.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <mlctl/core/did_you_mean.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/yaml_overrides.hpp>
#include <mlctl/tracking/command_job.hpp>

namespace mlctl::sweep {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> k_top_keys = {
    "$schema", "type",   "name",  "display_name",       "experiment_name", "description", "tags",
    "trial",   "inputs", "outputs", "search_space", "sampling_algorithm", "objective", "limits",
    "early_termination", "properties",
};
const std::vector<std::string> k_cloud_only = {"compute", "identity", "queue_settings", "resources", "services"};
const std::vector<std::string> k_objective_keys = {"primary_metric", "goal", "aggregation"};
const std::vector<std::string> k_limit_keys = {"max_total_trials", "max_concurrent_trials", "timeout",
                                               "trial_timeout", "max_failed_trials"};
const std::vector<std::string> k_algorithms = {"grid", "random", "bayesian"};

bool contains(const std::vector<std::string>& list, std::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return text;
}

class SweepParser {
 public:
  SweepParser(std::string_view source, fs::path base_dir) : m_source(source), m_base_dir(std::move(base_dir)) {
    m_spec.source = std::string(source);
  }

  SweepSpec parse(const YAML::Node& root) {
    if (!root.IsMap()) {
      throw Error(ErrorKind::invalid_argument, fmt::format("{}: a sweep job must be a YAML map", m_source));
    }
    for (const auto& entry : root) {
      std::string key = entry.first.Scalar();
      if (contains(k_cloud_only, key)) {
        m_spec.notices.push_back(fmt::format("{}: '{}' is ignored when running locally", at(entry.first), key));
      } else if (!contains(k_top_keys, key)) {
        std::vector<std::string> known = k_top_keys;
        known.insert(known.end(), k_cloud_only.begin(), k_cloud_only.end());
        problem(entry.first, fmt::format("unknown key '{}' in a sweep job{}", key, did_you_mean_hint(key, known)));
      }
    }
    m_spec.experiment_name = scalar(root, "experiment_name");
    m_spec.display_name = scalar(root, "display_name");
    m_spec.description = scalar(root, "description");
    if (const YAML::Node tags = root["tags"]; tags && tags.IsMap()) {
      for (const auto& tag : tags) m_spec.tags[tag.first.Scalar()] = tag.second.IsScalar() ? tag.second.Scalar() : "";
    }
    parse_search_space_node(root);
    parse_trial(root);
    parse_sampling(root["sampling_algorithm"]);
    parse_objective(root);
    parse_limits(root["limits"]);
    try {
      m_spec.early_termination = parse_early_termination(root["early_termination"], m_source);
    } catch (const Error& error) {
      m_problems.push_back(error.what());
    }
    if (!m_problems.empty()) {
      throw Error(ErrorKind::invalid_argument, fmt::format("{}", fmt::join(m_problems, "\n")));
    }
    return std::move(m_spec);
  }

 private:
  std::string at(const YAML::Node& node) const { return yaml_location(m_source, node.Mark()); }

  void problem(const YAML::Node& node, const std::string& text) { m_problems.push_back(fmt::format("{}: {}", at(node), text)); }

  std::string scalar(const YAML::Node& map, const char* key) {
    const YAML::Node node = map[key];
    if (!node || node.IsNull()) return {};
    if (!node.IsScalar()) {
      problem(node, fmt::format("'{}' must be text", key));
      return {};
    }
    return node.Scalar();
  }

  std::optional<double> number(const YAML::Node& map, const char* key, std::string_view context) {
    const YAML::Node node = map[key];
    if (!node || node.IsNull()) return std::nullopt;
    double value = 0;
    const std::string& text = node.IsScalar() ? node.Scalar() : std::string();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
      problem(node, fmt::format("{}: '{}' must be a number", context, key));
      return std::nullopt;
    }
    return value;
  }

  std::optional<std::uint64_t> count(const YAML::Node& map, const char* key, std::string_view context,
                                     std::uint64_t minimum) {
    auto value = number(map, key, context);
    if (!value) return std::nullopt;
    if (*value != std::floor(*value) || *value < double(minimum)) {
      problem(map[key], fmt::format("{}: '{}' must be a whole number of at least {}", context, key, minimum));
      return std::nullopt;
    }
    return std::uint64_t(*value);
  }

  void check_keys(const YAML::Node& map, const std::vector<std::string>& known, std::string_view context) {
    for (const auto& entry : map) {
      const std::string key = entry.first.Scalar();
      if (!contains(known, key)) {
        problem(entry.first, fmt::format("{}: unknown key '{}' (expected {}){}", context, key, fmt::join(known, ", "),
                                         did_you_mean_hint(key, known)));
      }
    }
  }

  void parse_search_space_node(const YAML::Node& root) {
    const YAML::Node node = root["search_space"];
    if (!node) {
      problem(root, "'search_space' is required: the parameters to sweep and their distributions");
      return;
    }
    try {
      m_spec.space = parse_search_space(node, m_source);
    } catch (const Error& error) {
      m_problems.push_back(error.what());
    }
  }

  void parse_trial(const YAML::Node& root) {
    const YAML::Node trial = root["trial"];
    if (!trial || trial.IsNull()) {
      problem(root, "'trial' is required: a command job ({command: ...}), a train job ({type: train, ...}) or a "
                    "job file");
      return;
    }
    YAML::Node document;
    if (trial.IsScalar()) {
      fs::path file = fs::path(trial.Scalar()).is_absolute() ? fs::path(trial.Scalar()) : m_base_dir / trial.Scalar();
      std::error_code ec;
      if (!fs::is_regular_file(file, ec)) {
        problem(trial, fmt::format("trial: job file '{}' does not exist", file.string()));
        return;
      }
      m_spec.trial_yaml = read_file(file);
      m_spec.trial_source = trial.Scalar();
      m_spec.trial_file = file.lexically_normal();
      m_spec.trial_base_dir = m_spec.trial_file.parent_path();
      try {
        document = load_yaml(m_spec.trial_yaml, m_spec.trial_source);
      } catch (const Error& error) {
        m_problems.push_back(error.what());
        return;
      }
    } else if (trial.IsMap()) {
      document = YAML::Clone(trial);
      m_spec.trial_source = fmt::format("{} (trial)", m_source);
      m_spec.trial_base_dir = m_base_dir;
      m_spec.trial_file = m_base_dir / fs::path(m_source).filename();
    } else {
      problem(trial, "trial must be a job (a map) or the path of a job file");
      return;
    }
    std::string type = tracking::job_type(document, m_spec.trial_source);
    if (type == "train") {
      m_spec.trial_kind = TrialKind::train;
      for (const char* key : {"inputs", "outputs"}) {
        if (root[key]) problem(root[key], fmt::format("'{}' applies to command trials; a train trial names its data itself", key));
      }
    } else if (type == "command") {
      m_spec.trial_kind = TrialKind::command;
      // az gives the sweep's inputs and outputs to its trial.
      for (const char* key : {"inputs", "outputs"}) {
        if (root[key] && !document[key]) document[key] = YAML::Clone(root[key]);
      }
      document["type"] = "command";
      // The trial is written out again for each run, which loses its
      // lines: cloud-only fields are noted here, where they are known.
      const YAML::Node original = trial.IsMap() ? trial : document;
      auto where = [&](const YAML::Node& node) {
        return trial.IsMap() ? at(node) : yaml_location(m_spec.trial_source, node.Mark());
      };
      for (const auto& field : tracking::cloud_only_command_fields()) {
        if (!original[field]) continue;
        m_spec.notices.push_back(fmt::format("{}: '{}' is ignored when running locally", where(original[field]), field));
        document.remove(field);
      }
      const YAML::Node command = original["command"];
      if (command && command.IsScalar()) {
        try {
          Json midpoint = Json::object();
          for (const auto& p : m_spec.space.parameters) midpoint[p.name] = p.value_at(0.5);
          substitute_search_space(command.Scalar(), midpoint, "trial");
        } catch (const Error& error) {
          m_problems.push_back(fmt::format("{}: {}", where(command), error.what()));
        }
      }
    } else {
      problem(trial, fmt::format("trial: a {} job cannot be a trial (expected a command or train job)", type));
      return;
    }
    if (trial.IsMap()) {
      YAML::Emitter emitter;
      emitter << document;
      m_spec.trial_yaml = emitter.c_str();
    } else if (m_spec.trial_kind == TrialKind::command) {
      YAML::Emitter emitter;
      emitter << document;
      m_spec.trial_yaml = emitter.c_str();
    }
  }

  void parse_sampling(const YAML::Node& node) {
    if (!node || node.IsNull()) {
      m_spec.algorithm = SamplingAlgorithm::random;
      return;
    }
    std::string name;
    if (node.IsScalar()) {
      name = node.Scalar();
    } else if (node.IsMap()) {
      check_keys(node, {"type", "seed", "rule", "logbase"}, "sampling_algorithm");
      name = scalar(node, "type");
      if (auto seed = count(node, "seed", "sampling_algorithm", 0)) m_spec.seed = *seed;
      if (node["rule"] && node["rule"].IsScalar() && node["rule"].Scalar() != "random") {
        m_spec.notices.push_back(fmt::format("{}: sampling_algorithm.rule '{}' is not supported; random points are used",
                                             at(node["rule"]), node["rule"].Scalar()));
      }
    } else {
      problem(node, "sampling_algorithm must be grid, random, bayesian or a map {type: ..., seed: N}");
      return;
    }
    std::string type = lower(name);
    if (type == "grid") {
      m_spec.algorithm = SamplingAlgorithm::grid;
    } else if (type == "random") {
      m_spec.algorithm = SamplingAlgorithm::random;
    } else if (type == "bayesian") {
      m_spec.algorithm = SamplingAlgorithm::bayesian;
    } else {
      problem(node, fmt::format("unknown sampling_algorithm '{}' (expected grid, random or bayesian){}", name,
                                did_you_mean_hint(type, k_algorithms)));
      return;
    }
    if (m_spec.algorithm == SamplingAlgorithm::grid) {
      for (const auto& p : m_spec.space.parameters) {
        if (p.distribution != Distribution::choice) {
          problem(node, fmt::format("grid sampling needs every parameter to be a choice; search_space.{} is {}",
                                    p.name, to_string(p.distribution)));
        }
      }
    }
  }

  void parse_objective(const YAML::Node& root) {
    const YAML::Node node = root["objective"];
    if (!node || !node.IsMap()) {
      problem(node ? node : root, "'objective' is required: {primary_metric: NAME, goal: maximize|minimize}");
      return;
    }
    check_keys(node, k_objective_keys, "objective");
    m_spec.primary_metric = scalar(node, "primary_metric");
    if (m_spec.primary_metric.empty()) problem(node, "objective: 'primary_metric' is required");
    std::string goal = lower(scalar(node, "goal"));
    if (goal == "maximize") {
      m_spec.goal = Goal::maximize;
    } else if (goal == "minimize") {
      m_spec.goal = Goal::minimize;
    } else {
      problem(node["goal"] ? node["goal"] : node,
              goal.empty() ? std::string("objective: 'goal' is required (maximize or minimize)")
                           : fmt::format("objective: goal must be maximize or minimize, not '{}'", scalar(node, "goal")));
    }
    std::string aggregation = scalar(node, "aggregation");
    if (aggregation == "best") {
      m_spec.use_best_value = true;
    } else if (!aggregation.empty() && aggregation != "last") {
      problem(node["aggregation"], fmt::format("objective: aggregation must be last or best, not '{}'", aggregation));
    }
  }

  void parse_limits(const YAML::Node& node) {
    if (!node || node.IsNull()) return;
    if (!node.IsMap()) {
      problem(node, "limits must be a map (max_total_trials, max_concurrent_trials, timeout, trial_timeout)");
      return;
    }
    check_keys(node, k_limit_keys, "limits");
    if (auto value = count(node, "max_total_trials", "limits", 1)) m_spec.max_total_trials = *value;
    if (auto value = count(node, "max_concurrent_trials", "limits", 1)) m_spec.max_concurrent_trials = *value;
    if (auto value = count(node, "max_failed_trials", "limits", 1)) m_spec.max_failed_trials = *value;
    for (auto [key, target] : {std::pair{"timeout", &m_spec.timeout_seconds}, {"trial_timeout", &m_spec.trial_timeout_seconds}}) {
      if (auto value = number(node, key, "limits")) {
        if (*value <= 0) {
          problem(node[key], fmt::format("limits: '{}' must be a positive number of seconds", key));
        } else {
          *target = *value;
        }
      }
    }
  }

  std::string m_source;
  fs::path m_base_dir;
  SweepSpec m_spec;
  std::vector<std::string> m_problems;
};

}  // namespace

const char* to_string(SamplingAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case SamplingAlgorithm::grid:
      return "grid";
    case SamplingAlgorithm::random:
      return "random";
    case SamplingAlgorithm::bayesian:
      return "bayesian";
  }
  return "?";
}

SweepSpec parse_sweep_job(std::string_view yaml_text, std::string_view source_name, const fs::path& base_dir,
                          const std::vector<std::string>& overrides) {
  YAML::Node root = load_yaml(yaml_text, source_name);
  for (const auto& assignment : overrides) apply_override(root, assignment, source_name);
  return SweepParser(source_name, fs::absolute(base_dir).lexically_normal()).parse(root);
}

std::string substitute_search_space(std::string_view text, const Json& values, std::string_view source_name) {
  std::string result;
  std::size_t position = 0;
  while (true) {
    std::size_t open = text.find("${{", position);
    if (open == std::string_view::npos) break;
    std::size_t close = text.find("}}", open);
    if (close == std::string_view::npos) break;
    std::string_view inner = text.substr(open + 3, close - open - 3);
    while (!inner.empty() && inner.front() == ' ') inner.remove_prefix(1);
    while (!inner.empty() && inner.back() == ' ') inner.remove_suffix(1);
    constexpr std::string_view prefix = "search_space.";
    if (inner.substr(0, prefix.size()) != prefix) {
      result.append(text.substr(position, close + 2 - position));
      position = close + 2;
      continue;
    }
    std::string name(inner.substr(prefix.size()));
    if (!values.contains(name)) {
      std::vector<std::string> names;
      for (const auto& [key, value] : values.items()) names.push_back(key);
      throw Error(ErrorKind::invalid_argument,
                  fmt::format("{}: command refers to ${{{{search_space.{}}}}} but the search space has no parameter "
                              "'{}'{}",
                              source_name, name, name, did_you_mean_hint(name, names)));
    }
    result.append(text.substr(position, open - position));
    result += value_text(values.at(name));
    position = close + 2;
  }
  result.append(text.substr(position));
  return result;
}

}  // namespace mlctl::sweep
