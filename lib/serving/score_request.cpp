#include <mlctl/serving/score_request.hpp>

#include <cmath>
#include <unordered_map>

#include <fmt/format.h>

#include <mlctl/core/did_you_mean.hpp>
#include <mlctl/core/error.hpp>

namespace mlctl::serving {
namespace {

using Cell = train::InputCell;

const char* json_type_name(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    default: return "a number";
  }
}

// A 400 about the body as a whole (no row, no column).
BadRequest bad_body(std::string message) { return BadRequest{400, std::move(message), std::nullopt, std::nullopt}; }

class Decoder {
 public:
  Decoder(ScoreInput& input, const std::vector<InputColumn>& inputs, std::size_t max_rows, bool nulls_allowed)
      : m_input(input), m_inputs(inputs), m_max_rows(max_rows), m_nulls_allowed(nulls_allowed) {
    for (std::size_t i = 0; i < inputs.size(); ++i) m_index.emplace(inputs[i].name, i);
  }

  [[noreturn]] void fail(std::string message, std::optional<std::size_t> row = std::nullopt,
                         std::optional<std::string> column = std::nullopt) const {
    throw BadRequest{400, std::move(message), row, std::move(column)};
  }

  void start_rows(std::size_t rows) {
    if (rows == 0) fail("empty batch: the request holds no rows");
    if (rows > m_max_rows) {
      fail(fmt::format("the batch of {} rows exceeds the limit of {} rows per request", rows, m_max_rows));
    }
    m_input.rows = rows;
    m_input.cells.assign(rows * m_inputs.size(), Cell{});
  }

  // Converts one JSON value into the cell of (row, column).
  void set(std::size_t row, std::size_t column, const Json& value) {
    const InputColumn& input = m_inputs[column];
    Cell& cell = m_input.cells[row * m_inputs.size() + column];
    auto wrong = [&](const char* expected) {
      fail(fmt::format("row {}, column '{}': expected {}, got {}", row, input.name, expected, json_type_name(value)), row,
           input.name);
    };
    if (value.is_null()) {
      if (!m_nulls_allowed) fail(fmt::format("row {}, column '{}': a value is required", row, input.name), row, input.name);
      cell.kind = Cell::Kind::missing;
      return;
    }
    switch (input.type) {
      case data::ColumnType::numeric: {
        if (!value.is_number()) wrong("a number or null");
        const double number = value.get<double>();
        if (!std::isfinite(number)) {
          fail(fmt::format("row {}, column '{}': the number is not finite", row, input.name), row, input.name);
        }
        cell.kind = Cell::Kind::number;
        cell.number = number;
        return;
      }
      case data::ColumnType::categorical:
        if (value.is_number()) {
          // A category such as 1 sent as a number: its text, as a CSV
          // file would hold it ("1", "2.5").
          const std::string& text = m_input.owned_texts.emplace_back(
              value.is_number_float() ? fmt::format("{}", value.get<double>()) : value.dump());
          cell.kind = Cell::Kind::text;
          cell.text = text;
          return;
        }
        if (!value.is_string()) wrong("a string, a number or null");
        break;
      case data::ColumnType::text:
        if (!value.is_string()) wrong("a string or null");
        break;
    }
    cell.kind = Cell::Kind::text;
    cell.text = value.get_ref<const std::string&>();
  }

  // A row given as an array in schema order.
  void set_positional_row(std::size_t row, const Json& values) {
    if (!values.is_array()) fail(fmt::format("row {}: expected an array of {} values", row, m_inputs.size()), row);
    if (values.size() != m_inputs.size()) {
      fail(fmt::format("row {}: expected {} values (columns {}), got {}", row, m_inputs.size(), column_list(),
                       values.size()),
           row);
    }
    for (std::size_t c = 0; c < m_inputs.size(); ++c) set(row, c, values[c]);
  }

