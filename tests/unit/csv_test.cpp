#include <mlctl/data/csv.hpp>

#include <mlctl/core/error.hpp>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <ctime>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

using mlctl::Error;
using mlctl::ErrorKind;
using mlctl::data::column_as_numbers;
using mlctl::data::CsvTable;
using mlctl::data::is_missing;
using mlctl::data::parse_csv;
using mlctl::data::parse_number;
using mlctl::data::read_csv;

namespace {

// The table's cells row by row, for compact expectations.
std::vector<std::vector<std::string>> rows_of(const CsvTable& table) {
  std::vector<std::vector<std::string>> rows(table.row_count());
  for (std::size_t row = 0; row < table.row_count(); ++row) {
    for (std::size_t column = 0; column < table.column_count(); ++column) {
      rows[row].emplace_back(table.cell(row, column));
    }
  }
  return rows;
}

using Rows = std::vector<std::vector<std::string>>;
using Names = std::vector<std::string>;
using Lines = std::vector<std::size_t>;

}  // namespace

TEST_CASE("csv: a header and rows are read by column", "[csv]") {
  CsvTable table = parse_csv("id,name,score\n1,ann,0.5\n2,bob,1.5\n", "data.csv");
  CHECK(table.source_name == "data.csv");
  CHECK(table.column_names() == Names{"id", "name", "score"});
  CHECK(table.row_count() == 2);
  CHECK(table.columns[1].name() == "name");
  CHECK(table.columns[1].cell(0) == "ann");
  CHECK(table.columns[2].cell(1) == "1.5");
  CHECK(table.row_lines == Lines{2, 3});
  CHECK(table.find_column("score") == 2u);
  CHECK_FALSE(table.find_column("Score"));
}

TEST_CASE("csv: quoted fields keep embedded commas, quotes and newlines", "[csv]") {
  std::string text =
      "id,text\n"
      "1,\"a, b\"\n"
      "2,\"say \"\"hi\"\"\"\n"
      "3,\"line1\nline2\"\n"
      "4,\"cr\r\nlf and\rlone cr\"\n"
      "5,\"\"\n"
      "\"6\",\"\"\"\"\n";
  CsvTable table = parse_csv(text, "data.csv");
  CHECK(rows_of(table) == Rows{{"1", "a, b"},
                               {"2", "say \"hi\""},
                               {"3", "line1\nline2"},
                               {"4", "cr\r\nlf and\rlone cr"},
                               {"5", ""},
                               {"6", "\""}});
  // Rows 3 and 4 span two physical lines each; lines are counted by LF.
  CHECK(table.row_lines == Lines{2, 3, 4, 6, 8, 9});
}

