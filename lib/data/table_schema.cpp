#include <mlctl/data/table_schema.hpp>

#include <mlctl/core/did_you_mean.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/parallel.hpp>

#include <fmt/format.h>

#include <unordered_set>

namespace mlctl::data {
namespace {

// The thresholds of the rule documented at infer_column_type. Category
// labels rarely exceed five words ("Bachelor's degree or higher" is five
// tokens) or 50 characters, while free text rarely stays under both.
constexpr double k_text_mean_tokens = 5;
constexpr double k_text_mean_chars = 50;
// Short free text (titles, one-line reviews) is told apart by being almost
// all distinct; the minimum count keeps a handful of rows from deciding.
constexpr std::size_t k_short_text_min_count = 20;
constexpr double k_short_text_min_tokens = 3;
constexpr double k_short_text_distinct_fraction = 0.9;

const std::vector<std::string> k_type_names = {"numeric", "categorical", "text"};

bool is_numeric(const CsvColumn& column) {
  bool any_number = false;
  for (std::size_t row = 0; row < column.size(); ++row) {
    std::string_view cell = column.cell(row);
    if (parse_number(cell)) {
      any_number = true;
    } else if (!is_missing(cell)) {
      return false;
    }
  }
  return any_number;
}

[[noreturn]] void bad_schema(std::string_view what) {
  throw Error(ErrorKind::parse, fmt::format("invalid table schema: {}", what));
}

}  // namespace

const char* to_string(ColumnType type) noexcept {
  switch (type) {
    case ColumnType::numeric: return "numeric";
    case ColumnType::categorical: return "categorical";
    case ColumnType::text: return "text";
  }
  return "categorical";
}

ColumnType parse_column_type(std::string_view text) {
  if (text == "numeric") return ColumnType::numeric;
  if (text == "categorical") return ColumnType::categorical;
  if (text == "text") return ColumnType::text;
  throw Error(ErrorKind::invalid_argument,
              fmt::format("unknown column type '{}' (expected numeric, categorical or text){}", text,
                          did_you_mean_hint(text, k_type_names)));
}

std::optional<std::size_t> TableSchema::find_column(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return i;
  }
  return std::nullopt;
}

Json TableSchema::to_json() const {
  Json list = Json::array();
  for (const auto& column : columns) {
    list.push_back(Json{{"name", column.name}, {"type", to_string(column.type)}});
  }
  Json json = Json::object();
  json["columns"] = std::move(list);
  json["label"] = label ? Json(*label) : Json(nullptr);
  return json;
}

TableSchema TableSchema::from_json(const Json& json) {
  if (!json.is_object()) bad_schema(fmt::format("expected an object, got {}", json.type_name()));
  auto columns = json.find("columns");
  if (columns == json.end() || !columns->is_array()) bad_schema("'columns' must be an array");
  TableSchema schema;
  for (std::size_t i = 0; i < columns->size(); ++i) {
    const Json& entry = (*columns)[i];
    auto name = entry.is_object() ? entry.find("name") : entry.end();
    auto type = entry.is_object() ? entry.find("type") : entry.end();
    if (!entry.is_object() || name == entry.end() || !name->is_string() || type == entry.end() ||
        !type->is_string()) {
      bad_schema(fmt::format("columns[{}] must be an object with string fields 'name' and 'type'", i));
    }
    const auto& name_text = name->get_ref<const std::string&>();
    if (name_text.empty()) bad_schema(fmt::format("columns[{}] has an empty name", i));
    if (schema.find_column(name_text)) bad_schema(fmt::format("duplicate column '{}'", name_text));
    ColumnType column_type = ColumnType::categorical;
    try {
      column_type = parse_column_type(type->get_ref<const std::string&>());
    } catch (const Error& error) {
      bad_schema(fmt::format("column '{}': {}", name_text, error.what()));
    }
    schema.columns.push_back({name_text, column_type});
  }
  auto label = json.find("label");
  if (label != json.end() && !label->is_null()) {
    if (!label->is_string()) bad_schema("'label' must be a string or null");
    const auto& label_text = label->get_ref<const std::string&>();
    if (!schema.find_column(label_text)) {
      bad_schema(fmt::format("the label '{}' is not a column", label_text));
    }
    schema.label = label_text;
  }
  return schema;
}

ColumnType infer_column_type(const CsvColumn& column) {
  if (is_numeric(column)) return ColumnType::numeric;

  std::size_t count = 0, tokens = 0, chars = 0;
  std::unordered_set<std::string_view> distinct;
  for (std::size_t row = 0; row < column.size(); ++row) {
    std::string_view cell = column.cell(row);
    if (cell.empty()) continue;
    ++count;
    tokens += count_tokens(cell);
    chars += count_chars(cell);
    distinct.insert(cell);
  }
  if (count == 0) return ColumnType::categorical;
  double n = static_cast<double>(count);
  double mean_tokens = static_cast<double>(tokens) / n;
  double mean_chars = static_cast<double>(chars) / n;
  if (mean_tokens > k_text_mean_tokens || mean_chars > k_text_mean_chars) return ColumnType::text;
  if (count >= k_short_text_min_count && mean_tokens >= k_short_text_min_tokens &&
      static_cast<double>(distinct.size()) >= k_short_text_distinct_fraction * n) {
    return ColumnType::text;
  }
  return ColumnType::categorical;
}

TableSchema infer_schema(const CsvTable& table, std::optional<std::string_view> label) {
  TableSchema schema;
  if (label && !table.find_column(*label)) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("{}: no column '{}' to use as the label{}", table.source_name, *label,
                            did_you_mean_hint(*label, table.column_names())));
  }
  std::vector<ColumnType> types(table.columns.size());
  parallel_for_each_index(table.columns.size(), table.columns.size() * table.row_count(),
                          [&](std::size_t i) { types[i] = infer_column_type(table.columns[i]); });
  for (std::size_t i = 0; i < table.columns.size(); ++i) schema.columns.push_back({table.columns[i].name(), types[i]});
  if (label) schema.label = std::string(*label);
  return schema;
}

std::size_t count_tokens(std::string_view text) noexcept {
  std::size_t tokens = 0;
  bool in_token = false;
  for (char c : text) {
    bool token_byte = is_token_byte(c);
    tokens += token_byte && !in_token;
    in_token = token_byte;
  }
  return tokens;
}

std::size_t count_chars(std::string_view text) noexcept {
  std::size_t chars = 0;
  for (char c : text) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return chars;
}

}  // namespace mlctl::data
