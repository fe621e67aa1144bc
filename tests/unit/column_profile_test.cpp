#include <mlctl/data/column_profile.hpp>

#include <mlctl/core/error.hpp>
#include <mlctl/data/csv.hpp>
#include <mlctl/data/table_schema.hpp>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using mlctl::Error;
using mlctl::ErrorKind;
using mlctl::Json;
using mlctl::data::CategoricalProfile;
using mlctl::data::ColumnProfile;
using mlctl::data::ColumnType;
using mlctl::data::CsvColumn;
using mlctl::data::NumericProfile;
using mlctl::data::parse_csv;
using mlctl::data::profile_categories;
using mlctl::data::profile_column;
using mlctl::data::profile_from_json;
using mlctl::data::profile_numbers;
using mlctl::data::profile_table;
using mlctl::data::profile_text;
using mlctl::data::profile_to_json;
using mlctl::data::TableSchema;
using mlctl::data::TextProfile;
using mlctl::data::ValueCount;

namespace {

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

CsvColumn column_of(const std::vector<std::string>& cells) {
  CsvColumn column("c");
  for (const auto& cell : cells) column.append(cell);
  return column;
}

void check_all_approx(const std::vector<double>& actual, const std::vector<double>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    INFO("index " << i);
    CHECK(actual[i] == Approx(expected[i]).margin(1e-12));
  }
}

using Counts = std::vector<std::size_t>;
using Top = std::vector<ValueCount>;

}  // namespace

TEST_CASE("profile: numeric statistics, quantiles and histogram", "[profile]") {
  NumericProfile profile = profile_numbers(std::vector<double>{4, 1, k_nan, 10, 3, 2});
  CHECK(profile.count == 5);
  CHECK(profile.missing == 1);
  CHECK(profile.min == 1);
  CHECK(profile.max == 10);
  // (1 + 2 + 3 + 4 + 10) / 5 = 20 / 5 = 4.
  CHECK(profile.mean == Approx(4));
  // Deviations -3, -2, -1, 0, 6; squares 9 + 4 + 1 + 0 + 36 = 50; sample
  // variance 50 / (5 - 1) = 12.5.
  CHECK(profile.std == Approx(std::sqrt(12.5)));
  // Sorted 1, 2, 3, 4, 10; level p sits at rank h = (5 - 1) p, between
  // x[floor h] and x[floor h + 1]: p = 0.1 -> h = 0.4 -> 1 + 0.4 (2 - 1) = 1.4;
  // 0.3 -> 1.2 -> 2.2; 0.6 -> 2.4 -> 3.4; 0.8 -> 3.2 -> 4 + 0.2 (10 - 4) = 5.2;
  // 0.9 -> 3.6 -> 4 + 0.6 * 6 = 7.6.
  check_all_approx(profile.quantiles, {1, 1.4, 1.8, 2.2, 2.6, 3, 3.4, 3.8, 5.2, 7.6, 10});
  // 1 in [1, 1.4), 2 in [1.8, 2.2), 3 in [3, 3.4), 4 in [3.8, 5.2), 10 in the
  // closed last bin [7.6, 10].
  CHECK(profile.histogram == Counts{1, 0, 1, 0, 0, 1, 0, 1, 0, 1});
}

TEST_CASE("profile: repeated values make repeated quantiles and empty bins", "[profile]") {
  // Sorted 0, 0, 0, 0, 5: h = 4p stays within the zeros up to p = 0.75;
  // p = 0.8 -> h = 3.2 -> 0 + 0.2 * 5 = 1; p = 0.9 -> 3.6 -> 3; p = 1 -> 5.
  NumericProfile zeros = profile_numbers(std::vector<double>{0, 5, 0, 0, 0});
  check_all_approx(zeros.quantiles, {0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 5});
  // Bins [0, 0) are empty; the zeros fall in [0, 1), the 5 in [3, 5].
  CHECK(zeros.histogram == Counts{0, 0, 0, 0, 0, 0, 0, 4, 0, 1});

  NumericProfile constant = profile_numbers(std::vector<double>{7, 7, 7});
  check_all_approx(constant.quantiles, std::vector<double>(11, 7));
  CHECK(constant.histogram == Counts{0, 0, 0, 0, 0, 0, 0, 0, 0, 3});
  CHECK(constant.std == 0);
}

TEST_CASE("profile: statistics undefined for too few numbers are NaN", "[profile]") {
  NumericProfile one = profile_numbers(std::vector<double>{2.5, k_nan});
  CHECK(one.count == 1);
  CHECK(one.mean == 2.5);
  CHECK(std::isnan(one.std));
  CHECK(one.histogram == Counts{0, 0, 0, 0, 0, 0, 0, 0, 0, 1});

  NumericProfile none = profile_numbers(std::vector<double>{k_nan, k_nan});
  CHECK(none.count == 0);
  CHECK(none.missing == 2);
  CHECK(std::isnan(none.min));
  CHECK(std::isnan(none.mean));
  CHECK(none.quantiles.empty());
  CHECK(none.histogram.empty());
  Json json = profile_to_json({"x", ColumnType::numeric, none});
  CHECK(json.dump() ==
        R"({"type":"numeric","count":0,"missing":2,"min":null,"max":null,"mean":null,"std":null,)"
        R"("quantiles":[],"histogram":[]})");
}

