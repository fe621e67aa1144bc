#include <mlctl/monitoring/drift_report.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include <mlctl/core/error.hpp>
#include <mlctl/monitoring/drift_statistics.hpp>

namespace mlctl::monitoring {
namespace {

ColumnDrift numeric_drift(const ColumnValues& baseline, const ColumnValues& current,
                          const DriftThresholds& thresholds) {
  ColumnDrift drift;
  std::vector<double> sorted = baseline.numbers;
  std::sort(sorted.begin(), sorted.end());
  const std::vector<double> edges = quantile_edges(sorted);
  const double psi = population_stability_index(bin_counts(baseline.numbers, edges), bin_counts(current.numbers, edges));
  const KsResult ks = ks_two_sample(baseline.numbers, current.numbers);
  drift.statistics = {{"psi", psi}, {"ks", ks.statistic}, {"ks_p_value", ks.p_value}};
  drift.thresholds = {{"psi", thresholds.psi}, {"ks", thresholds.ks}, {"p_value", thresholds.p_value}};
  if (psi > thresholds.psi) {
    drift.drifted = true;
    drift.reason = fmt::format("PSI {:.3f} > {}", psi, thresholds.psi);
  } else if (ks.p_value < thresholds.p_value && ks.statistic > thresholds.ks) {
    drift.drifted = true;
    drift.reason = fmt::format("KS D {:.3f} > {} with p {:.2g} < {:.2g}", ks.statistic, thresholds.ks, ks.p_value,
                               thresholds.p_value);
  }
  return drift;
}

// Counts of categories: the baseline's, in order, then one bucket for the
// values it never had.
ColumnDrift categorical_drift(const ColumnValues& baseline, const ColumnValues& current,
                              const DriftThresholds& thresholds) {
  ColumnDrift drift;
  std::unordered_map<std::string, std::size_t> index;
  std::vector<double> expected, actual;
  for (const auto& text : baseline.texts) {
    auto [it, added] = index.emplace(text, expected.size());
    if (added) {
      expected.push_back(0);
      actual.push_back(0);
    }
    expected[it->second] += 1;
  }
  expected.push_back(0);  // unseen
  actual.push_back(0);
  std::size_t unseen = 0;
  std::set<std::string> unseen_values;
  for (const auto& text : current.texts) {
    auto it = index.find(text);
    if (it == index.end()) {
      actual.back() += 1;
      ++unseen;
      if (unseen_values.size() < 5) unseen_values.insert(text);
    } else {
      actual[it->second] += 1;
    }
  }
  const double psi = population_stability_index(expected, actual);
  const ChiSquareResult chi = chi_square_homogeneity(expected, actual);
  double n = 0;
  for (std::size_t k = 0; k < expected.size(); ++k) n += expected[k] + actual[k];
  const double cramers_v = n > 0 ? std::sqrt(chi.statistic / n) : 0.0;
  drift.statistics = {{"psi", psi},
                      {"chi_square", chi.statistic},
                      {"chi_square_dof", chi.degrees_of_freedom},
                      {"chi_square_p_value", chi.p_value},
                      {"cramers_v", cramers_v},
                      {"unseen", unseen},
                      {"unseen_examples", unseen_values}};
  drift.thresholds = {{"psi", thresholds.psi}, {"cramers_v", thresholds.cramers_v}, {"p_value", thresholds.p_value}};
  if (psi > thresholds.psi) {
    drift.drifted = true;
    drift.reason = fmt::format("PSI {:.3f} > {}", psi, thresholds.psi);
  } else if (chi.p_value < thresholds.p_value && cramers_v > thresholds.cramers_v) {
    drift.drifted = true;
    drift.reason = fmt::format("chi-square p {:.2g} < {:.2g} with Cramér's V {:.3f} > {}", chi.p_value, thresholds.p_value,
                               cramers_v, thresholds.cramers_v);
  }
  return drift;
}

struct TextSummary {
  double oov_share = 0;
  std::vector<double> lengths;  // tokens per document
};

TextSummary summarize_text(const std::vector<std::string>& documents, const train::TextVectorizer* vocabulary,
                           const std::set<std::string>* baseline_tokens) {
  TextSummary summary;
  std::int64_t terms = 0, outside = 0;
  for (const auto& document : documents) {
    std::vector<std::string> tokens = train::tokenize(document);
    summary.lengths.push_back(double(tokens.size()));
    if (vocabulary) {
      train::VocabularyCoverage coverage = vocabulary->coverage(document);
      terms += coverage.terms;
      outside += coverage.out_of_vocabulary;
    } else if (baseline_tokens) {
      terms += std::int64_t(tokens.size());
      for (const auto& token : tokens) outside += baseline_tokens->count(token) ? 0 : 1;
    }
  }
  summary.oov_share = terms > 0 ? double(outside) / double(terms) : 0.0;
  return summary;
}

ColumnDrift text_drift(const ColumnValues& baseline, const ColumnValues& current, const train::TextVectorizer* vocabulary,
                       const DriftThresholds& thresholds) {
  ColumnDrift drift;
  std::set<std::string> baseline_tokens;
  if (!vocabulary) {
    for (const auto& document : baseline.texts) {
      for (auto& token : train::tokenize(document)) baseline_tokens.insert(std::move(token));
    }
  }
  TextSummary before = summarize_text(baseline.texts, vocabulary, vocabulary ? nullptr : &baseline_tokens);
  TextSummary after = summarize_text(current.texts, vocabulary, vocabulary ? nullptr : &baseline_tokens);
  std::vector<double> sorted = before.lengths;
  std::sort(sorted.begin(), sorted.end());
  const std::vector<double> edges = quantile_edges(sorted);
  const double psi = population_stability_index(bin_counts(before.lengths, edges), bin_counts(after.lengths, edges));
  drift.statistics = {{"oov_share", after.oov_share},
                      {"baseline_oov_share", before.oov_share},
                      {"vocabulary", vocabulary ? "model" : "baseline"},
                      {"length_psi", psi}};
  drift.thresholds = {{"oov", thresholds.oov}, {"psi", thresholds.psi}};
  if (after.oov_share - before.oov_share > thresholds.oov) {
    drift.drifted = true;
    drift.reason = fmt::format("out-of-vocabulary share {:.3f}, up from {:.3f} (more than {})", after.oov_share,
                               before.oov_share, thresholds.oov);
  } else if (psi > thresholds.psi) {
    drift.drifted = true;
    drift.reason = fmt::format("document length PSI {:.3f} > {}", psi, thresholds.psi);
  }
  return drift;
}

}  // namespace

void set_threshold(DriftThresholds& thresholds, std::string_view assignment) {
  const auto equals = assignment.find('=');
  const std::string key(assignment.substr(0, equals));
  double value = 0;
  std::string_view text = equals == std::string_view::npos ? std::string_view() : assignment.substr(equals + 1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (equals == std::string_view::npos || ec != std::errc() || end != text.data() + text.size() || value < 0) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("--threshold '{}': expected KEY=NUMBER (psi, p_value, ks, cramers_v, oov, min_rows)", assignment));
  }
  if (key == "psi") thresholds.psi = value;
  else if (key == "p_value") thresholds.p_value = value;
  else if (key == "ks") thresholds.ks = value;
  else if (key == "cramers_v") thresholds.cramers_v = value;
  else if (key == "oov") thresholds.oov = value;
  else if (key == "min_rows") thresholds.min_rows = std::size_t(value);
  else {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("--threshold '{}': unknown key '{}' (expected psi, p_value, ks, cramers_v, oov or min_rows)",
                            assignment, key));
  }
}

