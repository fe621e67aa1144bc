#include <mlctl/train/preprocessor.hpp>

#include <mlctl/core/did_you_mean.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/json_bytes.hpp>

#include <fmt/format.h>

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <unordered_set>
#include <utility>

namespace mlctl::train {

namespace {

using data::ColumnType;
using data::CsvColumn;
using data::CsvTable;

constexpr const char* k_format_name = "mlctl.preprocessor";
// Cells quoted in messages are cut here, so that a stray paragraph does
// not flood the terminal.
constexpr std::size_t k_shown_chars = 40;
// Messages list at most this many classes.
constexpr std::size_t k_shown_classes = 10;

[[noreturn]] void invalid(const std::string& message) {
  throw Error(ErrorKind::invalid_argument, message);
}

[[noreturn]] void parse_error(const std::string& message) {
  throw Error(ErrorKind::parse, "preprocessor: " + message);
}

std::string shown(std::string_view cell) {
  if (cell.size() <= k_shown_chars) return std::string(cell);
  return std::string(cell.substr(0, k_shown_chars)) + "...";
}

std::size_t line_of(const CsvTable& table, std::int64_t row) {
  return table.row_lines[static_cast<std::size_t>(row)];
}

[[noreturn]] void not_a_number(const CsvTable& table, const std::string& column, std::int64_t row,
                               std::string_view cell) {
  invalid(fmt::format("column '{}', line {}: expected a number, got '{}'", column,
                      line_of(table, row), shown(cell)));
}

// `count` zeros. The first write to each fresh 4 KiB page of a large buffer
// is a page fault, and on a virtual machine those faults cost more than the
// whole transform (188 MB of output: 530 ms of faults, measured, against
// 30 ms with huge pages). So the buffer is reserved untouched and its
// 2 MiB-aligned interior advised to use huge pages before it is filled, as
// data::detail::allocate_large does for column buffers.
std::vector<float> zeroed_floats(std::size_t count) {
  constexpr std::uintptr_t k_huge_page = std::uintptr_t{2} << 20;
  std::vector<float> values;
  values.reserve(count);
#ifdef MADV_HUGEPAGE
  if (count * sizeof(float) >= 2 * k_huge_page) {
    const auto begin = reinterpret_cast<std::uintptr_t>(values.data());
    const std::uintptr_t first = (begin + k_huge_page - 1) / k_huge_page * k_huge_page;
    const std::uintptr_t last = (begin + count * sizeof(float)) / k_huge_page * k_huge_page;
    // Advice only: where transparent huge pages are off, this fails harmlessly.
    if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  }
#endif
  values.assign(count, 0.0f);
  return values;
}

// Rows come from the caller's own split, never from the user, so a bad one
// is a bug: checked once up front so that the loops can index freely.
void check_rows(const CsvTable& table, std::span<const std::int64_t> rows) {
  const auto count = static_cast<std::int64_t>(table.row_count());
  for (const std::int64_t row : rows) {
    if (row < 0 || row >= count) {
      throw Error(ErrorKind::internal, fmt::format("row {} is outside the table {} ({} rows)", row,
                                                   table.source_name, count));
    }
  }
}

// The number in `cell`, nullopt when it is missing; throws for anything else.
std::optional<double> numeric_cell(const CsvTable& table, const std::string& column,
                                   std::int64_t row, std::string_view cell) {
  if (const auto value = data::parse_number(cell)) return value;
  if (data::is_missing(cell)) return std::nullopt;
  not_a_number(table, column, row, cell);
}

// Mean and population standard deviation, two passes for accuracy. A
// constant column keeps its exact value as the mean and gets scale 1: the
// computed mean of, say, three 0.1s is off by an ulp, and dividing that
// error by a std of 1e-17 would turn a constant into noise of size 1.
struct Moments {
  double mean = 0.0;
  double scale = 1.0;
};

// `visit(f)` calls f(double) for every non-missing value; it is called twice.
template <class Visit>
Moments moments(Visit&& visit) {
  std::int64_t count = 0;
  double sum = 0.0;
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  visit([&](double x) {
    ++count;
    sum += x;
    low = std::min(low, x);
    high = std::max(high, x);
  });
  Moments result;
  if (count == 0) return result;
  if (low == high) {
    result.mean = low;
    return result;
  }
  result.mean = sum / static_cast<double>(count);
  double squares = 0.0;
  visit([&](double x) { squares += (x - result.mean) * (x - result.mean); });
  const double scale = std::sqrt(squares / static_cast<double>(count));
  if (scale > 0.0 && std::isfinite(scale)) result.scale = scale;
  return result;
}

Json text_to_json(std::string_view text) { return bytes_to_json(text); }

std::string text_from_json(const Json& json, const std::string& where) {
  return bytes_from_json(json, "preprocessor", where);
}

const Json& field(const Json& object, const char* name, const std::string& where) {
  const auto it = object.find(name);
  if (it == object.end()) parse_error(fmt::format("{}: missing field '{}'", where, name));
  return *it;
}

const std::string& string_field(const Json& object, const char* name, const std::string& where) {
  const Json& value = field(object, name, where);
  if (!value.is_string()) parse_error(fmt::format("{}: '{}' must be a string", where, name));
  return value.get_ref<const std::string&>();
}

double number_field(const Json& object, const char* name, const std::string& where) {
  const Json& value = field(object, name, where);
  if (!value.is_number()) parse_error(fmt::format("{}: '{}' must be a number", where, name));
  const double number = value.get<double>();
  if (!std::isfinite(number)) parse_error(fmt::format("{}: '{}' must be finite", where, name));
  return number;
}

// Reads {"mean": m, "std": s} fields; a scale must be positive, since
// transform divides by it.
Moments moments_fields(const Json& object, const std::string& where) {
  Moments result;
  result.mean = number_field(object, "mean", where);
  result.scale = number_field(object, "std", where);
  if (result.scale <= 0.0) parse_error(fmt::format("{}: 'std' must be positive", where));
  return result;
}

ColumnType column_type_from_json(const Json& object, const std::string& where) {
  const std::string& name = string_field(object, "type", where);
  for (const ColumnType type : {ColumnType::numeric, ColumnType::categorical, ColumnType::text}) {
    if (name == data::to_string(type)) return type;
  }
  parse_error(fmt::format("{}: unknown column type '{}'", where, name));
}

FeatureMode mode_from_json(const std::string& name) {
  for (const FeatureMode mode : {FeatureMode::tabular, FeatureMode::text, FeatureMode::image}) {
    if (name == to_string(mode)) return mode;
  }
  parse_error(fmt::format("unknown mode '{}' (expected tabular, text or image)", name));
}

std::vector<std::string> sorted_class_names(std::vector<std::string_view> texts) {
  std::vector<std::pair<double, std::string_view>> numbers;
  numbers.reserve(texts.size());
  for (const std::string_view text : texts) {
    const auto value = data::parse_number(text);
    if (!value) break;
    numbers.emplace_back(*value, text);
  }
  std::vector<std::string> names;
  names.reserve(texts.size());
  if (numbers.size() == texts.size()) {
    // Equal numbers written differently ("1", "1.0") stay distinct classes,
    // ordered by text so that the order is total.
    std::sort(numbers.begin(), numbers.end());
    for (const auto& [value, text] : numbers) names.emplace_back(text);
  } else {
    std::sort(texts.begin(), texts.end());
    for (const std::string_view text : texts) names.emplace_back(text);
  }
  return names;
}

std::string quoted_list(const std::vector<std::string>& names, std::size_t limit) {
  std::string list;
  for (std::size_t i = 0; i < names.size() && i < limit; ++i) {
    if (i > 0) list += ", ";
    list += fmt::format("'{}'", shown(names[i]));
  }
  if (names.size() > limit) list += fmt::format(", ... ({} in all)", names.size());
  return list;
}

}  // namespace

const char* to_string(FeatureMode mode) noexcept {
  switch (mode) {
    case FeatureMode::tabular:
      return "tabular";
    case FeatureMode::text:
      return "text";
    case FeatureMode::image:
      return "image";
  }
  return "tabular";
}

Preprocessor Preprocessor::fit(const CsvTable& table, const data::TableSchema& schema,
                               std::span<const std::int64_t> train_rows,
                               const PreprocessOptions& options) {
  if (train_rows.empty()) invalid("no training rows");
  if (options.max_categories < 1) {
    invalid(fmt::format("max_categories must be at least 1, got {}", options.max_categories));
  }
  check_rows(table, train_rows);

  Preprocessor result;
  result.m_mode = options.mode;
  result.m_classification = options.classification;

  const std::vector<std::string> table_columns = table.column_names();
  const auto schema_type = [&](const std::string& name) {
    const auto index = schema.find_column(name);
    if (!index) invalid(fmt::format("the schema has no column '{}'", name));
    return schema.columns[*index].type;
  };

  // The label.
  if (!options.label.empty()) {
    result.m_label = options.label;
  } else if (schema.label) {
    result.m_label = *schema.label;
  } else {
    invalid("no label column given");
  }
  if (!table.find_column(result.m_label)) {
    invalid(fmt::format("{}: no column '{}' to use as the label{}", table.source_name,
                        result.m_label, did_you_mean_hint(result.m_label, table_columns)));
  }
  result.m_label_type = schema_type(result.m_label);

  // The feature columns and their types.
  std::vector<std::string> names;
  if (options.features.empty()) {
    for (const std::string& name : table_columns) {
      if (name != result.m_label) names.push_back(name);
    }
    if (names.empty()) {
      invalid(fmt::format("{}: no feature columns besides the label '{}'", table.source_name,
                          result.m_label));
    }
  } else {
    for (const std::string& name : options.features) {
      if (!table.find_column(name)) {
        invalid(fmt::format("{}: no column '{}' to use as a feature{}", table.source_name, name,
                            did_you_mean_hint(name, table_columns)));
      }
      if (name == result.m_label) {
        invalid(fmt::format("column '{}' is the label; it cannot also be a feature", name));
      }
      if (std::find(names.begin(), names.end(), name) != names.end()) {
        invalid(fmt::format("column '{}' is listed twice in the features", name));
      }
      names.push_back(name);
    }
  }
  for (const std::string& name : names) {
    detail::FeatureSpec feature;
    feature.name = name;
    feature.type = schema_type(name);
    result.m_features.push_back(std::move(feature));
  }

  switch (options.mode) {
    case FeatureMode::tabular:
      for (const auto& feature : result.m_features) {
        if (feature.type == ColumnType::text) {
          invalid(fmt::format(
              "column '{}' is free text, which a tabular model cannot use; use model type text, "
              "or leave the column out of the features",
              feature.name));
        }
      }
      break;
    case FeatureMode::image:
      for (const auto& feature : result.m_features) {
        if (feature.type != ColumnType::numeric) {
          invalid(fmt::format("column '{}' is {}; image mode needs numeric pixel columns",
                              feature.name, data::to_string(feature.type)));
        }
      }
      break;
    case FeatureMode::text: {
      if (result.m_features.size() != 1) {
        invalid(fmt::format(
            "text mode vectorises exactly one column, got {} features ({}); name the text column "
            "in the features",
            names.size(), quoted_list(names, k_shown_classes)));
      }
      const auto& feature = result.m_features.front();
      if (feature.type == ColumnType::numeric) {
        invalid(fmt::format("column '{}' is numeric; text mode needs a text or categorical column",
                            feature.name));
      }
      break;
    }
  }

  // Fit the features on the training rows only.
  const auto column_of = [&](const std::string& name) -> const CsvColumn& {
    return table.columns[*table.find_column(name)];
  };
  if (options.mode == FeatureMode::text) {
    const CsvColumn& column = column_of(result.m_features.front().name);
    std::vector<std::string_view> documents;
    documents.reserve(train_rows.size());
    for (const std::int64_t row : train_rows) {
      documents.push_back(column.cell(static_cast<std::size_t>(row)));
    }
    result.m_vectorizer =
        TextVectorizer::fit(std::span<const std::string_view>(documents), options.text);
  } else if (options.mode == FeatureMode::image) {
    std::vector<const CsvColumn*> columns;
    for (const auto& feature : result.m_features) columns.push_back(&column_of(feature.name));
    const Moments pixels = moments([&](auto&& add) {
      for (std::size_t f = 0; f < columns.size(); ++f) {
        for (const std::int64_t row : train_rows) {
          const std::string_view cell = columns[f]->cell(static_cast<std::size_t>(row));
          if (const auto value = numeric_cell(table, result.m_features[f].name, row, cell)) {
            add(*value);
          }
        }
      }
    });
    result.m_pixel_mean = pixels.mean;
    result.m_pixel_scale = pixels.scale;
  } else {
    for (auto& feature : result.m_features) {
      const CsvColumn& column = column_of(feature.name);
      if (feature.type == ColumnType::numeric) {
        const Moments fitted = moments([&](auto&& add) {
          for (const std::int64_t row : train_rows) {
            const std::string_view cell = column.cell(static_cast<std::size_t>(row));
            if (const auto value = numeric_cell(table, feature.name, row, cell)) add(*value);
          }
        });
        feature.mean = fitted.mean;
        feature.scale = fitted.scale;
        continue;
      }
      std::unordered_map<std::string_view, std::int64_t> counts;
      for (const std::int64_t row : train_rows) {
        const std::string_view cell = column.cell(static_cast<std::size_t>(row));
        if (!cell.empty()) ++counts[cell];
      }
      std::vector<std::pair<std::string_view, std::int64_t>> ranked(counts.begin(), counts.end());
      const auto kept = std::min(ranked.size(), static_cast<std::size_t>(options.max_categories));
      std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(kept),
                        ranked.end(), [](const auto& a, const auto& b) {
                          return a.second != b.second ? a.second > b.second : a.first < b.first;
                        });
      for (std::size_t i = 0; i < kept; ++i) feature.categories.emplace_back(ranked[i].first);
    }
  }