  // A row given as an object of named columns.
  void set_record(std::size_t row, const Json& record) {
    if (!record.is_object()) fail(fmt::format("row {}: expected an object of column values", row), row);
    std::size_t found = 0;
    for (const auto& [name, value] : record.items()) {
      set(row, column_index(name, row), value);
      ++found;
    }
    if (found != m_inputs.size()) {
      for (const InputColumn& input : m_inputs) {
        if (!record.contains(input.name)) {
          fail(fmt::format("row {}: column '{}' is missing", row, input.name), row, input.name);
        }
      }
    }
  }

  std::size_t column_index(const std::string& name, std::optional<std::size_t> row) const {
    auto it = m_index.find(name);
    if (it != m_index.end()) return it->second;
    std::vector<std::string> names;
    for (const auto& input : m_inputs) names.push_back(input.name);
    fail(fmt::format("{}unknown column '{}'{}", row ? fmt::format("row {}: ", *row) : "", name,
                     did_you_mean_hint(name, names)),
         row, name);
  }

  std::string column_list() const {
    std::vector<std::string> names;
    for (const auto& input : m_inputs) names.push_back(input.name);
    return fmt::format("{}", fmt::join(names, ", "));
  }

  const std::vector<InputColumn>& inputs() const { return m_inputs; }

 private:
  ScoreInput& m_input;
  const std::vector<InputColumn>& m_inputs;
  std::unordered_map<std::string, std::size_t> m_index;
  std::size_t m_max_rows;
  bool m_nulls_allowed;
};

const Json& member(const Decoder& decoder, const Json& object, const char* key, const char* expected) {
  auto it = object.find(key);
  if (it == object.end()) decoder.fail(fmt::format("the body has no '{}': expected {}", key, expected));
  return *it;
}

void decode_rows(Decoder& decoder, const Json& rows, bool records_allowed, bool arrays_allowed) {
  if (!rows.is_array()) decoder.fail("expected an array of rows");
  decoder.start_rows(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].is_object() && records_allowed) {
      decoder.set_record(r, rows[r]);
    } else if (arrays_allowed || !rows[r].is_object()) {
      decoder.set_positional_row(r, rows[r]);
    } else {
      decoder.fail(fmt::format("row {}: expected an array of values", r), r);
    }
  }
}

void decode_mlctl(Decoder& decoder, const Json& document) {
  if (document.contains("data")) return decode_rows(decoder, document["data"], false, true);
  if (document.contains("records")) {
    const Json& records = document["records"];
    if (!records.is_array()) decoder.fail("'records': expected an array of objects");
    decoder.start_rows(records.size());
    for (std::size_t r = 0; r < records.size(); ++r) decoder.set_record(r, records[r]);
    return;
  }
  decoder.fail("the body has neither 'data' (rows of values in schema order) nor 'records' (objects of named columns)");
}

void decode_mlflow(Decoder& decoder, const Json& document) {
  if (document.contains("dataframe_split")) {
    const Json& split = document["dataframe_split"];
    if (!split.is_object()) decoder.fail("'dataframe_split': expected an object with 'columns' and 'data'");
    const Json& data = member(decoder, split, "data", "'dataframe_split.data', the rows");
    if (!split.contains("columns")) return decode_rows(decoder, data, false, true);
    const Json& columns = split["columns"];
    if (!columns.is_array()) decoder.fail("'dataframe_split.columns': expected an array of column names");
    std::vector<std::size_t> order;
    std::vector<bool> seen(decoder.inputs().size(), false);
    for (const Json& name : columns) {
      if (!name.is_string()) decoder.fail("'dataframe_split.columns': expected strings");
      std::size_t index = decoder.column_index(name.get<std::string>(), std::nullopt);
      if (seen[index]) decoder.fail(fmt::format("column '{}' is given twice", name.get<std::string>()));
      seen[index] = true;
      order.push_back(index);
    }
    for (std::size_t c = 0; c < seen.size(); ++c) {
      if (!seen[c]) {
        decoder.fail(fmt::format("column '{}' is missing", decoder.inputs()[c].name), std::nullopt, decoder.inputs()[c].name);
      }
    }
    if (!data.is_array()) decoder.fail("'dataframe_split.data': expected an array of rows");
    decoder.start_rows(data.size());
    for (std::size_t r = 0; r < data.size(); ++r) {
      const Json& row = data[r];
      if (!row.is_array() || row.size() != order.size()) {
        decoder.fail(fmt::format("row {}: expected an array of {} values", r, order.size()), r);
      }
      for (std::size_t i = 0; i < order.size(); ++i) decoder.set(r, order[i], row[i]);
    }
    return;
  }
  if (document.contains("dataframe_records")) return decode_rows(decoder, document["dataframe_records"], true, false);
  if (document.contains("instances")) return decode_rows(decoder, document["instances"], true, true);
  decoder.fail("the body has none of 'dataframe_split', 'dataframe_records' or 'instances'");
}