TEST_CASE("profile: mean and deviation stay exact far from zero", "[profile]") {
  // 1e9 + {4, 7, 13, 16}: mean 1e9 + 10, deviations -6, -3, 3, 6, squares
  // 36 + 9 + 9 + 36 = 90, sample variance 90 / 3 = 30. Summing squares of
  // the raw values would lose every digit of that at this offset.
  NumericProfile profile = profile_numbers(std::vector<double>{1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16});
  CHECK(profile.mean == 1e9 + 10);
  CHECK(profile.std == Approx(std::sqrt(30.0)).epsilon(1e-9));
}

TEST_CASE("profile: quantiles and bins follow numpy", "[profile]") {
  using mlctl::data::histogram_counts;
  using mlctl::data::quantile;
  std::vector<double> sorted{1, 2, 3, 4};
  // numpy.quantile([1, 2, 3, 4], 0.5) == 2.5; at 0.25: h = 0.75 -> 1.75.
  CHECK(quantile(sorted, 0.5) == 2.5);
  CHECK(quantile(sorted, 0.25) == 1.75);
  CHECK(quantile(sorted, 0) == 1);
  CHECK(quantile(sorted, 1) == 4);
  CHECK(std::isnan(quantile(std::vector<double>{}, 0.5)));
  // numpy.histogram([0, 1, 2, 2, 3, 9], bins=[1, 2, 3]) == [1, 3]: 0 and 9
  // are outside, 3 is in the closed last bin.
  CHECK(histogram_counts(std::vector<double>{0, 1, 2, 2, 3, 9}, std::vector<double>{1, 2, 3}) ==
        Counts{1, 3});
  CHECK(histogram_counts(sorted, std::vector<double>{1}).empty());
}

TEST_CASE("profile: categories are counted, most frequent first, ties by value", "[profile]") {
  CategoricalProfile profile =
      profile_categories(column_of({"red", "blue", "red", "", "green", "blue", "red", "apple"}));
  CHECK(profile.count == 7);
  CHECK(profile.missing == 1);
  CHECK(profile.distinct == 4);
  CHECK(profile.top == Top{{"red", 3}, {"blue", 2}, {"apple", 1}, {"green", 1}});

  // "NA" is a category here, not a missing value.
  CHECK(profile_categories(column_of({"NA", "EU"})).missing == 0);

  std::vector<std::string> many;
  for (int i = 24; i >= 0; --i) many.push_back(fmt::format("v{:02}", i));
  many.push_back("v24");
  CategoricalProfile truncated = profile_categories(column_of(many));
  CHECK(truncated.distinct == 25);
  REQUIRE(truncated.top.size() == 20);
  CHECK(truncated.top[0] == ValueCount{"v24", 2});
  CHECK(truncated.top[1] == ValueCount{"v00", 1});
  CHECK(truncated.top[19] == ValueCount{"v18", 1});
}

TEST_CASE("profile: text lengths and tokens", "[profile]") {
  TextProfile profile = profile_text(column_of({"The cat sat.", "the dog", "", "Café au lait!"}));
  CHECK(profile.count == 3);
  CHECK(profile.missing == 1);
  // Lengths 12, 7 and 13 characters ("é" is one): mean 32 / 3.
  CHECK(profile.min_chars == 7);
  CHECK(profile.max_chars == 13);
  CHECK(profile.mean_chars == Approx(32.0 / 3));
  // Tokens the cat sat | the dog | café au lait: 8 in 3 cells, 7 distinct.
  CHECK(profile.mean_tokens == Approx(8.0 / 3));
  CHECK(profile.distinct_tokens == 7);
  CHECK(profile.top_tokens ==
        Top{{"the", 2}, {"au", 1}, {"café", 1}, {"cat", 1}, {"dog", 1}, {"lait", 1}, {"sat", 1}});

  TextProfile empty = profile_text(column_of({"", ""}));
  CHECK(empty.count == 0);
  CHECK(empty.min_chars == 0);
  CHECK(std::isnan(empty.mean_chars));
  CHECK(std::isnan(empty.mean_tokens));
}

