#pragma once

// `mlctl monitor drift`: gathers the current data (what a service was sent,
// from its request log, or a registered dataset) and the baseline (by
// default the dataset the served model was trained on, from its lineage),
// compares them column by column (drift_report.hpp) and records the result
// as a monitoring run, so that drift over time can be listed and plotted.

#include <optional>
#include <string>

#include <mlctl/core/json.hpp>
#include <mlctl/monitoring/drift_report.hpp>
#include <mlctl/store/context.hpp>

namespace mlctl::monitoring {

struct DriftRequest {
  std::optional<std::string> service;   // compare what this service was sent
  std::optional<std::string> data;      // or this dataset (NAME[:V]) or CSV path
  std::optional<std::string> baseline;  // default: the served model's training data
  // Only requests received in [now - since, now - since + window).
  std::optional<double> since_seconds;
  std::optional<double> window_seconds;
  DriftThresholds thresholds;
  std::string experiment = "monitoring";
};

struct DriftResult {
  DriftReport report;
  std::string run_id;
  std::string baseline;  // "churn:1"
  std::string current;   // "service churn-api" or "churn:2"
  Json to_json() const;
};

// Throws Error(invalid_argument) unless exactly one of service and data is
// given, Error(not_found) for an unknown service or dataset, and when no
// baseline is given and the served model records no training dataset.
DriftResult check_drift(store::Context& context, const DriftRequest& request);

// The request log of a service as data columns for the model's inputs, plus
// "prediction"; rows are counted in `rows`. Lines outside the time range
// are skipped.
DataColumns columns_of_request_log(const std::filesystem::path& requests_dir,
                                   const std::vector<data::ColumnSchema>& inputs, bool numeric_predictions,
                                   std::optional<double> from_unix, std::optional<double> to_unix, std::size_t& rows);

// "90s", "30m", "2h", "7d" (or plain seconds). Throws Error(invalid_argument).
double parse_duration(std::string_view text, std::string_view option);

}  // namespace mlctl::monitoring
