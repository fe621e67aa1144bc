#include <mlctl/data/column_profile.hpp>

#include <mlctl/core/did_you_mean.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/parallel.hpp>
#include <mlctl/data/term_table.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace mlctl::data {
namespace {

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

// The k_top_count most frequent entries, by count descending then key.
std::vector<ValueCount> top_entries(std::vector<std::pair<std::string_view, std::size_t>> entries) {
  auto before = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  std::size_t keep = std::min(k_top_count, entries.size());
  std::partial_sort(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(keep), entries.end(),
                    before);
  std::vector<ValueCount> top;
  top.reserve(keep);
  for (std::size_t i = 0; i < keep; ++i) top.push_back({std::string(entries[i].first), entries[i].second});
  return top;
}

template <class Key>
std::vector<ValueCount> top_counts(const std::unordered_map<Key, std::size_t>& counts) {
  return top_entries({counts.begin(), counts.end()});
}

Json number_or_null(double value) { return std::isfinite(value) ? Json(value) : Json(nullptr); }

Json top_to_json(const std::vector<ValueCount>& top) {
  Json list = Json::array();
  for (const auto& entry : top) list.push_back(Json{{"value", entry.value}, {"count", entry.count}});
  return list;
}

// Reads fields of one column's profile JSON, naming the column in errors.
class ProfileReader {
 public:
  explicit ProfileReader(std::string_view name) : m_name(name) {}

  [[noreturn]] void fail(std::string_view what) const {
    throw Error(ErrorKind::parse, fmt::format("profile of column '{}': {}", m_name, what));
  }

  const Json& field(const Json& object, const char* key) const {
    if (!object.is_object()) fail(fmt::format("expected an object holding '{}'", key));
    auto found = object.find(key);
    if (found == object.end()) fail(fmt::format("missing field '{}'", key));
    return *found;
  }

  std::size_t count(const Json& object, const char* key) const {
    const Json& value = field(object, key);
    if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<std::int64_t>() >= 0)) {
      fail(fmt::format("'{}' must be a non-negative integer", key));
    }
    return value.get<std::size_t>();
  }

  double number(const Json& value, std::string_view what) const {
    if (value.is_null()) return k_nan;
    if (!value.is_number()) fail(fmt::format("'{}' must be a number or null", what));
    return value.get<double>();
  }

  double number_at(const Json& object, const char* key) const { return number(field(object, key), key); }

  std::vector<ValueCount> top(const Json& list, const char* key) const {
    if (!list.is_array()) fail(fmt::format("'{}' must be an array", key));
    std::vector<ValueCount> top;
    for (const auto& entry : list) {
      const Json& value = field(entry, "value");
      if (!value.is_string()) fail(fmt::format("the values of '{}' must be strings", key));
      top.push_back({value.get<std::string>(), count(entry, "count")});
    }
    return top;
  }

 private:
  std::string_view m_name;
};

}  // namespace

