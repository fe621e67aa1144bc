#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <mlctl/store/db.hpp>
#include <mlctl/tracking/run_types.hpp>

namespace mlctl::tracking {

// Metric series of runs. Not thread-safe (one per Db).
class MetricLog {
 public:
  explicit MetricLog(store::Db& db) : m_db(db) {}

  // Appends points to the run's series. Any number of points: they are
  // written in transactions of at most `k_batch_size` so that other writers
  // never wait long for the lock. Points without a step get the next step
  // of their series. Keeps latest_metrics current.
  // Throws Error(invalid_argument) for an empty metric name.
  void append(std::int64_t run_row_id, std::span<const MetricPoint> points);

  // The series of one metric (or all, when `key` is empty), ordered by key,
  // step and time.
  std::vector<MetricPoint> history(std::int64_t run_row_id, std::optional<std::string_view> key = {});

  static constexpr std::size_t k_batch_size = 2000;

 private:
  void append_batch(std::int64_t run_row_id, std::span<const MetricPoint> points);

  store::Db& m_db;
};

}  // namespace mlctl::tracking