  // Fit the label.
  const CsvColumn& label_column = column_of(result.m_label);
  if (result.m_classification) {
    std::unordered_set<std::string_view> distinct;
    for (const std::int64_t row : train_rows) {
      const std::string_view cell = label_column.cell(static_cast<std::size_t>(row));
      if (result.is_missing_label(cell)) {
        invalid(fmt::format("column '{}', line {}: the label is missing", result.m_label,
                            line_of(table, row)));
      }
      distinct.insert(cell);
    }
    result.m_classes =
        sorted_class_names(std::vector<std::string_view>(distinct.begin(), distinct.end()));
    if (result.m_classes.size() < 2) {
      invalid(fmt::format(
          "column '{}': classification needs at least 2 classes in the training rows, found {} "
          "({})",
          result.m_label, result.m_classes.size(), quoted_list(result.m_classes, k_shown_classes)));
    }
  } else {
    if (result.m_label_type != ColumnType::numeric) {
      invalid(fmt::format("column '{}' is {}; a regression label must be numeric", result.m_label,
                          data::to_string(result.m_label_type)));
    }
    const Moments target = moments([&](auto&& add) {
      for (const std::int64_t row : train_rows) {
        const std::string_view cell = label_column.cell(static_cast<std::size_t>(row));
        const auto value = numeric_cell(table, result.m_label, row, cell);
        if (!value) {
          invalid(fmt::format("column '{}', line {}: the label is missing", result.m_label,
                              line_of(table, row)));
        }
        add(*value);
      }
    });
    result.m_target_mean = target.mean;
    result.m_target_scale = target.scale;
  }

