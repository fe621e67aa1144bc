#pragma once

// Summary statistics of each column of a table: what the data looked like
// when a model was trained, kept as the baseline that later data is compared
// with to detect drift.

#include <mlctl/core/json.hpp>
#include <mlctl/data/csv.hpp>
#include <mlctl/data/table_schema.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mlctl::data {

// The quantile levels of a numeric profile: 0, 0.1, ..., 1.
inline constexpr std::size_t k_quantile_count = 11;
// How many of the most frequent values (or tokens) a profile keeps.
inline constexpr std::size_t k_top_count = 20;

struct ValueCount {
  std::string value;
  std::size_t count = 0;
  bool operator==(const ValueCount&) const = default;
};

// Statistics that are undefined for too few values are NaN (null in JSON):
// min, max, mean and quantiles without values, std with fewer than two.
struct NumericProfile {
  std::size_t count = 0;    // cells holding a number
  std::size_t missing = 0;  // missing cells (see is_missing)
  double min = 0, max = 0, mean = 0;
  double std = 0;  // sample standard deviation (divides by count - 1)
  // At levels i / 10 for i = 0..10, interpolated linearly between the
  // closest ranks as numpy.quantile does by default; empty without values.
  std::vector<double> quantiles;
  // histogram[i] counts the values in [quantiles[i], quantiles[i + 1]), the
  // last bin closed ([quantiles[9], quantiles[10]]), as numpy.histogram does
  // with those edges; empty without values. Repeated quantiles make empty
  // bins: a column of zeros has all its values in the last bin.
  std::vector<std::size_t> histogram;
};

struct CategoricalProfile {
  std::size_t count = 0;    // non-empty cells
  std::size_t missing = 0;  // empty cells
  std::size_t distinct = 0;
  // The k_top_count most frequent values, by count descending, then value
  // ascending (by bytes).
  std::vector<ValueCount> top;
};

// Tokens are as for_each_token defines them; lengths count characters.
struct TextProfile {
  std::size_t count = 0;                     // non-empty cells
  std::size_t missing = 0;                   // empty cells
  std::size_t min_chars = 0, max_chars = 0;  // 0 without values
  double mean_chars = 0;                     // NaN without values
  double mean_tokens = 0;                    // per non-empty cell; NaN without values
  std::size_t distinct_tokens = 0;
  std::vector<ValueCount> top_tokens;  // ordered as CategoricalProfile::top
};

struct ColumnProfile {
  std::string name;
  // Which alternative `stats` holds follows from `type`.
  ColumnType type = ColumnType::categorical;
  std::variant<NumericProfile, CategoricalProfile, TextProfile> stats;
};

// The profile of numbers in any order, NaN marking a missing one; the others
// should be finite. Mean and variance use Welford's update, so a large
// offset ("1e9 + small noise") costs no precision. Pure.
NumericProfile profile_numbers(std::span<const double> numbers);
CategoricalProfile profile_categories(const CsvColumn& column);
TextProfile profile_text(const CsvColumn& column);

// The profile of the table's column that `column` names, by its type there.
// Throws Error(invalid_argument) "SOURCE: no column 'x' in the table" when
// the table lacks it, Error(parse) as column_as_numbers when a numeric
// column holds text. Pure and thread-safe.
ColumnProfile profile_column(const CsvTable& table, const ColumnSchema& column);

// The value at level `p` (0 to 1) of `sorted` (ascending, no NaN), by
// numpy.quantile's default linear method; NaN when `sorted` is empty. Pure.
double quantile(std::span<const double> sorted, double p) noexcept;

// For each bin between consecutive `edges` (ascending), how many of `sorted`
// (ascending) fall in it, as numpy.histogram(values, bins=edges) counts:
// half-open bins, the last one closed; values outside the edges are not
// counted. Empty when there are fewer than two edges. Pure.
std::vector<std::size_t> histogram_counts(std::span<const double> sorted, std::span<const double> edges);

// The profile as JSON: {"type": "numeric", "count", "missing", "min", "max",
// "mean", "std", "quantiles": [...], "histogram": [...]};
// {"type": "categorical", "count", "missing", "distinct",
//  "top": [{"value", "count"}, ...]};
// {"type": "text", "count", "missing", "length": {"min", "max", "mean"},
//  "tokens": {"mean", "distinct", "top": [{"value", "count"}, ...]}}.
// NaN is written as null. The name is not included.
Json profile_to_json(const ColumnProfile& profile);

// The inverse of profile_to_json, for the column `name`. Throws Error(parse)
// "profile of column 'NAME': ..." naming the first missing or mistyped field.
ColumnProfile profile_from_json(std::string_view name, const Json& json);

// {"rows": N, "columns": {NAME: profile_to_json(...), ...}} for the columns
// of `schema`, in its order; table columns the schema lacks are left out.
// Throws as profile_column. Pure and thread-safe.
Json profile_table(const CsvTable& table, const TableSchema& schema);

}  // namespace mlctl::data
