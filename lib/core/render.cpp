#include <mlctl/core/render.hpp>

#include <mlctl/core/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <ostream>
#include <unordered_set>
#include <utility>

namespace mlctl {
namespace {

constexpr std::string_view k_bold = "\x1b[1m";
constexpr std::string_view k_green = "\x1b[32m";
constexpr std::string_view k_red = "\x1b[31m";
constexpr std::string_view k_yellow = "\x1b[33m";
constexpr std::string_view k_dim = "\x1b[2m";
constexpr std::string_view k_reset = "\x1b[0m";

// Column separator in tables, as az -o table uses.
constexpr std::string_view k_gap = "  ";

// Invalid UTF-8 in a value must not make output fail (nlohmann would throw);
// it is replaced with U+FFFD.
std::string dump_compact(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string dump_pretty(const Json& value) {
  return value.dump(2, ' ', false, Json::error_handler_t::replace);
}

bool is_container(const Json& value) { return value.is_object() || value.is_array(); }

bool is_utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Terminal columns taken by `text`: one per code point. East Asian wide
// characters count as one too; mlctl output is essentially ASCII.
std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !is_utf8_continuation(c); }));
}

std::string lower_ascii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

// ---------------------------------------------------------------------------
// Scalars as text

// Doubles: `short_form` gives 6 significant digits for tables people read;
// otherwise the shortest text that reads back to the same double.
std::string number_text(const Json& value, bool short_form) {
  if (!value.is_number_float()) return dump_compact(value);
  double number = value.get<double>();
  if (std::isnan(number)) return "nan";
  if (std::isinf(number)) return number < 0 ? "-inf" : "inf";
  if (short_form) return fmt::format("{:.6g}", number);
  return dump_compact(value);
}

// A value in a cell: null is empty, strings are unquoted, nested values are
// compact JSON.
std::string cell_text(const Json& value, bool short_numbers) {
  switch (value.type()) {
    case Json::value_t::null:
      return "";
    case Json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case Json::value_t::string:
      return value.get<std::string>();
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return number_text(value, short_numbers);
    default:
      return dump_compact(value);
  }
}