  result.rebuild_indexes();
  return result;
}

void Preprocessor::rebuild_indexes() {
  m_width = 0;
  for (auto& feature : m_features) {
    feature.offset = m_width;
    feature.category_index.clear();
    if (m_mode != FeatureMode::tabular || feature.type == ColumnType::numeric) {
      m_width += m_mode == FeatureMode::text ? 0 : 1;
      continue;
    }
    for (std::size_t i = 0; i < feature.categories.size(); ++i) {
      feature.category_index.emplace(feature.categories[i], static_cast<std::int64_t>(i));
    }
    m_width += static_cast<std::int64_t>(feature.categories.size());
  }
  m_class_index.clear();
  for (std::size_t i = 0; i < m_classes.size(); ++i) {
    m_class_index.emplace(m_classes[i], static_cast<std::int64_t>(i));
  }
}

bool Preprocessor::is_missing_label(std::string_view cell) const {
  // As in the data module: "NA" is missing in a numeric column but may be a
  // category in another.
  return m_label_type == ColumnType::numeric ? data::is_missing(cell) : cell.empty();
}

std::vector<std::size_t> Preprocessor::feature_columns(const CsvTable& table) const {
  std::vector<std::size_t> columns;
  columns.reserve(m_features.size());
  for (const auto& feature : m_features) {
    const auto index = table.find_column(feature.name);
    if (!index) {
      invalid(fmt::format("{}: no column '{}', which the model needs as a feature{}",
                          table.source_name, feature.name,
                          did_you_mean_hint(feature.name, table.column_names())));
    }
    columns.push_back(*index);
  }
  return columns;
}

