#include <mlctl/data/table_schema.hpp>

#include <mlctl/core/error.hpp>
#include <mlctl/data/csv.hpp>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

using mlctl::Error;
using mlctl::ErrorKind;
using mlctl::Json;
using mlctl::data::ColumnType;
using mlctl::data::CsvColumn;
using mlctl::data::infer_column_type;
using mlctl::data::infer_schema;
using mlctl::data::parse_column_type;
using mlctl::data::parse_csv;
using mlctl::data::TableSchema;

namespace {

CsvColumn column_of(const std::vector<std::string>& cells) {
  CsvColumn column("c");
  for (const auto& cell : cells) column.append(cell);
  return column;
}

// `count` cells made by `make(i)`.
template <class Make>
std::vector<std::string> generate(std::size_t count, Make make) {
  std::vector<std::string> cells;
  for (std::size_t i = 0; i < count; ++i) cells.push_back(make(i));
  return cells;
}

}  // namespace

TEST_CASE("schema: column types are inferred from the cells", "[schema]") {
  const std::string email =
      "Hi team, the quarterly numbers are attached. Please review them before Friday's meeting.";
  struct Case {
    const char* what;
    std::vector<std::string> cells;
    ColumnType type;
  };
  std::vector<Case> cases = {
      {"integers", {"1", "2", "3"}, ColumnType::numeric},
      {"decimals and exponents", {"1.5", "-2e3", "+.25"}, ColumnType::numeric},
      {"numbers with missing values", {"1", "", "NA", "n/a", "NaN", "null", "2"}, ColumnType::numeric},
      {"0/1 flags", {"0", "1", "1", "0"}, ColumnType::numeric},
      {"one word among numbers", {"1", "2", "three"}, ColumnType::categorical},
      {"only missing values", {"", "NA", ""}, ColumnType::categorical},
      {"no cells", {}, ColumnType::categorical},
      {"colours", {"red", "green", "blue", "red"}, ColumnType::categorical},
      {"booleans", {"true", "false", "true"}, ColumnType::categorical},
      {"city names", {"New York", "San Francisco", "Los Angeles", ""}, ColumnType::categorical},
      {"five-word categories",
       {"Bachelor's degree or higher", "Some college or associate degree"},
       ColumnType::categorical},
      {"e-mail bodies",
       {email, email + " Thanks!", "Short note: call me back when you can please."},
       ColumnType::text},
      // 60 characters but only one token each: long codes are still text by length.
      {"long values", {std::string(60, 'x'), std::string(55, 'y')}, ColumnType::text},
      // Mean tokens 6 > 5.
      {"six words each", {"a b c d e f", "one two three four five six"}, ColumnType::text},
      // Mean tokens exactly 5 is not above 5.
      {"five words each", {"a b c d e", "v w x y z"}, ColumnType::categorical},
      // 20 distinct three-word titles: short free text.
      {"distinct short titles",
       generate(20, [](std::size_t i) { return fmt::format("Great product number {}", i); }),
       ColumnType::text},
      // 19 is too few to judge by distinctness.
      {"few distinct short titles",
       generate(19, [](std::size_t i) { return fmt::format("Great product number {}", i); }),
       ColumnType::categorical},
      // Three-word values that repeat (10 distinct of 40) are categories.
      {"repeated three-word values",
       generate(40, [](std::size_t i) { return fmt::format("Machine op inspct{}", i % 10); }),
       ColumnType::categorical},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    CHECK(infer_column_type(column_of(c.cells)) == c.type);
  }
}

TEST_CASE("schema: a table's schema keeps column order and marks the label", "[schema]") {
  auto table = parse_csv("age,colour,note,y\n31,red,,1\n,blue,ok,0\n45,red,,NA\n", "data.csv");
  TableSchema schema = infer_schema(table, "colour");
  REQUIRE(schema.columns.size() == 4);
  CHECK(schema.columns[0].name == "age");
  CHECK(schema.columns[0].type == ColumnType::numeric);
  CHECK(schema.columns[1].type == ColumnType::categorical);
  CHECK(schema.columns[2].type == ColumnType::categorical);
  CHECK(schema.columns[3].type == ColumnType::numeric);
  CHECK(schema.label == "colour");
  CHECK(schema.find_column("note") == 2u);
  CHECK_FALSE(schema.find_column("Note"));
  CHECK_FALSE(infer_schema(table).label);
}

