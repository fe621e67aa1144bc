// The Bayesian sampler: a Gaussian process over the unit cube with
// expected improvement, in four steps per proposal.
//
//  1. The first trials (a Latin hypercube, seeded) spread over the space.
//  2. Observed losses are standardised (z-scores), so the model's prior
//     fits any metric's scale.
//  3. A GP with a Matern-5/2 kernel, one length scale per feature, is fitted
//     by maximising the marginal likelihood (plus weak log-normal priors)
//     with a coordinate search in log space, warm-started from the last fit.
//     Trials still running enter with the best score seen ("constant
//     liar"), so parallel trials spread out instead of piling up.
//  4. Expected improvement is maximised over random candidates, candidates
//     near the best trials, and a local refinement of the most promising,
//     every candidate snapped to a value the space can take.
#include <mlctl/sweep/sampler.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <mlctl/sweep/gaussian.hpp>

namespace mlctl::sweep {
namespace {

constexpr double k_sqrt5 = 2.23606797749979;
constexpr double k_log_2pi = 1.8378770664093453;

// Where each parameter's features start in a model input row.
struct Encoding {
  std::vector<std::size_t> offset;
  std::vector<std::size_t> one_hot;  // choice count for one-hot parameters, 0 otherwise
  std::size_t width = 0;

  explicit Encoding(const SearchSpace& space) {
    for (const auto& p : space.parameters) {
      offset.push_back(width);
      bool categorical = p.distribution == Distribution::choice && !p.is_ordered_choice() && p.values.size() > 2;
      one_hot.push_back(categorical ? p.values.size() : 0);
      width += categorical ? p.values.size() : 1;
    }
  }

  void encode(const std::vector<double>& point, double* row) const {
    for (std::size_t i = 0; i < point.size(); ++i) {
      if (one_hot[i] == 0) {
        row[offset[i]] = point[i];
        continue;
      }
      std::size_t count = one_hot[i];
      std::size_t index = std::min(count - 1, std::size_t(point[i] * double(count)));
      for (std::size_t k = 0; k < count; ++k) row[offset[i] + k] = k == index ? 1.0 : 0.0;
    }
  }
};

// Log-space hyperparameters: one length scale per feature, signal and
// noise variance.
struct Hyper {
  std::vector<double> log_length;
  double log_signal = 0;
  double log_noise = std::log(1e-3);
};

double clamp_coordinate(std::size_t i, std::size_t width, double value) {
  if (i < width) return std::clamp(value, std::log(0.01), std::log(20.0));
  if (i == width) return std::clamp(value, std::log(0.05), std::log(20.0));
  return std::clamp(value, std::log(1e-6), std::log(1.0));
}

double& coordinate(Hyper& h, std::size_t i) {
  if (i < h.log_length.size()) return h.log_length[i];
  return i == h.log_length.size() ? h.log_signal : h.log_noise;
}

double log_prior(const Hyper& h) {
  double lp = 0;
  for (double l : h.log_length) lp -= 0.5 * std::pow((l - std::log(0.5)) / 1.5, 2);
  lp -= 0.5 * std::pow(h.log_signal / 1.5, 2);
  lp -= 0.5 * std::pow((h.log_noise - std::log(1e-3)) / 3.0, 2);
  return lp;
}

class GaussianProcess {
 public:
  GaussianProcess(std::vector<double> x, std::vector<double> y, std::size_t width)
      : m_x(std::move(x)), m_y(std::move(y)), m_width(width), m_n(m_y.size()) {}

  // Factorises the kernel matrix for `hyper`; false when it is not
  // positive definite. Afterwards log_likelihood() and predict() apply.
  bool fit(const Hyper& hyper) {
    m_hyper = hyper;
    m_inverse_length.resize(m_width);
    for (std::size_t d = 0; d < m_width; ++d) m_inverse_length[d] = std::exp(-hyper.log_length[d]);
    m_signal = std::exp(hyper.log_signal);
    m_scaled.resize(m_n * m_width);
    for (std::size_t i = 0; i < m_n; ++i) {
      for (std::size_t d = 0; d < m_width; ++d) m_scaled[i * m_width + d] = m_x[i * m_width + d] * m_inverse_length[d];
    }
    m_chol.assign(m_n * m_n, 0.0);
    double noise = std::exp(hyper.log_noise) + 1e-8;
    for (std::size_t i = 0; i < m_n; ++i) {
      for (std::size_t j = 0; j < i; ++j) m_chol[i * m_n + j] = kernel_scaled(&m_scaled[i * m_width], &m_scaled[j * m_width]);
      m_chol[i * m_n + i] = m_signal + noise;
    }
    // In-place Cholesky of the lower triangle.
    for (std::size_t j = 0; j < m_n; ++j) {
      double* row_j = &m_chol[j * m_n];
      double diagonal = row_j[j];
      for (std::size_t k = 0; k < j; ++k) diagonal -= row_j[k] * row_j[k];
      if (diagonal <= 0) return false;
      double pivot = std::sqrt(diagonal);
      row_j[j] = pivot;
      for (std::size_t i = j + 1; i < m_n; ++i) {
        double* row_i = &m_chol[i * m_n];
        double sum = row_i[j];
        for (std::size_t k = 0; k < j; ++k) sum -= row_i[k] * row_j[k];
        row_i[j] = sum / pivot;
      }
    }
    m_alpha = m_y;
    solve_lower(m_alpha.data());
    m_log_det_half = 0;
    for (std::size_t i = 0; i < m_n; ++i) m_log_det_half += std::log(m_chol[i * m_n + i]);
    m_fit_quality = 0;
    for (double a : m_alpha) m_fit_quality += a * a;
    solve_upper(m_alpha.data());
    return true;
  }