std::size_t Preprocessor::label_column(const CsvTable& table) const {
  const auto index = table.find_column(m_label);
  if (!index) {
    invalid(fmt::format("{}: no column '{}' (the label){}", table.source_name, m_label,
                        did_you_mean_hint(m_label, table.column_names())));
  }
  return *index;
}

void Preprocessor::check_columns(const CsvTable& table) const { feature_columns(table); }

FeatureMatrix Preprocessor::transform(const CsvTable& table,
                                      std::span<const std::int64_t> rows) const {
  if (m_mode == FeatureMode::text) {
    throw Error(ErrorKind::internal,
                "transform called on a text-mode preprocessor; use transform_text");
  }
  const std::vector<std::size_t> columns = feature_columns(table);
  check_rows(table, rows);

  FeatureMatrix matrix;
  matrix.rows = static_cast<std::int64_t>(rows.size());
  matrix.cols = m_width;
  // Zero is both "not this category" and the standardised training mean,
  // which is what a missing numeric cell is imputed with.
  matrix.values = zeroed_floats(rows.size() * static_cast<std::size_t>(m_width));
  const auto stride = static_cast<std::size_t>(m_width);

  // Row by row, so that the output is written once, in order: a pass per
  // column would sweep the whole matrix (rows x width floats) once per
  // feature. Each column buffer is still read front to back.
  struct Source {
    const CsvColumn* column;
    const detail::FeatureSpec* feature;
    double mean;
    double scale;
  };
  std::vector<Source> sources;
  sources.reserve(m_features.size());
  for (std::size_t f = 0; f < m_features.size(); ++f) {
    const detail::FeatureSpec& feature = m_features[f];
    const bool image = m_mode == FeatureMode::image;
    sources.push_back({&table.columns[columns[f]], &feature, image ? m_pixel_mean : feature.mean,
                       image ? m_pixel_scale : feature.scale});
  }
  float* out = matrix.values.data();
  for (std::size_t i = 0; i < rows.size(); ++i, out += stride) {
    const auto row = static_cast<std::size_t>(rows[i]);
    for (const Source& source : sources) {
      const detail::FeatureSpec& feature = *source.feature;
      const std::string_view cell = source.column->cell(row);
      if (feature.type == ColumnType::numeric) {
        if (const auto value = data::parse_number(cell)) {
          out[feature.offset] = static_cast<float>((*value - source.mean) / source.scale);
        } else if (!data::is_missing(cell)) {
          not_a_number(table, feature.name, rows[i], cell);
        }
      } else if (!cell.empty()) {
        const auto it = feature.category_index.find(cell);
        if (it != feature.category_index.end()) out[feature.offset + it->second] = 1.0f;
      }
    }
  }
  return matrix;
}

