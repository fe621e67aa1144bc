#include <mlctl/sweep/early_termination.hpp>

#include <mlctl/core/error.hpp>
#include <mlctl/core/yaml_overrides.hpp>

#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <vector>

using mlctl::ErrorKind;
using mlctl::sweep::EarlyTermination;
using mlctl::sweep::Goal;
using mlctl::sweep::parse_early_termination;
using mlctl::sweep::should_terminate;
using mlctl::sweep::TrialSeries;
using Type = EarlyTermination::Type;
using Indices = std::vector<std::size_t>;

namespace {

// An accuracy-like history (maximize). A's fourth report is far above
// anything else, so a policy that looked past interval k would show it; D
// stops reporting after two intervals.
const std::vector<TrialSeries> k_accuracy = {
    {{0.50, 0.70, 0.80, 0.99}, false},  // A
    {{0.40, 0.60, 0.65, 0.66}, false},  // B
    {{0.30, 0.40, 0.45}, false},        // C
    {{0.60, 0.64}, false},              // D
};

// A loss-like history (minimize).
const std::vector<TrialSeries> k_loss = {
    {{1.0, 0.8, 0.5, 0.1}, false},  // A
    {{1.2, 0.9, 0.8}, false},       // B
    {{2.0, 1.5, 1.4, 1.3}, false},  // C
    {{0.9}, false},                 // D
};

// The trials the policy stops at interval k.
Indices stopped(const EarlyTermination& policy, Goal goal, const std::vector<TrialSeries>& trials, std::size_t k) {
  Indices result;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    if (should_terminate(policy, goal, trials, i, k)) result.push_back(i);
  }
  return result;
}

// The reason, or "(continues)", which Catch can print.
std::string reason(const EarlyTermination& policy, Goal goal, const std::vector<TrialSeries>& trials,
                   std::size_t trial, std::size_t k) {
  return should_terminate(policy, goal, trials, trial, k).value_or("(continues)");
}

EarlyTermination bandit_factor(double factor) {
  EarlyTermination policy;
  policy.type = Type::bandit;
  policy.slack_factor = factor;
  return policy;
}

EarlyTermination bandit_amount(double amount) {
  EarlyTermination policy;
  policy.type = Type::bandit;
  policy.slack_amount = amount;
  return policy;
}

EarlyTermination median() {
  EarlyTermination policy;
  policy.type = Type::median_stopping;
  return policy;
}

EarlyTermination truncation(double percentage, bool exclude_finished = false) {
  EarlyTermination policy;
  policy.type = Type::truncation_selection;
  policy.truncation_percentage = percentage;
  policy.exclude_finished_jobs = exclude_finished;
  return policy;
}

// Parses the `early_termination` key of a sweep file named sweep.yml.
EarlyTermination parse(const std::string& text) {
  const YAML::Node root = mlctl::load_yaml(text, "sweep.yml");
  return parse_early_termination(root["early_termination"], "sweep.yml");
}

std::string parse_error(const std::string& text) {
  try {
    parse(text);
  } catch (const mlctl::Error& error) {
    CHECK(error.kind() == ErrorKind::invalid_argument);
    return error.what();
  }
  FAIL("expected mlctl::Error for:\n" << text);
  return {};
}

struct Case {
  std::string text;
  std::string message;
};

void check_errors(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK(parse_error(c.text) == c.message);
  }
}

}  // namespace

TEST_CASE("early termination: no policy never stops a trial", "[sweep]") {
  const EarlyTermination none;
  for (std::size_t k = 1; k <= 4; ++k) CHECK(stopped(none, Goal::maximize, k_accuracy, k).empty());
}

TEST_CASE("early termination: bandit with slack_factor stops trials below best / (1 + factor) when maximizing",
          "[sweep]") {
  const EarlyTermination policy = bandit_factor(0.1);
  // k=1: best 0.6 (D), threshold 0.545: A 0.5, B 0.4, C 0.3 are below.
  CHECK(stopped(policy, Goal::maximize, k_accuracy, 1) == Indices{0, 1, 2});
  // k=2: best 0.7 (A), threshold 0.636: B 0.6 and C 0.4; D 0.64 stays.
  CHECK(stopped(policy, Goal::maximize, k_accuracy, 2) == Indices{1, 2});
  // k=3: best 0.8 (A's third report, not its later 0.99), threshold 0.727;
  // D has not reached 3 and is neither judged nor compared with.
  CHECK(stopped(policy, Goal::maximize, k_accuracy, 3) == Indices{1, 2});
  // k=4: best 0.99, threshold 0.9: B 0.66.
  CHECK(stopped(policy, Goal::maximize, k_accuracy, 4) == Indices{1});
  CHECK(stopped(policy, Goal::maximize, k_accuracy, 5).empty());
}

