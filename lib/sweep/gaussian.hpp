#pragma once

// The standard normal distribution's density, CDF and quantile function,
// shared by the search space (normal parameters) and the Bayesian sampler
// (expected improvement). Pure, thread-safe, never throw.

namespace mlctl::sweep {

double normal_pdf(double z) noexcept;
double normal_cdf(double z) noexcept;
// The inverse CDF for p in (0, 1), accurate to about 1e-9 (Acklam's
// rational approximation with one Halley refinement step); p is clamped to
// [1e-12, 1 - 1e-12].
double normal_quantile(double p) noexcept;

}  // namespace mlctl::sweep