void Preprocessor::transform_cells(std::span<const InputCell> cells, std::size_t rows, float* out) const {
  if (m_mode == FeatureMode::text) {
    throw Error(ErrorKind::internal, "transform_cells called on a text-mode preprocessor");
  }
  const std::size_t width = m_features.size();
  if (cells.size() != rows * width) throw Error(ErrorKind::internal, "transform_cells: cell count is not rows x features");
  const auto stride = static_cast<std::size_t>(m_width);
  std::fill(out, out + rows * stride, 0.0f);  // see transform: zero is the imputed value
  const bool image = m_mode == FeatureMode::image;
  for (std::size_t row = 0; row < rows; ++row, out += stride) {
    const InputCell* row_cells = cells.data() + row * width;
    for (std::size_t f = 0; f < width; ++f) {
      const detail::FeatureSpec& feature = m_features[f];
      const InputCell& cell = row_cells[f];
      if (feature.type == ColumnType::numeric) {
        if (cell.kind != InputCell::Kind::number) continue;
        const double mean = image ? m_pixel_mean : feature.mean;
        const double scale = image ? m_pixel_scale : feature.scale;
        out[feature.offset] = static_cast<float>((cell.number - mean) / scale);
      } else if (cell.kind == InputCell::Kind::text && !cell.text.empty()) {
        const auto it = feature.category_index.find(cell.text);
        if (it != feature.category_index.end()) out[feature.offset + it->second] = 1.0f;
      }
    }
  }
}