  double log_likelihood() const { return -0.5 * m_fit_quality - m_log_det_half - 0.5 * double(m_n) * k_log_2pi; }

  // Posterior mean and standard deviation at one encoded row.
  void predict(const double* row, double& mean, double& deviation, std::vector<double>& scratch) const {
    scratch.resize(m_n + m_width);
    double* scaled = scratch.data() + m_n;
    for (std::size_t d = 0; d < m_width; ++d) scaled[d] = row[d] * m_inverse_length[d];
    mean = 0;
    for (std::size_t i = 0; i < m_n; ++i) {
      scratch[i] = kernel_scaled(scaled, &m_scaled[i * m_width]);
      mean += scratch[i] * m_alpha[i];
    }
    solve_lower(scratch.data());
    double explained = 0;
    for (std::size_t i = 0; i < m_n; ++i) explained += scratch[i] * scratch[i];
    deviation = std::sqrt(std::max(m_signal - explained, 1e-12));
  }

 private:
  double kernel_scaled(const double* a, const double* b) const {
    double squared = 0;
    for (std::size_t d = 0; d < m_width; ++d) {
      double diff = a[d] - b[d];
      squared += diff * diff;
    }
    double r = k_sqrt5 * std::sqrt(squared);
    return m_signal * (1 + r + r * r / 3) * std::exp(-r);
  }

  void solve_lower(double* v) const {
    for (std::size_t i = 0; i < m_n; ++i) {
      const double* row = &m_chol[i * m_n];
      double sum = v[i];
      for (std::size_t k = 0; k < i; ++k) sum -= row[k] * v[k];
      v[i] = sum / row[i];
    }
  }

  void solve_upper(double* v) const {
    for (std::size_t i = m_n; i-- > 0;) {
      double sum = v[i];
      for (std::size_t k = i + 1; k < m_n; ++k) sum -= m_chol[k * m_n + i] * v[k];
      v[i] = sum / m_chol[i * m_n + i];
    }
  }

  std::vector<double> m_x, m_y;
  std::size_t m_width, m_n;
  Hyper m_hyper;
  std::vector<double> m_inverse_length, m_scaled, m_chol, m_alpha;
  double m_signal = 1, m_log_det_half = 0, m_fit_quality = 0;
};

// Losses as z-scores: the model's prior mean is the average trial and its
// signal variance about one.
std::vector<double> standardized(const std::vector<double>& values) {
  double mean = std::accumulate(values.begin(), values.end(), 0.0) / double(values.size());
  double variance = 0;
  for (double value : values) variance += (value - mean) * (value - mean);
  double deviation = std::sqrt(variance / double(values.size()));
  if (!(deviation > 1e-12)) deviation = 1;  // all equal: any scale will do
  std::vector<double> scores;
  for (double value : values) scores.push_back((value - mean) / deviation);
  return scores;
}

double expected_improvement(double best, double mean, double deviation) {
  double gap = best - mean;
  double z = gap / deviation;
  return gap * normal_cdf(z) + deviation * normal_pdf(z);
}

class BayesianSampler : public Sampler {
 public:
  BayesianSampler(const SearchSpace& space, std::uint64_t seed, const BayesianOptions& options)
      : m_space(space), m_seed(seed), m_options(options), m_encoding(space) {
    if (m_options.initial_trials == 0) {
      m_options.initial_trials = std::clamp<std::uint64_t>(2 * space.parameters.size() + 2, 5, 12);
    }
  }