TEST_CASE("csv: line endings, byte order mark and the end of the text", "[csv]") {
  struct Case {
    const char* what;
    std::string text;
    Names names;
    Rows rows;
  };
  std::vector<Case> cases = {
      {"LF", "a,b\n1,2\n3,4\n", {"a", "b"}, {{"1", "2"}, {"3", "4"}}},
      {"CRLF", "a,b\r\n1,2\r\n3,4\r\n", {"a", "b"}, {{"1", "2"}, {"3", "4"}}},
      {"mixed LF and CRLF", "a,b\n1,2\r\n3,4\n", {"a", "b"}, {{"1", "2"}, {"3", "4"}}},
      {"no final line ending", "a,b\r\n1,2\r\n3,4", {"a", "b"}, {{"1", "2"}, {"3", "4"}}},
      {"UTF-8 BOM",
       "\xEF\xBB\xBF"
       "a,b\n1,2\n",
       {"a", "b"},
       {{"1", "2"}}},
      {"blank lines at the end", "a,b\n1,2\n\n", {"a", "b"}, {{"1", "2"}}},
      {"several blank lines at the end", "a,b\r\n1,2\r\n\r\n\n\r\n", {"a", "b"}, {{"1", "2"}}},
      {"a header only", "a,b\n", {"a", "b"}, {}},
      {"a header without line ending", "a,b", {"a", "b"}, {}},
      {"a quoted header", "\"a,1\",\"b\"\"\"\nx,y\n", {"a,1", "b\""}, {{"x", "y"}}},
      {"empty fields and a trailing comma",
       "a,b,c\n1,,3\n,,\n4,5,\n",
       {"a", "b", "c"},
       {{"1", "", "3"}, {"", "", ""}, {"4", "5", ""}}},
      {"a blank line inside a one-column file is an empty cell", "x\n1\n\n2\n", {"x"}, {{"1"}, {""}, {"2"}}},
      {"a quote inside an unquoted field is literal",
       "a,b\n12\" pipe,x\"y\"\n",
       {"a", "b"},
       {{"12\" pipe", "x\"y\""}}},
      {"blanks around fields are kept", "a,b\n 1 , x\n", {"a", "b"}, {{" 1 ", " x"}}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    CsvTable table = parse_csv(c.text, "data.csv");
    CHECK(table.column_names() == c.names);
    CHECK(rows_of(table) == c.rows);
  }
}

TEST_CASE("csv: malformed files fail with the file, the line and what is wrong", "[csv]") {
  struct Case {
    std::string text;
    std::string message;
  };
  std::vector<Case> cases = {
      {"", "data.csv:1: empty header"},
      {"\n1\n", "data.csv:1: empty header"},
      {"\xEF\xBB\xBF", "data.csv:1: empty header"},
      {"a,b,a\n1,2,3\n", "data.csv:1: duplicate column 'a'"},
      {"age,\"x\ny\",age\n", "data.csv:2: duplicate column 'age'"},
      {"a,,c\n1,2,3\n", "data.csv:1: column 2 has no name"},
      {"a,b\n1,2\n3\n", "data.csv:3: row has 1 field, the header has 2"},
      {"a,b\n1,2,3\n", "data.csv:2: row has 3 fields, the header has 2"},
      // The row starts on line 4, after a field spanning lines 2 and 3.
      {"a,b\n\"x\ny\",1\n1,2,3,4\n", "data.csv:4: row has 4 fields, the header has 2"},
      {"a,b\r\n1,2\r\n\r\n3,4\r\n", "data.csv:3: empty line, the header has 2 fields"},
      {"a,b\n1,\"abc\n", "data.csv:2: unterminated quoted field (opened on line 2)"},
      {"a,b\n1,\"abc\ndef\n\n", "data.csv:4: unterminated quoted field (opened on line 2)"},
      {"a,b\n1,\"", "data.csv:2: unterminated quoted field (opened on line 2)"},
      {"\"a,b\n", "data.csv:1: unterminated quoted field (opened on line 1)"},
      {"a,b\n\"x\"y,1\n", "data.csv:2: unexpected character 'y' after a closing quote"},
      {"a,b\n1,\"x\" \n", "data.csv:2: unexpected character ' ' after a closing quote"},
      {"a,b\n1,\"x\ny\"\"z\"\t\n", "data.csv:3: unexpected character '\\x09' after a closing quote"},
      {"a,b\r\n1,2\r3,4\r\n",
       "data.csv:2: carriage return without a line feed (lines must end with LF or CRLF)"},
      {"a,b\r1,2\r", "data.csv:1: carriage return without a line feed (lines must end with LF or CRLF)"},
  };
  for (const auto& c : cases) {
    INFO(fmt::format("text: {:?}", c.text));
    try {
      parse_csv(c.text, "data.csv");
      FAIL("no error");
    } catch (const Error& error) {
      CHECK(error.kind() == ErrorKind::parse);
      CHECK(std::string(error.what()) == c.message);
    }
  }
}

TEST_CASE("csv: an unnamed column hints at a pandas index", "[csv]") {
  try {
    parse_csv(",x\n0,1\n", "data.csv");
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(std::string(error.what()) == "data.csv:1: column 1 has no name");
    CHECK(error.hint().find("index=False") != std::string::npos);
  }
}

TEST_CASE("csv: missing values are empty cells and NA, N/A, NaN, null in any case", "[csv]") {
  for (const char* cell :
       {"", " ", "\t", "NA", "na", "N/A", "n/a", "NaN", "nan", "NAN", "null", "NULL", "Null", " NA "}) {
    INFO(cell);
    CHECK(is_missing(cell));
  }
  for (const char* cell : {"0", "N", "NAA", "none", "-", "?", "nul", "nulls", "N.A."}) {
    INFO(cell);
    CHECK_FALSE(is_missing(cell));
  }
}

TEST_CASE("csv: numbers are finite decimals, with an optional sign and blanks around", "[csv]") {
  struct Case {
    const char* cell;
    double value;
  };
  for (const Case& c : std::vector<Case>{{"0", 0},
                                         {"42", 42},
                                         {"-1.5", -1.5},
                                         {"+2.5", 2.5},
                                         {".5", 0.5},
                                         {"5.", 5},
                                         {"1e3", 1000},
                                         {"-2.5E-2", -0.025},
                                         {" 7 ", 7},
                                         {"\t8", 8},
                                         {"1e-400", 0}}) {
    INFO(c.cell);
    auto number = parse_number(c.cell);
    REQUIRE(number);
    CHECK(*number == c.value);
  }
  for (const char* cell : {"",   " ",    "abc", "1,5",       "1.5.2", "--1", "+-1",   "++1",   "+",   "-",
                           "1e", "0x10", "inf", "-Infinity", "nan",   "NA",  "1e999", "12abc", "1 2", "$5"}) {
    INFO(cell);
    CHECK_FALSE(parse_number(cell));
  }
}

TEST_CASE("csv: a column converts to numbers with NaN for missing cells", "[csv]") {
  CsvTable table = parse_csv("x,y\n1,a\n,b\nNA,c\n-2.5e1,d\n null ,e\n", "data.csv");
  std::vector<double> numbers = column_as_numbers(table, 0);
  REQUIRE(numbers.size() == 5);
  CHECK(numbers[0] == 1);
  CHECK(std::isnan(numbers[1]));
  CHECK(std::isnan(numbers[2]));
  CHECK(numbers[3] == -25);
  CHECK(std::isnan(numbers[4]));
}

TEST_CASE("csv: a cell that is not a number names the file, line and column", "[csv]") {
  CsvTable table = parse_csv("id,age\n1,30\n2,\"thirty\nfive\"\n3,x\n", "people.csv");
  try {
    column_as_numbers(table, 1);
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::parse);
    CHECK(std::string(error.what()) == "people.csv:3: column 'age': 'thirty\nfive' is not a number");
  }
  CsvTable wide = parse_csv("v\n" + std::string(50, 'x') + "\n", "w.csv");
  CHECK_THROWS_WITH(column_as_numbers(wide, 0),
                    "w.csv:2: column 'v': '" + std::string(40, 'x') + "...' is not a number");
  CHECK_THROWS_WITH(column_as_numbers(wide, 1), "column index 1 out of range: w.csv has 1 columns");
}

