#pragma once

// `mlctl service stats`: what a service answered, from its request log:
// requests, the share refused, latency percentiles, rows scored and the
// distribution of predictions (classes, or quantiles of values) per time
// window. With a log sample below 1 the counts are of the logged share.

#include <filesystem>
#include <optional>

#include <mlctl/core/json.hpp>

namespace mlctl::monitoring {

struct StatsRequest {
  std::optional<double> since_seconds;  // only the last so many seconds
  double window_seconds = 3600;         // one row of the distribution per window
};

// {"requests", "errors", "error_rate", "rows", "latency_ms": {"p50", "p95",
// "p99"}, "predictions": {...}, "windows": [{"start", "requests", "errors",
// "rows", "predictions": {...}}]}
Json service_stats(const std::filesystem::path& requests_dir, const StatsRequest& request);

}  // namespace mlctl::monitoring
