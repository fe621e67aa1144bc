// Quality and cost of mlctl's samplers on standard test functions, run in
// process (no trial processes): see README.md and bench_sweep.py, which
// runs Optuna on the same functions side by side.
//
//   mlctl_sampler_bench quality FUNCTION SAMPLER SEED TRIALS
//     prints the best value after each trial, one per line
//   mlctl_sampler_bench cost TRIALS
//     prints the proposal time of each trial in ms (bayesian, Hartmann6)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numbers>
#include <string>
#include <string_view>

#include <mlctl/core/error.hpp>
#include <mlctl/sweep/sampler.hpp>
#include <mlctl/sweep/search_space.hpp>

namespace {

using mlctl::sweep::Distribution;
using mlctl::sweep::Parameter;
using mlctl::sweep::SearchSpace;

double branin(const std::vector<double>& x) {
  constexpr double pi = std::numbers::pi;
  double a = 1, b = 5.1 / (4 * pi * pi), c = 5 / pi, r = 6, s = 10, t = 1 / (8 * pi);
  return a * std::pow(x[1] - b * x[0] * x[0] + c * x[0] - r, 2) + s * (1 - t) * std::cos(x[0]) + s;
}

double hartmann6(const std::vector<double>& x) {
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                 {0.05, 10, 17, 0.1, 8, 14},
                                 {3, 3.5, 1.7, 10, 17, 8},
                                 {17, 8, 0.05, 10, 0.1, 14}};
  static const double P[4][6] = {{1312, 1696, 5569, 124, 8283, 5886},
                                 {2329, 4135, 8307, 3736, 1004, 9991},
                                 {2348, 1451, 3522, 2883, 3047, 6650},
                                 {4047, 8828, 8732, 5743, 1091, 381}};
  double total = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < 6; ++j) inner += A[i][j] * std::pow(x[j] - P[i][j] * 1e-4, 2);
    total -= alpha[i] * std::exp(-inner);
  }
  return total;
}

Parameter uniform(std::string name, double low, double high) {
  Parameter p;
  p.name = std::move(name);
  p.distribution = Distribution::uniform;
  p.low = low;
  p.high = high;
  return p;
}

SearchSpace space_of(std::string_view function) {
  SearchSpace space;
  if (function == "branin") {
    space.parameters = {uniform("x1", -5, 10), uniform("x2", 0, 15)};
  } else {
    for (int i = 0; i < 6; ++i) space.parameters.push_back(uniform("x" + std::to_string(i + 1), 0, 1));
  }
  return space;
}

std::unique_ptr<mlctl::sweep::Sampler> sampler_of(std::string_view name, const SearchSpace& space,
                                                  std::uint64_t seed) {
  if (name == "random") return mlctl::sweep::make_random_sampler(space, seed);
  return mlctl::sweep::make_bayesian_sampler(space, seed);
}

double evaluate(std::string_view function, const SearchSpace& space, const std::vector<double>& point) {
  std::vector<double> x;
  for (std::size_t i = 0; i < point.size(); ++i) x.push_back(space.parameters[i].value_at(point[i]).get<double>());
  return function == "branin" ? branin(x) : hartmann6(x);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "quality" && argc == 6) {
      std::string function = argv[2];
      SearchSpace space = space_of(function);
      auto sampler = sampler_of(argv[3], space, std::strtoull(argv[4], nullptr, 10));
      int trials = std::atoi(argv[5]);
      std::vector<mlctl::sweep::TrialPoint> history;
      double best = INFINITY;
      for (int i = 0; i < trials; ++i) {
        auto point = sampler->propose(std::uint64_t(i), history);
        double loss = evaluate(function, space, *point);
        best = std::min(best, loss);
        history.push_back({*point, loss, false});
        std::printf("%.6f\n", best);
      }
      return 0;
    }
    if (mode == "cost" && argc == 3) {
      SearchSpace space = space_of("hartmann6");
      auto sampler = sampler_of("bayesian", space, 1);
      int trials = std::atoi(argv[2]);
      std::vector<mlctl::sweep::TrialPoint> history;
      for (int i = 0; i < trials; ++i) {
        auto started = std::chrono::steady_clock::now();
        auto point = sampler->propose(std::uint64_t(i), history);
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
        history.push_back({*point, evaluate("hartmann6", space, *point), false});
        std::printf("%.4f\n", ms);
      }
      return 0;
    }
    std::fprintf(stderr, "usage: mlctl_sampler_bench quality branin|hartmann6 random|bayesian SEED TRIALS\n"
                         "       mlctl_sampler_bench cost TRIALS\n");
    return 2;
  } catch (const mlctl::Error& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}