std::string escape_tsv(std::string_view text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\t':
        escaped += "\\t";
        break;
      case '\n':
        escaped += "\\n";
        break;
      case '\r':
        escaped += "\\r";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

// A table row is one line: control characters (newlines, tabs, escape codes
// from stored data) become spaces so they can't break the alignment.
std::string escape_table(std::string_view text) {
  std::string escaped(text);
  for (char& c : escaped) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return escaped;
}

std::string escape_markdown(std::string_view text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '|') {
      escaped += "\\|";
    } else if (c == '\r') {
      escaped += "<br>";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      escaped += "<br>";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// ---------------------------------------------------------------------------
// Columns

struct ResolvedColumn {
  std::string header;
  std::string path;
  bool whole_key = false;  // `path` is a key taken from the data, never split
};

// The value at a dotted path, or nullptr. A key containing dots is tried
// whole first, so {"a.b": 1} and {"a": {"b": 1}} both answer "a.b".
const Json* find_path(const Json& row, std::string_view path) {
  const Json* current = &row;
  while (true) {
    if (current->is_object()) {
      auto whole = current->find(path);
      if (whole != current->end()) return &*whole;
      std::size_t dot = path.find('.');
      if (dot == std::string_view::npos) return nullptr;
      auto it = current->find(path.substr(0, dot));
      if (it == current->end()) return nullptr;
      current = &*it;
      path.remove_prefix(dot + 1);
    } else if (current->is_array()) {
      std::size_t dot = path.find('.');
      std::string_view segment = path.substr(0, dot);
      if (segment.empty() || !std::all_of(segment.begin(), segment.end(),
                                          [](char c) { return c >= '0' && c <= '9'; })) {
        return nullptr;
      }
      std::size_t index = 0;
      for (char c : segment) index = index * 10 + static_cast<std::size_t>(c - '0');
      if (segment.size() > 9 || index >= current->size()) return nullptr;
      current = &(*current)[index];
      if (dot == std::string_view::npos) return current;
      path.remove_prefix(dot + 1);
    } else {
      return nullptr;
    }
  }
}

const Json* find_column(const Json& row, const ResolvedColumn& column) {
  if (column.whole_key) {
    if (!row.is_object()) return nullptr;
    auto it = row.find(column.path);
    return it == row.end() ? nullptr : &*it;
  }
  return find_path(row, column.path);
}

std::vector<ResolvedColumn> explicit_columns(const std::vector<Column>& columns) {
  std::vector<ResolvedColumn> resolved;
  for (const Column& column : columns) resolved.push_back({column.header, column.path, false});
  return resolved;
}

// The union of the rows' keys in first-seen order. With `scalars_only`, a key
// is kept only if some row has a scalar (or null) under it.
std::vector<ResolvedColumn> default_columns(const Json& rows, bool scalars_only) {
  std::vector<std::string> order;
  std::unordered_set<std::string> seen;
  std::unordered_set<std::string> has_scalar;
  for (const Json& row : rows) {
    if (!row.is_object()) continue;
    for (auto it = row.begin(); it != row.end(); ++it) {
      if (seen.insert(it.key()).second) order.push_back(it.key());
      if (!is_container(it.value())) has_scalar.insert(it.key());
    }
  }
  std::vector<ResolvedColumn> columns;
  for (const std::string& key : order) {
    if (!scalars_only || has_scalar.count(key) > 0) columns.push_back({key, key, true});
  }
  return columns;
}

std::string_view last_segment(std::string_view path) {
  std::size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

bool is_status_name(std::string_view name) { return lower_ascii(name) == "status"; }

std::string_view status_color(const Json& value) {
  if (!value.is_string()) return {};
  std::string status = lower_ascii(value.get_ref<const std::string&>());
  if (status == "completed" || status == "succeeded" || status == "passed") return k_green;
  if (status == "failed") return k_red;
  if (status == "running" || status == "queued") return k_yellow;
  if (status == "canceled" || status == "cancelled") return k_dim;
  return {};
}

// ---------------------------------------------------------------------------
// Grids: what table and markdown output share

enum class GridStyle { table, markdown };

struct Cell {
  std::string text;
  bool numeric = false;
  std::string_view color;  // empty: none
};

struct Grid {
  std::vector<std::string> headers;
  std::vector<std::vector<Cell>> rows;
};

Cell make_cell(const Json* value, GridStyle style, bool status) {
  Cell cell;
  if (value == nullptr) return cell;
  std::string text = cell_text(*value, /*short_numbers=*/true);
  cell.text = style == GridStyle::table ? escape_table(text) : escape_markdown(text);
  cell.numeric = value->is_number();
  if (status) cell.color = status_color(*value);
  return cell;
}

// Key/Value rows for one object, nested objects flattened to dotted keys.
void flatten_object(const Json& object, const std::string& prefix, GridStyle style, Grid& grid) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it.value().is_object() && !it.value().empty()) {
      flatten_object(it.value(), key, style, grid);
      continue;
    }
    Cell name{style == GridStyle::table ? escape_table(key) : escape_markdown(key), false, {}};
    grid.rows.push_back({std::move(name), make_cell(&it.value(), style, is_status_name(it.key()))});
  }
}

Grid object_grid(const Json& object, const RenderOptions& options, GridStyle style) {
  Grid grid;
  grid.headers = {"Key", "Value"};
  if (options.columns.empty()) {
    flatten_object(object, "", style, grid);
    return grid;
  }
  for (const Column& column : options.columns) {
    bool status = is_status_name(column.header) || is_status_name(last_segment(column.path));
    Cell name{
        style == GridStyle::table ? escape_table(column.header) : escape_markdown(column.header),
        false,
        {}};
    grid.rows.push_back(
        {std::move(name), make_cell(find_path(object, column.path), style, status)});
  }
  return grid;
}

Grid result_grid(const Json& array, GridStyle style) {
  Grid grid;
  grid.headers = {"Result"};
  for (const Json& element : array) grid.rows.push_back({make_cell(&element, style, false)});
  return grid;
}