TEST_CASE("profile: a table's profile covers the schema's columns in order", "[profile]") {
  auto table = parse_csv(
      "id,size,colour,review\n"
      "1,2,red,Great value\n"
      "2,NA,blue,\n"
      "3,4,red,\"Broke after a week, sadly\"\n",
      "shop.csv");
  TableSchema schema;
  schema.columns = {
      {"review", ColumnType::text}, {"colour", ColumnType::categorical}, {"size", ColumnType::numeric}};
  Json json = profile_table(table, schema);
  CHECK(json["rows"] == 3);
  std::vector<std::string> names;
  for (const auto& [name, value] : json["columns"].items()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"review", "colour", "size"});

  CHECK(json["columns"]["colour"].dump() ==
        R"({"type":"categorical","count":3,"missing":0,"distinct":2,)"
        R"("top":[{"value":"red","count":2},{"value":"blue","count":1}]})");
  // "Great value" 11 characters, 2 tokens; "Broke after a week, sadly" 25
  // characters, 5 tokens: mean length 18, mean tokens 3.5.
  CHECK(json["columns"]["review"].dump() ==
        R"({"type":"text","count":2,"missing":1,"length":{"min":11,"max":25,"mean":18.0},)"
        R"("tokens":{"mean":3.5,"distinct":7,"top":[{"value":"a","count":1},{"value":"after","count":1},)"
        R"({"value":"broke","count":1},{"value":"great","count":1},{"value":"sadly","count":1},)"
        R"({"value":"value","count":1},{"value":"week","count":1}]}})");
  // Sizes 2 and 4: mean 3, sample std sqrt(((-1)^2 + 1^2) / 1) = sqrt(2),
  // quantiles 2 + 2p.
  const Json& size = json["columns"]["size"];
  CHECK(size["count"] == 2);
  CHECK(size["missing"] == 1);
  CHECK(size["mean"].get<double>() == 3);
  CHECK(size["std"].get<double>() == Approx(std::sqrt(2.0)));
  CHECK(size["quantiles"].size() == 11);
  CHECK(size["quantiles"][5].get<double>() == 3);
  CHECK(size["histogram"] == Json::array({1, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
}

TEST_CASE("profile: a column the table lacks or text in a numeric column is an error", "[profile]") {
  auto table = parse_csv("size,colour\n1,red\nbig,blue\n", "shop.csv");
  CHECK_THROWS_WITH(profile_column(table, {"sise", ColumnType::numeric}),
                    "shop.csv: no column 'sise' in the table (did you mean 'size'?)");
  try {
    profile_column(table, {"size", ColumnType::numeric});
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::parse);
    CHECK(std::string(error.what()) == "shop.csv:3: column 'size': 'big' is not a number");
  }
}

TEST_CASE("profile: JSON form reads back to the same profile", "[profile]") {
  auto table = parse_csv("n,c,t\n1.5,a,hello world\n2,b,\nNA,a,hello again\n", "d.csv");
  for (auto [name, type] : std::vector<std::pair<std::string, ColumnType>>{
           {"n", ColumnType::numeric}, {"c", ColumnType::categorical}, {"t", ColumnType::text}}) {
    INFO(name);
    ColumnProfile profile = profile_column(table, {name, type});
    Json json = profile_to_json(profile);
    ColumnProfile back = profile_from_json(name, json);
    CHECK(back.name == name);
    CHECK(back.type == type);
    CHECK(profile_to_json(back) == json);
  }
  ColumnProfile empty =
      profile_from_json("e", profile_to_json({"e", ColumnType::numeric, profile_numbers({})}));
  CHECK(std::isnan(std::get<NumericProfile>(empty.stats).mean));
}

TEST_CASE("profile: malformed profile JSON is refused by what is wrong", "[profile]") {
  struct Case {
    const char* json;
    const char* message;
  };
  std::vector<Case> cases = {
      {"[]", "profile of column 'x': expected an object holding 'type'"},
      {R"({"type":"numerical"})",
       "profile of column 'x': unknown column type 'numerical' (expected numeric, categorical or text) "
       "(did you mean 'numeric'?)"},
      {R"({"type":"categorical","count":1,"missing":0})", "profile of column 'x': missing field 'distinct'"},
      {R"({"type":"categorical","count":-1})",
       "profile of column 'x': 'count' must be a non-negative integer"},
      {R"({"type":"categorical","count":1,"missing":0,"distinct":1,"top":[{"value":1,"count":1}]})",
       "profile of column 'x': the values of 'top' must be strings"},
      {R"({"type":"numeric","count":1,"missing":0,"min":"a"})",
       "profile of column 'x': 'min' must be a number or null"},
      {R"({"type":"numeric","count":1,"missing":0,"min":1,"max":1,"mean":1,"std":null,"quantiles":[1],"histogram":[]})",
       "profile of column 'x': 'quantiles' must be an array of 11 numbers"},
      {R"({"type":"text","count":1,"missing":0,"length":{"min":1,"max":1,"mean":1},"tokens":{"mean":1}})",
       "profile of column 'x': missing field 'distinct'"},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    try {
      profile_from_json("x", Json::parse(c.json));
      FAIL("no error");
    } catch (const Error& error) {
      CHECK(error.kind() == ErrorKind::parse);
      CHECK(std::string(error.what()) == c.message);
    }
  }
}
