#include <mlctl/sweep/early_termination.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <mlctl/core/did_you_mean.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/yaml_overrides.hpp>

namespace mlctl::sweep {
namespace {

using Type = EarlyTermination::Type;

const std::vector<std::string>& type_names() {
  static const std::vector<std::string> names = {"bandit", "median_stopping", "truncation_selection"};
  return names;
}

std::optional<Type> find_type(std::string_view name) {
  if (name == "bandit") return Type::bandit;
  if (name == "median_stopping") return Type::median_stopping;
  if (name == "truncation_selection") return Type::truncation_selection;
  return std::nullopt;
}

const std::vector<std::string>& common_keys() {
  static const std::vector<std::string> keys = {"type", "evaluation_interval", "delay_evaluation"};
  return keys;
}

// The keys only some types take, each with the type it belongs to, so that
// a key of another type gets "does not apply" rather than "unknown".
struct SpecificKey {
  const char* key;
  Type type;
};

const std::vector<SpecificKey>& specific_keys() {
  static const std::vector<SpecificKey> keys = {
      {"slack_factor", Type::bandit},
      {"slack_amount", Type::bandit},
      {"truncation_percentage", Type::truncation_selection},
      {"exclude_finished_jobs", Type::truncation_selection},
  };
  return keys;
}

// The keys a policy of `type` takes; every known key when the type is not
// known, so that a bad type does not also flag its keys.
std::vector<std::string> keys_for(std::optional<Type> type) {
  std::vector<std::string> keys = common_keys();
  for (const auto& specific : specific_keys()) {
    if (!type || specific.type == *type) keys.emplace_back(specific.key);
  }
  return keys;
}

std::optional<double> parse_number(const YAML::Node& node) {
  if (!node.IsScalar()) return std::nullopt;
  std::string_view text = node.Scalar();
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<int> parse_int(const YAML::Node& node) {
  if (!node.IsScalar()) return std::nullopt;
  std::string_view text = node.Scalar();
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// YAML 1.2 core schema booleans only: yaml-cpp would also take yes/no/on/off,
// which YAML 1.2 readers (az ml's among them) treat as strings.
std::optional<bool> parse_bool(const YAML::Node& node) {
  if (!node.IsScalar()) return std::nullopt;
  const std::string& text = node.Scalar();
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

bool is_better(Goal goal, double a, double b) { return goal == Goal::maximize ? a > b : a < b; }

double best_of(Goal goal, const std::vector<double>& values, std::size_t k) {
  double best = values[0];
  for (std::size_t i = 1; i < k; ++i) {
    if (is_better(goal, values[i], best)) best = values[i];
  }
  return best;
}

double mean_of(const std::vector<double>& values, std::size_t k) {
  double sum = 0;
  for (std::size_t i = 0; i < k; ++i) sum += values[i];
  // Rounding can put the mean of equal values just past them (0.1 three
  // times averages 0.10000000000000002); a trial must never be worse than
  // its own average, so the mean stays within the values.
  auto [low, high] = std::minmax_element(values.begin(), values.begin() + std::ptrdiff_t(k));
  return std::clamp(sum / double(k), *low, *high);
}

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

const char* worse_word(Goal goal) { return goal == Goal::maximize ? "below" : "above"; }

std::optional<std::string> bandit(const EarlyTermination& policy, Goal goal, const std::vector<TrialSeries>& trials,
                                  std::size_t trial, std::size_t k) {
  double own = best_of(goal, trials[trial].values, k);
  double best = own;
  for (const auto& other : trials) {
    if (other.values.size() >= k) {
      double value = best_of(goal, other.values, k);
      if (is_better(goal, value, best)) best = value;
    }
  }
  double threshold = 0;
  std::string slack;
  if (policy.slack_factor) {
    // The slack is |best| * factor / (1 + factor) below (maximize) or
    // |best| * factor above (minimize): best / (1 + factor) and
    // best * (1 + factor) as az ml defines them for positive metrics, and
    // still on the worse side of the best one for negative metrics, where
    // the plain ratio would put the threshold above the best trial and stop it.
    double factor = *policy.slack_factor;
    threshold = goal == Goal::maximize ? best - std::abs(best) * factor / (1 + factor)
                                       : best + std::abs(best) * factor;
    slack = fmt::format("slack_factor {:.4g}", factor);
  } else {
    double amount = policy.slack_amount.value_or(0);
    threshold = goal == Goal::maximize ? best - amount : best + amount;
    slack = fmt::format("slack_amount {:.4g}", amount);
  }
  if (!is_better(goal, threshold, own)) return std::nullopt;
  return fmt::format("bandit: best {:.4g} at interval {} is {} {:.4g} (best of all {:.4g}, {})", own, k,
                     worse_word(goal), threshold, best, slack);
}

std::optional<std::string> median_stopping(Goal goal, const std::vector<TrialSeries>& trials, std::size_t trial,
                                           std::size_t k) {
  std::vector<double> averages;
  for (const auto& other : trials) {
    if (other.values.size() >= k) averages.push_back(mean_of(other.values, k));
  }
  double own = best_of(goal, trials[trial].values, k);
  double median = median_of(averages);
  if (!is_better(goal, median, own)) return std::nullopt;
  return fmt::format("median_stopping: best {:.4g} at interval {} is {} {:.4g} (median of the running averages of "
                     "{} trials)",
                     own, k, worse_word(goal), median, averages.size());
}

std::optional<std::string> truncation_selection(const EarlyTermination& policy, Goal goal,
                                                const std::vector<TrialSeries>& trials, std::size_t trial,
                                                std::size_t k) {
  auto ranked = [&](const TrialSeries& series) {
    return series.values.size() >= k && !(policy.exclude_finished_jobs && series.finished);
  };
  if (!ranked(trials[trial])) return std::nullopt;
  std::vector<double> values;  // at interval k, best first
  for (const auto& other : trials) {
    if (ranked(other)) values.push_back(other.values[k - 1]);
  }
  std::size_t n = values.size();
  // The percentage is checked here too because a policy set in code has not
  // been through the parser: at most n - 1 are truncated, so one trial is
  // always left to survive and compare with.
  if (n < 2 || !(policy.truncation_percentage > 0)) return std::nullopt;
  auto truncated = std::min(n - 1, std::size_t(std::floor(double(n) * policy.truncation_percentage / 100)));
  if (truncated == 0) return std::nullopt;
  std::sort(values.begin(), values.end(), [goal](double a, double b) { return is_better(goal, a, b); });
  // The worst value that survives: a trial tied with it survives too, so
  // ties go in the trial's favour and no trial is stopped for its position
  // among equals.
  double cutoff = values[n - truncated - 1];
  double own = trials[trial].values[k - 1];
  if (!is_better(goal, cutoff, own)) return std::nullopt;
  return fmt::format("truncation_selection: value {:.4g} at interval {} is {} {:.4g} (lowest {:.4g}% of {} trials)",
                     own, k, worse_word(goal), cutoff, policy.truncation_percentage, n);
}

}  // namespace

const char* to_string(EarlyTermination::Type type) noexcept {
  switch (type) {
    case Type::none:
      return "none";
    case Type::bandit:
      return "bandit";
    case Type::median_stopping:
      return "median_stopping";
    case Type::truncation_selection:
      return "truncation_selection";
  }
  return "?";
}

std::optional<std::string> should_terminate(const EarlyTermination& policy, Goal goal,
                                            const std::vector<TrialSeries>& trials, std::size_t trial,
                                            std::size_t k) {
  if (policy.type == Type::none || trial >= trials.size() || k == 0) return std::nullopt;
  if (k < std::size_t(std::max(policy.delay_evaluation, 0))) return std::nullopt;
  if (k % std::size_t(std::max(policy.evaluation_interval, 1)) != 0) return std::nullopt;
  if (trials[trial].values.size() < k) return std::nullopt;
  switch (policy.type) {
    case Type::bandit:
      return bandit(policy, goal, trials, trial, k);
    case Type::median_stopping:
      return median_stopping(goal, trials, trial, k);
    case Type::truncation_selection:
      return truncation_selection(policy, goal, trials, trial, k);
    case Type::none:
      break;
  }
  return std::nullopt;
}

EarlyTermination parse_early_termination(const YAML::Node& node, std::string_view source_name) {
  EarlyTermination policy;
  if (!node || node.IsNull()) return policy;
  std::vector<std::string> problems;
  auto problem = [&](const YAML::Node& at, const std::string& text) {
    problems.push_back(fmt::format("{}: early_termination: {}", yaml_location(source_name, at.Mark()), text));
  };
  auto fail = [&] { return Error(ErrorKind::invalid_argument, fmt::format("{}", fmt::join(problems, "\n"))); };
  auto expected_types = fmt::format("{}", fmt::join(type_names(), ", "));

  // A scalar is the type alone, with every other key at its default:
  // `early_termination: median_stopping`.
  if (node.IsScalar()) {
    auto type = find_type(node.Scalar());
    if (!type) {
      problem(node, fmt::format("unknown type '{}' (expected {}){}", node.Scalar(), expected_types,
                                did_you_mean_hint(node.Scalar(), type_names())));
    } else {
      policy.type = *type;
    }
  } else if (!node.IsMap()) {
    problem(node, fmt::format("expected a map with a 'type' ({})", expected_types));
    throw fail();
  }

  std::optional<Type> type = policy.type == Type::none ? std::nullopt : std::optional<Type>(policy.type);
  if (node.IsMap()) {
    const YAML::Node type_node = node["type"];
    if (!type_node || type_node.IsNull()) {
      problem(node, fmt::format("'type' is required ({})", expected_types));
    } else if (!type_node.IsScalar() || !find_type(type_node.Scalar())) {
      std::string text = type_node.IsScalar() ? type_node.Scalar() : std::string();
      problem(type_node, fmt::format("unknown type '{}' (expected {}){}", text, expected_types,
                                     did_you_mean_hint(text, type_names())));
    } else {
      type = find_type(type_node.Scalar());
      policy.type = *type;
    }

    const std::vector<std::string> allowed = keys_for(type);
    const std::vector<std::string> known = keys_for(std::nullopt);
    for (const auto& field : node) {
      const std::string key = field.first.Scalar();
      const YAML::Node& value = field.second;
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        if (std::find(known.begin(), known.end(), key) != known.end()) {
          problem(field.first, fmt::format("'{}' does not apply to a {} policy (expected {})", key,
                                           to_string(*type), fmt::join(allowed, ", ")));
        } else {
          problem(field.first, fmt::format("unknown key '{}' (expected {}){}", key, fmt::join(allowed, ", "),
                                           did_you_mean_hint(key, allowed)));
        }
        continue;
      }
      if (key == "evaluation_interval") {
        auto parsed = parse_int(value);
        if (!parsed || *parsed < 1) {
          problem(value, fmt::format("evaluation_interval must be an integer of at least 1, got '{}'",
                                     value.IsScalar() ? value.Scalar() : std::string()));
        } else {
          policy.evaluation_interval = *parsed;
        }
      } else if (key == "delay_evaluation") {
        auto parsed = parse_int(value);
        if (!parsed || *parsed < 0) {
          problem(value, fmt::format("delay_evaluation must be an integer of at least 0, got '{}'",
                                     value.IsScalar() ? value.Scalar() : std::string()));
        } else {
          policy.delay_evaluation = *parsed;
        }
      } else if (key == "slack_factor" || key == "slack_amount" || key == "truncation_percentage") {
        auto parsed = parse_number(value);
        if (!parsed) {
          problem(value, fmt::format("'{}' must be a number", key));
        } else if (key == "slack_factor") {
          if (*parsed <= 0) problem(value, fmt::format("slack_factor ({}) must be above 0", *parsed));
          policy.slack_factor = *parsed;
        } else if (key == "slack_amount") {
          if (*parsed < 0) problem(value, fmt::format("slack_amount ({}) must be at least 0", *parsed));
          policy.slack_amount = *parsed;
        } else {
          if (*parsed <= 0 || *parsed >= 100) {
            problem(value, fmt::format("truncation_percentage ({}) must be above 0 and below 100", *parsed));
          }
          policy.truncation_percentage = *parsed;
        }
      } else if (key == "exclude_finished_jobs") {
        auto parsed = parse_bool(value);
        if (!parsed) {
          problem(value, "exclude_finished_jobs must be true or false");
        } else {
          policy.exclude_finished_jobs = *parsed;
        }
      }
    }
  }

  // Requirements of the type, checked on the keys as written so that a
  // slack given with a bad value is not also reported missing.
  if (type == Type::bandit) {
    bool factor = node.IsMap() && node["slack_factor"];
    bool amount = node.IsMap() && node["slack_amount"];
    if (factor && amount) {
      problem(node, "bandit takes slack_factor or slack_amount, not both");
    } else if (!factor && !amount) {
      problem(node, "bandit needs slack_factor or slack_amount");
    }
  } else if (type == Type::truncation_selection) {
    if (!node.IsMap() || !node["truncation_percentage"]) {
      problem(node, "truncation_selection needs truncation_percentage");
    }
  }
  if (!problems.empty()) throw fail();
  return policy;
}

}  // namespace mlctl::sweep
