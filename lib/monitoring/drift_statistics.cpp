#include <mlctl/monitoring/drift_statistics.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include <mlctl/data/column_profile.hpp>

namespace mlctl::monitoring {
namespace {

double total(std::span<const double> counts) {
  double sum = 0;
  for (double count : counts) sum += count;
  return sum;
}

// The regularised upper incomplete gamma function Q(a, x), by its series
// for x < a + 1 and its continued fraction otherwise (Numerical Recipes).
double gamma_q(double a, double x) {
  if (x <= 0) return 1.0;
  const double log_prefix = -x + a * std::log(x) - std::lgamma(a);
  if (x < a + 1) {
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < 1000; ++n) {
      term *= x / (a + n);
      sum += term;
      if (std::fabs(term) < std::fabs(sum) * 1e-16) break;
    }
    return 1.0 - sum * std::exp(log_prefix);
  }
  const double tiny = 1e-300;
  double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (int i = 1; i < 1000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < 1e-16) break;
  }
  return std::exp(log_prefix) * h;
}

}  // namespace

double population_stability_index(std::span<const double> expected_counts, std::span<const double> actual_counts) {
  const double expected_total = total(expected_counts), actual_total = total(actual_counts);
  if (expected_total <= 0 || actual_total <= 0) return 0;
  double psi = 0;
  for (std::size_t i = 0; i < expected_counts.size() && i < actual_counts.size(); ++i) {
    const double expected = std::max(expected_counts[i] / expected_total, k_psi_floor);
    const double actual = std::max(actual_counts[i] / actual_total, k_psi_floor);
    psi += (actual - expected) * std::log(actual / expected);
  }
  return psi;
}

std::vector<double> quantile_edges(std::span<const double> sorted, std::size_t bins) {
  std::vector<double> edges;
  if (sorted.empty() || bins < 2) return edges;
  for (std::size_t i = 1; i < bins; ++i) {
    const double edge = data::quantile(sorted, double(i) / double(bins));
    if (edges.empty() || edge > edges.back()) edges.push_back(edge);
  }
  return edges;
}

std::vector<double> bin_counts(std::span<const double> values, std::span<const double> inner_edges) {
  std::vector<double> counts(inner_edges.size() + 1, 0.0);
  for (double value : values) {
    const auto bin = std::upper_bound(inner_edges.begin(), inner_edges.end(), value) - inner_edges.begin();
    counts[std::size_t(bin)] += 1;
  }
  return counts;
}

double kolmogorov_survival(double lambda) {
  if (lambda <= 0) return 1.0;
  if (lambda < 0.2) return 1.0;  // the series converges slowly here; Q is 1 to double precision
  double sum = 0;
  for (int k = 1; k < 200; ++k) {
    const double term = std::exp(-2.0 * k * k * lambda * lambda);
    sum += (k % 2 == 1 ? term : -term);
    if (term < 1e-18) break;
  }
  return std::clamp(2.0 * sum, 0.0, 1.0);
}

KsResult ks_two_sample(std::vector<double> a, std::vector<double> b) {
  KsResult result;
  if (a.empty() || b.empty()) return result;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  const double n = double(a.size()), m = double(b.size());
  std::size_t i = 0, j = 0;
  double d = 0;
  // Walk both samples in value order; ties advance together.
  while (i < a.size() && j < b.size()) {
    const double value = std::min(a[i], b[j]);
    while (i < a.size() && a[i] == value) ++i;
    while (j < b.size() && b[j] == value) ++j;
    d = std::max(d, std::fabs(double(i) / n - double(j) / m));
  }
  result.statistic = d;
  result.p_value = kolmogorov_survival(std::sqrt(n * m / (n + m)) * d);
  return result;
}

double chi_square_survival(double x, int dof) {
  if (dof <= 0) return 1.0;
  return std::clamp(gamma_q(dof / 2.0, x / 2.0), 0.0, 1.0);
}

ChiSquareResult chi_square_homogeneity(std::span<const double> a_counts, std::span<const double> b_counts) {
  ChiSquareResult result;
  const double a_total = total(a_counts), b_total = total(b_counts), grand = a_total + b_total;
  if (a_total <= 0 || b_total <= 0) return result;
  int categories = 0;
  for (std::size_t k = 0; k < a_counts.size() && k < b_counts.size(); ++k) {
    const double column = a_counts[k] + b_counts[k];
    if (column <= 0) continue;
    ++categories;
    const double expected_a = a_total * column / grand, expected_b = b_total * column / grand;
    result.statistic += (a_counts[k] - expected_a) * (a_counts[k] - expected_a) / expected_a;
    result.statistic += (b_counts[k] - expected_b) * (b_counts[k] - expected_b) / expected_b;
  }
  result.degrees_of_freedom = std::max(0, categories - 1);
  result.p_value = chi_square_survival(result.statistic, result.degrees_of_freedom);
  return result;
}

}  // namespace mlctl::monitoring