TEST_CASE("schema: a label that is not a column is refused with a suggestion", "[schema]") {
  auto table = parse_csv("price,rooms\n1,2\n", "houses.csv");
  try {
    infer_schema(table, "prise");
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::invalid_argument);
    CHECK(std::string(error.what()) ==
          "houses.csv: no column 'prise' to use as the label (did you mean 'price'?)");
  }
  CHECK_THROWS_WITH(infer_schema(table, "target"), "houses.csv: no column 'target' to use as the label");
}

TEST_CASE("schema: column types round-trip through their names", "[schema]") {
  for (auto type : {ColumnType::numeric, ColumnType::categorical, ColumnType::text}) {
    CHECK(parse_column_type(mlctl::data::to_string(type)) == type);
  }
  try {
    parse_column_type("txt");
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::invalid_argument);
    CHECK(std::string(error.what()) ==
          "unknown column type 'txt' (expected numeric, categorical or text) (did you mean 'text'?)");
  }
}

TEST_CASE("schema: JSON form and back", "[schema]") {
  TableSchema schema;
  schema.columns = {
      {"age", ColumnType::numeric}, {"review", ColumnType::text}, {"y", ColumnType::categorical}};
  schema.label.emplace("y");
  Json json = schema.to_json();
  CHECK(json.dump() == R"({"columns":[{"name":"age","type":"numeric"},{"name":"review","type":"text"},)"
                       R"({"name":"y","type":"categorical"}],"label":"y"})");
  TableSchema back = TableSchema::from_json(json);
  REQUIRE(back.columns.size() == 3);
  CHECK(back.columns[1].name == "review");
  CHECK(back.columns[1].type == ColumnType::text);
  CHECK(back.label == "y");

  schema.label.reset();
  CHECK(schema.to_json()["label"].is_null());
  CHECK_FALSE(TableSchema::from_json(schema.to_json()).label);
  CHECK_FALSE(TableSchema::from_json(Json::parse(R"({"columns":[]})")).label);
}

TEST_CASE("schema: malformed JSON schemas are refused by what is wrong", "[schema]") {
  struct Case {
    const char* json;
    const char* message;
  };
  std::vector<Case> cases = {
      {"[]", "invalid table schema: expected an object, got array"},
      {"{}", "invalid table schema: 'columns' must be an array"},
      {R"({"columns":[{"name":"a"}]})",
       "invalid table schema: columns[0] must be an object with string fields 'name' and 'type'"},
      {R"({"columns":[{"name":"a","type":"numeric"},{"name":"b","type":3}]})",
       "invalid table schema: columns[1] must be an object with string fields 'name' and 'type'"},
      {R"({"columns":[{"name":"","type":"numeric"}]})", "invalid table schema: columns[0] has an empty name"},
      {R"({"columns":[{"name":"a","type":"numeric"},{"name":"a","type":"text"}]})",
       "invalid table schema: duplicate column 'a'"},
      {R"({"columns":[{"name":"a","type":"number"}]})",
       "invalid table schema: column 'a': unknown column type 'number' (expected numeric, categorical or "
       "text)"},
      {R"({"columns":[{"name":"a","type":"text"}],"label":"b"})",
       "invalid table schema: the label 'b' is not a column"},
      {R"({"columns":[{"name":"a","type":"text"}],"label":1})",
       "invalid table schema: 'label' must be a string or null"},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    try {
      TableSchema::from_json(Json::parse(c.json));
      FAIL("no error");
    } catch (const Error& error) {
      CHECK(error.kind() == ErrorKind::parse);
      CHECK(std::string(error.what()) == c.message);
    }
  }
}

TEST_CASE("schema: tokens are lowercase runs of letters and digits", "[schema]") {
  std::vector<std::string> tokens;
  std::string scratch;
  mlctl::data::for_each_token("Don't e-mail ME! café 42x", scratch,
                              [&](std::string_view token) { tokens.emplace_back(token); });
  CHECK(tokens == std::vector<std::string>{"don", "t", "e", "mail", "me", "café", "42x"});
  CHECK(mlctl::data::count_tokens("Don't e-mail ME! café 42x") == 7);
  CHECK(mlctl::data::count_tokens("  ,;  ") == 0);
  CHECK(mlctl::data::count_chars("café") == 4);
  CHECK(mlctl::data::count_chars("") == 0);
}
