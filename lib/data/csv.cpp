#include <mlctl/data/csv.hpp>

#include <mlctl/core/error.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

namespace mlctl::data {
namespace {

// Bytes that end an unquoted field. A table lookup per byte beats three
// memchr calls on the short fields typical of numeric data.
constexpr std::array<bool, 256> k_field_end = [] {
  std::array<bool, 256> table{};
  table[static_cast<unsigned char>(',')] = true;
  table[static_cast<unsigned char>('\n')] = true;
  table[static_cast<unsigned char>('\r')] = true;
  return table;
}();

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_blanks(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

// 'x' for a printable character, '\xNN' otherwise, so a message never
// carries a raw control character or half of a UTF-8 sequence.
std::string describe_char(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("'\\x{:02x}'", byte);
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view source_name)
      : m_pos(text.data()), m_end(text.data() + text.size()), m_source(source_name) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") m_pos += 3;
    // Where the run of line breaks that ends the text starts. A row can only
    // begin at or after it when the rest is blank lines, which are ignored.
    m_blank_tail = m_end;
    while (m_blank_tail != m_pos && (m_blank_tail[-1] == '\n' || m_blank_tail[-1] == '\r')) {
      --m_blank_tail;
    }
  }

  CsvTable parse() {
    CsvTable table;
    table.source_name = std::string(m_source);
    parse_header(table);
    std::size_t column_count = table.columns.size();

    // Delimiters are dropped, so the bytes left are an upper bound of the
    // cell bytes; it spares the columns their reallocations.
    std::size_t body_bytes = static_cast<std::size_t>(m_end - m_pos);
    for (auto& column : table.columns) column.reserve(body_bytes / column_count + 1, 0);
    bool cells_reserved = false;
    const char* body_start = m_pos;

    while (m_pos < m_blank_tail) {
      std::size_t row_line = m_line;
      if (column_count > 1 && at_line_end()) {
        fail(row_line, fmt::format("empty line, the header has {} fields", column_count));
      }
      std::size_t field = 0;
      do {
        parse_field(field < column_count ? table.columns[field] : m_overflow);
        ++field;
      } while (end_of_field());
      if (field != column_count) {
        fail(row_line, fmt::format("row has {} field{}, the header has {}", field, field == 1 ? "" : "s",
                                   column_count));
      }
      table.row_lines.push_back(row_line);

      // Once a few rows show their typical size, reserve for the rest.
      if (!cells_reserved && table.row_lines.size() == 64) {
        cells_reserved = true;
        double per_row = static_cast<double>(m_pos - body_start) / 64.0;
        auto rows = static_cast<std::size_t>(static_cast<double>(body_bytes) / per_row * 1.05) + 64;
        table.row_lines.reserve(rows);
        for (auto& column : table.columns) column.reserve(0, rows - 64);
      }
    }
    return table;
  }

 private:
  [[noreturn]] void fail(std::size_t line, std::string_view what) const {
    throw Error(ErrorKind::parse, fmt::format("{}:{}: {}", m_source, line, what));
  }

  void parse_header(CsvTable& table) {
    CsvColumn names;
    std::vector<std::size_t> lines;
    if (m_pos < m_blank_tail) {
      do {
        lines.push_back(m_line);
        parse_field(names);
      } while (end_of_field());
    }
    if (names.size() == 0 || (names.size() == 1 && names.cell(0).empty())) fail(1, "empty header");
    for (std::size_t i = 0; i < names.size(); ++i) {
      std::string_view name = names.cell(i);
      if (name.empty()) {
        throw Error(ErrorKind::parse, fmt::format("{}:{}: column {} has no name", m_source, lines[i], i + 1),
                    "name every column in the header row; pandas writes an unnamed index column "
                    "first unless told index=False");
      }
      if (table.find_column(name)) fail(lines[i], fmt::format("duplicate column '{}'", name));
      table.columns.emplace_back(std::string(name));
    }
  }

