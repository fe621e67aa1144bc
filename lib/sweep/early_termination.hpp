#pragma once

// Early termination policies of a sweep, as az ml defines them
// (https://learn.microsoft.com/azure/machine-learning/how-to-tune-hyperparameters#early-termination):
//
//   early_termination:
//     type: bandit                 # or median_stopping, truncation_selection
//     slack_factor: 0.1            # bandit: or slack_amount
//     evaluation_interval: 1
//     delay_evaluation: 5
//     truncation_percentage: 20    # truncation_selection
//
// An "interval" is one report of the primary metric: a trial that has
// logged the metric k times has reached interval k. A policy is applied to
// a trial at interval k when k is at least delay_evaluation and a multiple
// of evaluation_interval (delay 5, interval 1: at 5, 6, 7...; delay 0,
// interval 2: at 2, 4, 6...). Definitions, with "better" following the
// objective's goal and values of other trials taken at the same interval
// (their first k reports; trials that have not reached k are left out):
//
//   bandit: stop the trial if its best value so far is worse than the best
//     value any trial had by interval k, less the slack: for maximize,
//     below best / (1 + slack_factor) or best - slack_amount; for
//     minimize, above best * (1 + slack_factor) or best + slack_amount.
//   median_stopping: stop the trial if its best value so far is worse than
//     the median of the running averages (mean of the first k reports) of
//     all trials that reached k, itself included.
//   truncation_selection: rank the trials that reached k by their value at
//     k; stop the trial if it is among the lowest truncation_percentage
//     percent (floor(n * pct / 100) trials; none when n is below 2).
//     With exclude_finished_jobs, finished trials are not ranked.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace YAML {
class Node;
}

namespace mlctl::sweep {

enum class Goal { maximize, minimize };

struct EarlyTermination {
  enum class Type { none, bandit, median_stopping, truncation_selection };
  Type type = Type::none;
  std::optional<double> slack_factor, slack_amount;  // bandit: exactly one
  int evaluation_interval = 1;                       // >= 1
  int delay_evaluation = 0;                          // >= 0
  double truncation_percentage = 0;                  // (0, 100)
  bool exclude_finished_jobs = false;
};

// "bandit", "median_stopping", "truncation_selection" ("none" for none).
const char* to_string(EarlyTermination::Type type) noexcept;

// The primary metric's reports of one trial, in order.
struct TrialSeries {
  std::vector<double> values;
  bool finished = false;  // completed, failed or stopped: its series will not grow
};

// Whether `trial` (an index into `trials`) should stop at interval k
// (1-based), given every trial's series, itself included. Returns the
// reason ("bandit: best 0.61 at interval 4 is below 0.727 (best 0.8,
// slack_factor 0.1)") or nullopt. Also nullopt when the policy does not
// apply at k or the trial has fewer than k reports. Pure, thread-safe.
std::optional<std::string> should_terminate(const EarlyTermination& policy, Goal goal,
                                            const std::vector<TrialSeries>& trials, std::size_t trial,
                                            std::size_t k);

// Parses `early_termination`; `source_name` prefixes messages.
// Throws Error(invalid_argument) with every problem, one per line
// ("sweep.yml:12:3: early_termination: bandit needs slack_factor or
// slack_amount"). A null node gives Type::none.
EarlyTermination parse_early_termination(const YAML::Node& node, std::string_view source_name);

}  // namespace mlctl::sweep