EncodedBatch Preprocessor::transform_text(const CsvTable& table,
                                          std::span<const std::int64_t> rows) const {
  if (m_mode != FeatureMode::text) {
    throw Error(ErrorKind::internal,
                fmt::format("transform_text called on a {}-mode preprocessor; use transform",
                            to_string(m_mode)));
  }
  const CsvColumn& column = table.columns[feature_columns(table).front()];
  check_rows(table, rows);
  std::vector<std::string_view> documents;
  documents.reserve(rows.size());
  for (const std::int64_t row : rows) {
    documents.push_back(column.cell(static_cast<std::size_t>(row)));
  }
  return m_vectorizer.encode_batch(std::span<const std::string_view>(documents));
}

std::vector<std::int64_t> Preprocessor::class_ids(const CsvTable& table,
                                                  std::span<const std::int64_t> rows) const {
  if (!m_classification) {
    throw Error(ErrorKind::internal, "class_ids called on a regression preprocessor");
  }
  const CsvColumn& column = table.columns[label_column(table)];
  check_rows(table, rows);
  std::vector<std::int64_t> ids;
  ids.reserve(rows.size());
  for (const std::int64_t row : rows) {
    const std::string_view cell = column.cell(static_cast<std::size_t>(row));
    const auto it = m_class_index.find(cell);
    if (it != m_class_index.end()) {
      ids.push_back(it->second);
      continue;
    }
    if (is_missing_label(cell)) {
      invalid(
          fmt::format("column '{}', line {}: the label is missing", m_label, line_of(table, row)));
    }
    invalid(fmt::format("column '{}', line {}: label '{}' was not seen in training (classes: {})",
                        m_label, line_of(table, row), shown(cell),
                        quoted_list(m_classes, k_shown_classes)));
  }
  return ids;
}