  // Parses the field at m_pos into `column` and stops at its delimiter.
  void parse_field(CsvColumn& column) {
    if (m_pos == m_end || *m_pos != '"') {
      const char* start = m_pos;
      const char* p = m_pos;
      while (p != m_end && !k_field_end[static_cast<unsigned char>(*p)]) ++p;
      column.append(std::string_view(start, static_cast<std::size_t>(p - start)));
      m_pos = p;
      return;
    }
    column.append(parse_quoted());
  }

  // The unescaped content of the quoted field at m_pos; a view of the text
  // unless the field has doubled quotes, then of m_scratch.
  std::string_view parse_quoted() {
    std::size_t open_line = m_line;
    const char* p = m_pos + 1;
    bool unescaped = false;
    m_scratch.clear();
    while (true) {
      auto* quote = static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(m_end - p)));
      if (quote == nullptr) {
        // Report the last line of the text: that is where the field should
        // have been closed at the latest.
        std::size_t last_line = m_line;
        if (p != m_end) last_line += static_cast<std::size_t>(std::count(p, m_end - 1, '\n'));
        fail(last_line, fmt::format("unterminated quoted field (opened on line {})", open_line));
      }
      m_line += static_cast<std::size_t>(std::count(p, quote, '\n'));
      if (quote + 1 != m_end && quote[1] == '"') {
        m_scratch.append(p, quote + 1);
        unescaped = true;
        p = quote + 2;
        continue;
      }
      m_pos = quote + 1;
      if (m_pos != m_end && !k_field_end[static_cast<unsigned char>(*m_pos)]) {
        fail(m_line, fmt::format("unexpected character {} after a closing quote", describe_char(*m_pos)));
      }
      if (!unescaped) return std::string_view(p, static_cast<std::size_t>(quote - p));
      m_scratch.append(p, quote);
      return m_scratch;
    }
  }

  bool at_line_end() const {
    return *m_pos == '\n' || (*m_pos == '\r' && m_pos + 1 != m_end && m_pos[1] == '\n');
  }

  // Consumes the delimiter after a field: true if another field of the same
  // row follows, false at the end of the row.
  bool end_of_field() {
    if (m_pos == m_end) return false;
    char c = *m_pos;
    if (c == ',') {
      ++m_pos;
      return true;
    }
    if (c == '\n') {
      ++m_pos;
      ++m_line;
      return false;
    }
    if (m_pos + 1 != m_end && m_pos[1] == '\n') {
      m_pos += 2;
      ++m_line;
      return false;
    }
    fail(m_line, "carriage return without a line feed (lines must end with LF or CRLF)");
  }

  const char* m_pos;
  const char* m_end;
  const char* m_blank_tail;
  std::string_view m_source;
  std::size_t m_line = 1;
  std::string m_scratch;
  CsvColumn m_overflow;  // the fields of a row that has too many, to count them
};

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : m_fd(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (m_fd >= 0) ::close(m_fd);
  }
  int get() const { return m_fd; }

 private:
  int m_fd;
};

bool equals_ignoring_case(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

}  // namespace

namespace detail {

namespace {
constexpr std::size_t k_huge_page = std::size_t{2} << 20;
// Below this, rounding up to whole huge pages would waste too much.
constexpr std::size_t k_large_buffer = 2 * k_huge_page;
}  // namespace

void* allocate_large(std::size_t bytes) {
  if (bytes < k_large_buffer) return ::operator new(bytes);
  std::size_t rounded = (bytes + k_huge_page - 1) / k_huge_page * k_huge_page;
  void* pointer = std::aligned_alloc(k_huge_page, rounded);
  if (pointer == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  // Advice only: where transparent huge pages are off, this fails harmlessly.
  ::madvise(pointer, rounded, MADV_HUGEPAGE);
#endif
  return pointer;
}

void deallocate_large(void* pointer, std::size_t bytes) noexcept {
  if (bytes < k_large_buffer) {
    ::operator delete(pointer);
  } else {
    std::free(pointer);
  }
}

}  // namespace detail

std::vector<std::string> CsvTable::column_names() const {
  std::vector<std::string> names;
  names.reserve(columns.size());
  for (const auto& column : columns) names.push_back(column.name());
  return names;
}

std::optional<std::size_t> CsvTable::find_column(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name() == name) return i;
  }
  return std::nullopt;
}