  std::optional<std::vector<double>> propose(std::uint64_t index, const std::vector<TrialPoint>& history) override {
    std::size_t observed = std::count_if(history.begin(), history.end(), [](const TrialPoint& t) { return t.loss.has_value(); });
    if (index < m_options.initial_trials || observed < 2) return latin_hypercube(index);
    return model_proposal(index, history);
  }

 private:
  // Point `index` of a Latin hypercube of initial_trials points: each
  // coordinate's strata permuted by the seed, jittered within the stratum.
  std::vector<double> latin_hypercube(std::uint64_t index) const {
    std::uint64_t count = m_options.initial_trials;
    std::vector<double> point(m_space.parameters.size());
    TrialRandom jitter(m_seed, index, 1);
    for (std::size_t d = 0; d < point.size(); ++d) {
      // A seeded Fisher-Yates shuffle of the strata, the same for every index.
      TrialRandom shuffle(m_seed, d, 2);
      std::vector<std::uint64_t> strata(count);
      std::iota(strata.begin(), strata.end(), 0);
      for (std::uint64_t i = count; i > 1; --i) std::swap(strata[i - 1], strata[shuffle.next() % i]);
      double u = index < count ? (double(strata[index]) + jitter.uniform()) / double(count) : jitter.uniform();
      point[d] = m_space.parameters[d].snap(u);
    }
    return point;
  }