Grid array_grid(const Json& array, const RenderOptions& options, GridStyle style) {
  bool any_object = false;
  bool all_objects = true;
  bool any_array = false;
  bool all_arrays = true;
  for (const Json& element : array) {
    any_object = any_object || element.is_object();
    all_objects = all_objects && (element.is_object() || element.is_null());
    any_array = any_array || element.is_array();
    all_arrays = all_arrays && (element.is_array() || element.is_null());
  }
  if (any_object && all_objects) {
    std::vector<ResolvedColumn> columns = options.columns.empty()
                                              ? default_columns(array, /*scalars_only=*/true)
                                              : explicit_columns(options.columns);
    if (columns.empty()) return result_grid(array, style);
    Grid grid;
    std::vector<bool> status;
    for (const ResolvedColumn& column : columns) {
      grid.headers.push_back(style == GridStyle::table ? escape_table(column.header)
                                                       : escape_markdown(column.header));
      status.push_back(is_status_name(column.header) || is_status_name(last_segment(column.path)));
    }
    for (const Json& row : array) {
      std::vector<Cell> cells;
      for (std::size_t i = 0; i < columns.size(); ++i) {
        cells.push_back(make_cell(find_column(row, columns[i]), style, status[i]));
      }
      grid.rows.push_back(std::move(cells));
    }
    return grid;
  }
  if (any_array && all_arrays) {
    // `--query "[].[name, status]"`: positional columns, as az names them.
    std::size_t width = 0;
    for (const Json& element : array) width = std::max(width, element.size());
    Grid grid;
    for (std::size_t i = 0; i < width; ++i) grid.headers.push_back(fmt::format("Column{}", i + 1));
    for (const Json& element : array) {
      std::vector<Cell> cells;
      for (std::size_t i = 0; i < width; ++i) {
        cells.push_back(make_cell(i < element.size() ? &element[i] : nullptr, style, false));
      }
      grid.rows.push_back(std::move(cells));
    }
    return grid;
  }
  return result_grid(array, style);
}

// nullopt for scalars, which print alone.
std::optional<Grid> make_grid(const Json& value, const RenderOptions& options, GridStyle style) {
  if (value.is_array()) return array_grid(value, options, style);
  if (value.is_object()) return object_grid(value, options, style);
  return std::nullopt;
}

void append_padded(std::string& line, std::string_view text, std::size_t width, bool right,
                   bool last, std::string_view color) {
  std::size_t padding = width - std::min(width, display_width(text));
  if (right) line.append(padding, ' ');
  if (!color.empty() && !text.empty()) {
    line += color;
    line += text;
    line += k_reset;
  } else {
    line += text;
  }
  if (!right && !last) line.append(padding, ' ');
}

void end_line(std::string& out, std::string& line) {
  while (!line.empty() && line.back() == ' ') line.pop_back();
  out += line;
  out += '\n';
  line.clear();
}

std::string layout_table(const Grid& grid, bool color) {
  if (grid.rows.empty()) return "";
  std::size_t count = grid.headers.size();
  std::vector<std::size_t> widths(count);
  std::vector<bool> right(count);
  for (std::size_t j = 0; j < count; ++j) {
    widths[j] = display_width(grid.headers[j]);
    bool any_text = false;
    bool all_numeric = true;
    for (const std::vector<Cell>& row : grid.rows) {
      widths[j] = std::max(widths[j], display_width(row[j].text));
      if (!row[j].text.empty()) {
        any_text = true;
        all_numeric = all_numeric && row[j].numeric;
      }
    }
    // Numbers line up on their last digit when a column holds only numbers.
    right[j] = any_text && all_numeric;
  }
  std::string out;
  std::string line;
  for (std::size_t j = 0; j < count; ++j) {
    if (j > 0) line += k_gap;
    append_padded(line, grid.headers[j], widths[j], right[j], j + 1 == count,
                  color ? k_bold : std::string_view());
  }
  end_line(out, line);
  for (std::size_t j = 0; j < count; ++j) {
    if (j > 0) line += k_gap;
    line.append(widths[j], '-');
  }
  end_line(out, line);
  for (const std::vector<Cell>& row : grid.rows) {
    for (std::size_t j = 0; j < count; ++j) {
      if (j > 0) line += k_gap;
      append_padded(line, row[j].text, widths[j], right[j], j + 1 == count,
                    color ? row[j].color : std::string_view());
    }
    end_line(out, line);
  }
  return out;
}

