#pragma once

// Served requests as a table: what a service was sent (its request log),
// one row per scored row, the model's input columns then `prediction`, so
// that the rows can be labelled and registered as the new data a
// retraining pipeline learns from.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <mlctl/data/table_schema.hpp>

namespace mlctl::monitoring {

// CSV text (RFC 4180, header row). Rows received before `from_unix` are
// left out. `rows` receives the number of data rows.
std::string requests_to_csv(const std::filesystem::path& requests_dir, const std::vector<data::ColumnSchema>& inputs,
                            std::optional<double> from_unix, std::size_t& rows);

}  // namespace mlctl::monitoring