double quantile(std::span<const double> sorted, double p) noexcept {
  if (sorted.empty()) return k_nan;
  // numpy's "linear" method (Hyndman and Fan's type 7), written as numpy
  // computes it, lerp included, so that a cross-check with numpy agrees to
  // the last bit as often as possible.
  double virtual_index = static_cast<double>(sorted.size() - 1) * p;
  double below = std::floor(virtual_index);
  double t = virtual_index - below;
  auto last = sorted.size() - 1;
  std::size_t lo = below <= 0 ? 0 : std::min(static_cast<std::size_t>(below), last);
  std::size_t hi = std::min(lo + 1, last);
  double a = sorted[lo], b = sorted[hi];
  double diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

std::vector<std::size_t> histogram_counts(std::span<const double> sorted, std::span<const double> edges) {
  std::vector<std::size_t> counts;
  if (edges.size() < 2) return counts;
  // numpy.histogram's cumulative counts: values below each edge, and at or
  // below the last one, so the last bin is closed.
  auto below = [&](double edge) {
    return static_cast<std::size_t>(std::lower_bound(sorted.begin(), sorted.end(), edge) - sorted.begin());
  };
  std::vector<std::size_t> cumulative;
  cumulative.reserve(edges.size());
  for (std::size_t i = 0; i + 1 < edges.size(); ++i) cumulative.push_back(below(edges[i]));
  cumulative.push_back(static_cast<std::size_t>(std::upper_bound(sorted.begin(), sorted.end(), edges.back()) -
                                                sorted.begin()));
  counts.reserve(edges.size() - 1);
  for (std::size_t i = 0; i + 1 < cumulative.size(); ++i) {
    // Edges out of order would make the difference negative; count none.
    counts.push_back(cumulative[i + 1] >= cumulative[i] ? cumulative[i + 1] - cumulative[i] : 0);
  }
  return counts;
}

NumericProfile profile_numbers(std::span<const double> numbers) {
  NumericProfile profile;
  std::vector<double> values;
  values.reserve(numbers.size());
  double mean = 0, sum_squares = 0;
  for (double number : numbers) {
    if (std::isnan(number)) {
      ++profile.missing;
      continue;
    }
    values.push_back(number);
    double delta = number - mean;
    mean += delta / static_cast<double>(values.size());
    sum_squares += delta * (number - mean);
  }
  profile.count = values.size();
  if (values.empty()) {
    profile.min = profile.max = profile.mean = profile.std = k_nan;
    return profile;
  }
  std::sort(values.begin(), values.end());
  profile.min = values.front();
  profile.max = values.back();
  profile.mean = mean;
  profile.std = values.size() < 2 ? k_nan : std::sqrt(sum_squares / static_cast<double>(values.size() - 1));
  profile.quantiles.reserve(k_quantile_count);
  for (std::size_t i = 0; i < k_quantile_count; ++i) {
    profile.quantiles.push_back(
        quantile(values, static_cast<double>(i) / static_cast<double>(k_quantile_count - 1)));
  }
  profile.histogram = histogram_counts(values, profile.quantiles);
  return profile;
}

CategoricalProfile profile_categories(const CsvColumn& column) {
  CategoricalProfile profile;
  std::unordered_map<std::string_view, std::size_t> counts;
  for (std::size_t row = 0; row < column.size(); ++row) {
    std::string_view cell = column.cell(row);
    if (cell.empty()) {
      ++profile.missing;
      continue;
    }
    ++profile.count;
    ++counts[cell];
  }
  profile.distinct = counts.size();
  profile.top = top_counts(counts);
  return profile;
}

TextProfile profile_text(const CsvColumn& column) {
  TextProfile profile;
  TermCounter token_counts;
  std::size_t total_chars = 0, total_tokens = 0;
  std::string scratch;
  for (std::size_t row = 0; row < column.size(); ++row) {
    std::string_view cell = column.cell(row);
    if (cell.empty()) {
      ++profile.missing;
      continue;
    }
    std::size_t chars = count_chars(cell);
    profile.min_chars = profile.count == 0 ? chars : std::min(profile.min_chars, chars);
    profile.max_chars = std::max(profile.max_chars, chars);
    total_chars += chars;
    ++profile.count;
    for_each_token(cell, scratch, [&](std::string_view token) {
      ++total_tokens;
      token_counts.add(token);
    });
  }
  auto n = static_cast<double>(profile.count);
  profile.mean_chars = profile.count == 0 ? k_nan : static_cast<double>(total_chars) / n;
  profile.mean_tokens = profile.count == 0 ? k_nan : static_cast<double>(total_tokens) / n;
  profile.distinct_tokens = token_counts.size();
  std::vector<std::pair<std::string_view, std::size_t>> entries;
  entries.reserve(token_counts.size());
  for (std::size_t i = 0; i < token_counts.size(); ++i) {
    entries.emplace_back(token_counts.term(i), static_cast<std::size_t>(token_counts.count(i)));
  }
  profile.top_tokens = top_entries(std::move(entries));
  return profile;
}

ColumnProfile profile_column(const CsvTable& table, const ColumnSchema& column) {
  auto index = table.find_column(column.name);
  if (!index) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("{}: no column '{}' in the table{}", table.source_name, column.name,
                            did_you_mean_hint(column.name, table.column_names())));
  }
  ColumnProfile profile{column.name, column.type, {}};
  switch (column.type) {
    case ColumnType::numeric: {
      std::vector<double> numbers = column_as_numbers(table, *index);
      profile.stats = profile_numbers(numbers);
      break;
    }
    case ColumnType::categorical: profile.stats = profile_categories(table.columns[*index]); break;
    case ColumnType::text: profile.stats = profile_text(table.columns[*index]); break;
  }
  return profile;
}

