#pragma once

// Predefined criteria a challenger must meet before it replaces the
// champion, with the semantics of MLflow's MetricThreshold:
//
//   # criteria.yaml
//   metrics:
//     accuracy: {direction: higher, threshold: 0.9, min_absolute_change: 0.005}
//     log_loss: {direction: lower, min_relative_change: 0.05}
//     auc:      {threshold: 0.95}      # direction: lower for *loss, rmse, mae; else higher
//
// For a metric where higher is better (mirrored when lower is):
//   threshold            candidate >= threshold
//   min_absolute_change  candidate >= baseline + min_absolute_change
//   min_relative_change  candidate >= baseline + |baseline| * min_relative_change
// Every rule must hold. Without a baseline (the first model) the change
// rules are skipped and the thresholds alone decide. A tie passes a change
// rule of 0 and fails any positive one.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mlctl/core/json.hpp>

namespace mlctl::evaluation {

struct MetricCriterion {
  std::string metric;
  bool higher_is_better = true;
  std::optional<double> threshold, min_absolute_change, min_relative_change;
  std::string location;  // "criteria.yaml:3:3", for messages
};

// Parses criteria YAML. Throws Error(parse) for malformed YAML and
// Error(invalid_argument) with every problem, one per line
// ("criteria.yaml:4:15: accuracy: unknown key 'treshold' (did you mean
// 'threshold'?)"); a metric needs at least one rule; changes are >= 0.
std::vector<MetricCriterion> parse_criteria(std::string_view yaml_text, std::string_view source_name);

// Whether a metric is better high (accuracy, auc...) or low (names ending
// in loss, rmse, mae, error or latency).
bool higher_is_better_by_default(std::string_view metric);

struct CriterionOutcome {
  std::string metric;
  std::optional<double> candidate, baseline;
  bool passed = true;
  // One line per failed rule: "accuracy: 0.912 is below the threshold 0.95".
  std::vector<std::string> failures;
  std::string rules;  // the rules, as text ("threshold >= 0.9, +0.005 absolute")
};

// Applies the criteria to the candidate's metrics (and the baseline's when
// there is one). A metric the candidate lacks fails. Pure.
std::vector<CriterionOutcome> check_criteria(const std::vector<MetricCriterion>& criteria, const Json& candidate,
                                             const std::optional<Json>& baseline);

}  // namespace mlctl::evaluation