TEST_CASE("early termination: bandit compares the trial's best so far, not its latest value", "[sweep]") {
  const std::vector<TrialSeries> trials = {
      {{0.9, 0.5}, false},   // best so far 0.9 though it fell to 0.5
      {{0.8, 0.95}, false},  // best 0.95
  };
  // Threshold 0.95 / 1.1 = 0.864: 0.9 is above it.
  CHECK(stopped(bandit_factor(0.1), Goal::maximize, trials, 2).empty());
  // Threshold 0.95 - 0.03 = 0.92: 0.9 is below it.
  CHECK(stopped(bandit_amount(0.03), Goal::maximize, trials, 2) == Indices{0});
}

TEST_CASE("early termination: bandit with slack_factor stops trials above best * (1 + factor) when minimizing",
          "[sweep]") {
  const EarlyTermination policy = bandit_factor(0.5);
  // k=1: best 0.9 (D), threshold 1.35: C 2.0.
  CHECK(stopped(policy, Goal::minimize, k_loss, 1) == Indices{2});
  // k=2: best 0.8, threshold 1.2: C 1.5; B 0.9 stays.
  CHECK(stopped(policy, Goal::minimize, k_loss, 2) == Indices{2});
  // k=3: best 0.5, threshold 0.75: B 0.8 and C 1.4.
  CHECK(stopped(policy, Goal::minimize, k_loss, 3) == Indices{1, 2});
  // k=4: best 0.1, threshold 0.15: C 1.3.
  CHECK(stopped(policy, Goal::minimize, k_loss, 4) == Indices{2});
}

TEST_CASE("early termination: bandit with slack_amount stops trials beyond best minus or plus the amount",
          "[sweep]") {
  const EarlyTermination policy = bandit_amount(0.25);
  // Maximize. k=1: threshold 0.6 - 0.25 = 0.35: C 0.3.
  CHECK(stopped(policy, Goal::maximize, k_accuracy, 1) == Indices{2});
  // k=2: 0.45: C 0.4. k=3: 0.55: C 0.45. k=4: 0.74: B 0.66.
  CHECK(stopped(policy, Goal::maximize, k_accuracy, 2) == Indices{2});
  CHECK(stopped(policy, Goal::maximize, k_accuracy, 3) == Indices{2});
  CHECK(stopped(policy, Goal::maximize, k_accuracy, 4) == Indices{1});
  // Minimize. k=1: threshold 0.9 + 0.25 = 1.15: B 1.2 and C 2.0.
  CHECK(stopped(policy, Goal::minimize, k_loss, 1) == Indices{1, 2});
  // k=2: 1.05: C 1.5 (B 0.9 stays). k=3: 0.75: B 0.8, C 1.4. k=4: 0.35: C.
  CHECK(stopped(policy, Goal::minimize, k_loss, 2) == Indices{2});
  CHECK(stopped(policy, Goal::minimize, k_loss, 3) == Indices{1, 2});
  CHECK(stopped(policy, Goal::minimize, k_loss, 4) == Indices{2});
}

TEST_CASE("early termination: bandit with slack_factor never stops the best trial of a negative metric",
          "[sweep]") {
  // best / (1 + factor) of a negative best lies above it; the slack is
  // taken on the worse side instead: -1 - 1 * 0.1 / 1.1 = -1.0909.
  const std::vector<TrialSeries> rewards = {{{-1.0}, false}, {{-1.05}, false}, {{-1.2}, false}};
  CHECK(stopped(bandit_factor(0.1), Goal::maximize, rewards, 1) == Indices{2});
  // -2 + 2 * 0.1 = -1.8.
  const std::vector<TrialSeries> losses = {{{-2.0}, false}, {{-1.9}, false}, {{-1.7}, false}};
  CHECK(stopped(bandit_factor(0.1), Goal::minimize, losses, 1) == Indices{2});
}

