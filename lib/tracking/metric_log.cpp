#include <mlctl/tracking/metric_log.hpp>

#include <cmath>
#include <string>
#include <unordered_map>

#include <mlctl/core/error.hpp>

namespace mlctl::tracking {
namespace {

// Whether `a` supersedes `b` as the latest point (MLflow's rule: the
// greatest step, then the latest timestamp).
bool is_later(std::int64_t step_a, double time_a, std::int64_t step_b, double time_b) {
  return step_a > step_b || (step_a == step_b && time_a >= time_b);
}

struct Latest {
  std::int64_t step = 0;
  double value = 0;
  double timestamp = 0;
  bool changed = false;
};

}  // namespace

void MetricLog::append(std::int64_t run_row_id, std::span<const MetricPoint> points) {
  for (const auto& point : points) {
    if (point.key.empty()) throw Error(ErrorKind::invalid_argument, "a metric needs a non-empty name");
  }
  for (std::size_t begin = 0; begin < points.size(); begin += k_batch_size) {
    std::size_t count = std::min(k_batch_size, points.size() - begin);
    append_batch(run_row_id, points.subspan(begin, count));
  }
}

void MetricLog::append_batch(std::int64_t run_row_id, std::span<const MetricPoint> points) {
  m_db.write_transaction([&] {
    auto insert = m_db.prepare("INSERT INTO metrics (run_id, key, step, value, timestamp) VALUES (?, ?, ?, ?, ?)");
    auto read_latest = m_db.prepare("SELECT step, value, timestamp FROM latest_metrics WHERE run_id = ? AND key = ?");
    // The latest point per key: loaded once per batch, updated in memory,
    // written back once per key.
    std::unordered_map<std::string, std::optional<Latest>> latest;
    auto latest_of = [&](const std::string& key) -> std::optional<Latest>& {
      auto it = latest.find(key);
      if (it != latest.end()) return it->second;
      read_latest.reset();
      read_latest.bind(1, run_row_id).bind(2, key);
      std::optional<Latest> found;
      if (read_latest.step()) {
        found = Latest{read_latest.get_int64(0),
                       read_latest.is_null(1) ? std::nan("") : read_latest.get_double(1),
                       read_latest.get_double(2), false};
      }
      return latest.emplace(key, found).first->second;
    };
    for (const auto& point : points) {
      std::optional<Latest>& current = latest_of(point.key);
      std::int64_t step = point.step ? *point.step : (current ? current->step + 1 : 0);
      insert.reset();
      insert.bind(1, run_row_id).bind(2, point.key).bind(3, step);
      if (std::isnan(point.value)) {
        insert.bind_null(4);
      } else {
        insert.bind(4, point.value);
      }
      insert.bind(5, point.timestamp);
      insert.run();
      if (!current || is_later(step, point.timestamp, current->step, current->timestamp)) {
        current = Latest{step, point.value, point.timestamp, true};
      }
    }
    auto upsert = m_db.prepare(
        "INSERT INTO latest_metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, step = excluded.step, "
        "timestamp = excluded.timestamp");
    for (const auto& [key, current] : latest) {
      if (!current || !current->changed) continue;
      upsert.reset();
      upsert.bind(1, run_row_id).bind(2, key);
      if (std::isnan(current->value)) {
        upsert.bind_null(3);
      } else {
        upsert.bind(3, current->value);
      }
      upsert.bind(4, current->step).bind(5, current->timestamp).run();
    }
  });
}

std::vector<MetricPoint> MetricLog::history(std::int64_t run_row_id, std::optional<std::string_view> key) {
  std::vector<MetricPoint> result;
  auto stmt = key ? m_db.prepare(
                        "SELECT key, step, value, timestamp FROM metrics WHERE run_id = ? AND key = ? "
                        "ORDER BY key, step, timestamp, rowid")
                  : m_db.prepare(
                        "SELECT key, step, value, timestamp FROM metrics WHERE run_id = ? "
                        "ORDER BY key, step, timestamp, rowid");
  stmt.bind(1, run_row_id);
  if (key) stmt.bind(2, *key);
  while (stmt.step()) {
    MetricPoint point;
    point.key = stmt.get_text(0);
    point.step = stmt.get_int64(1);
    point.value = stmt.is_null(2) ? std::nan("") : stmt.get_double(2);
    point.timestamp = stmt.get_double(3);
    result.push_back(std::move(point));
  }
  return result;
}

}  // namespace mlctl::tracking
