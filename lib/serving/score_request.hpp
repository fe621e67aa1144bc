#pragma once

// Turns the body of a scoring request into rows of typed cells in the
// model's input order, checking every value against the input schema.
// Three dialects, so that existing clients work unchanged:
//   mlctl   POST /score
//           {"data": [[v, ...], ...]}            rows in schema column order
//           {"records": [{"col": v, ...}, ...]}  named columns
//   MLflow  POST /invocations
//           {"dataframe_split": {"columns": [...], "data": [[...]]}},
//           {"dataframe_records": [{...}]}, {"instances": [[...] | {...}]}
//   Open Inference Protocol v2  POST /v2/models/NAME/infer
//           {"inputs": [{"name", "shape", "datatype", "data"}]}: one input
//           of shape [rows, columns] holding every column in schema order,
//           or one input per column (named as the column, shape [rows]).
// Types: a numeric column takes a number or null (imputed like a missing
// CSV cell); a categorical column a string, a number (its text) or null; a
// text column a string or null. Booleans, objects and arrays are refused.

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mlctl/core/json.hpp>
#include <mlctl/data/csv.hpp>
#include <mlctl/serving/scoring_model.hpp>
#include <mlctl/train/preprocessor.hpp>

namespace mlctl::serving {

enum class BodyDialect { mlctl, mlflow, inference_v2 };

// A request the service refuses: 400 (or 413), with the row (0-based) and
// column it is about when there is one.
struct BadRequest {
  int status = 400;
  std::string message;
  std::optional<std::size_t> row;
  std::optional<std::string> column;
  // {"error": {"code", "message", "row", "column"}}
  std::string body() const;
};

struct ScoreInput {
  Json document;  // the parsed body; the cells' texts point into it
  std::deque<std::string> owned_texts;  // numbers given for categorical columns
  std::vector<train::InputCell> cells;  // rows x inputs
  std::size_t rows = 0;
  std::optional<std::string> request_id;  // v2 "id", echoed back
};

// Throws BadRequest: invalid JSON, a missing top-level key, an empty batch,
// more rows than `max_rows`, a row of the wrong length, a missing or
// unknown column, a value of the wrong type, a number that is not finite,
// a null where the model cannot impute (TorchScript inputs).
ScoreInput decode_score_request(std::string_view body, BodyDialect dialect, const std::vector<InputColumn>& inputs,
                                std::size_t max_rows, bool nulls_allowed);

// The rows of a CSV table as {"records": [...]} for the model's inputs
// (other columns are left out): numeric cells as numbers, missing cells
// (data::is_missing) as null, other cells as strings. Throws
// Error(invalid_argument) naming an input column the table lacks.
Json csv_to_request(const data::CsvTable& table, const std::vector<InputColumn>& inputs);

// The input columns of a schema document ({"inputs": [{"name", "type"}]}).
std::vector<InputColumn> input_columns(const Json& schema);

}  // namespace mlctl::serving