  std::vector<double> model_proposal(std::uint64_t index, const std::vector<TrialPoint>& history) {
    // The trials the model sees: observed and pending ones, at most
    // max_model_trials of them (the best half, then the most recent).
    std::vector<std::size_t> observed_ids, pending_ids;
    for (std::size_t i = 0; i < history.size(); ++i) {
      if (history[i].loss) observed_ids.push_back(i);
      else if (history[i].pending) pending_ids.push_back(i);
    }
    std::size_t limit = std::max<std::size_t>(m_options.max_model_trials, 8);
    if (pending_ids.size() > limit / 4) pending_ids.erase(pending_ids.begin(), pending_ids.end() - std::ptrdiff_t(limit / 4));
    std::size_t observed_limit = limit - pending_ids.size();
    if (observed_ids.size() > observed_limit) {
      std::vector<std::size_t> by_loss = observed_ids;
      std::stable_sort(by_loss.begin(), by_loss.end(),
                       [&](std::size_t a, std::size_t b) { return *history[a].loss < *history[b].loss; });
      std::vector<bool> keep(history.size(), false);
      for (std::size_t k = 0; k < observed_limit / 2; ++k) keep[by_loss[k]] = true;
      std::size_t kept = observed_limit / 2;
      for (std::size_t k = observed_ids.size(); k-- > 0 && kept < observed_limit;) {
        if (!keep[observed_ids[k]]) {
          keep[observed_ids[k]] = true;
          ++kept;
        }
      }
      std::vector<std::size_t> chosen;
      for (std::size_t id : observed_ids) {
        if (keep[id]) chosen.push_back(id);
      }
      observed_ids = std::move(chosen);
    }

    std::vector<double> losses;
    for (std::size_t id : observed_ids) losses.push_back(*history[id].loss);
    std::vector<double> y = standardized(losses);
    double best = *std::min_element(y.begin(), y.end());
    std::size_t width = m_encoding.width;
    std::vector<double> x((observed_ids.size() + pending_ids.size()) * width);
    std::size_t row = 0;
    for (std::size_t id : observed_ids) m_encoding.encode(history[id].point, &x[row++ * width]);
    for (std::size_t id : pending_ids) {
      m_encoding.encode(history[id].point, &x[row++ * width]);
      y.push_back(best);
    }
    GaussianProcess gp(std::move(x), y, width);
    // Past max_model_trials the model's trials change little from one
    // proposal to the next: refitting the hyperparameters every fourth
    // trial keeps the cost of a proposal flat.
    bool full_model = observed_ids.size() + pending_ids.size() >= limit;
    fit_hyperparameters(gp, width, !full_model || index % 4 == 0, full_model);

    // Candidates: uniform ones, ones near the best trials, then a local
    // search from the best few.
    TrialRandom random(m_seed, index, 3);
    std::vector<double> scratch, encoded(width);
    auto score = [&](const std::vector<double>& point) {
      m_encoding.encode(point, encoded.data());
      double mean = 0, deviation = 1;
      gp.predict(encoded.data(), mean, deviation, scratch);
      return expected_improvement(best, mean, deviation);
    };
    std::size_t dims = m_space.parameters.size();
    auto snapped = [&](std::vector<double> point) {
      for (std::size_t d = 0; d < dims; ++d) point[d] = m_space.parameters[d].snap(std::clamp(point[d], 0.0, 1.0));
      return point;
    };
    struct Candidate {
      double score;
      std::vector<double> point;
    };
    std::vector<Candidate> top;  // the best few, best first
    // The points of running trials are taken. The liar leaves them a little
    // uncertainty, and on a small discrete space that can still be the best
    // expected improvement, which would run the same values twice.
    std::vector<const std::vector<double>*> taken;
    for (const auto& trial : history) {
      if (trial.pending) taken.push_back(&trial.point);
    }
    auto is_taken = [&](const std::vector<double>& point) {
      return std::any_of(taken.begin(), taken.end(), [&](const std::vector<double>* t) { return *t == point; });
    };
    auto consider = [&](std::vector<double> point) {
      if (is_taken(point)) return;
      double value = score(point);
      if (top.size() < 4 || value > top.back().score) {
        top.push_back({value, std::move(point)});
        std::sort(top.begin(), top.end(), [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
        if (top.size() > 4) top.pop_back();
      }
    };
    std::vector<double> point(dims);
    for (int k = 0; k < 256; ++k) {
      for (std::size_t d = 0; d < dims; ++d) point[d] = random.uniform();
      consider(snapped(point));
    }
    std::vector<std::size_t> by_loss(observed_ids.size());
    std::iota(by_loss.begin(), by_loss.end(), 0);
    std::sort(by_loss.begin(), by_loss.end(), [&](std::size_t a, std::size_t b) { return losses[a] < losses[b]; });
    for (std::size_t b = 0; b < std::min<std::size_t>(5, by_loss.size()); ++b) {
      const auto& centre = history[observed_ids[by_loss[b]]].point;
      for (int k = 0; k < 32; ++k) {
        double scale = 0.2 * std::pow(0.5, k % 4);
        for (std::size_t d = 0; d < dims; ++d) point[d] = centre[d] + scale * random.normal();
        consider(snapped(point));
      }
    }
    std::vector<Candidate> starts = top;
    for (const auto& start : starts) {
      Candidate current = start;
      double scale = 0.05;
      for (int k = 0; k < 16; ++k) {
        for (std::size_t d = 0; d < dims; ++d) point[d] = current.point[d] + scale * random.normal();
        std::vector<double> moved = snapped(point);
        double value = score(moved);
        if (value > current.score) {
          current = {value, std::move(moved)};
        } else if (k % 4 == 3) {
          scale *= 0.5;
        }
      }
      consider(current.point);
    }
    if (top.empty()) return latin_hypercube(index);  // every candidate is taken: any point will do
    return top.front().point;
  }

  void fit_hyperparameters(GaussianProcess& gp, std::size_t width, bool refit, bool refit_light) {
    auto objective = [&](const Hyper& h) {
      return gp.fit(h) ? gp.log_likelihood() + log_prior(h) : -std::numeric_limits<double>::infinity();
    };
    Hyper current;
    std::vector<double> steps;
    if (m_last_fit.log_length.size() == width) {
      current = m_last_fit;
      if (!refit && gp.fit(current)) return;
      // Past max_model_trials (refit every fourth trial) one fine pass
      // keeps even a refitting proposal within a couple of milliseconds.
      steps = refit_light ? std::vector<double>{0.25} : std::vector<double>{0.5, 0.2};
    } else {
      current.log_length.assign(width, 0);
      double best_value = -std::numeric_limits<double>::infinity();
      for (double length : {0.1, 0.3, 1.0}) {
        Hyper candidate = current;
        candidate.log_length.assign(width, std::log(length));
        double value = objective(candidate);
        if (value > best_value) best_value = value, current = candidate;
      }
      steps = {1.0, 0.5, 0.2};
    }
    double current_value = objective(current);
    std::size_t coordinates = width + 2;
    for (double step : steps) {
      for (std::size_t i = 0; i < coordinates; ++i) {
        for (double direction : {step, -step}) {
          Hyper candidate = current;
          double& c = coordinate(candidate, i);
          c = clamp_coordinate(i, width, c + direction);
          if (c == coordinate(current, i)) continue;
          double value = objective(candidate);
          if (value > current_value) {
            current = std::move(candidate);
            current_value = value;
            break;
          }
        }
      }
    }
    if (!gp.fit(current)) {
      current.log_noise = std::log(1e-2);
      gp.fit(current);
    }
    m_last_fit = current;
  }

  SearchSpace m_space;
  std::uint64_t m_seed;
  BayesianOptions m_options;
  Encoding m_encoding;
  Hyper m_last_fit;
};

}  // namespace

std::unique_ptr<Sampler> make_bayesian_sampler(const SearchSpace& space, std::uint64_t seed,
                                               const BayesianOptions& options) {
  return std::make_unique<BayesianSampler>(space, seed, options);
}

}  // namespace mlctl::sweep