Json profile_to_json(const ColumnProfile& profile) {
  Json json = Json::object();
  json["type"] = to_string(profile.type);
  if (const auto* numeric = std::get_if<NumericProfile>(&profile.stats)) {
    json["count"] = numeric->count;
    json["missing"] = numeric->missing;
    json["min"] = number_or_null(numeric->min);
    json["max"] = number_or_null(numeric->max);
    json["mean"] = number_or_null(numeric->mean);
    json["std"] = number_or_null(numeric->std);
    Json quantiles = Json::array();
    for (double value : numeric->quantiles) quantiles.push_back(number_or_null(value));
    json["quantiles"] = std::move(quantiles);
    json["histogram"] = numeric->histogram;
  } else if (const auto* categorical = std::get_if<CategoricalProfile>(&profile.stats)) {
    json["count"] = categorical->count;
    json["missing"] = categorical->missing;
    json["distinct"] = categorical->distinct;
    json["top"] = top_to_json(categorical->top);
  } else if (const auto* text = std::get_if<TextProfile>(&profile.stats)) {
    json["count"] = text->count;
    json["missing"] = text->missing;
    json["length"] =
        Json{{"min", text->min_chars}, {"max", text->max_chars}, {"mean", number_or_null(text->mean_chars)}};
    json["tokens"] = Json{{"mean", number_or_null(text->mean_tokens)},
                          {"distinct", text->distinct_tokens},
                          {"top", top_to_json(text->top_tokens)}};
  }
  return json;
}

ColumnProfile profile_from_json(std::string_view name, const Json& json) {
  ProfileReader read(name);
  const Json& type = read.field(json, "type");
  if (!type.is_string()) read.fail("'type' must be a string");
  ColumnProfile profile{std::string(name), ColumnType::categorical, {}};
  try {
    profile.type = parse_column_type(type.get_ref<const std::string&>());
  } catch (const Error& error) {
    read.fail(error.what());
  }
  switch (profile.type) {
    case ColumnType::numeric: {
      NumericProfile numeric;
      numeric.count = read.count(json, "count");
      numeric.missing = read.count(json, "missing");
      numeric.min = read.number_at(json, "min");
      numeric.max = read.number_at(json, "max");
      numeric.mean = read.number_at(json, "mean");
      numeric.std = read.number_at(json, "std");
      const Json& quantiles = read.field(json, "quantiles");
      const Json& histogram = read.field(json, "histogram");
      std::size_t expected = numeric.count == 0 ? 0 : k_quantile_count;
      if (!quantiles.is_array() || quantiles.size() != expected) {
        read.fail(fmt::format("'quantiles' must be an array of {} numbers", expected));
      }
      if (!histogram.is_array() || histogram.size() != (expected == 0 ? 0 : expected - 1)) {
        read.fail(fmt::format("'histogram' must be an array of {} counts", expected == 0 ? 0 : expected - 1));
      }
      for (const auto& value : quantiles) numeric.quantiles.push_back(read.number(value, "quantiles"));
      for (const auto& value : histogram) {
        if (!value.is_number_unsigned()) read.fail("'histogram' must hold non-negative integers");
        numeric.histogram.push_back(value.get<std::size_t>());
      }
      profile.stats = std::move(numeric);
      break;
    }
    case ColumnType::categorical: {
      CategoricalProfile categorical;
      categorical.count = read.count(json, "count");
      categorical.missing = read.count(json, "missing");
      categorical.distinct = read.count(json, "distinct");
      categorical.top = read.top(read.field(json, "top"), "top");
      profile.stats = std::move(categorical);
      break;
    }
    case ColumnType::text: {
      TextProfile text;
      text.count = read.count(json, "count");
      text.missing = read.count(json, "missing");
      const Json& length = read.field(json, "length");
      text.min_chars = read.count(length, "min");
      text.max_chars = read.count(length, "max");
      text.mean_chars = read.number_at(length, "mean");
      const Json& tokens = read.field(json, "tokens");
      text.mean_tokens = read.number_at(tokens, "mean");
      text.distinct_tokens = read.count(tokens, "distinct");
      text.top_tokens = read.top(read.field(tokens, "top"), "top");
      profile.stats = std::move(text);
      break;
    }
  }
  return profile;
}

Json profile_table(const CsvTable& table, const TableSchema& schema) {
  // Columns are independent: profile them on every core.
  std::vector<Json> profiles(schema.columns.size());
  parallel_for_each_index(schema.columns.size(), schema.columns.size() * table.row_count(), [&](std::size_t i) {
    profiles[i] = profile_to_json(profile_column(table, schema.columns[i]));
  });
  Json columns = Json::object();
  for (std::size_t i = 0; i < schema.columns.size(); ++i) columns[schema.columns[i].name] = std::move(profiles[i]);
  Json json = Json::object();
  json["rows"] = table.row_count();
  json["columns"] = std::move(columns);
  return json;
}

}  // namespace mlctl::data
