// Champion/challenger criteria: parsing and every rule kind, with and
// without a baseline, ties included (MLflow MetricThreshold semantics).
#include <catch2/catch.hpp>

#include <mlctl/core/error.hpp>
#include <mlctl/evaluation/criteria.hpp>

using namespace mlctl::evaluation;
using mlctl::Json;

namespace {

std::vector<CriterionOutcome> check(const std::string& yaml, const Json& candidate, const std::optional<Json>& baseline) {
  return check_criteria(parse_criteria(yaml, "criteria.yaml"), candidate, baseline);
}

std::string parse_error(const std::string& yaml) {
  try {
    parse_criteria(yaml, "criteria.yaml");
  } catch (const mlctl::Error& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("criteria: a threshold holds at or above it for higher-is-better, at or below for lower", "[criteria]") {
  auto outcomes = check("metrics:\n  accuracy: {threshold: 0.9}\n  log_loss: {threshold: 0.3}\n",
                        {{"accuracy", 0.9}, {"log_loss", 0.3}}, std::nullopt);
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].passed);  // equal passes
  CHECK(outcomes[1].passed);
  outcomes = check("metrics:\n  accuracy: {threshold: 0.9}\n  log_loss: {threshold: 0.3}\n",
                   {{"accuracy", 0.89}, {"log_loss", 0.31}}, std::nullopt);
  CHECK_FALSE(outcomes[0].passed);
  CHECK(outcomes[0].failures == std::vector<std::string>{"accuracy: 0.89 is below the threshold 0.9"});
  CHECK_FALSE(outcomes[1].passed);
  CHECK(outcomes[1].failures == std::vector<std::string>{"log_loss: 0.31 is above the threshold 0.3"});
}

TEST_CASE("criteria: min_absolute_change needs the candidate better by at least the change", "[criteria]") {
  const std::string yaml = "metrics:\n  accuracy: {min_absolute_change: 0.01}\n  rmse: {min_absolute_change: 0.5}\n";
  auto passed = check(yaml, {{"accuracy", 0.91}, {"rmse", 2.0}}, Json{{"accuracy", 0.90}, {"rmse", 2.5}});
  CHECK(passed[0].passed);  // 0.91 >= 0.90 + 0.01 (within floating point)
  CHECK(passed[1].passed);  // 2.0 <= 2.5 - 0.5
  auto failed = check(yaml, {{"accuracy", 0.905}, {"rmse", 2.1}}, Json{{"accuracy", 0.90}, {"rmse", 2.5}});
  CHECK_FALSE(failed[0].passed);
  CHECK(failed[0].failures[0] == "accuracy: 0.905 is not at least 0.01 above the baseline's 0.9 (needs 0.91)");
  CHECK_FALSE(failed[1].passed);
  CHECK(failed[1].failures[0] == "rmse: 2.1 is not at least 0.5 below the baseline's 2.5 (needs 2)");
}

TEST_CASE("criteria: min_relative_change scales with the baseline's magnitude", "[criteria]") {
  const std::string yaml = "metrics:\n  f1: {min_relative_change: 0.1}\n  log_loss: {direction: lower, min_relative_change: 0.1}\n";
  auto outcomes = check(yaml, {{"f1", 0.66}, {"log_loss", 0.45}}, Json{{"f1", 0.6}, {"log_loss", 0.5}});
  CHECK(outcomes[0].passed);  // 0.66 >= 0.6 * 1.1
  CHECK(outcomes[1].passed);  // 0.45 <= 0.5 * 0.9
  outcomes = check(yaml, {{"f1", 0.65}, {"log_loss", 0.46}}, Json{{"f1", 0.6}, {"log_loss", 0.5}});
  CHECK_FALSE(outcomes[0].passed);
  CHECK(outcomes[0].failures[0] == "f1: 0.65 is not at least 10% above the baseline's 0.6 (needs 0.66)");
  CHECK_FALSE(outcomes[1].passed);
}

TEST_CASE("criteria: a tie passes a change of 0 and fails a positive one", "[criteria]") {
  CHECK(check("metrics:\n  accuracy: {min_absolute_change: 0}\n", {{"accuracy", 0.9}}, Json{{"accuracy", 0.9}})[0].passed);
  CHECK_FALSE(check("metrics:\n  accuracy: {min_absolute_change: 0.001}\n", {{"accuracy", 0.9}}, Json{{"accuracy", 0.9}})[0].passed);
  CHECK(check("metrics:\n  accuracy: {min_relative_change: 0}\n", {{"accuracy", 0.9}}, Json{{"accuracy", 0.9}})[0].passed);
}

TEST_CASE("criteria: without a baseline the thresholds alone decide", "[criteria]") {
  const std::string yaml = "metrics:\n  accuracy: {threshold: 0.8, min_absolute_change: 0.05}\n";
  auto outcomes = check(yaml, {{"accuracy", 0.85}}, std::nullopt);
  CHECK(outcomes[0].passed);
  CHECK_FALSE(outcomes[0].baseline.has_value());
  CHECK_FALSE(check(yaml, {{"accuracy", 0.75}}, std::nullopt)[0].passed);
  // With a baseline the change rule applies too.
  CHECK_FALSE(check(yaml, {{"accuracy", 0.85}}, Json{{"accuracy", 0.84}})[0].passed);
}

TEST_CASE("criteria: a metric the candidate or the baseline lacks fails", "[criteria]") {
  auto outcomes = check("metrics:\n  auc: {threshold: 0.9}\n", {{"accuracy", 0.99}}, std::nullopt);
  CHECK_FALSE(outcomes[0].passed);
  CHECK(outcomes[0].failures[0] == "auc: the candidate has no such metric");
  outcomes = check("metrics:\n  auc: {min_absolute_change: 0}\n", {{"auc", 0.99}}, Json{{"accuracy", 0.9}});
  CHECK(outcomes[0].failures[0] == "auc: the baseline has no such metric to compare with");
}

TEST_CASE("criteria: direction defaults by name and can be set", "[criteria]") {
  CHECK(higher_is_better_by_default("accuracy"));
  CHECK(higher_is_better_by_default("auc"));
  CHECK_FALSE(higher_is_better_by_default("log_loss"));
  CHECK_FALSE(higher_is_better_by_default("val_rmse"));
  CHECK_FALSE(higher_is_better_by_default("latency_ms_per_row"));
  auto criteria = parse_criteria("metrics:\n  accuracy: {direction: lower, threshold: 1}\n  loss: {higher_is_better: true, threshold: 0}\n", "c");
  CHECK_FALSE(criteria[0].higher_is_better);
  CHECK(criteria[1].higher_is_better);
}

TEST_CASE("criteria: malformed files are rejected naming the place", "[criteria]") {
  CHECK(parse_error("metrics:\n  accuracy: {treshold: 0.9}\n") ==
        "criteria.yaml:2:14: accuracy: unknown key 'treshold' (expected direction, higher_is_better, threshold, "
        "min_absolute_change, min_relative_change) (did you mean 'threshold'?)\n"
        "criteria.yaml:2:3: accuracy: give at least one rule (threshold, min_absolute_change or min_relative_change)");
  CHECK(parse_error("metrics:\n  accuracy: {direction: up, threshold: 0.9}\n") ==
        "criteria.yaml:2:25: accuracy: direction must be higher or lower, not 'up'");
  CHECK(parse_error("metrics:\n  accuracy: {min_absolute_change: -1}\n") ==
        "criteria.yaml:2:35: accuracy: min_absolute_change must be 0 or more");
  CHECK(parse_error("metrics:\n  accuracy: {threshold: high}\n") ==
        "criteria.yaml:2:25: accuracy: threshold must be a number");
  CHECK(parse_error("accuracy: 0.9\n").rfind("criteria.yaml:1:1: expected 'metrics:'", 0) == 0);
}
