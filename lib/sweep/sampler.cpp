#include <mlctl/sweep/sampler.hpp>

#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include <mlctl/core/error.hpp>

namespace mlctl::sweep {
namespace {

std::uint64_t splitmix(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class GridSampler : public Sampler {
 public:
  explicit GridSampler(const SearchSpace& space) : m_space(space) {}

  std::optional<std::vector<double>> propose(std::uint64_t index, const std::vector<TrialPoint>&) override {
    if (index >= m_space.grid_size()) return std::nullopt;
    std::vector<double> point(m_space.parameters.size());
    for (std::size_t i = m_space.parameters.size(); i-- > 0;) {
      std::uint64_t count = m_space.parameters[i].choice_count();
      point[i] = (double(index % count) + 0.5) / double(count);
      index /= count;
    }
    return point;
  }

 private:
  SearchSpace m_space;
};

class RandomSampler : public Sampler {
 public:
  RandomSampler(const SearchSpace& space, std::uint64_t seed) : m_space(space), m_seed(seed) {}

  std::optional<std::vector<double>> propose(std::uint64_t index, const std::vector<TrialPoint>&) override {
    TrialRandom random(m_seed, index);
    std::vector<double> point(m_space.parameters.size());
    for (std::size_t i = 0; i < point.size(); ++i) point[i] = m_space.parameters[i].snap(random.uniform());
    return point;
  }

 private:
  SearchSpace m_space;
  std::uint64_t m_seed;
};

}  // namespace

TrialRandom::TrialRandom(std::uint64_t seed, std::uint64_t index, std::uint64_t stream) {
  // Each input goes through a full mixing round, so neighbouring seeds,
  // indices and streams give unrelated sequences.
  std::uint64_t state = seed;
  state = splitmix(state) + index;
  state = splitmix(state) + stream;
  m_state = splitmix(state);
}

std::uint64_t TrialRandom::next() noexcept { return splitmix(m_state); }

double TrialRandom::uniform() noexcept { return double(next() >> 11) * 0x1.0p-53; }

double TrialRandom::normal() noexcept {
  double u1 = uniform(), u2 = uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
}

std::unique_ptr<Sampler> make_grid_sampler(const SearchSpace& space) {
  for (const auto& p : space.parameters) {
    if (p.distribution != Distribution::choice) {
      throw Error(ErrorKind::invalid_argument,
                  fmt::format("grid sampling needs every parameter to be a choice; search_space.{} is {}", p.name,
                              to_string(p.distribution)),
                  "use sampling_algorithm: random or bayesian, or give the parameter as {type: choice, values: [...]}");
    }
  }
  return std::make_unique<GridSampler>(space);
}

std::unique_ptr<Sampler> make_random_sampler(const SearchSpace& space, std::uint64_t seed) {
  return std::make_unique<RandomSampler>(space, seed);
}

}  // namespace mlctl::sweep
