// Drift statistics against scipy 1.10's values (Debian's python3-scipy;
// the script that made them is quoted beside each), and column drift
// reports: no drift on identical data, a known shift detected, unseen
// categories, the out-of-vocabulary rate, and too few rows.
#include <catch2/catch.hpp>

#include <mlctl/monitoring/drift_report.hpp>
#include <mlctl/monitoring/drift_statistics.hpp>

using namespace mlctl;
using namespace mlctl::monitoring;

namespace {

// base = [((i*37) % 101) / 10 for i in range(500)]
// cur  = [((i*53) % 97) / 10 + 1.5 for i in range(400)]
std::vector<double> baseline_values() {
  std::vector<double> values;
  for (int i = 0; i < 500; ++i) values.push_back(double((i * 37) % 101) / 10.0);
  return values;
}
std::vector<double> shifted_values() {
  std::vector<double> values;
  for (int i = 0; i < 400; ++i) values.push_back(double((i * 53) % 97) / 10.0 + 1.5);
  return values;
}

}  // namespace

TEST_CASE("drift statistics: two-sample KS as scipy computes it", "[monitoring]") {
  // scipy.stats.ks_2samp(a, b).statistic; kstwobign.sf(sqrt(n*m/(n+m)) * D)
  KsResult small = ks_two_sample({0.1, 0.5, 1.2, 2.3, 2.9, 3.3, 4.1, 5.0, 5.5, 6.7, 7.2, 8.8},
                                 {1.0, 2.0, 2.5, 3.0, 4.5, 6.0, 7.5, 9.0, 9.5, 10.5});
  CHECK(small.statistic == Approx(0.31666666666666665).epsilon(1e-12));
  CHECK(small.p_value == Approx(0.6447379259854435).epsilon(1e-9));
  KsResult large = ks_two_sample(baseline_values(), shifted_values());
  CHECK(large.statistic == Approx(0.15).epsilon(1e-12));
  CHECK(large.p_value == Approx(9.079985952496152e-05).epsilon(1e-7));
  KsResult same = ks_two_sample(baseline_values(), baseline_values());
  CHECK(same.statistic == 0);
  CHECK(same.p_value == 1);
  // scipy.special.kolmogorov(x)
  CHECK(kolmogorov_survival(0.5) == Approx(0.9639452436648751).epsilon(1e-12));
  CHECK(kolmogorov_survival(1.0) == Approx(0.26999967167735456).epsilon(1e-12));
  CHECK(kolmogorov_survival(1.36) == Approx(0.049485876755377876).epsilon(1e-12));
  CHECK(kolmogorov_survival(2.0) == Approx(0.0006709252557796953).epsilon(1e-10));
}

TEST_CASE("drift statistics: chi-square as scipy computes it", "[monitoring]") {
  // scipy.stats.chi2.sf(x, dof)
  CHECK(chi_square_survival(3.7, 2) == Approx(0.1572371663136276).epsilon(1e-12));
  CHECK(chi_square_survival(12.5, 5) == Approx(0.028543123326167485).epsilon(1e-12));
  CHECK(chi_square_survival(0.3, 1) == Approx(0.583882420770365).epsilon(1e-12));
  // scipy.stats.chi2_contingency([[40,30,20,10],[25,35,25,15]], correction=False)
  std::vector<double> a = {40, 30, 20, 10}, b = {25, 35, 25, 15};
  ChiSquareResult result = chi_square_homogeneity(a, b);
  CHECK(result.statistic == Approx(5.401709401709402).epsilon(1e-12));
  CHECK(result.degrees_of_freedom == 3);
  CHECK(result.p_value == Approx(0.14463711492992415).epsilon(1e-10));
}

TEST_CASE("drift statistics: PSI over the baseline's decile bins", "[monitoring]") {
  // By hand: shares (0.4, 0.3, 0.2, 0.1, 0) against (0.25, 0.35, 0.25, 0.1,
  // 0.05), the empty one floored at 1e-4; numpy gives 0.39947420005520107.
  std::vector<double> expected = {40, 30, 20, 10, 0}, actual = {25, 35, 25, 10, 5};
  CHECK(population_stability_index(expected, actual) == Approx(0.39947420005520107).epsilon(1e-12));
  CHECK(population_stability_index(expected, expected) == 0);

  std::vector<double> sorted = baseline_values();
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> edges = quantile_edges(sorted);
  // numpy.quantile(base, i/10) for i = 1..9
  REQUIRE(edges.size() == 9);
  CHECK(edges[0] == Approx(0.99).epsilon(1e-12));
  CHECK(edges[8] == Approx(9.0).epsilon(1e-12));
  std::vector<double> base_counts = bin_counts(baseline_values(), edges);
  std::vector<double> cur_counts = bin_counts(shifted_values(), edges);
  // numpy: searchsorted(edges, values, side='right') bins, floor 1e-4
  CHECK(population_stability_index(base_counts, cur_counts) == Approx(0.8019313545780208).epsilon(1e-10));
}

