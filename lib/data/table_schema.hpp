#pragma once

// The type of each column of a table, inferred from a CSV file or read back
// from JSON, and the one notion of a "token" that text statistics share.

#include <mlctl/core/json.hpp>
#include <mlctl/data/csv.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::data {

enum class ColumnType {
  numeric,      // finite numbers, some cells perhaps missing
  categorical,  // short labels drawn from a limited set: "red", "NY", "yes"
  text,         // free text: reviews, e-mail bodies, descriptions
};

// "numeric", "categorical" or "text".
const char* to_string(ColumnType type) noexcept;

// The type named by `text` (as to_string writes it). Throws
// Error(invalid_argument) "unknown column type 'txt' (expected numeric,
// categorical or text) (did you mean 'text'?)" for anything else.
ColumnType parse_column_type(std::string_view text);

struct ColumnSchema {
  std::string name;
  ColumnType type = ColumnType::categorical;
};

// The columns of a table in file order and, optionally, which one is the
// label (the target a model learns to predict).
struct TableSchema {
  std::vector<ColumnSchema> columns;
  std::optional<std::string> label;  // the name of one of `columns`

  // The index of the column named `name`, or nullopt.
  std::optional<std::size_t> find_column(std::string_view name) const noexcept;

  // {"columns": [{"name": "age", "type": "numeric"}, ...], "label": "y"},
  // "label" being null when there is none.
  Json to_json() const;
  // The inverse of to_json. Throws Error(parse) naming the first problem:
  // not an object, a missing or mistyped field, an unknown type, a repeated
  // column name, a label that is not a column.
  static TableSchema from_json(const Json& json);
};

// The rule that tells the types apart, applied to one column:
//  - numeric when at least one cell is not missing (see is_missing) and every
//    such cell is a number (see parse_number);
//  - otherwise, over its non-empty cells, text when the mean number of tokens
//    per cell is above 5, or the mean length above 50 characters, or when
//    there are at least 20 such cells, their mean token count is at least 3
//    and at least 90% of them are distinct (short free text such as titles
//    or one-line reviews, which no category list describes);
//  - categorical otherwise, including a column with no value at all.
// So "red"/"green"/"blue", "New York" or "Bachelor's degree" are categorical,
// an e-mail body or a paragraph-long description is text. Pure.
ColumnType infer_column_type(const CsvColumn& column);

// The schema of `table`: infer_column_type for each column, and `label`, when
// given, recorded as the label (its inferred type is kept). Throws
// Error(invalid_argument) "SOURCE: no column 'y' to use as the label (did you
// mean 'Y'?)" when the label is not a column. Pure and thread-safe.
TableSchema infer_schema(const CsvTable& table, std::optional<std::string_view> label = {});

// A token is a maximal run of ASCII letters and digits and bytes of
// non-ASCII UTF-8 characters (so "café" is one token), ASCII letters
// lowercased: "Don't e-mail ME!" has the tokens don, t, e, mail, me.
std::size_t count_tokens(std::string_view text) noexcept;

// Calls visit(std::string_view token) for each token of `text`, in order;
// the view is valid during the call only. `scratch` is reused storage.
template <class Visit>
void for_each_token(std::string_view text, std::string& scratch, Visit&& visit);

// The number of characters (UTF-8 code points) in `text`: its bytes that do
// not continue a multi-byte sequence. Pure.
std::size_t count_chars(std::string_view text) noexcept;

// -- implementation --

inline bool is_token_byte(char c) noexcept {
  auto byte = static_cast<unsigned char>(c);
  return (byte >= '0' && byte <= '9') || (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
         byte >= 0x80;
}

template <class Visit>
void for_each_token(std::string_view text, std::string& scratch, Visit&& visit) {
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !is_token_byte(text[i])) ++i;
    if (i == text.size()) break;
    scratch.clear();
    while (i < text.size() && is_token_byte(text[i])) {
      char c = text[i++];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      scratch.push_back(c);
    }
    visit(std::string_view(scratch));
  }
}

}  // namespace mlctl::data
