#include <mlctl/train/preprocessor.hpp>

#include <mlctl/core/error.hpp>
#include <mlctl/data/csv.hpp>
#include <mlctl/data/table_schema.hpp>
#include <mlctl/train/text_vectorizer.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

using mlctl::Error;
using mlctl::ErrorKind;
using mlctl::Json;
using mlctl::data::ColumnType;
using mlctl::data::CsvTable;
using mlctl::data::infer_schema;
using mlctl::data::parse_csv;
using mlctl::data::TableSchema;
using mlctl::train::EncodedBatch;
using mlctl::train::FeatureMatrix;
using mlctl::train::FeatureMode;
using mlctl::train::PreprocessOptions;
using mlctl::train::Preprocessor;
using mlctl::train::TextVectorizer;
using Rows = std::vector<std::int64_t>;
using Floats = std::vector<float>;
using Strings = std::vector<std::string>;

namespace {

// Rows 0-8 are for training (line = row + 2). Training ages are 2 4 4 4 5 5
// 7 9 and one missing: sum 40, mean 5; squared deviations 9 1 1 1 0 0 4 16
// sum to 32, variance 32 / 8 = 4, std 2. Training colors: red 4, blue 3,
// green 2. Row 9 (line 11) is validation only: its age of 1000 and its
// color purple must not touch the fit.
constexpr const char* k_people =
    "age,color,y\n"
    "2,red,yes\n"           // row 0, line 2
    "4,blue,no\n"           // row 1, line 3
    "4,red,yes\n"           // row 2, line 4
    "4,green,no\n"          // row 3, line 5
    "5,red,yes\n"           // row 4, line 6
    "NA,blue,no\n"          // row 5, line 7
    "5,blue,yes\n"          // row 6, line 8
    "7,green,no\n"          // row 7, line 9
    "9,red,yes\n"           // row 8, line 10
    "1000,purple,maybe\n";  // row 9, line 11

const Rows k_train = {0, 1, 2, 3, 4, 5, 6, 7, 8};

Rows all_rows(const CsvTable& table) {
  Rows rows(table.row_count());
  std::iota(rows.begin(), rows.end(), 0);
  return rows;
}

PreprocessOptions options_for(const std::string& label, bool classification = true,
                              FeatureMode mode = FeatureMode::tabular) {
  PreprocessOptions options;
  options.label = label;
  options.classification = classification;
  options.mode = mode;
  return options;
}

Preprocessor fit_all(const CsvTable& table, const PreprocessOptions& options) {
  return Preprocessor::fit(table, infer_schema(table), all_rows(table), options);
}

template <typename Body>
Error error_from(Body&& body) {
  try {
    body();
  } catch (const Error& error) {
    return error;
  }
  FAIL("expected mlctl::Error");
  throw;  // unreachable: FAIL throws
}

// The message of the Error that `body` throws, after checking its kind.
template <typename Body>
std::string message_of(Body&& body, ErrorKind kind = ErrorKind::invalid_argument) {
  const Error error = error_from(body);
  CHECK(error.kind() == kind);
  return error.what();
}

bool bit_identical(const Floats& a, const Floats& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("preprocessor: numeric features are standardised with the training mean and std",
          "[preprocessor]") {
  const CsvTable table = parse_csv(k_people, "people.csv");
  PreprocessOptions options = options_for("y");
  options.features = {"age"};
  const Preprocessor preprocessor = Preprocessor::fit(table, infer_schema(table), k_train, options);

  CHECK(preprocessor.feature_count() == 1);
  const Json saved = preprocessor.to_json();
  CHECK(saved["features"][0]["mean"].get<double>() == 5.0);
  CHECK(saved["features"][0]["std"].get<double>() == 2.0);

  const FeatureMatrix matrix = preprocessor.transform(table, Rows{0, 4, 7, 8, 9});
  CHECK(matrix.rows == 5);
  CHECK(matrix.cols == 1);
  // (2 - 5) / 2, (5 - 5) / 2, (7 - 5) / 2, (9 - 5) / 2, (1000 - 5) / 2.
  CHECK(matrix.values == Floats{-1.5f, 0.0f, 1.0f, 2.0f, 497.5f});
}

TEST_CASE("preprocessor: a missing numeric cell is imputed with the training mean, so it is 0",
          "[preprocessor]") {
  const CsvTable table = parse_csv("x,y\n1,a\n,b\nnull,a\n3,b\n", "t.csv");
  const Preprocessor preprocessor = fit_all(table, options_for("y"));
  // Training values 1 and 3: mean 2, std 1. Both missing spellings give the
  // mean, (2 - 2) / 1 = 0.
  CHECK(preprocessor.transform(table, all_rows(table)).values == Floats{-1.0f, 0.0f, 0.0f, 1.0f});
}

TEST_CASE("preprocessor: a constant column keeps its value as the mean and gets std 1",
          "[preprocessor]") {
  // Three 0.1s sum to 0.30000000000000004; a computed mean would be off by
  // an ulp and the tiny std would blow that up.
  const CsvTable table = parse_csv("x,y\n0.1,a\n0.1,b\n0.1,a\n1.1,b\n", "t.csv");
  const Preprocessor preprocessor =
      Preprocessor::fit(table, infer_schema(table), Rows{0, 1, 2}, options_for("y"));
  const Json saved = preprocessor.to_json();
  CHECK(saved["features"][0]["mean"].get<double>() == 0.1);
  CHECK(saved["features"][0]["std"].get<double>() == 1.0);
  // 0.1 - 0.1 = 0; 1.1 - 0.1 = 1.0000000000000002, 1 as a float.
  CHECK(preprocessor.transform(table, all_rows(table)).values == Floats{0.0f, 0.0f, 0.0f, 1.0f});
}

TEST_CASE(
    "preprocessor: one-hot columns follow training frequency; unknown categories are all zeros",
    "[preprocessor]") {
  const CsvTable table = parse_csv(k_people, "people.csv");
  const Preprocessor preprocessor =
      Preprocessor::fit(table, infer_schema(table), k_train, options_for("y"));
  // age, then red (4), blue (3), green (2); purple is in validation only.
  CHECK(preprocessor.feature_count() == 4);
  CHECK(preprocessor.to_json()["features"][1]["categories"] ==
        Json::array({"red", "blue", "green"}));

  const FeatureMatrix matrix = preprocessor.transform(table, Rows{0, 1, 3, 5, 9});
  CHECK(matrix.cols == 4);
  CHECK(matrix.values == Floats{
                             -1.5f,  1, 0, 0,  // 2, red
                             -0.5f,  0, 1, 0,  // 4, blue: (4 - 5) / 2
                             -0.5f,  0, 0, 1,  // 4, green
                             0.0f,   0, 1, 0,  // NA -> the mean, blue
                             497.5f, 0, 0, 0,  // 1000, purple: unseen
                         });
}

TEST_CASE(
    "preprocessor: max_categories keeps the most frequent, ties by value; an empty cell is all "
    "zeros",
    "[preprocessor]") {
  const CsvTable table = parse_csv("c,y\nd,0\nb,1\na,0\nc,1\na,0\n,1\n", "t.csv");
  PreprocessOptions options = options_for("y");
  options.max_categories = 3;
  const Preprocessor preprocessor = fit_all(table, options);
  // a: 2, then b, c and d tied at 1: b and c by value; d is dropped.
  CHECK(preprocessor.to_json()["features"][0]["categories"] == Json::array({"a", "b", "c"}));
  CHECK(preprocessor.transform(table, all_rows(table)).values == Floats{
                                                                     0, 0, 0,  // d: dropped
                                                                     0, 1, 0,  // b
                                                                     1, 0, 0,  // a
                                                                     0, 0, 1,  // c
                                                                     1, 0, 0,  // a
                                                                     0, 0, 0,  // empty
                                                                 });
}

TEST_CASE("preprocessor: feature order follows the options, and transform finds columns by name",
          "[preprocessor]") {
  const CsvTable table = parse_csv("a,b,y\n1,10,p\n3,30,q\n", "t.csv");
  PreprocessOptions options = options_for("y");
  options.features = {"b", "a"};
  const Preprocessor preprocessor = fit_all(table, options);
  CHECK(preprocessor.input_schema() == Json::parse(R"([{"name": "b", "type": "numeric"},
                                                        {"name": "a", "type": "numeric"}])"));
  // Scoring data with its columns shuffled, an extra one and no label.
  const CsvTable scoring = parse_csv("extra,a,b\nz,3,10\n", "score.csv");
  preprocessor.check_columns(scoring);
  // b: mean 20, std 10 -> (10 - 20) / 10; a: mean 2, std 1 -> (3 - 2) / 1.
  CHECK(preprocessor.transform(scoring, Rows{0}).values == Floats{-1.0f, 1.0f});
}

TEST_CASE("preprocessor: classes sort numerically when every label is a number", "[preprocessor]") {
  const CsvTable numbers = parse_csv("x,y\n1,10\n2,2\n3,1\n4,2\n", "t.csv");
  const Preprocessor numeric = fit_all(numbers, options_for("y"));
  CHECK(numeric.class_names() == Strings{"1", "2", "10"});
  CHECK(numeric.class_ids(numbers, all_rows(numbers)) == Rows{2, 1, 0, 1});

  // One non-number and the order is bytewise: "10" < "2" < "a".
  const CsvTable mixed = parse_csv("x,y\n1,10\n2,2\n3,a\n", "t.csv");
  CHECK(fit_all(mixed, options_for("y")).class_names() == Strings{"10", "2", "a"});

  const CsvTable words = parse_csv("x,y\n1,spam\n2,ham\n3,spam\n", "t.csv");
  const Preprocessor text = fit_all(words, options_for("y"));
  CHECK(text.class_names() == Strings{"ham", "spam"});
  CHECK(text.class_ids(words, all_rows(words)) == Rows{1, 0, 1});
}

TEST_CASE("preprocessor: regression targets are standardised and predictions map back",
          "[preprocessor]") {
  // Targets 2 4 4 4 5 5 7 9: mean 5, std 2 (as the ages above).
  const CsvTable table = parse_csv("x,y\n1,2\n1,4\n2,4\n2,4\n3,5\n3,5\n4,7\n4,9\n", "t.csv");
  const Preprocessor preprocessor = fit_all(table, options_for("y", false));
  CHECK(preprocessor.class_names().empty());
  CHECK(preprocessor.regression_targets(table, Rows{0, 1, 4, 7}) ==
        Floats{-1.5f, -0.5f, 0.0f, 2.0f});
  // -1.5 * 2 + 5 = 2; 0.25 * 2 + 5 = 5.5.
  CHECK(preprocessor.unscale_target(-1.5) == 2.0);
  CHECK(preprocessor.unscale_target(0.25) == 5.5);
  for (const float target : preprocessor.regression_targets(table, all_rows(table))) {
    const double back = preprocessor.unscale_target(target);
    CHECK(back == std::round(back));
  }
}

TEST_CASE("preprocessor: text mode ids equal the vectorizer's, fitted on training rows",
          "[preprocessor]") {
  const CsvTable table = parse_csv(
      "body,spam\n"
      "\"Win cash now, win!\",1\n"
      "Lunch at noon?,0\n"
      "WIN a prize,1\n"
      ",0\n"
      "zebra crossing,0\n",  // row 4: validation only
      "mail.csv");
  TableSchema schema{{{"body", ColumnType::text}, {"spam", ColumnType::numeric}}, "spam"};
  PreprocessOptions options = options_for("spam", true, FeatureMode::text);
  options.text.ngram_max = 2;
  const Preprocessor preprocessor = Preprocessor::fit(table, schema, Rows{0, 1, 2, 3}, options);

  const std::vector<std::string> documents = {"Win cash now, win!", "Lunch at noon?", "WIN a prize",
                                              ""};
  const TextVectorizer expected = TextVectorizer::fit(documents, options.text);
  CHECK(preprocessor.feature_count() == expected.num_ids());
  CHECK(preprocessor.vectorizer().id_of("zebra") == TextVectorizer::k_oov_id);

  const std::vector<std::string> all = {documents[0], documents[1], documents[2], documents[3],
                                        "zebra crossing"};
  const EncodedBatch want = expected.encode_batch(all);
  const EncodedBatch got = preprocessor.transform_text(table, all_rows(table));
  CHECK(got.ids == want.ids);
  CHECK(got.offsets == want.offsets);
  CHECK(preprocessor.input_schema() == Json::parse(R"([{"name": "body", "type": "text"}])"));
  CHECK(preprocessor.class_names() == Strings{"0", "1"});
}

TEST_CASE("preprocessor: image mode scales every pixel by one global mean and std",
          "[preprocessor]") {
  // Training pixels 0 10 0 10 and two missing: mean 5; squared deviations
  // 25 each, variance 25, std 5. Per-column scaling would have made both
  // columns constant.
  const CsvTable table = parse_csv("p0,p1,y\n0,10,a\n0,10,b\n,,a\n20,-5,b\n", "img.csv");
  const Preprocessor preprocessor = Preprocessor::fit(table, infer_schema(table), Rows{0, 1, 2},
                                                      options_for("y", true, FeatureMode::image));
  CHECK(preprocessor.feature_count() == 2);
  CHECK(preprocessor.to_json()["pixels"] == Json::parse(R"({"mean": 5.0, "std": 5.0})"));
  CHECK(preprocessor.transform(table, all_rows(table)).values ==
        Floats{
            -1, 1,  // (0 - 5) / 5, (10 - 5) / 5
            -1, 1,  //
            0, 0,   // missing -> the mean
            3, -2,  // (20 - 5) / 5, (-5 - 5) / 5
        });
}

TEST_CASE("preprocessor: a JSON round trip transforms bit for bit the same", "[preprocessor]") {
  const CsvTable table = parse_csv(
      "a,b,c,y\n"
      "0.1,x,caf\xe9,1.5\n"
      "0.7,y,tea,2.25\n"
      "1.3,x,caf\xe9,3.125\n"
      "2.9,z,,0.3\n"
      "NaN,y,tea,7.7\n",
      "t.csv");
  const Preprocessor original = fit_all(table, options_for("y", false));
  const Preprocessor copy = Preprocessor::from_json(Json::parse(original.to_json().dump()));

  CHECK(copy.to_json() == original.to_json());
  CHECK(copy.to_json()["features"][2]["categories"][0] ==
        Json::parse(R"({"bytes_hex": "636166e9"})"));
  CHECK(copy.feature_count() == original.feature_count());
  CHECK(bit_identical(copy.transform(table, all_rows(table)).values,
                      original.transform(table, all_rows(table)).values));
  CHECK(bit_identical(copy.regression_targets(table, all_rows(table)),
                      original.regression_targets(table, all_rows(table))));
  CHECK(copy.unscale_target(0.123) == original.unscale_target(0.123));

  // Classification, image and text documents come back whole too.
  const CsvTable words = parse_csv("t,y\nfree money,10\nhi there,2\nfree hi,2\n", "w.csv");
  for (const FeatureMode mode : {FeatureMode::tabular, FeatureMode::text}) {
    const Preprocessor fitted = fit_all(words, options_for("y", true, mode));
    const Preprocessor back = Preprocessor::from_json(Json::parse(fitted.to_json().dump()));
    CHECK(back.to_json() == fitted.to_json());
    CHECK(back.mode() == mode);
    CHECK(back.class_names() == Strings{"2", "10"});
    CHECK(back.class_ids(words, all_rows(words)) == Rows{1, 0, 0});
    if (mode == FeatureMode::text) {
      CHECK(back.transform_text(words, all_rows(words)).ids ==
            fitted.transform_text(words, all_rows(words)).ids);
    }
  }
  const CsvTable pixels = parse_csv("p0,p1,y\n0.3,0.9,a\n0.2,0.1,b\n", "p.csv");
  const Preprocessor image = fit_all(pixels, options_for("y", true, FeatureMode::image));
  const Preprocessor image_back = Preprocessor::from_json(Json::parse(image.to_json().dump()));
  CHECK(bit_identical(image_back.transform(pixels, all_rows(pixels)).values,
                      image.transform(pixels, all_rows(pixels)).values));
}

TEST_CASE("preprocessor: the saved document names its format, version, mode and task",
          "[preprocessor]") {
  const CsvTable table = parse_csv("x,c,y\n1,u,a\n3,v,b\n", "t.csv");
  CHECK(fit_all(table, options_for("y")).to_json() == Json::parse(R"({
    "format": "mlctl.preprocessor", "version": 1, "mode": "tabular", "task": "classification",
    "label": {"name": "y", "type": "categorical", "classes": ["a", "b"]},
    "features": [{"name": "x", "type": "numeric", "mean": 2.0, "std": 1.0},
                 {"name": "c", "type": "categorical", "categories": ["u", "v"]}]})"));
}

TEST_CASE("preprocessor: only training rows shape the fit", "[preprocessor]") {
  const CsvTable table = parse_csv(k_people, "people.csv");
  const Preprocessor train_only =
      Preprocessor::fit(table, infer_schema(table), k_train, options_for("y"));
  // The same table without row 9 fits to the same document.
  const CsvTable without =
      parse_csv(std::string(k_people).substr(0, std::string(k_people).find("1000,")), "people.csv");
  CHECK(fit_all(without, options_for("y")).to_json() == train_only.to_json());
  CHECK(train_only.class_names() == Strings{"no", "yes"});
}

TEST_CASE("preprocessor: unknown label and feature columns are named with a suggestion",
          "[preprocessor]") {
  const CsvTable table = parse_csv(k_people, "people.csv");
  const TableSchema schema = infer_schema(table);
  PreprocessOptions options = options_for("yy");
  CHECK(message_of([&] { Preprocessor::fit(table, schema, k_train, options); }) ==
        "people.csv: no column 'yy' to use as the label (did you mean 'y'?)");
  options = options_for("y");
  options.features = {"age", "colour"};
  CHECK(message_of([&] { Preprocessor::fit(table, schema, k_train, options); }) ==
        "people.csv: no column 'colour' to use as a feature (did you mean 'color'?)");
  options.features = {"age", "y"};
  CHECK(message_of([&] { Preprocessor::fit(table, schema, k_train, options); }) ==
        "column 'y' is the label; it cannot also be a feature");
  options.features = {"age", "color", "age"};
  CHECK(message_of([&] { Preprocessor::fit(table, schema, k_train, options); }) ==
        "column 'age' is listed twice in the features");
  CHECK(message_of([&] { Preprocessor::fit(table, schema, k_train, options_for("")); }) ==
        "no label column given");
  // The schema's label serves when the options name none.
  CHECK(Preprocessor::fit(table, infer_schema(table, "y"), k_train, options_for("")).label() ==
        "y");
  const TableSchema partial{{{"age", ColumnType::numeric}, {"y", ColumnType::categorical}}, "y"};
  CHECK(message_of([&] { Preprocessor::fit(table, partial, k_train, options_for("y")); }) ==
        "the schema has no column 'color'");
  const CsvTable label_only = parse_csv("y\na\nb\n", "l.csv");
  CHECK(message_of([&] { fit_all(label_only, options_for("y")); }) ==
        "l.csv: no feature columns besides the label 'y'");
}

TEST_CASE("preprocessor: bad options and rows are rejected", "[preprocessor]") {
  const CsvTable table = parse_csv(k_people, "people.csv");
  const TableSchema schema = infer_schema(table);
  PreprocessOptions options = options_for("y");
  options.max_categories = 0;
  CHECK(message_of([&] { Preprocessor::fit(table, schema, k_train, options); }) ==
        "max_categories must be at least 1, got 0");
  CHECK(message_of([&] { Preprocessor::fit(table, schema, Rows{}, options_for("y")); }) ==
        "no training rows");
  CHECK(message_of(
            [&] {
              Preprocessor::fit(table, schema, Rows{0, 10}, options_for("y"));
            },
            ErrorKind::internal) == "row 10 is outside the table people.csv (10 rows)");
  const Preprocessor preprocessor = Preprocessor::fit(table, schema, k_train, options_for("y"));
  CHECK(message_of([&] { preprocessor.transform(table, Rows{-1}); }, ErrorKind::internal) ==
        "row -1 is outside the table people.csv (10 rows)");
  CHECK(message_of([&] { preprocessor.transform_text(table, Rows{0}); }, ErrorKind::internal) ==
        "transform_text called on a tabular-mode preprocessor; use transform");
  CHECK(message_of([&] { preprocessor.unscale_target(1.0); }, ErrorKind::internal) ==
        "unscale_target called on a classification preprocessor");
}

TEST_CASE("preprocessor: each mode rejects columns it cannot use", "[preprocessor]") {
  const CsvTable table = parse_csv("id,review,stars,y\n1,good stuff,5,a\n2,bad,1,b\n", "r.csv");
  const TableSchema schema{{{"id", ColumnType::numeric},
                            {"review", ColumnType::text},
                            {"stars", ColumnType::categorical},
                            {"y", ColumnType::categorical}},
                           "y"};
  const Rows rows = all_rows(table);
  CHECK(message_of([&] { Preprocessor::fit(table, schema, rows, options_for("y")); }) ==
        "column 'review' is free text, which a tabular model cannot use; use model type text, or "
        "leave the column out of the features");

  PreprocessOptions image = options_for("y", true, FeatureMode::image);
  image.features = {"id", "stars"};
  CHECK(message_of([&] { Preprocessor::fit(table, schema, rows, image); }) ==
        "column 'stars' is categorical; image mode needs numeric pixel columns");

  PreprocessOptions text = options_for("y", true, FeatureMode::text);
  CHECK(
      message_of([&] { Preprocessor::fit(table, schema, rows, text); }) ==
      "text mode vectorises exactly one column, got 3 features ('id', 'review', 'stars'); name the "
      "text column in the features");
  text.features = {"id"};
  CHECK(message_of([&] { Preprocessor::fit(table, schema, rows, text); }) ==
        "column 'id' is numeric; text mode needs a text or categorical column");
  // A categorical column may be vectorised: short texts often infer so.
  text.features = {"stars"};
  CHECK(Preprocessor::fit(table, schema, rows, text).feature_count() == 3);
}

TEST_CASE("preprocessor: label problems name the column and the line", "[preprocessor]") {
  const CsvTable table = parse_csv("x,y\n1,a\n2,\n3,b\n", "t.csv");
  const TableSchema schema = infer_schema(table);
  CHECK(message_of([&] { fit_all(table, options_for("y")); }) ==
        "column 'y', line 3: the label is missing");
  CHECK(message_of([&] {
          Preprocessor::fit(table, schema, Rows{0, 2}, options_for("y", false));
        }) == "column 'y' is categorical; a regression label must be numeric");
  CHECK(message_of([&] { Preprocessor::fit(table, schema, Rows{0}, options_for("y")); }) ==
        "column 'y': classification needs at least 2 classes in the training rows, found 1 ('a')");

  // A numeric label column: "NA" is missing there.
  const CsvTable numbers = parse_csv("x,y\n1,1.5\n2,NA\n3,x7\n4,2.5\n", "n.csv");
  const TableSchema numeric{{{"x", ColumnType::numeric}, {"y", ColumnType::numeric}}, "y"};
  CHECK(message_of([&] {
          Preprocessor::fit(numbers, numeric, Rows{0, 1}, options_for("y", false));
        }) == "column 'y', line 3: the label is missing");
  CHECK(message_of([&] {
          Preprocessor::fit(numbers, numeric, Rows{0, 2}, options_for("y", false));
        }) == "column 'y', line 4: expected a number, got 'x7'");
  const Preprocessor regression =
      Preprocessor::fit(numbers, numeric, Rows{0, 3}, options_for("y", false));
  CHECK(message_of([&] { regression.regression_targets(numbers, Rows{2}); }) ==
        "column 'y', line 4: expected a number, got 'x7'");
  CHECK(message_of([&] { regression.regression_targets(numbers, Rows{1}); }) ==
        "column 'y', line 3: the label is missing");
  CHECK(message_of([&] { regression.class_ids(numbers, Rows{0}); }, ErrorKind::internal) ==
        "class_ids called on a regression preprocessor");
}

TEST_CASE("preprocessor: a label unseen in training names its line and the known classes",
          "[preprocessor]") {
  const CsvTable table = parse_csv(k_people, "people.csv");
  const Preprocessor preprocessor =
      Preprocessor::fit(table, infer_schema(table), k_train, options_for("y"));
  CHECK(message_of([&] { preprocessor.class_ids(table, all_rows(table)); }) ==
        "column 'y', line 11: label 'maybe' was not seen in training (classes: 'no', 'yes')");
  const CsvTable no_label = parse_csv("age,color\n1,red\n", "score.csv");
  CHECK(message_of([&] { preprocessor.class_ids(no_label, Rows{0}); }) ==
        "score.csv: no column 'y' (the label)");
}

TEST_CASE(
    "preprocessor: scoring data must hold every feature column and numbers where numbers were",
    "[preprocessor]") {
  const CsvTable table = parse_csv(k_people, "people.csv");
  const Preprocessor preprocessor =
      Preprocessor::fit(table, infer_schema(table), k_train, options_for("y"));
  const CsvTable renamed = parse_csv("Age,color\n1,red\n", "score.csv");
  CHECK(message_of([&] { preprocessor.check_columns(renamed); }) ==
        "score.csv: no column 'age', which the model needs as a feature (did you mean 'Age'?)");
  CHECK(message_of([&] { preprocessor.transform(renamed, Rows{0}); }) ==
        "score.csv: no column 'age', which the model needs as a feature (did you mean 'Age'?)");

  const CsvTable bad = parse_csv("color,age\nred,1\nblue,\"multi\nline\"\nred,abc\n", "score.csv");
  CHECK(message_of([&] {
          preprocessor.transform(bad, Rows{0, 2});
        }) == "column 'age', line 5: expected a number, got 'abc'");
}

TEST_CASE("preprocessor: from_json rejects newer versions and malformed documents",
          "[preprocessor]") {
  const CsvTable table = parse_csv("x,c,y\n1,u,a\n3,v,b\n", "t.csv");
  const Json good = fit_all(table, options_for("y")).to_json();
  const auto error_for = [&](auto&& edit) {
    Json json = good;
    edit(json);
    return message_of([&] { Preprocessor::from_json(json); }, ErrorKind::parse);
  };
  CHECK(error_for([](Json& j) { j["version"] = 2; }) ==
        "preprocessor: format version 2 is newer than this mlctl supports (1); upgrade mlctl");
  CHECK(error_for([](Json& j) { j["format"] = "mlctl.model"; }) ==
        "preprocessor: 'format' must be \"mlctl.preprocessor\", got \"mlctl.model\"");
  CHECK(error_for([](Json& j) { j.erase("features"); }) ==
        "preprocessor: document: missing field 'features'");
  CHECK(error_for([](Json& j) { j["mode"] = "audio"; }) ==
        "preprocessor: unknown mode 'audio' (expected tabular, text or image)");
  CHECK(error_for([](Json& j) { j["features"][0]["std"] = 0; }) ==
        "preprocessor: features[0]: 'std' must be positive");
  CHECK(error_for([](Json& j) {
          j["features"][1]["categories"] = Json::array({"u", "u"});
        }) == "preprocessor: features[1]: category 'u' is empty or repeated");
  CHECK(error_for([](Json& j) { j["label"]["classes"] = Json::array({"a"}); }) ==
        "preprocessor: label: 'classes' must be an array of at least 2");
  CHECK(error_for([](Json& j) { j["mode"] = "image"; }) ==
        "preprocessor: features[1]: image pixels must be numeric");
  CHECK(message_of([] { Preprocessor::from_json(Json::array()); }, ErrorKind::parse) ==
        "preprocessor: expected an object");
}
