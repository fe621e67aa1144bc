#include <mlctl/monitoring/request_export.hpp>

#include <fmt/format.h>

#include <mlctl/core/json.hpp>
#include <mlctl/data/csv.hpp>
#include <mlctl/serving/request_log.hpp>

namespace mlctl::monitoring {
namespace {

std::string cell(const Json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return data::csv_field(value.get<std::string>());
  if (value.is_number_float()) return fmt::format("{}", value.get<double>());
  return data::csv_field(value.dump());
}

}  // namespace

std::string requests_to_csv(const std::filesystem::path& requests_dir, const std::vector<data::ColumnSchema>& inputs,
                            std::optional<double> from_unix, std::size_t& rows) {
  std::string csv;
  for (const auto& input : inputs) csv += data::csv_field(input.name) + ",";
  csv += "prediction\n";
  rows = 0;
  // Oldest first: the rows come in the order they were served.
  serving::RequestLog::for_each_record(requests_dir, [&](const Json& record) {
    if (!record.contains("inputs")) return;  // a refused request
    if (from_unix && record.value("time", 0.0) < *from_unix) return;
    const Json predictions = record.value("predictions", Json::array());
    std::size_t index = 0;
    for (const Json& row : record["inputs"]) {
      for (const auto& input : inputs) csv += cell(row.contains(input.name) ? row[input.name] : Json()) + ",";
      csv += (index < predictions.size() ? cell(predictions[index]) : std::string()) + "\n";
      ++index;
      ++rows;
    }
  });
  return csv;
}

}  // namespace mlctl::monitoring