std::string layout_markdown(const Grid& grid) {
  if (grid.rows.empty()) return "";
  std::string out = "|";
  for (const std::string& header : grid.headers) out += fmt::format(" {} |", header);
  out += "\n|";
  for (std::size_t j = 0; j < grid.headers.size(); ++j) out += " --- |";
  out += '\n';
  for (const std::vector<Cell>& row : grid.rows) {
    out += '|';
    for (const Cell& cell : row) out += fmt::format(" {} |", cell.text);
    out += '\n';
  }
  return out;
}

std::string render_grid(const Json& value, const RenderOptions& options, GridStyle style) {
  if (value.is_null()) return "";
  std::optional<Grid> grid = make_grid(value, options, style);
  if (!grid) return cell_text(value, /*short_numbers=*/true) + "\n";
  return style == GridStyle::table ? layout_table(*grid, options.color) : layout_markdown(*grid);
}

// ---------------------------------------------------------------------------
// TSV

std::string tsv_cell(const Json* value) {
  return value == nullptr ? std::string() : escape_tsv(cell_text(*value, /*short_numbers=*/false));
}

std::string tsv_line(const Json& row, const std::vector<ResolvedColumn>& columns) {
  std::string line;
  if (row.is_object()) {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) line += '\t';
      line += tsv_cell(find_column(row, columns[i]));
    }
  } else if (row.is_array()) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += '\t';
      line += tsv_cell(&row[i]);
    }
  } else {
    line = tsv_cell(&row);
  }
  line += '\n';
  return line;
}

std::string render_tsv(const Json& value, const RenderOptions& options) {
  if (value.is_null()) return "";
  if (value.is_object()) {
    std::vector<ResolvedColumn> columns = options.columns.empty()
                                              ? default_columns(Json::array({value}), false)
                                              : explicit_columns(options.columns);
    return tsv_line(value, columns);
  }
  if (!value.is_array()) return tsv_line(value, {});
  std::vector<ResolvedColumn> columns = options.columns.empty()
                                            ? default_columns(value, /*scalars_only=*/false)
                                            : explicit_columns(options.columns);
  std::string out;
  for (const Json& row : value) out += tsv_line(row, columns);
  return out;
}

// ---------------------------------------------------------------------------
// YAML

bool is_reserved_word(std::string_view text) {
  // YAML 1.1 readers (PyYAML) still take yes/no/on/off as booleans.
  static const char* const k_words[] = {"null", "~",  "true", "false", "yes",
                                        "no",   "on", "off",  "y",     "n"};
  std::string lower = lower_ascii(text);
  return std::any_of(std::begin(k_words), std::end(k_words),
                     [&](const char* word) { return lower == word; });
}

// Numbers, dates, times, .inf and .nan all start with a digit, or a sign or
// dot and then a digit or a letter of inf/nan.
bool looks_numeric(std::string_view text) {
  std::string_view rest = text;
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) rest.remove_prefix(1);
  if (rest.empty()) return false;
  if (rest[0] >= '0' && rest[0] <= '9') return true;
  if (rest[0] == '.' && rest.size() > 1 && rest[1] >= '0' && rest[1] <= '9') return true;
  std::string lower = lower_ascii(rest);
  return lower == ".inf" || lower == ".nan";
}