TEST_CASE("drift report: identical data, a shift, unseen categories, OOV text and too few rows", "[monitoring]") {
  DataColumns baseline, current;
  ColumnValues numbers;
  numbers.numbers = baseline_values();
  ColumnValues plans;
  plans.type = data::ColumnType::categorical;
  ColumnValues notes;
  notes.type = data::ColumnType::text;
  ColumnValues labels;
  labels.type = data::ColumnType::categorical;
  for (int i = 0; i < 500; ++i) {
    plans.texts.push_back(i % 3 == 0 ? "gold" : i % 3 == 1 ? "silver" : "bronze");
    notes.texts.push_back(i % 2 ? "late delivery refund please" : "great service thanks");
    labels.texts.push_back(i % 4 == 0 ? "churn" : "stay");
  }
  baseline = {{"tenure", numbers}, {"plan", plans}, {"note", notes}, {"churned", labels}};
  DriftInputs inputs;
  inputs.baseline = &baseline;
  inputs.features = {{"tenure", data::ColumnType::numeric},
                     {"plan", data::ColumnType::categorical},
                     {"note", data::ColumnType::text}};
  inputs.label = data::ColumnSchema{"churned", data::ColumnType::categorical};

  SECTION("the baseline against itself") {
    current = baseline;
    ColumnValues predictions = labels;
    current["prediction"] = predictions;
    inputs.current = &current;
    inputs.current_rows = 500;
    DriftReport report = compare_columns(inputs);
    CHECK_FALSE(report.drifted);
    REQUIRE(report.columns.size() == 4);
    for (const auto& column : report.columns) {
      INFO(column.column);
      CHECK_FALSE(column.drifted);
    }
    CHECK(report.columns[0].statistics["psi"] == 0.0);
    CHECK(report.columns[2].statistics["oov_share"] == 0.0);
  }

  SECTION("a shifted number, a new plan and new words") {
    current = baseline;
    current["tenure"].numbers = shifted_values();
    for (int i = 0; i < 150; ++i) current["plan"].texts[std::size_t(i)] = "platinum";
    for (int i = 0; i < 300; ++i) current["note"].texts[std::size_t(i)] = "app crashes constantly unusable";
    current["prediction"] = labels;
    inputs.current = &current;
    inputs.current_rows = 500;
    DriftReport report = compare_columns(inputs);
    CHECK(report.drifted);
    CHECK(report.drifted_columns == std::vector<std::string>{"tenure", "plan", "note"});
    CHECK(report.columns[0].statistics["psi"].get<double>() > 0.2);
    CHECK(report.columns[1].statistics["unseen"] == 150);
    CHECK(report.columns[1].statistics["unseen_examples"] == Json::parse(R"(["platinum"])"));
    // 300 of 500 notes are 4 unseen tokens; the rest 3 or 4 known ones.
    CHECK(report.columns[2].statistics["oov_share"].get<double>() == Approx(1200.0 / (1200.0 + 100 * 4 + 100 * 3)));
    CHECK(report.columns[2].reason.rfind("out-of-vocabulary share", 0) == 0);
    CHECK_FALSE(report.columns[3].drifted);  // predictions as the labels were
  }

  SECTION("too few rows is not enough data, never drift") {
    current = {{"tenure", ColumnValues{data::ColumnType::numeric, {50, 60, 70}, {}, 0}}};
    inputs.current = &current;
    inputs.current_rows = 3;
    DriftReport report = compare_columns(inputs);
    CHECK_FALSE(report.enough_data);
    CHECK_FALSE(report.drifted);
    CHECK(report.columns[0].reason == "not enough data: 3 rows, at least 30 needed");
  }
}

TEST_CASE("drift thresholds: settings by name", "[monitoring]") {
  DriftThresholds thresholds;
  set_threshold(thresholds, "psi=0.3");
  set_threshold(thresholds, "min_rows=100");
  CHECK(thresholds.psi == 0.3);
  CHECK(thresholds.min_rows == 100);
  CHECK_THROWS_WITH(set_threshold(thresholds, "psy=1"),
                    "--threshold 'psy=1': unknown key 'psy' (expected psi, p_value, ks, cramers_v, oov or min_rows)");
  CHECK_THROWS_WITH(set_threshold(thresholds, "psi"),
                    "--threshold 'psi': expected KEY=NUMBER (psi, p_value, ks, cramers_v, oov, min_rows)");
}
