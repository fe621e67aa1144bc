#pragma once

// Output formats shared by every command (`-o table|json|yaml|tsv|markdown`).
// A command produces a Json value; these functions turn it into text for
// stdout. Pure functions of their arguments except RowWriter, which writes to
// the stream it is given.

#include <mlctl/core/json.hpp>

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl {

enum class OutputFormat { table, json, yaml, tsv, markdown };

// Parses "table", "json", "yaml", "tsv" or "markdown" (exact, lower case).
// Throws Error(invalid_argument) naming the allowed values.
OutputFormat parse_output_format(std::string_view text);

// The name parse_output_format accepts ("table").
const char* to_string(OutputFormat format) noexcept;

// A column of a table: its header and the dotted key path of its value in
// each row object ("metrics.accuracy"; a segment of digits indexes an array).
// A key that itself contains dots is matched whole before the path is split.
struct Column {
  std::string header;
  std::string path;
};

struct RenderOptions {
  // Columns for table, markdown and tsv output of objects. Empty: the union
  // of the rows' top-level keys in first-seen order, headed by the key; table
  // and markdown skip keys whose values are only ever objects or arrays.
  std::vector<Column> columns;
  // ANSI colour for table output: bold headers, coloured status values.
  bool color = false;
};

// Renders `value` as text ending in a newline, or "" where there is nothing
// to show (an empty list, or null, as table, tsv or markdown).
//   json:     pretty-printed, 2-space indent, numbers at full precision.
//   yaml:     block style; strings quoted only where YAML would misread them.
//   tsv:      a line per row (per element of an array), values separated by
//             tabs, no header; nested values as compact JSON; tab, newline and
//             carriage return inside values written as \t \n \r; null empty.
//   table:    an array of objects as aligned columns under a header and a
//             dashed line; an array of arrays with headers Column1..N; an
//             array of scalars under "Result"; one object as a Key/Value table
//             with nested objects flattened to dotted keys; a scalar alone.
//             Doubles shown with 6 significant digits.
//   markdown: the same shapes as a GitHub pipe table; '|' escaped as "\|" and
//             newlines written as <br>. Never coloured.
// Throws nothing but std::bad_alloc.
std::string render(const Json& value, OutputFormat format, const RenderOptions& options = {});

// Writes a list row by row, for listings too long to build as one Json array.
// The output equals render() of the array of all rows, except that tsv
// without explicit columns adds a column when a row brings a new key (earlier
// lines lack its trailing field). json, yaml and tsv write each row as it
// comes; table and markdown keep the rows until finish(), since column widths
// and the column set depend on every row.
// Not thread-safe. `out` must outlive the writer.
class RowWriter {
 public:
  virtual ~RowWriter();
  // Writes or buffers one element of the list. Throws Error(io) if the stream
  // has failed, Error(internal) after finish().
  virtual void write_row(const Json& row) = 0;
  // Ends the list (writes "[]" for an empty json list). Must be called; the
  // destructor does not write. Later calls do nothing. Throws Error(io) if the
  // stream has failed.
  virtual void finish() = 0;
};

std::unique_ptr<RowWriter> make_row_writer(OutputFormat format, std::ostream& out,
                                           const RenderOptions& options = {});

}  // namespace mlctl