TEST_CASE("early termination: bandit gives a one-line reason with the value and the threshold", "[sweep]") {
  CHECK(reason(bandit_factor(0.1), Goal::maximize, k_accuracy, 1, 3) ==
        "bandit: best 0.65 at interval 3 is below 0.7273 (best of all 0.8, slack_factor 0.1)");
  CHECK(reason(bandit_amount(0.25), Goal::minimize, k_loss, 1, 3) ==
        "bandit: best 0.8 at interval 3 is above 0.75 (best of all 0.5, slack_amount 0.25)");
}

TEST_CASE("early termination: median_stopping stops trials whose best is worse than the median running average",
          "[sweep]") {
  const EarlyTermination policy = median();
  // k=1: averages 0.5 0.4 0.3 0.6, median 0.45: B 0.4 and C 0.3.
  CHECK(stopped(policy, Goal::maximize, k_accuracy, 1) == Indices{1, 2});
  // k=2: averages 0.6 0.5 0.35 0.62, median 0.55: C (best 0.4); B's best
  // 0.6 is above the median though its average is below.
  CHECK(stopped(policy, Goal::maximize, k_accuracy, 2) == Indices{2});
  // k=3: averages 0.667 0.55 0.383 (D left out), median 0.55: C (0.45).
  CHECK(stopped(policy, Goal::maximize, k_accuracy, 3) == Indices{2});
  // k=4: averages 0.7475 0.5775, median 0.6625: B (0.66), just below.
  CHECK(stopped(policy, Goal::maximize, k_accuracy, 4) == Indices{1});

  // Minimize. k=1: averages 1.0 1.2 2.0 0.9, median 1.1: B 1.2 and C 2.0.
  CHECK(stopped(policy, Goal::minimize, k_loss, 1) == Indices{1, 2});
  // k=2: averages 0.9 1.05 1.75, median 1.05: C (best 1.5); B's 0.9 passes.
  CHECK(stopped(policy, Goal::minimize, k_loss, 2) == Indices{2});
  // k=3: averages 0.767 0.967 1.633, median 0.967: C (best 1.4).
  CHECK(stopped(policy, Goal::minimize, k_loss, 3) == Indices{2});
  // k=4: averages 0.6 1.55, median 1.075: C (best 1.3).
  CHECK(stopped(policy, Goal::minimize, k_loss, 4) == Indices{2});

  CHECK(reason(policy, Goal::maximize, k_accuracy, 2, 2) ==
        "median_stopping: best 0.4 at interval 2 is below 0.55 (median of the running averages of 4 trials)");
}

TEST_CASE("early termination: median_stopping never stops a trial alone at its interval", "[sweep]") {
  // 0.1 three times averages 0.10000000000000002 in floating point, which
  // must not count as better than the trial's own best.
  const std::vector<TrialSeries> trials = {{{0.1, 0.1, 0.1}, false}, {{0.9}, false}};
  CHECK(stopped(median(), Goal::maximize, trials, 3).empty());
  CHECK(stopped(median(), Goal::minimize, trials, 3).empty());
}

TEST_CASE("early termination: truncation_selection stops the lowest percentage by the value at k", "[sweep]") {
  const EarlyTermination half = truncation(50);
  // k=1: 4 trials, 2 truncated; ranked 0.6 0.5 | 0.4 0.3: B and C.
  CHECK(stopped(half, Goal::maximize, k_accuracy, 1) == Indices{1, 2});
  // k=2: ranked 0.7 0.64 | 0.6 0.4: B and C.
  CHECK(stopped(half, Goal::maximize, k_accuracy, 2) == Indices{1, 2});
  // k=3: 3 trials (D left out), floor(1.5) = 1 truncated: C.
  CHECK(stopped(half, Goal::maximize, k_accuracy, 3) == Indices{2});
  // k=4: 2 trials, 1 truncated: B.
  CHECK(stopped(half, Goal::maximize, k_accuracy, 4) == Indices{1});

  // 20%: floor(4 * 0.2) = 0 at k=1, floor(2 * 0.2) = 0 at k=4.
  CHECK(stopped(truncation(20), Goal::maximize, k_accuracy, 1).empty());
  CHECK(stopped(truncation(20), Goal::maximize, k_accuracy, 4).empty());
  // 25%: floor(4 * 0.25) = 1 at k=1: C.
  CHECK(stopped(truncation(25), Goal::maximize, k_accuracy, 1) == Indices{2});
  // 75%: floor(4 * 0.75) = 3 at k=2: all but A.
  CHECK(stopped(truncation(75), Goal::maximize, k_accuracy, 2) == Indices{1, 2, 3});
  // 100% is rejected by the parser; set in code it still leaves the best.
  CHECK(stopped(truncation(100), Goal::maximize, k_accuracy, 2) == Indices{1, 2, 3});
}

