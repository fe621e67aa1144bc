#pragma once

// The preprocessing that turns table cells into model inputs and targets.
// It is fitted on the training split only and saved beside the model
// weights, because scoring later (batch `model predict`, the HTTP service)
// must reproduce the training inputs exactly: pre-processing, scoring and
// post-processing travel together. Torch-free on purpose; the trainer turns
// the plain buffers below into tensors.
//
// Feature columns, in the order of PreprocessOptions::features (or of the
// table when that is empty), each by its schema type:
//  - numeric: (x - mean) / std with the mean and the population standard
//    deviation (divided by n) of the column's training cells; a std of 0
//    becomes 1. A missing cell (see data::is_missing) is imputed with the
//    training mean, so it comes out as 0. A column without any value in the
//    training rows gets mean 0 and std 1.
//  - categorical: one-hot over the max_categories most frequent non-empty
//    cell texts of the training rows, columns in that order (count
//    descending, ties by text ascending, bytewise). An empty cell or a
//    category not kept (unseen in training, or beyond max_categories) is
//    all zeros: the model sees "none of the known categories".
//  - text: rejected in tabular mode, since a one-hot of free text is
//    useless; the text mode handles it.
// Modes:
//  - tabular: the above, one output column per numeric feature and one per
//    kept category.
//  - image: every feature is a numeric pixel column, scaled by one global
//    mean and std over all non-missing training pixels (per-column scaling
//    would distort the image); missing pixels get the global mean.
//  - text: exactly one feature column, text or categorical, encoded by a
//    TextVectorizer fitted on its training cells (an empty cell is an empty
//    bag).
// Label:
//  - classification: class names are the distinct label cell texts of the
//    training rows, sorted by value when all of them are numbers ("2" before
//    "10"; equal numbers by text) and bytewise otherwise; class ids are
//    0..K-1 in that order.
//  - regression: the numeric label is standardised like a numeric feature
//    (mean and std saved); predictions are mapped back by unscale_target.
//  A missing label cell is an error in either case: data::is_missing when the
//  label column is numeric, an empty cell otherwise.
//
// The saved form is versioned; see Preprocessor::to_json.

#include <mlctl/core/json.hpp>
#include <mlctl/data/csv.hpp>
#include <mlctl/data/table_schema.hpp>
#include <mlctl/train/text_vectorizer.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mlctl::train {

enum class FeatureMode {
  tabular,  // numeric and categorical columns -> a dense matrix
  text,     // one text column -> bag-of-words ids
  image,    // numeric pixel columns -> a dense matrix, globally scaled
};

// "tabular", "text" or "image".
const char* to_string(FeatureMode mode) noexcept;

struct PreprocessOptions {
  bool classification = true;
  // The label column; empty: the schema's label.
  std::string label;
  // The feature columns in model order; empty: every column of the table
  // but the label, in table order.
  std::vector<std::string> features;
  FeatureMode mode = FeatureMode::tabular;
  // Mode text only: how the one text column is vectorised.
  TextVectorizerOptions text;
  // One-hot keeps at most this many categories per column (>= 1).
  int max_categories = 100;
};

// One cell of a request the HTTP service scores: a number, a text or
// missing (JSON null). The service checks types against input_schema()
// first; a number given for a categorical column arrives as its text.
struct InputCell {
  enum class Kind : std::uint8_t { missing, number, text };
  Kind kind = Kind::missing;
  double number = 0;
  std::string_view text;
};

// A dense row-major matrix: row r, column c is values[r * cols + c].
struct FeatureMatrix {
  std::vector<float> values;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
};

namespace detail {

// Hashes std::string and std::string_view alike, so that a cell can be
// looked up without building a std::string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};
using StringIndex = std::unordered_map<std::string, std::int64_t, StringHash, std::equal_to<>>;

// One fitted feature column.
struct FeatureSpec {
  std::string name;
  data::ColumnType type = data::ColumnType::numeric;
  // numeric (tabular mode): (x - mean) / scale.
  double mean = 0.0;
  double scale = 1.0;
  // categorical (tabular mode): the one-hot columns in order, and each
  // category's position among them.
  std::vector<std::string> categories;
  StringIndex category_index;
  // The first output column of this feature (tabular and image modes).
  std::int64_t offset = 0;
};

}  // namespace detail

// A fitted preprocessor. Immutable once built: const members are
// thread-safe. Copyable.
class Preprocessor {
 public:
  // The format written by to_json; from_json rejects newer versions.
  static constexpr int k_format_version = 1;

  // Fits on rows `train_rows` (0-based data rows) of `table`, the column
  // types coming from `schema` (which must describe the table's columns).
  // Throws Error(invalid_argument), the message naming the column:
  //  - "data.csv: no column 'agee' to use as a feature (did you mean
  //    'age'?)", likewise "... to use as the label ...", or "no label column
  //    given" when neither the options nor the schema name one;
  //  - "the schema has no column 'x'" for a table column it lacks;
  //  - a feature listed twice or also the label, no feature column left;
  //  - "column 'review' is free text, ..." for text in tabular mode, a
  //    non-numeric column in image mode, not exactly one text or
  //    categorical column in text mode;
  //  - "column 'y', line 5: the label is missing" in a training row;
  //  - "column 'age', line 7: expected a number, got 'abc'" for a numeric
  //    feature or a regression label;
  //  - a regression label whose column is not numeric, fewer than 2 classes;
  //  - no training rows, max_categories < 1, bad text options.
  // Throws Error(internal) for a row outside the table.
  static Preprocessor fit(const data::CsvTable& table, const data::TableSchema& schema,
                          std::span<const std::int64_t> train_rows,
                          const PreprocessOptions& options);