Json to_json(const DriftThresholds& thresholds) {
  return {{"psi", thresholds.psi}, {"p_value", thresholds.p_value}, {"ks", thresholds.ks},
          {"cramers_v", thresholds.cramers_v}, {"oov", thresholds.oov}, {"min_rows", thresholds.min_rows}};
}

DataColumns columns_of_table(const data::CsvTable& table, const data::TableSchema& schema) {
  DataColumns columns;
  for (const auto& column : schema.columns) {
    auto index = table.find_column(column.name);
    if (!index) continue;
    ColumnValues values;
    values.type = column.type;
    for (std::size_t row = 0; row < table.row_count(); ++row) {
      std::string_view cell = table.cell(row, *index);
      if (column.type == data::ColumnType::numeric) {
        if (auto number = data::parse_number(cell)) {
          values.numbers.push_back(*number);
        } else if (data::is_missing(cell)) {
          ++values.missing;
        } else {
          throw Error(ErrorKind::parse, fmt::format("{}:{}: column '{}': expected a number, got '{}'", table.source_name,
                                                    table.row_lines[row], column.name, cell));
        }
      } else if (cell.empty()) {
        ++values.missing;
      } else {
        values.texts.emplace_back(cell);
      }
    }
    columns.emplace(column.name, std::move(values));
  }
  return columns;
}

