#include <mlctl/tracking/run_compare.hpp>

#include <set>
#include <string>

namespace mlctl::tracking {
namespace {

template <typename Lookup>
void add_rows(Json& rows, const std::vector<Run>& runs, const char* kind, const std::set<std::string>& keys,
              Lookup&& lookup) {
  for (const auto& key : keys) {
    Json row = Json::object();
    row["kind"] = kind;
    row["key"] = key;
    bool differs = false;
    std::optional<Json> first;
    for (const auto& run : runs) {
      Json value = lookup(run, key);
      if (!first) {
        first = value;
      } else if (value != *first) {
        differs = true;
      }
      row[run.id] = std::move(value);
    }
    row["differs"] = differs;
    rows.push_back(std::move(row));
  }
}

}  // namespace

Json compare_runs(const std::vector<Run>& runs) {
  std::set<std::string> param_keys, metric_keys;
  for (const auto& run : runs) {
    for (const auto& [key, value] : run.params) param_keys.insert(key);
    for (const auto& [key, point] : run.metrics) metric_keys.insert(key);
  }
  Json rows = Json::array();
  add_rows(rows, runs, "param", param_keys, [](const Run& run, const std::string& key) {
    auto it = run.params.find(key);
    return it == run.params.end() ? Json(nullptr) : Json(it->second);
  });
  add_rows(rows, runs, "metric", metric_keys, [](const Run& run, const std::string& key) {
    auto it = run.metrics.find(key);
    return it == run.metrics.end() ? Json(nullptr) : to_json(it->second)["value"];
  });
  return rows;
}

}  // namespace mlctl::tracking