  // The features of `rows` of `table` (tabular and image modes), columns
  // found by name, so the table may order them differently or hold more.
  // No allocation per cell. Throws Error(invalid_argument) as check_columns,
  // and "column 'age', line 7: expected a number, got 'abc'" (the physical
  // line from table.row_lines) for a numeric cell that is neither a number
  // nor missing. Throws Error(internal) in text mode or for a row outside
  // the table.
  FeatureMatrix transform(const data::CsvTable& table, std::span<const std::int64_t> rows) const;
  // The bag-of-words ids of `rows` (text mode), as TextVectorizer::
  // encode_batch gives them. Throws as check_columns; Error(internal) in
  // other modes or for a row outside the table.
  EncodedBatch transform_text(const data::CsvTable& table,
                              std::span<const std::int64_t> rows) const;

  // The features of `rows` rows of request cells (rows x features, in
  // feature order) into `out` (rows x feature_count() floats), exactly as
  // transform() turns the same values read from a CSV file. Tabular and
  // image modes; a text cell in a numeric column counts as missing (the
  // caller validates types). Throws Error(internal) in text mode.
  void transform_cells(std::span<const InputCell> cells, std::size_t rows, float* out) const;

  // The class id of each row's label (classification). Throws
  // Error(invalid_argument) "data.csv: no column 'y' (the label)", "column
  // 'y', line 9: the label is missing" or "column 'y', line 9: label
  // 'maybe' was not seen in training (classes: 'no', 'yes')"; Error(internal)
  // for regression or a row outside the table.
  std::vector<std::int64_t> class_ids(const data::CsvTable& table,
                                      std::span<const std::int64_t> rows) const;
  // The standardised label of each row (regression). Throws as class_ids
  // for a missing column or cell, and "column 'y', line 9: expected a
  // number, got 'abc'"; Error(internal) for classification.
  std::vector<float> regression_targets(const data::CsvTable& table,
                                        std::span<const std::int64_t> rows) const;
  // A standardised prediction back in label units: value * std + mean.
  // Throws Error(internal) for classification.
  double unscale_target(double value) const;

  // Width of transform()'s rows; in text mode the number of ids,
  // vocabulary size + 1 (the rows an embedding table needs).
  std::int64_t feature_count() const;
  // Classification: the class names by id. Regression: empty.
  const std::vector<std::string>& class_names() const { return m_classes; }
  FeatureMode mode() const { return m_mode; }
  bool classification() const { return m_classification; }
  const std::string& label() const { return m_label; }
  // The vectorizer of text mode; an empty one in other modes.
  const TextVectorizer& vectorizer() const { return m_vectorizer; }

  // The input a scorer must be given, in feature order, the label left out:
  // [{"name": "age", "type": "numeric"}, ...].
  Json input_schema() const;
  // Checks that `table` (to be scored) has every feature column; extra
  // columns are fine. Throws Error(invalid_argument) naming the first
  // missing one: "score.csv: no column 'age', which the model needs as a
  // feature (did you mean 'Age'?)".
  void check_columns(const data::CsvTable& table) const;

  // Everything needed to transform and to map labels:
  //  {"format": "mlctl.preprocessor", "version": 1, "mode": "tabular",
  //   "task": "classification" | "regression",
  //   "label": {"name": "y", "type": "categorical", "classes": [...]}
  //            or {"name": "y", "type": "numeric", "mean": m, "std": s},
  //   "features": [{"name": "age", "type": "numeric", "mean": m, "std": s},
  //                {"name": "color", "type": "categorical",
  //                 "categories": ["red", ...]}, ...],
  //   "pixels": {"mean": m, "std": s},          (image mode only)
  //   "vectorizer": {TextVectorizer::to_json}}  (text mode only)
  // Image features and the text feature carry name and type only. Doubles
  // are written so that they read back bit for bit. A name, category or
  // class that is not valid UTF-8 is written as {"bytes_hex": "e9..."}.
  Json to_json() const;
  // The inverse of to_json. Throws Error(parse) "preprocessor: ..." for a
  // malformed document, another format, or a newer version (by number).
  static Preprocessor from_json(const Json& json);

 private:
  Preprocessor() = default;

  void rebuild_indexes();
  // The index in `table` of each feature column, in feature order.
  std::vector<std::size_t> feature_columns(const data::CsvTable& table) const;
  std::size_t label_column(const data::CsvTable& table) const;
  bool is_missing_label(std::string_view cell) const;

  FeatureMode m_mode = FeatureMode::tabular;
  bool m_classification = true;
  std::string m_label;
  data::ColumnType m_label_type = data::ColumnType::categorical;
  std::vector<detail::FeatureSpec> m_features;
  std::int64_t m_width = 0;  // tabular and image modes
  // Image mode: the global pixel scaling.
  double m_pixel_mean = 0.0;
  double m_pixel_scale = 1.0;
  TextVectorizer m_vectorizer;
  // Classification.
  std::vector<std::string> m_classes;
  detail::StringIndex m_class_index;
  // Regression.
  double m_target_mean = 0.0;
  double m_target_scale = 1.0;
};

}  // namespace mlctl::train