TEST_CASE("early termination: truncation_selection ranks the value at k, not the best so far", "[sweep]") {
  const std::vector<TrialSeries> trials = {{{0.9, 0.2}, false}, {{0.5, 0.5}, false}};
  CHECK(stopped(truncation(50), Goal::maximize, trials, 2) == Indices{0});
}

TEST_CASE("early termination: truncation_selection follows the goal when minimizing", "[sweep]") {
  const std::vector<TrialSeries> losses = {{{1.0, 0.5}, false}, {{2.0, 0.4}, false}, {{1.5, 0.9}, false}};
  // 3 trials, floor(3 * 0.34) = 1; ranked 0.4 0.5 | 0.9.
  CHECK(stopped(truncation(34), Goal::minimize, losses, 2) == Indices{2});
  CHECK(reason(truncation(34), Goal::minimize, losses, 2, 2) ==
        "truncation_selection: value 0.9 at interval 2 is above 0.5 (lowest 34% of 3 trials)");
}

TEST_CASE("early termination: truncation_selection stops nothing with fewer than 2 trials or among ties",
          "[sweep]") {
  const std::vector<TrialSeries> alone = {{{0.1, 0.1}, false}, {{0.9}, false}};
  CHECK(stopped(truncation(99), Goal::maximize, alone, 2).empty());
  // Equal values: no trial is worse than the survivors.
  const std::vector<TrialSeries> tied = {
      {{0.5}, false}, {{0.5}, false}, {{0.5}, false}, {{0.5}, false}};
  CHECK(stopped(truncation(50), Goal::maximize, tied, 1).empty());
}

TEST_CASE("early termination: truncation_selection with exclude_finished_jobs ranks only running trials",
          "[sweep]") {
  const std::vector<TrialSeries> trials = {
      {{0.1, 0.1}, true},    // finished, poor
      {{0.5, 0.5}, false},
      {{0.6, 0.6}, false},
  };
  // All ranked: floor(3 * 0.5) = 1, the finished trial is the lowest.
  CHECK(stopped(truncation(50), Goal::maximize, trials, 2) == Indices{0});
  // Running only: floor(2 * 0.5) = 1, the 0.5 trial; the finished one is
  // not judged.
  CHECK(stopped(truncation(50, true), Goal::maximize, trials, 2) == Indices{1});

  // Excluding finished trials can leave fewer than 2.
  const std::vector<TrialSeries> one_running = {{{0.9, 0.9}, true}, {{0.2, 0.2}, false}};
  CHECK(stopped(truncation(50), Goal::maximize, one_running, 2) == Indices{1});
  CHECK(stopped(truncation(50, true), Goal::maximize, one_running, 2).empty());
}

TEST_CASE("early termination: delay_evaluation and evaluation_interval choose the intervals a policy runs at",
          "[sweep]") {
  // Ungated, bandit 0.1 stops {0,1,2} {1,2} {1,2} {1} at k = 1..4.
  EarlyTermination every_second = bandit_factor(0.1);
  every_second.evaluation_interval = 2;
  CHECK(stopped(every_second, Goal::maximize, k_accuracy, 1).empty());
  CHECK(stopped(every_second, Goal::maximize, k_accuracy, 2) == Indices{1, 2});
  CHECK(stopped(every_second, Goal::maximize, k_accuracy, 3).empty());
  CHECK(stopped(every_second, Goal::maximize, k_accuracy, 4) == Indices{1});

  EarlyTermination delayed = bandit_factor(0.1);
  delayed.delay_evaluation = 3;
  CHECK(stopped(delayed, Goal::maximize, k_accuracy, 1).empty());
  CHECK(stopped(delayed, Goal::maximize, k_accuracy, 2).empty());
  CHECK(stopped(delayed, Goal::maximize, k_accuracy, 3) == Indices{1, 2});
  CHECK(stopped(delayed, Goal::maximize, k_accuracy, 4) == Indices{1});

  EarlyTermination both = bandit_factor(0.1);
  both.delay_evaluation = 3;
  both.evaluation_interval = 2;
  CHECK(stopped(both, Goal::maximize, k_accuracy, 2).empty());
  CHECK(stopped(both, Goal::maximize, k_accuracy, 3).empty());
  CHECK(stopped(both, Goal::maximize, k_accuracy, 4) == Indices{1});

  // Interval 0 does not exist.
  CHECK(stopped(bandit_factor(0.1), Goal::maximize, k_accuracy, 0).empty());
}