TEST_CASE("csv: read_csv reads a file and names it in messages", "[csv]") {
  mlctl::testing::TempDir dir;
  mlctl::testing::write_text(dir / "ok.csv", "a,b\r\n1,2\r\n");
  CsvTable table = read_csv(dir / "ok.csv");
  CHECK(table.source_name == (dir / "ok.csv").string());
  CHECK(rows_of(table) == Rows{{"1", "2"}});

  mlctl::testing::write_text(dir / "bad.csv", "a,b\n1\n");
  CHECK_THROWS_WITH(read_csv(dir / "bad.csv"),
                    (dir / "bad.csv").string() + ":2: row has 1 field, the header has 2");

  try {
    read_csv(dir / "absent.csv");
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::io);
    CHECK(std::string(error.what()) ==
          "cannot read '" + (dir / "absent.csv").string() + "': No such file or directory");
  }
  CHECK_THROWS_WITH(read_csv(dir.path()), "cannot read '" + dir.path().string() + "': Is a directory");
}

// Run with: data_test "[bench]". Prints the parsing speed of a numeric CSV.
TEST_CASE("csv: parsing speed on a 50 MB numeric file", "[.bench]") {
  constexpr std::size_t k_columns = 8;
  std::mt19937_64 random(42);
  std::normal_distribution<double> normal(0, 100);
  std::string text;
  for (std::size_t c = 0; c < k_columns; ++c) text += fmt::format("{}f{}", c == 0 ? "" : ",", c);
  text += '\n';
  while (text.size() < 50'000'000) {
    for (std::size_t c = 0; c < k_columns; ++c) {
      if (c != 0) text += ',';
      if (c == 0) {
        fmt::format_to(std::back_inserter(text), "{}", random() % 100000);
      } else {
        fmt::format_to(std::back_inserter(text), "{:.4f}", normal(random));
      }
    }
    text += '\n';
  }
  double megabytes = static_cast<double>(text.size()) / 1e6;

  // CPU time as well as wall time: on a shared machine the wall clock also
  // counts the time other processes had the core.
  struct Times {
    double wall, cpu;
  };
  auto now = [] {
    timespec cpu{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    return Times{std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(),
                 static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) * 1e-9};
  };
  auto report = [&](const char* what, Times start, Times end) {
    std::cout << fmt::format("csv bench: {:<24} {:.3f} s wall ({:4.0f} MB/s), {:.3f} s CPU ({:4.0f} MB/s)\n",
                             what, end.wall - start.wall, megabytes / (end.wall - start.wall),
                             end.cpu - start.cpu, megabytes / (end.cpu - start.cpu));
  };

  Times start = now();
  CsvTable table = parse_csv(text, "bench.csv");
  Times parsed = now();
  double total = 0;
  for (std::size_t c = 0; c < k_columns; ++c) {
    for (double value : column_as_numbers(table, c)) total += value;
  }
  Times converted = now();
  std::cout << fmt::format("csv bench: {:.1f} MB, {} rows of {} columns (checksum {:.1f})\n", megabytes,
                           table.row_count(), k_columns, total);
  report("parse_csv", start, parsed);
  report("column_as_numbers", parsed, converted);
  report("both", start, converted);
  CHECK(table.column_count() == k_columns);
}
