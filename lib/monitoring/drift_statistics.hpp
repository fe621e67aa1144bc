#pragma once

// The statistics drift detection rests on, each checked in the tests
// against scipy's values:
//  - the population stability index over bins of the baseline,
//  - the two-sample Kolmogorov-Smirnov statistic and its asymptotic p-value
//    (scipy.stats.kstwobign.sf(sqrt(n*m/(n+m)) * D)),
//  - Pearson's chi-square test of homogeneity of two count vectors
//    (scipy.stats.chi2_contingency(..., correction=False)).
// Pure functions.

#include <cstddef>
#include <span>
#include <vector>

namespace mlctl::monitoring {

// Shares below this count as this much in PSI, so that an empty bin on
// either side gives a large but finite term (a common convention).
inline constexpr double k_psi_floor = 1e-4;

// PSI = sum over bins of (actual - expected) * ln(actual / expected), the
// inputs being counts (turned into shares here). Both must have the same
// length; empty totals give 0.
double population_stability_index(std::span<const double> expected_counts, std::span<const double> actual_counts);

// The inner edges of `bins` equal-frequency bins of `sorted` (ascending):
// its quantiles at 1/bins ... (bins-1)/bins (numpy's linear method), with
// repeats removed. bin_counts then gives edges.size() + 1 bins, the outer
// ones open, so every value lands in a bin.
std::vector<double> quantile_edges(std::span<const double> sorted, std::size_t bins = 10);
// Bin i holds values v with edges[i-1] <= v < edges[i].
std::vector<double> bin_counts(std::span<const double> values, std::span<const double> inner_edges);

struct KsResult {
  double statistic = 0;  // sup |F_a - F_b|
  double p_value = 1;
};
// Two-sample Kolmogorov-Smirnov test (two-sided). Empty inputs give D = 0,
// p = 1.
KsResult ks_two_sample(std::vector<double> a, std::vector<double> b);
// The Kolmogorov distribution's survival function, P(K > lambda).
double kolmogorov_survival(double lambda);

struct ChiSquareResult {
  double statistic = 0;
  int degrees_of_freedom = 0;
  double p_value = 1;
};
// The chi-square test that two count vectors over the same categories come
// from one distribution (a 2 x K contingency table; categories empty on both
// sides are dropped).
ChiSquareResult chi_square_homogeneity(std::span<const double> a_counts, std::span<const double> b_counts);
// P(X > x) for X ~ chi-square with `dof` degrees of freedom.
double chi_square_survival(double x, int dof);

}  // namespace mlctl::monitoring