CsvTable parse_csv(std::string_view text, std::string_view source_name) {
  return Parser(text, source_name).parse();
}

// read() rather than mmap: a file truncated by another process while mapped
// would kill us with SIGBUS, and one copy costs little next to parsing.
CsvTable read_csv(const std::filesystem::path& path) {
  std::string name = path.string();
  auto io_error = [&](int error_number) {
    return Error(ErrorKind::io, fmt::format("cannot read '{}': {}", name, std::strerror(error_number)));
  };
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw io_error(errno);
  detail::LargeString text;
  struct stat info {};
  if (::fstat(fd.get(), &info) == 0 && S_ISREG(info.st_mode)) {
    text.reserve(static_cast<std::size_t>(info.st_size));
  }
  std::array<char, 1 << 16> chunk;
  while (true) {
    // Straight into the string while it has room, to skip a copy.
    std::size_t room = text.capacity() - text.size();
    std::size_t old_size = text.size();
    ssize_t n;
    if (room >= chunk.size() / 4) {
      text.resize(text.capacity());
      n = ::read(fd.get(), text.data() + old_size, room);
      text.resize(old_size + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    } else {
      n = ::read(fd.get(), chunk.data(), chunk.size());
      if (n > 0) text.append(chunk.data(), static_cast<std::size_t>(n));
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      throw io_error(errno);
    }
    if (n == 0) break;
  }
  return parse_csv(std::string_view(text.data(), text.size()), name);
}

bool is_missing(std::string_view cell) noexcept {
  cell = trim_blanks(cell);
  switch (cell.size()) {
    case 0: return true;
    case 2: return equals_ignoring_case(cell, "na");
    case 3: return equals_ignoring_case(cell, "n/a") || equals_ignoring_case(cell, "nan");
    case 4: return equals_ignoring_case(cell, "null");
    default: return false;
  }
}

std::optional<double> parse_number(std::string_view cell) noexcept {
  if (!cell.empty() && (is_blank(cell.front()) || is_blank(cell.back()))) cell = trim_blanks(cell);
  // from_chars follows strtod but takes no '+', which people do write.
  if (!cell.empty() && cell.front() == '+') {
    cell.remove_prefix(1);
    if (!cell.empty() && (cell.front() == '-' || cell.front() == '+')) return std::nullopt;
  }
  if (cell.empty()) return std::nullopt;
  const char* end = cell.data() + cell.size();
  double value = 0;
  auto [ptr, ec] = std::from_chars(cell.data(), end, value);
  if (ptr != end) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // from_chars leaves overflow and underflow alike unconverted; strtod
    // tells them apart (HUGE_VAL, or a subnormal or zero we accept).
    std::array<char, 128> buffer{};
    if (cell.size() >= buffer.size()) return std::nullopt;
    std::memcpy(buffer.data(), cell.data(), cell.size());
    value = std::strtod(buffer.data(), nullptr);
  } else if (ec != std::errc()) {
    return std::nullopt;
  }
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

std::vector<double> column_as_numbers(const CsvTable& table, std::size_t column) {
  if (column >= table.columns.size()) {
    throw Error(ErrorKind::internal, fmt::format("column index {} out of range: {} has {} columns", column,
                                                 table.source_name, table.columns.size()));
  }
  const CsvColumn& cells = table.columns[column];
  std::vector<double> numbers;
  numbers.reserve(cells.size());
  for (std::size_t row = 0; row < cells.size(); ++row) {
    std::string_view cell = cells.cell(row);
    if (auto number = parse_number(cell)) {
      numbers.push_back(*number);
    } else if (is_missing(cell)) {
      numbers.push_back(std::numeric_limits<double>::quiet_NaN());
    } else {
      std::string shown(cell.substr(0, 40));
      if (cell.size() > 40) shown += "...";
      throw Error(ErrorKind::parse, fmt::format("{}:{}: column '{}': '{}' is not a number", table.source_name,
                                                table.row_lines[row], cells.name(), shown));
    }
  }
  return numbers;
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace mlctl::data
