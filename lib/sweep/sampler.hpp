#pragma once

// Samplers propose the next point of a sweep in the unit cube of its search
// space (see search_space.hpp); the caller turns points into values.
//
// Reproducibility: a sampler draws the randomness of trial i from its seed
// and i alone, so a seeded sweep gives the same points whatever the timing,
// and a resumed sweep continues as if it had never stopped. Model-based
// proposals also depend on the history, which is the same for the same
// seed whenever trials run one at a time.

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <mlctl/sweep/search_space.hpp>

namespace mlctl::sweep {

// What a sampler knows of one trial.
struct TrialPoint {
  std::vector<double> point;    // unit coordinates, one per parameter
  std::optional<double> loss;   // the objective as a value to minimise; none while pending or when failed
  bool pending = false;         // still running: its point is taken, its loss unknown
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  // The point of trial `index` (0-based) given the trials so far, or
  // nullopt when the sampler has nothing left to propose (grid exhausted).
  // Not thread-safe; the history is not kept between calls, though a
  // sampler may cache what it learnt from it (model hyperparameters).
  virtual std::optional<std::vector<double>> propose(std::uint64_t index, const std::vector<TrialPoint>& history) = 0;
};

// Every combination of the choice values, in order, the last parameter
// varying fastest. Throws Error(invalid_argument) naming the first
// parameter that is not a choice.
std::unique_ptr<Sampler> make_grid_sampler(const SearchSpace& space);
// Independent uniform points.
std::unique_ptr<Sampler> make_random_sampler(const SearchSpace& space, std::uint64_t seed);

struct BayesianOptions {
  // Trials proposed by a Latin hypercube before the model takes over;
  // 0: chosen from the number of parameters.
  std::uint64_t initial_trials = 0;
  // The model is fitted on at most this many trials: the best half and
  // the most recent half, which keeps a proposal cheap with long histories.
  std::size_t max_model_trials = 48;
};

// A Gaussian-process sampler with expected improvement; see
// docs/sweeps.md for how it works. Handles every distribution: continuous
// coordinates as they are, integers and quantised values snapped, ordered
// numeric choices as one coordinate, other choices one-hot.
std::unique_ptr<Sampler> make_bayesian_sampler(const SearchSpace& space, std::uint64_t seed,
                                               const BayesianOptions& options = {});

// The random source of one trial: splitmix64 over (seed, index, stream).
class TrialRandom {
 public:
  TrialRandom(std::uint64_t seed, std::uint64_t index, std::uint64_t stream = 0);
  std::uint64_t next() noexcept;
  // Uniform in [0, 1).
  double uniform() noexcept;
  // Standard normal (Box-Muller).
  double normal() noexcept;

 private:
  std::uint64_t m_state;
};

}  // namespace mlctl::sweep
