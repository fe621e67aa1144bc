#include <mlctl/monitoring/service_stats.hpp>

#include <algorithm>
#include <cmath>
#include <map>

#include <mlctl/core/clock.hpp>
#include <mlctl/data/column_profile.hpp>
#include <mlctl/serving/request_log.hpp>

namespace mlctl::monitoring {
namespace {

struct Tally {
  std::size_t requests = 0, errors = 0, rows = 0;
  std::map<std::string, std::size_t> classes;
  std::vector<double> values;  // regression predictions
  std::vector<double> latencies;

  void add(const Json& record) {
    ++requests;
    if (record.value("status", 200) >= 400) {
      ++errors;
      return;
    }
    rows += record.value("inputs", Json::array()).size();
    if (record.contains("latency_ms")) latencies.push_back(record["latency_ms"].get<double>());
    for (const Json& prediction : record.value("predictions", Json::array())) {
      if (prediction.is_string()) ++classes[prediction.get<std::string>()];
      else if (prediction.is_number()) values.push_back(prediction.get<double>());
    }
  }

  Json predictions() {
    if (!classes.empty()) {
      Json shares = Json::object();
      std::size_t total = 0;
      for (const auto& [name, count] : classes) total += count;
      for (const auto& [name, count] : classes) shares[name] = {{"count", count}, {"share", double(count) / double(total)}};
      return shares;
    }
    if (values.empty()) return Json::object();
    std::sort(values.begin(), values.end());
    return {{"count", values.size()},
            {"p10", data::quantile(values, 0.1)},
            {"p50", data::quantile(values, 0.5)},
            {"p90", data::quantile(values, 0.9)}};
  }

  Json summary() {
    Json json = {{"requests", requests},
                 {"errors", errors},
                 {"error_rate", requests ? double(errors) / double(requests) : 0.0},
                 {"rows", rows},
                 {"predictions", predictions()}};
    std::sort(latencies.begin(), latencies.end());
    json["latency_ms"] = latencies.empty() ? Json(nullptr)
                                           : Json{{"p50", data::quantile(latencies, 0.5)},
                                                  {"p95", data::quantile(latencies, 0.95)},
                                                  {"p99", data::quantile(latencies, 0.99)}};
    return json;
  }
};

}  // namespace

Json service_stats(const std::filesystem::path& requests_dir, const StatsRequest& request) {
  Tally total;
  std::map<long long, Tally> windows;
  const std::optional<double> from =
      request.since_seconds ? std::optional<double>(unix_now() - *request.since_seconds) : std::nullopt;
  serving::RequestLog::for_each_record(requests_dir, [&](const Json& record) {
    if (!record.contains("time")) return;
    const double time = record["time"].get<double>();
    if (from && time < *from) return;
    total.add(record);
    windows[(long long)std::floor(time / request.window_seconds)].add(record);
  });
  Json result = total.summary();
  Json rows = Json::array();
  for (auto& [index, tally] : windows) {
    Json window = tally.summary();
    window["start"] = format_iso8601(double(index) * request.window_seconds);
    rows.push_back(std::move(window));
  }
  result["windows"] = std::move(rows);
  return result;
}

}  // namespace mlctl::monitoring