std::vector<float> Preprocessor::regression_targets(const CsvTable& table,
                                                    std::span<const std::int64_t> rows) const {
  if (m_classification) {
    throw Error(ErrorKind::internal, "regression_targets called on a classification preprocessor");
  }
  const CsvColumn& column = table.columns[label_column(table)];
  check_rows(table, rows);
  std::vector<float> targets;
  targets.reserve(rows.size());
  for (const std::int64_t row : rows) {
    const std::string_view cell = column.cell(static_cast<std::size_t>(row));
    const auto value = numeric_cell(table, m_label, row, cell);
    if (!value) {
      invalid(
          fmt::format("column '{}', line {}: the label is missing", m_label, line_of(table, row)));
    }
    targets.push_back(static_cast<float>((*value - m_target_mean) / m_target_scale));
  }
  return targets;
}

double Preprocessor::unscale_target(double value) const {
  if (m_classification) {
    throw Error(ErrorKind::internal, "unscale_target called on a classification preprocessor");
  }
  return value * m_target_scale + m_target_mean;
}

std::int64_t Preprocessor::feature_count() const {
  return m_mode == FeatureMode::text ? m_vectorizer.num_ids() : m_width;
}

Json Preprocessor::input_schema() const {
  Json schema = Json::array();
  for (const auto& feature : m_features) {
    schema.push_back(
        {{"name", text_to_json(feature.name)}, {"type", data::to_string(feature.type)}});
  }
  return schema;
}

Json Preprocessor::to_json() const {
  Json label = {{"name", text_to_json(m_label)}, {"type", data::to_string(m_label_type)}};
  if (m_classification) {
    Json classes = Json::array();
    for (const auto& name : m_classes) classes.push_back(text_to_json(name));
    label["classes"] = std::move(classes);
  } else {
    label["mean"] = m_target_mean;
    label["std"] = m_target_scale;
  }
  Json features = Json::array();
  for (const auto& feature : m_features) {
    Json entry = {{"name", text_to_json(feature.name)}, {"type", data::to_string(feature.type)}};
    if (m_mode == FeatureMode::tabular) {
      if (feature.type == ColumnType::numeric) {
        entry["mean"] = feature.mean;
        entry["std"] = feature.scale;
      } else {
        Json categories = Json::array();
        for (const auto& category : feature.categories) {
          categories.push_back(text_to_json(category));
        }
        entry["categories"] = std::move(categories);
      }
    }
    features.push_back(std::move(entry));
  }
  Json json = {
      {"format", k_format_name},   {"version", k_format_version},
      {"mode", to_string(m_mode)}, {"task", m_classification ? "classification" : "regression"},
      {"label", std::move(label)}, {"features", std::move(features)}};
  if (m_mode == FeatureMode::image) {
    json["pixels"] = {{"mean", m_pixel_mean}, {"std", m_pixel_scale}};
  }
  if (m_mode == FeatureMode::text) json["vectorizer"] = m_vectorizer.to_json();
  return json;
}