TEST_CASE("early termination: a trial with fewer than k reports is never stopped at k", "[sweep]") {
  // C and D are the worst trials but have not reached interval 4 and 3.
  for (const EarlyTermination& policy : {bandit_factor(0.1), median(), truncation(75)}) {
    INFO(mlctl::sweep::to_string(policy.type));
    CHECK_FALSE(should_terminate(policy, Goal::maximize, k_accuracy, 2, 4));
    CHECK_FALSE(should_terminate(policy, Goal::maximize, k_accuracy, 3, 3));
    CHECK_FALSE(should_terminate(policy, Goal::maximize, k_accuracy, 3, 4));
    // An index past the end is no trial at all.
    CHECK_FALSE(should_terminate(policy, Goal::maximize, k_accuracy, 4, 1));
  }
}

TEST_CASE("early termination: type names", "[sweep]") {
  CHECK(std::string(mlctl::sweep::to_string(Type::none)) == "none");
  CHECK(std::string(mlctl::sweep::to_string(Type::bandit)) == "bandit");
  CHECK(std::string(mlctl::sweep::to_string(Type::median_stopping)) == "median_stopping");
  CHECK(std::string(mlctl::sweep::to_string(Type::truncation_selection)) == "truncation_selection");
}

TEST_CASE("early termination: an absent or null node is no policy", "[sweep]") {
  CHECK(parse("max_trials: 4\n").type == Type::none);
  CHECK(parse("early_termination:\n").type == Type::none);
  CHECK(parse("early_termination: null\n").type == Type::none);
  CHECK(parse_early_termination(YAML::Node(), "sweep.yml").type == Type::none);
}

TEST_CASE("early termination: parses every key of each policy", "[sweep]") {
  const EarlyTermination bandit = parse(R"(early_termination:
  type: bandit
  slack_factor: 0.2
  evaluation_interval: 2
  delay_evaluation: 5
)");
  CHECK(bandit.type == Type::bandit);
  CHECK(bandit.slack_factor == 0.2);
  CHECK_FALSE(bandit.slack_amount);
  CHECK(bandit.evaluation_interval == 2);
  CHECK(bandit.delay_evaluation == 5);

  const EarlyTermination amount = parse("early_termination: {type: bandit, slack_amount: 0}\n");
  CHECK(amount.slack_amount == 0.0);
  CHECK_FALSE(amount.slack_factor);
  CHECK(amount.evaluation_interval == 1);
  CHECK(amount.delay_evaluation == 0);

  const EarlyTermination median_policy = parse("early_termination: {type: median_stopping, delay_evaluation: 3}\n");
  CHECK(median_policy.type == Type::median_stopping);
  CHECK(median_policy.delay_evaluation == 3);
  CHECK(median_policy.evaluation_interval == 1);

  const EarlyTermination truncation_policy = parse(R"(early_termination:
  type: truncation_selection
  truncation_percentage: 20
  exclude_finished_jobs: true
)");
  CHECK(truncation_policy.type == Type::truncation_selection);
  CHECK(truncation_policy.truncation_percentage == 20);
  CHECK(truncation_policy.exclude_finished_jobs);
  CHECK_FALSE(parse("early_termination: {type: truncation_selection, truncation_percentage: 12.5}\n")
                  .exclude_finished_jobs);
}

TEST_CASE("early termination: a type name alone is a policy with default settings", "[sweep]") {
  CHECK(parse("early_termination: median_stopping\n").type == Type::median_stopping);
  CHECK(parse_error("early_termination: bandit\n") ==
        "sweep.yml:1:20: early_termination: bandit needs slack_factor or slack_amount");
}