// The elements of a v2 tensor's data, flattened (nested arrays allowed).
void flatten(const Json& data, std::vector<const Json*>& out) {
  if (data.is_array()) {
    for (const Json& item : data) flatten(item, out);
  } else {
    out.push_back(&data);
  }
}

void decode_inference_v2(Decoder& decoder, const Json& document, ScoreInput& input) {
  if (document.contains("id") && document["id"].is_string()) input.request_id = document["id"].get<std::string>();
  const Json& tensors = member(decoder, document, "inputs", "a list of input tensors");
  if (!tensors.is_array() || tensors.empty()) decoder.fail("'inputs': expected a non-empty array of tensors");
  const std::size_t width = decoder.inputs().size();
  auto shape_of = [&](const Json& tensor, std::size_t index) {
    const Json& shape = member(decoder, tensor, "shape", "the tensor's shape");
    std::vector<std::size_t> dims;
    if (!shape.is_array()) decoder.fail(fmt::format("inputs[{}].shape: expected an array of sizes", index));
    for (const Json& dim : shape) {
      if (!dim.is_number_integer() || dim.get<long long>() < 0) {
        decoder.fail(fmt::format("inputs[{}].shape: expected non-negative integers", index));
      }
      dims.push_back(dim.get<std::size_t>());
    }
    return dims;
  };
  const Json& first = tensors[0];
  const bool by_column = first.is_object() && first.contains("name") && first["name"].is_string() &&
                         first["name"].get<std::string>() != "input-0" &&
                         (tensors.size() > 1 || width == 1 || shape_of(first, 0).size() == 1);
  if (!by_column) {
    if (tensors.size() != 1) decoder.fail("expected one input tensor of shape [rows, columns], or one per column");
    std::vector<std::size_t> dims = shape_of(first, 0);
    if (dims.size() != 2 || dims[1] != width) {
      decoder.fail(fmt::format("inputs[0].shape: expected [rows, {}] (columns {})", width, decoder.column_list()));
    }
    std::vector<const Json*> values;
    flatten(member(decoder, first, "data", "the tensor's data"), values);
    if (values.size() != dims[0] * width) {
      decoder.fail(fmt::format("inputs[0].data: holds {} values, the shape says {}", values.size(), dims[0] * width));
    }
    decoder.start_rows(dims[0]);
    for (std::size_t r = 0; r < dims[0]; ++r) {
      for (std::size_t c = 0; c < width; ++c) decoder.set(r, c, *values[r * width + c]);
    }
    return;
  }
  std::vector<std::vector<const Json*>> columns(width);
  std::vector<bool> seen(width, false);
  std::size_t rows = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Json& tensor = tensors[i];
    if (!tensor.is_object()) decoder.fail(fmt::format("inputs[{}]: expected an object", i));
    const Json& name = member(decoder, tensor, "name", "the input's name");
    if (!name.is_string()) decoder.fail(fmt::format("inputs[{}].name: expected a string", i));
    const std::size_t column = decoder.column_index(name.get<std::string>(), std::nullopt);
    if (seen[column]) decoder.fail(fmt::format("column '{}' is given twice", name.get<std::string>()));
    seen[column] = true;
    flatten(member(decoder, tensor, "data", "the tensor's data"), columns[column]);
    if (i == 0) rows = columns[column].size();
    if (columns[column].size() != rows) {
      decoder.fail(fmt::format("inputs[{}] ('{}'): holds {} values, inputs[0] holds {}", i, name.get<std::string>(),
                               columns[column].size(), rows),
                   std::nullopt, name.get<std::string>());
    }
  }
  for (std::size_t c = 0; c < width; ++c) {
    if (!seen[c]) decoder.fail(fmt::format("column '{}' is missing", decoder.inputs()[c].name), std::nullopt, decoder.inputs()[c].name);
  }
  decoder.start_rows(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < width; ++c) decoder.set(r, c, *columns[c][r]);
  }
}

}  // namespace

