#include <mlctl/evaluation/criteria.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <mlctl/core/did_you_mean.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/yaml_overrides.hpp>

namespace mlctl::evaluation {
namespace {

const std::vector<std::string> k_rule_keys = {"direction", "higher_is_better", "threshold", "min_absolute_change",
                                              "min_relative_change"};

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string number_text(double value) { return fmt::format("{:.6g}", value); }

}  // namespace

bool higher_is_better_by_default(std::string_view metric) {
  for (std::string_view suffix : {"loss", "rmse", "mae", "error", "latency", "latency_ms_per_row"}) {
    if (ends_with(metric, suffix)) return false;
  }
  return true;
}

std::vector<MetricCriterion> parse_criteria(std::string_view yaml_text, std::string_view source_name) {
  YAML::Node root = load_yaml(yaml_text, source_name);
  std::vector<std::string> problems;
  auto problem = [&](const YAML::Node& node, const std::string& text) {
    problems.push_back(fmt::format("{}: {}", yaml_location(source_name, node.Mark()), text));
  };
  std::vector<MetricCriterion> criteria;
  YAML::Node metrics = root.IsMap() ? root["metrics"] : YAML::Node();
  if (!metrics || !metrics.IsMap() || metrics.size() == 0) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("{}: expected 'metrics:', a map of metric names to rules such as "
                            "accuracy: {{threshold: 0.9, min_absolute_change: 0.005}}",
                            yaml_location(source_name, root.Mark())));
  }
  for (const auto& key : root) {
    if (key.first.Scalar() != "metrics") problem(key.first, fmt::format("unknown key '{}' (expected metrics)", key.first.Scalar()));
  }
  for (const auto& entry : metrics) {
    MetricCriterion criterion;
    criterion.metric = entry.first.Scalar();
    criterion.location = yaml_location(source_name, entry.first.Mark());
    criterion.higher_is_better = higher_is_better_by_default(criterion.metric);
    const YAML::Node& rules = entry.second;
    if (!rules.IsMap()) {
      problem(rules, fmt::format("{}: expected a map of rules ({})", criterion.metric, fmt::join(k_rule_keys, ", ")));
      continue;
    }
    bool has_rule = false;
    for (const auto& rule : rules) {
      const std::string key = rule.first.Scalar();
      const YAML::Node& value = rule.second;
      if (std::find(k_rule_keys.begin(), k_rule_keys.end(), key) == k_rule_keys.end()) {
        problem(rule.first, fmt::format("{}: unknown key '{}' (expected {}){}", criterion.metric, key,
                                        fmt::join(k_rule_keys, ", "), did_you_mean_hint(key, k_rule_keys)));
        continue;
      }
      const std::string text = value.IsScalar() ? value.Scalar() : std::string();
      if (key == "direction") {
        if (text == "higher" || text == "lower") {
          criterion.higher_is_better = text == "higher";
        } else {
          problem(value, fmt::format("{}: direction must be higher or lower, not '{}'", criterion.metric, text));
        }
        continue;
      }
      if (key == "higher_is_better") {
        if (text == "true" || text == "false") {
          criterion.higher_is_better = text == "true";
        } else {
          problem(value, fmt::format("{}: higher_is_better must be true or false", criterion.metric));
        }
        continue;
      }
      has_rule = true;  // a rule with a bad value is reported as such, not as missing
      double number = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(number)) {
        problem(value, fmt::format("{}: {} must be a number", criterion.metric, key));
        continue;
      }
      if (key != "threshold" && number < 0) {
        problem(value, fmt::format("{}: {} must be 0 or more", criterion.metric, key));
        continue;
      }
      if (key == "threshold") criterion.threshold = number;
      if (key == "min_absolute_change") criterion.min_absolute_change = number;
      if (key == "min_relative_change") criterion.min_relative_change = number;
    }
    if (!has_rule) {
      problem(entry.first, fmt::format("{}: give at least one rule (threshold, min_absolute_change or "
                                       "min_relative_change)",
                                       criterion.metric));
    }
    criteria.push_back(std::move(criterion));
  }
  if (!problems.empty()) throw Error(ErrorKind::invalid_argument, fmt::format("{}", fmt::join(problems, "\n")));
  return criteria;
}

std::vector<CriterionOutcome> check_criteria(const std::vector<MetricCriterion>& criteria, const Json& candidate,
                                             const std::optional<Json>& baseline) {
  std::vector<CriterionOutcome> outcomes;
  for (const auto& criterion : criteria) {
    CriterionOutcome outcome;
    outcome.metric = criterion.metric;
    const bool higher = criterion.higher_is_better;
    const char* better = higher ? "above" : "below";
    std::vector<std::string> rules;
    if (criterion.threshold) rules.push_back(fmt::format("{} {}", higher ? ">=" : "<=", number_text(*criterion.threshold)));
    if (criterion.min_absolute_change) {
      rules.push_back(fmt::format("{}{} vs baseline", higher ? "+" : "-", number_text(*criterion.min_absolute_change)));
    }
    if (criterion.min_relative_change) {
      rules.push_back(fmt::format("{}{}% vs baseline", higher ? "+" : "-", number_text(*criterion.min_relative_change * 100)));
    }
    outcome.rules = fmt::format("{}", fmt::join(rules, ", "));
    if (candidate.contains(criterion.metric) && candidate[criterion.metric].is_number()) {
      outcome.candidate = candidate[criterion.metric].get<double>();
    }
    if (baseline && baseline->contains(criterion.metric) && (*baseline)[criterion.metric].is_number()) {
      outcome.baseline = (*baseline)[criterion.metric].get<double>();
    }
    if (!outcome.candidate) {
      outcome.passed = false;
      outcome.failures.push_back(fmt::format("{}: the candidate has no such metric", criterion.metric));
      outcomes.push_back(std::move(outcome));
      continue;
    }
    const double value = *outcome.candidate;
    auto at_least = [higher](double a, double b) { return higher ? a >= b : a <= b; };
    if (criterion.threshold && !at_least(value, *criterion.threshold)) {
      outcome.failures.push_back(fmt::format("{}: {} is {} the threshold {}", criterion.metric, number_text(value),
                                             higher ? "below" : "above", number_text(*criterion.threshold)));
    }
    if (baseline && (criterion.min_absolute_change || criterion.min_relative_change)) {
      if (!outcome.baseline) {
        outcome.failures.push_back(fmt::format("{}: the baseline has no such metric to compare with", criterion.metric));
      } else {
        const double base = *outcome.baseline;
        if (criterion.min_absolute_change) {
          double needed = higher ? base + *criterion.min_absolute_change : base - *criterion.min_absolute_change;
          if (!at_least(value, needed)) {
            outcome.failures.push_back(fmt::format("{}: {} is not at least {} {} the baseline's {} (needs {})",
                                                   criterion.metric, number_text(value),
                                                   number_text(*criterion.min_absolute_change), better,
                                                   number_text(base), number_text(needed)));
          }
        }
        if (criterion.min_relative_change) {
          double step = std::abs(base) * *criterion.min_relative_change;
          double needed = higher ? base + step : base - step;
          if (!at_least(value, needed)) {
            outcome.failures.push_back(fmt::format("{}: {} is not at least {}% {} the baseline's {} (needs {})",
                                                   criterion.metric, number_text(value),
                                                   number_text(*criterion.min_relative_change * 100), better,
                                                   number_text(base), number_text(needed)));
          }
        }
      }
    }
    outcome.passed = outcome.failures.empty();
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

}  // namespace mlctl::evaluation