bool needs_quotes(std::string_view text) {
  if (text.empty() || is_reserved_word(text) || looks_numeric(text)) return true;
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  if (is_space(text.front()) || is_space(text.back())) return true;
  // Indicator characters mean something at the start of a plain scalar.
  static constexpr std::string_view k_indicators = "-?:,[]{}#&*!|>'\"%@`";
  if (k_indicators.find(text.front()) != std::string_view::npos) return true;
  if (text.back() == ':') return true;
  if (text.find(": ") != std::string_view::npos || text.find(" #") != std::string_view::npos ||
      text.find(":\t") != std::string_view::npos || text.find("\t#") != std::string_view::npos) {
    return true;
  }
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

std::string yaml_string(std::string_view text) {
  if (!needs_quotes(text)) return std::string(text);
  // JSON string escapes are valid in YAML double-quoted scalars; DEL is not
  // printable in YAML and needs an escape JSON does not give it.
  std::string quoted = dump_compact(Json(text));
  std::string escaped;
  for (char c : quoted) {
    if (c == 0x7f) {
      escaped += "\\x7f";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

std::string yaml_scalar(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case Json::value_t::string:
      return yaml_string(value.get_ref<const std::string&>());
    case Json::value_t::number_float: {
      double number = value.get<double>();
      if (std::isnan(number)) return ".nan";
      if (std::isinf(number)) return number < 0 ? "-.inf" : ".inf";
      // YAML 1.1 readers need a '.' to see "1e-07" as a float.
      std::string text = dump_compact(value);
      std::size_t exponent = text.find_first_of("eE");
      if (exponent != std::string::npos && text.find('.') == std::string::npos) {
        text.insert(exponent, ".0");
      }
      return text;
    }
    case Json::value_t::array:
      return "[]";
    case Json::value_t::object:
      return "{}";
    default:
      return dump_compact(value);
  }
}

bool is_block(const Json& value) { return is_container(value) && !value.empty(); }

void yaml_sequence(const Json& array, std::size_t indent, bool inline_first, std::string& out);

// `inline_first`: the first line's indentation is already written (after "- ").
void yaml_mapping(const Json& object, std::size_t indent, bool inline_first, std::string& out) {
  bool first = true;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (!(first && inline_first)) out.append(indent, ' ');
    first = false;
    out += yaml_string(it.key());
    out += ':';
    const Json& value = it.value();
    if (value.is_object() && !value.empty()) {
      out += '\n';
      yaml_mapping(value, indent + 2, false, out);
    } else if (value.is_array() && !value.empty()) {
      // Sequences under a key are not indented, as PyYAML (and az) write them.
      out += '\n';
      yaml_sequence(value, indent, false, out);
    } else {
      out += ' ';
      out += yaml_scalar(value);
      out += '\n';
    }
  }
}

void yaml_sequence_item(const Json& item, std::size_t indent, std::string& out) {
  out += "- ";
  if (item.is_object() && !item.empty()) {
    yaml_mapping(item, indent + 2, true, out);
  } else if (item.is_array() && !item.empty()) {
    yaml_sequence(item, indent + 2, true, out);
  } else {
    out += yaml_scalar(item);
    out += '\n';
  }
}

void yaml_sequence(const Json& array, std::size_t indent, bool inline_first, std::string& out) {
  bool first = true;
  for (const Json& item : array) {
    if (!(first && inline_first)) out.append(indent, ' ');
    first = false;
    yaml_sequence_item(item, indent, out);
  }
}

std::string render_yaml(const Json& value) {
  std::string out;
  if (!is_block(value)) {
    out = yaml_scalar(value);
    out += '\n';
  } else if (value.is_object()) {
    yaml_mapping(value, 0, false, out);
  } else {
    yaml_sequence(value, 0, false, out);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Row writers

// Each line of a pretty-printed row shifted right to sit inside the list, so
// streamed output matches render() of the whole list. Strings in JSON never
// hold a raw newline, so splitting on '\n' is safe.
std::string indent_json(const std::string& text) {
  std::string indented = "  ";
  for (char c : text) {
    indented += c;
    if (c == '\n') indented += "  ";
  }
  return indented;
}

class StreamRowWriter : public RowWriter {
 public:
  explicit StreamRowWriter(std::ostream& out) : m_out(out) {}

  void write_row(const Json& row) final {
    if (m_finished) {
      throw Error(ErrorKind::internal, "RowWriter::write_row called after finish()");
    }
    write(row);
    check();
  }

  void finish() final {
    if (m_finished) return;
    m_finished = true;
    end();
    m_out.flush();
    check();
  }

 protected:
  virtual void write(const Json& row) = 0;
  virtual void end() = 0;
  std::ostream& m_out;

 private:
  void check() {
    if (!m_out) throw Error(ErrorKind::io, "cannot write output: the output stream failed");
  }

  bool m_finished = false;
};

class JsonRowWriter final : public StreamRowWriter {
 public:
  using StreamRowWriter::StreamRowWriter;

 private:
  void write(const Json& row) override {
    m_out << (m_rows == 0 ? "[\n" : ",\n") << indent_json(dump_pretty(row));
    ++m_rows;
  }
  void end() override { m_out << (m_rows == 0 ? "[]\n" : "\n]\n"); }

  std::size_t m_rows = 0;
};

class YamlRowWriter final : public StreamRowWriter {
 public:
  using StreamRowWriter::StreamRowWriter;

 private:
  void write(const Json& row) override {
    std::string item;
    yaml_sequence_item(row, 0, item);
    m_out << item;
    ++m_rows;
  }
  void end() override {
    if (m_rows == 0) m_out << "[]\n";
  }

  std::size_t m_rows = 0;
};

class TsvRowWriter final : public StreamRowWriter {
 public:
  TsvRowWriter(std::ostream& out, const RenderOptions& options)
      : StreamRowWriter(out),
        m_fixed(!options.columns.empty()),
        m_columns(explicit_columns(options.columns)) {}

 private:
  void write(const Json& row) override {
    if (!m_fixed && row.is_object()) {
      for (auto it = row.begin(); it != row.end(); ++it) {
        if (m_seen.insert(it.key()).second) m_columns.push_back({it.key(), it.key(), true});
      }
    }
    m_out << tsv_line(row, m_columns);
  }
  void end() override {}

  bool m_fixed;
  std::vector<ResolvedColumn> m_columns;
  std::unordered_set<std::string> m_seen;
};

// Table and markdown need every row before the first line: the column set is
// the union of keys, and table widths depend on every cell.
class BufferedRowWriter final : public StreamRowWriter {
 public:
  BufferedRowWriter(std::ostream& out, OutputFormat format, RenderOptions options)
      : StreamRowWriter(out), m_format(format), m_options(std::move(options)) {}

 private:
  void write(const Json& row) override { m_rows.push_back(row); }
  void end() override {
    m_out << render(m_rows, m_format, m_options);
    m_rows = Json::array();
  }

  OutputFormat m_format;
  RenderOptions m_options;
  Json m_rows = Json::array();
};

}  // namespace

OutputFormat parse_output_format(std::string_view text) {
  for (OutputFormat format : {OutputFormat::table, OutputFormat::json, OutputFormat::yaml,
                              OutputFormat::tsv, OutputFormat::markdown}) {
    if (text == to_string(format)) return format;
  }
  throw Error(ErrorKind::invalid_argument,
              fmt::format("unknown output format '{}' (expected one of: table, json, yaml, tsv, "
                          "markdown)",
                          text));
}

const char* to_string(OutputFormat format) noexcept {
  switch (format) {
    case OutputFormat::table:
      return "table";
    case OutputFormat::json:
      return "json";
    case OutputFormat::yaml:
      return "yaml";
    case OutputFormat::tsv:
      return "tsv";
    case OutputFormat::markdown:
      return "markdown";
  }
  return "table";
}

std::string render(const Json& value, OutputFormat format, const RenderOptions& options) {
  switch (format) {
    case OutputFormat::json:
      return dump_pretty(value) + "\n";
    case OutputFormat::yaml:
      return render_yaml(value);
    case OutputFormat::tsv:
      return render_tsv(value, options);
    case OutputFormat::table:
      return render_grid(value, options, GridStyle::table);
    case OutputFormat::markdown:
      return render_grid(value, options, GridStyle::markdown);
  }
  return dump_pretty(value) + "\n";
}

RowWriter::~RowWriter() = default;

std::unique_ptr<RowWriter> make_row_writer(OutputFormat format, std::ostream& out,
                                           const RenderOptions& options) {
  switch (format) {
    case OutputFormat::json:
      return std::make_unique<JsonRowWriter>(out);
    case OutputFormat::yaml:
      return std::make_unique<YamlRowWriter>(out);
    case OutputFormat::tsv:
      return std::make_unique<TsvRowWriter>(out, options);
    case OutputFormat::table:
    case OutputFormat::markdown:
      break;
  }
  return std::make_unique<BufferedRowWriter>(out, format, options);
}

}  // namespace mlctl