TEST_CASE("early termination: rejects bad policies with every problem, placed and explained", "[sweep]") {
  check_errors({
      {"early_termination:\n  type: bandti\n  slack_factor: 0.1\n",
       "sweep.yml:2:9: early_termination: unknown type 'bandti' (expected bandit, median_stopping, "
       "truncation_selection) (did you mean 'bandit'?)"},
      {"early_termination: medain_stopping\n",
       "sweep.yml:1:20: early_termination: unknown type 'medain_stopping' (expected bandit, median_stopping, "
       "truncation_selection) (did you mean 'median_stopping'?)"},
      {"early_termination:\n  slack_factor: 0.1\n",
       "sweep.yml:2:3: early_termination: 'type' is required (bandit, median_stopping, truncation_selection)"},
      {"early_termination: [bandit]\n",
       "sweep.yml:1:20: early_termination: expected a map with a 'type' (bandit, median_stopping, "
       "truncation_selection)"},
      {"early_termination:\n  type: bandit\n  slack_factor: 0.1\n  slack_amount: 0.2\n",
       "sweep.yml:2:3: early_termination: bandit takes slack_factor or slack_amount, not both"},
      {"early_termination:\n  type: bandit\n  evaluation_interval: 2\n",
       "sweep.yml:2:3: early_termination: bandit needs slack_factor or slack_amount"},
      {"early_termination:\n  type: bandit\n  slack_factor: 0\n",
       "sweep.yml:3:17: early_termination: slack_factor (0) must be above 0"},
      {"early_termination:\n  type: bandit\n  slack_amount: -0.5\n",
       "sweep.yml:3:17: early_termination: slack_amount (-0.5) must be at least 0"},
      {"early_termination:\n  type: bandit\n  slack_factor: lots\n",
       "sweep.yml:3:17: early_termination: 'slack_factor' must be a number"},
      {"early_termination:\n  type: truncation_selection\n  truncation_percentage: 100\n",
       "sweep.yml:3:26: early_termination: truncation_percentage (100) must be above 0 and below 100"},
      {"early_termination:\n  type: truncation_selection\n  truncation_percentage: 0\n",
       "sweep.yml:3:26: early_termination: truncation_percentage (0) must be above 0 and below 100"},
      {"early_termination:\n  type: truncation_selection\n  truncation_percentage: -5\n",
       "sweep.yml:3:26: early_termination: truncation_percentage (-5) must be above 0 and below 100"},
      {"early_termination:\n  type: truncation_selection\n  truncation_percentage: 150\n",
       "sweep.yml:3:26: early_termination: truncation_percentage (150) must be above 0 and below 100"},
      {"early_termination:\n  type: truncation_selection\n",
       "sweep.yml:2:3: early_termination: truncation_selection needs truncation_percentage"},
      {"early_termination:\n  type: truncation_selection\n  truncation_percentage: 10\n"
       "  exclude_finished_jobs: maybe\n",
       "sweep.yml:4:26: early_termination: exclude_finished_jobs must be true or false"},
      {"early_termination:\n  type: median_stopping\n  evaluation_interval: 0\n",
       "sweep.yml:3:24: early_termination: evaluation_interval must be an integer of at least 1, got '0'"},
      {"early_termination:\n  type: median_stopping\n  evaluation_interval: 1.5\n",
       "sweep.yml:3:24: early_termination: evaluation_interval must be an integer of at least 1, got '1.5'"},
      {"early_termination:\n  type: median_stopping\n  delay_evaluation: -1\n",
       "sweep.yml:3:21: early_termination: delay_evaluation must be an integer of at least 0, got '-1'"},
      {"early_termination:\n  type: median_stopping\n  slack_factor: 0.1\n",
       "sweep.yml:3:3: early_termination: 'slack_factor' does not apply to a median_stopping policy (expected "
       "type, evaluation_interval, delay_evaluation)"},
      {"early_termination:\n  type: bandit\n  slack_factor: 0.1\n  truncation_percentage: 10\n",
       "sweep.yml:4:3: early_termination: 'truncation_percentage' does not apply to a bandit policy (expected "
       "type, evaluation_interval, delay_evaluation, slack_factor, slack_amount)"},
  });
}

TEST_CASE("early termination: collects every problem, one per line", "[sweep]") {
  CHECK(parse_error("early_termination:\n  type: bandit\n  slack_facter: 0.1\n  delay_evaluation: -2\n") ==
        "sweep.yml:3:3: early_termination: unknown key 'slack_facter' (expected type, evaluation_interval, "
        "delay_evaluation, slack_factor, slack_amount) (did you mean 'slack_factor'?)\n"
        "sweep.yml:4:21: early_termination: delay_evaluation must be an integer of at least 0, got '-2'\n"
        "sweep.yml:2:3: early_termination: bandit needs slack_factor or slack_amount");
}