Json DriftReport::to_json() const {
  Json rows = Json::array();
  for (const auto& column : columns) {
    rows.push_back({{"column", column.column},
                    {"kind", column.kind},
                    {"baseline_rows", column.baseline_rows},
                    {"current_rows", column.current_rows},
                    {"statistics", column.statistics},
                    {"thresholds", column.thresholds},
                    {"drifted", column.drifted},
                    {"reason", column.reason}});
  }
  return {{"current_rows", current_rows},
          {"enough_data", enough_data},
          {"drifted", drifted},
          {"drifted_columns", drifted_columns},
          {"columns", rows}};
}

DriftReport compare_columns(const DriftInputs& inputs) {
  DriftReport report;
  // Bonferroni: with many columns tested at once, each test's p-value must
  // clear p_value / columns, or some column of undrifted data would be
  // flagged by chance nearly every time.
  DriftThresholds per_column = inputs.thresholds;
  const std::size_t tested = inputs.features.size() + (inputs.label ? 1 : 0);
  if (tested > 1) per_column.p_value = inputs.thresholds.p_value / double(tested);
  report.current_rows = inputs.current_rows;
  report.enough_data = inputs.current_rows >= inputs.thresholds.min_rows;
  static const ColumnValues k_empty;
  auto values = [](const DataColumns* columns, const std::string& name) -> const ColumnValues& {
    auto it = columns->find(name);
    return it == columns->end() ? k_empty : it->second;
  };
  auto judge = [&](ColumnDrift drift, const std::string& name, const char* kind, const ColumnValues& baseline,
                   const ColumnValues& current) {
    drift.column = name;
    drift.kind = kind;
    drift.baseline_rows = baseline.size();
    drift.current_rows = current.size();
    if (!report.enough_data) {
      drift.drifted = false;
      drift.reason = fmt::format("not enough data: {} rows, at least {} needed", inputs.current_rows,
                                 inputs.thresholds.min_rows);
    }
    if (drift.drifted) report.drifted_columns.push_back(name);
    report.columns.push_back(std::move(drift));
  };
  for (const auto& feature : inputs.features) {
    const ColumnValues& baseline = values(inputs.baseline, feature.name);
    const ColumnValues& current = values(inputs.current, feature.name);
    switch (feature.type) {
      case data::ColumnType::numeric:
        judge(numeric_drift(baseline, current, per_column), feature.name, "numeric", baseline, current);
        break;
      case data::ColumnType::categorical:
        judge(categorical_drift(baseline, current, per_column), feature.name, "categorical", baseline, current);
        break;
      case data::ColumnType::text:
        judge(text_drift(baseline, current, inputs.vocabulary, per_column), feature.name, "text", baseline, current);
        break;
    }
  }
  if (inputs.label) {
    const ColumnValues& baseline = values(inputs.baseline, inputs.label->name);
    const ColumnValues& current = values(inputs.current, "prediction");
    ColumnDrift drift = inputs.label->type == data::ColumnType::numeric
                            ? numeric_drift(baseline, current, per_column)
                            : categorical_drift(baseline, current, per_column);
    judge(std::move(drift), "prediction", "prediction", baseline, current);
  }
  report.drifted = report.enough_data && !report.drifted_columns.empty();
  return report;
}

}  // namespace mlctl::monitoring