std::string BadRequest::body() const {
  Json error = {{"code", status}, {"message", message}};
  if (row) error["row"] = *row;
  if (column) error["column"] = *column;
  return Json{{"error", std::move(error)}}.dump();
}

ScoreInput decode_score_request(std::string_view body, BodyDialect dialect, const std::vector<InputColumn>& inputs,
                                std::size_t max_rows, bool nulls_allowed) {
  ScoreInput input;
  input.document = Json::parse(body, nullptr, false);
  if (input.document.is_discarded()) {
    // Parse again for the parser's message (where and what): only bad
    // requests pay for it.
    try {
      [[maybe_unused]] Json parsed = Json::parse(body);
    } catch (const Json::out_of_range& error) {
      // 1e999: valid JSON syntax, but no finite double.
      std::string what = error.what();
      auto at = what.find("number overflow");
      throw bad_body(fmt::format("the body holds a number that is not finite ({})",
                                 at == std::string::npos ? what : what.substr(at)));
    } catch (const Json::exception& error) {
      std::string what = error.what();
      auto colon = what.find("parse error");
      throw bad_body(fmt::format("the body is not valid JSON: {}", colon == std::string::npos ? what : what.substr(colon)));
    }
    throw bad_body("the body is not valid JSON");
  }
  if (!input.document.is_object()) throw bad_body("the body must be a JSON object");
  Decoder decoder(input, inputs, max_rows, nulls_allowed);
  switch (dialect) {
    case BodyDialect::mlctl: decode_mlctl(decoder, input.document); break;
    case BodyDialect::mlflow: decode_mlflow(decoder, input.document); break;
    case BodyDialect::inference_v2: decode_inference_v2(decoder, input.document, input); break;
  }
  return input;
}

Json csv_to_request(const data::CsvTable& table, const std::vector<InputColumn>& inputs) {
  std::vector<std::size_t> columns;
  for (const InputColumn& input : inputs) {
    auto column = table.find_column(input.name);
    if (!column) {
      throw Error(ErrorKind::invalid_argument,
                  fmt::format("{}: no column '{}', which the model needs{}", table.source_name, input.name,
                              did_you_mean_hint(input.name, table.column_names())));
    }
    columns.push_back(*column);
  }
  Json records = Json::array();
  for (std::size_t row = 0; row < table.row_count(); ++row) {
    Json record = Json::object();
    for (std::size_t c = 0; c < inputs.size(); ++c) {
      std::string_view cell = table.cell(row, columns[c]);
      if (data::is_missing(cell) && inputs[c].type != data::ColumnType::text) {
        record[inputs[c].name] = nullptr;
      } else if (inputs[c].type == data::ColumnType::numeric) {
        auto number = data::parse_number(cell);
        record[inputs[c].name] = number ? Json(*number) : Json(std::string(cell));
      } else {
        record[inputs[c].name] = std::string(cell);
      }
    }
    records.push_back(std::move(record));
  }
  return {{"records", std::move(records)}};
}

std::vector<InputColumn> input_columns(const Json& schema) {
  std::vector<InputColumn> columns;
  if (!schema.is_object() || !schema.contains("inputs") || !schema["inputs"].is_array()) {
    throw Error(ErrorKind::parse, "the schema has no 'inputs' list");
  }
  for (const Json& input : schema["inputs"]) {
    columns.push_back({input.at("name").get<std::string>(), data::parse_column_type(input.at("type").get<std::string>())});
  }
  return columns;
}


}  // namespace mlctl::serving
