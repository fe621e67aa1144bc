#pragma once

// An RFC 4180 CSV reader that loads a whole table into memory, column by
// column, for schema inference and profiling.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlctl::data {

namespace detail {

// Allocates buffers of several MiB on 2 MiB boundaries and asks the kernel to
// back them with huge pages. Loading a table writes every page of its column
// buffers once, and the first write to each fresh 4 KiB page is a page fault:
// on the virtual machine where this was measured, those faults took two
// thirds of the parsing time, and huge pages made parsing three times faster.
// Smaller buffers come from operator new. Stateless.
void* allocate_large(std::size_t bytes);
void deallocate_large(void* pointer, std::size_t bytes) noexcept;

template <class T>
struct LargeBufferAllocator {
  using value_type = T;
  LargeBufferAllocator() = default;
  template <class U>
  LargeBufferAllocator(const LargeBufferAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(allocate_large(n * sizeof(T))); }
  void deallocate(T* pointer, std::size_t n) noexcept { deallocate_large(pointer, n * sizeof(T)); }
  friend bool operator==(const LargeBufferAllocator&, const LargeBufferAllocator&) noexcept { return true; }
};

using LargeString = std::basic_string<char, std::char_traits<char>, LargeBufferAllocator<char>>;
template <class T>
using LargeVector = std::vector<T, LargeBufferAllocator<T>>;

}  // namespace detail

// One column's cells. The cells sit back to back in one buffer, with the end
// offset of each, because a std::string per cell costs an allocation per cell
// and makes loading several times slower.
class CsvColumn {
 public:
  explicit CsvColumn(std::string name = {}) : m_name(std::move(name)) {}

  // The name given by the header row.
  const std::string& name() const noexcept { return m_name; }
  // Number of cells (the table's row count).
  std::size_t size() const noexcept { return m_ends.size(); }
  // The text of cell `row` (0-based data row), quotes removed and doubled
  // quotes undone; valid while the column lives and is not appended to.
  // `row` must be below size().
  std::string_view cell(std::size_t row) const noexcept {
    std::size_t begin = row == 0 ? 0 : m_ends[row - 1];
    return std::string_view(m_bytes.data() + begin, m_ends[row] - begin);
  }

  // Adds a cell at the end.
  void append(std::string_view cell) {
    m_bytes.append(cell.data(), cell.size());
    m_ends.push_back(m_bytes.size());
  }
  // Makes room for `cells` more cells holding `bytes` more bytes in all.
  void reserve(std::size_t bytes, std::size_t cells) {
    m_bytes.reserve(m_bytes.size() + bytes);
    m_ends.reserve(m_ends.size() + cells);
  }

 private:
  std::string m_name;
  detail::LargeString m_bytes;
  detail::LargeVector<std::size_t> m_ends;
};

// A parsed CSV file: the header's column names and every data row, stored by
// column. Not thread-safe to modify; concurrent reads are fine.
struct CsvTable {
  // Prefixes messages about the table's cells ("data.csv:7: ...").
  std::string source_name;
  std::vector<CsvColumn> columns;
  // The physical 1-based line on which each data row starts, for messages;
  // row 0 usually starts on line 2.
  std::vector<std::size_t> row_lines;

  std::size_t row_count() const noexcept { return row_lines.size(); }
  std::size_t column_count() const noexcept { return columns.size(); }
  std::vector<std::string> column_names() const;
  // The index of the column named `name` (case-sensitive), or nullopt.
  std::optional<std::size_t> find_column(std::string_view name) const noexcept;
  std::string_view cell(std::size_t row, std::size_t column) const noexcept {
    return columns[column].cell(row);
  }
};

// Parses CSV text (RFC 4180) whose first row is the header.
//  - Fields are separated by ',' and rows end with LF or CRLF; the last row
//    may lack a line ending, and blank lines at the end of the text are
//    ignored. A UTF-8 byte order mark at the start is skipped.
//  - A field that starts with '"' is quoted: it may contain commas, line
//    breaks (kept as written, CR, LF or CRLF) and doubled quotes ("" for ").
//    A '"' inside an unquoted field is kept as a literal character.
//  - Lines are counted by LF; a CR outside quotes must start a CRLF.
//  - An empty field is an empty cell; see is_missing for "NA" and friends.
// Throws Error(parse) "SOURCE:LINE: what" on the first problem, LINE being
// the physical 1-based line: an empty header, a header name that is empty or
// repeated, a row whose field count differs from the header's (LINE is where
// the row starts), a quote left open (LINE is the last line of the text), a
// character after a closing quote, a lone CR. Pure and thread-safe.
CsvTable parse_csv(std::string_view text, std::string_view source_name);

// Reads and parses the CSV file at `path`; messages name the path as given.
// Throws Error(io) if the file cannot be read, Error(parse) as parse_csv.
CsvTable read_csv(const std::filesystem::path& path);

// A field as RFC 4180 writes it: quoted (quotes doubled) when it holds a
// comma, a quote or a line break; as it is otherwise.
std::string csv_field(std::string_view text);

// Whether a cell counts as a missing value in a numeric column: empty or
// blank, or (ignoring case and surrounding blanks) "NA", "N/A", "NaN" or
// "null". Categorical and text columns treat only empty cells as missing,
// since "NA" may well be a category there. Pure.
bool is_missing(std::string_view cell) noexcept;

// The value of a cell holding a finite decimal number ("42", "-1.5e3",
// "+.5"; blanks around it are ignored), or nullopt for anything else,
// including missing values, infinities and numbers out of double's range.
// Pure.
std::optional<double> parse_number(std::string_view cell) noexcept;

// The cells of column `column` as numbers, NaN for missing ones. Throws
// Error(parse) "SOURCE:LINE: column 'NAME': 'TEXT' is not a number" for the
// first other cell that is not a number, and Error(internal) if `column` is
// not a column of the table. Pure and thread-safe.
std::vector<double> column_as_numbers(const CsvTable& table, std::size_t column);

}  // namespace mlctl::data
