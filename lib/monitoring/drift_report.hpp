#pragma once

// Column-by-column drift between a baseline (the data a model was trained
// on) and current data (a newer dataset, or what a service was sent):
//   numeric      PSI over the baseline's decile bins (outer bins open), and
//                the two-sample Kolmogorov-Smirnov test;
//   categorical  PSI over the baseline's categories plus one bucket for
//                values the baseline never had, and the chi-square test;
//   text         the share of tokens outside the vocabulary (the served
//                model's, or else the baseline's tokens) against the
//                baseline's own share, and PSI over document lengths;
//   prediction   (services) PSI of the predicted classes against the
//                baseline's label classes (regression: decile bins).
// A column drifts when its PSI exceeds `psi`, or when its test is
// significant (p < p_value / the number of columns tested: Bonferroni's
// correction) with an effect above the minimum (KS D above
// `ks`; Cramér's V above `cramers_v`), or (text) when the OOV share rose by
// more than `oov`. Too few current rows (below min_rows) is "not enough
// data", never drift.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <mlctl/core/json.hpp>
#include <mlctl/data/csv.hpp>
#include <mlctl/data/table_schema.hpp>
#include <mlctl/train/text_vectorizer.hpp>

namespace mlctl::monitoring {

struct DriftThresholds {
  double psi = 0.2;
  double p_value = 0.05;
  double ks = 0.1;
  double cramers_v = 0.1;
  double oov = 0.1;
  std::size_t min_rows = 30;
};
// Applies "psi=0.3" style settings. Throws Error(invalid_argument) naming
// an unknown key or a bad number.
void set_threshold(DriftThresholds& thresholds, std::string_view assignment);
Json to_json(const DriftThresholds& thresholds);

// One column's values: numbers for numeric columns, texts otherwise
// (missing cells left out and counted).
struct ColumnValues {
  data::ColumnType type = data::ColumnType::numeric;
  std::vector<double> numbers;
  std::vector<std::string> texts;
  std::size_t missing = 0;
  std::size_t size() const { return type == data::ColumnType::numeric ? numbers.size() : texts.size(); }
};
using DataColumns = std::map<std::string, ColumnValues>;

// The columns of a table by the schema's types (the label included).
// Throws Error(parse) for a numeric cell that is not a number.
DataColumns columns_of_table(const data::CsvTable& table, const data::TableSchema& schema);

struct ColumnDrift {
  std::string column;
  std::string kind;  // numeric, categorical, text, prediction
  std::size_t baseline_rows = 0, current_rows = 0;
  Json statistics = Json::object();  // {"psi": .., "ks": .., "ks_p_value": ..}
  Json thresholds = Json::object();
  bool drifted = false;
  std::string reason;  // why it drifted, or why it was not judged
};

struct DriftReport {
  std::size_t current_rows = 0;
  std::vector<ColumnDrift> columns;
  bool enough_data = true;
  bool drifted = false;
  std::vector<std::string> drifted_columns;
  Json to_json() const;
};

struct DriftInputs {
  const DataColumns* baseline = nullptr;
  const DataColumns* current = nullptr;
  std::size_t current_rows = 0;
  // The feature columns to compare, in order (the label is left out).
  std::vector<data::ColumnSchema> features;
  // Prediction drift: the label column of the baseline and the service's
  // predictions (a column of current named "prediction").
  std::optional<data::ColumnSchema> label;
  // The served model's vocabulary, for text columns.
  const train::TextVectorizer* vocabulary = nullptr;
  DriftThresholds thresholds;
};

DriftReport compare_columns(const DriftInputs& inputs);

}  // namespace mlctl::monitoring
