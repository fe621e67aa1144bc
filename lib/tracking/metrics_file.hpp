#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <mlctl/tracking/run_types.hpp>

namespace mlctl::tracking {

// A line of the metrics file that could not be used.
struct MetricLineError {
  std::int64_t line = 0;  // 1-based
  std::string message;
};

// Parses the JSON-lines metrics file a job appends to ($MLCTL_METRICS_FILE),
// incrementally, as the file grows. One object per line, either one point
//   {"name": "loss", "value": 0.31, "step": 4, "timestamp": 1732260000.5}
// or several metrics at one step
//   {"metrics": {"loss": 0.31, "acc": 0.9}, "step": 4}
// "key" is accepted for "name"; "step" and "timestamp" (unix seconds, or
// milliseconds when larger than 1e11) are optional; "value" may be a
// number, null or "NaN"/"Infinity"/"-Infinity". Blank lines are skipped.
// A malformed line is reported with its number and skipped.
class MetricsFileParser {
 public:
  // Parses the complete lines in `bytes`; a trailing partial line waits for
  // the next feed. Points without a timestamp get `now`.
  void feed(std::string_view bytes, double now, std::vector<MetricPoint>& points,
            std::vector<MetricLineError>& errors);
  // Parses what is left (a last line without a newline).
  void finish(double now, std::vector<MetricPoint>& points, std::vector<MetricLineError>& errors);

  std::int64_t lines_read() const { return m_line; }

 private:
  void parse_line(std::string_view line, double now, std::vector<MetricPoint>& points,
                  std::vector<MetricLineError>& errors);

  std::string m_pending;
  std::int64_t m_line = 0;
};

}  // namespace mlctl::tracking