Preprocessor Preprocessor::from_json(const Json& json) {
  if (!json.is_object()) parse_error("expected an object");
  const std::string top = "document";
  const std::string& format = string_field(json, "format", top);
  if (format != k_format_name) {
    parse_error(fmt::format("'format' must be \"{}\", got \"{}\"", k_format_name, format));
  }
  const Json& version = field(json, "version", top);
  if (!version.is_number_integer()) parse_error("'version' must be an integer");
  if (version.get<std::int64_t>() > k_format_version) {
    parse_error(
        fmt::format("format version {} is newer than this mlctl supports ({}); upgrade mlctl",
                    version.get<std::int64_t>(), k_format_version));
  }
  if (version.get<std::int64_t>() < 1) {
    parse_error(fmt::format("invalid format version {}", version.dump()));
  }

  Preprocessor result;
  result.m_mode = mode_from_json(string_field(json, "mode", top));
  const std::string& task = string_field(json, "task", top);
  if (task != "classification" && task != "regression") {
    parse_error(fmt::format("unknown task '{}' (expected classification or regression)", task));
  }
  result.m_classification = task == "classification";

  const Json& label = field(json, "label", top);
  if (!label.is_object()) parse_error("'label' must be an object");
  result.m_label = text_from_json(field(label, "name", "label"), "label name");
  result.m_label_type = column_type_from_json(label, "label");
  if (result.m_classification) {
    const Json& classes = field(label, "classes", "label");
    if (!classes.is_array() || classes.size() < 2) {
      parse_error("label: 'classes' must be an array of at least 2");
    }
    for (std::size_t i = 0; i < classes.size(); ++i) {
      std::string name = text_from_json(classes[i], fmt::format("label classes[{}]", i));
      if (std::find(result.m_classes.begin(), result.m_classes.end(), name) !=
          result.m_classes.end()) {
        parse_error(fmt::format("label: class '{}' is repeated", shown(name)));
      }
      result.m_classes.push_back(std::move(name));
    }
  } else {
    const Moments target = moments_fields(label, "label");
    result.m_target_mean = target.mean;
    result.m_target_scale = target.scale;
  }

  const Json& features = field(json, "features", top);
  if (!features.is_array() || features.empty()) parse_error("'features' must be a non-empty array");
  for (std::size_t i = 0; i < features.size(); ++i) {
    const std::string where = fmt::format("features[{}]", i);
    const Json& entry = features[i];
    if (!entry.is_object()) parse_error(fmt::format("{} must be an object", where));
    detail::FeatureSpec feature;
    feature.name = text_from_json(field(entry, "name", where), where + " name");
    feature.type = column_type_from_json(entry, where);
    if (feature.name == result.m_label) {
      parse_error(fmt::format("{}: '{}' is also the label", where, feature.name));
    }
    for (const auto& other : result.m_features) {
      if (other.name == feature.name) {
        parse_error(fmt::format("{}: column '{}' is repeated", where, feature.name));
      }
    }
    switch (result.m_mode) {
      case FeatureMode::tabular:
        if (feature.type == ColumnType::numeric) {
          const Moments fitted = moments_fields(entry, where);
          feature.mean = fitted.mean;
          feature.scale = fitted.scale;
        } else if (feature.type == ColumnType::categorical) {
          const Json& categories = field(entry, "categories", where);
          if (!categories.is_array()) {
            parse_error(fmt::format("{}: 'categories' must be an array", where));
          }
          std::unordered_set<std::string> seen;
          for (std::size_t k = 0; k < categories.size(); ++k) {
            std::string category =
                text_from_json(categories[k], fmt::format("{} categories[{}]", where, k));
            if (category.empty() || !seen.insert(category).second) {
              parse_error(
                  fmt::format("{}: category '{}' is empty or repeated", where, shown(category)));
            }
            feature.categories.push_back(std::move(category));
          }
        } else {
          parse_error(fmt::format("{}: a tabular model takes no text column", where));
        }
        break;
      case FeatureMode::image:
        if (feature.type != ColumnType::numeric) {
          parse_error(fmt::format("{}: image pixels must be numeric", where));
        }
        break;
      case FeatureMode::text:
        if (feature.type == ColumnType::numeric) {
          parse_error(fmt::format("{}: text mode needs a text or categorical column", where));
        }
        break;
    }
    result.m_features.push_back(std::move(feature));
  }

  if (result.m_mode == FeatureMode::image) {
    const Json& pixels = field(json, "pixels", top);
    if (!pixels.is_object()) parse_error("'pixels' must be an object");
    const Moments fitted = moments_fields(pixels, "pixels");
    result.m_pixel_mean = fitted.mean;
    result.m_pixel_scale = fitted.scale;
  }
  if (result.m_mode == FeatureMode::text) {
    if (result.m_features.size() != 1) parse_error("text mode needs exactly one feature");
    result.m_vectorizer = TextVectorizer::from_json(field(json, "vectorizer", top));
  }
  result.rebuild_indexes();
  return result;
}

}  // namespace mlctl::train
