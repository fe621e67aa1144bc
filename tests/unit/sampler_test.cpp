#include <mlctl/sweep/sampler.hpp>

#include <mlctl/core/error.hpp>
#include <mlctl/core/yaml_overrides.hpp>
#include <mlctl/sweep/search_space.hpp>

#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

using mlctl::ErrorKind;
using mlctl::Json;
using mlctl::sweep::make_bayesian_sampler;
using mlctl::sweep::make_grid_sampler;
using mlctl::sweep::make_random_sampler;
using mlctl::sweep::Sampler;
using mlctl::sweep::SearchSpace;
using mlctl::sweep::TrialPoint;
using Point = std::vector<double>;

namespace {

SearchSpace space_of(const std::string& parameters) {
  const YAML::Node root = mlctl::load_yaml("search_space:\n" + parameters, "sweep.yml");
  return mlctl::sweep::parse_search_space(root["search_space"], "sweep.yml");
}

// x and y in [0, 1]: unit coordinates are the values.
const std::string k_square = "  x: uniform(0, 1)\n  y: uniform(0, 1)\n";

// One of each kind the Bayesian sampler encodes differently: an unordered
// choice (one-hot), an integer, a quantised and a log-scale coordinate.
const std::string k_mixed = R"(  act: choice(relu, gelu, tanh, "silu")
  layers: randint(1, 5)
  batch: quniform(16, 128, 16)
  lr: loguniform(-9.21, -2.30)
)";

double quadratic(const Point& p) { return std::pow(p[0] - 0.3, 2) + std::pow(p[1] - 0.7, 2); }

// Every coordinate in the cube and at a value the parameter can take.
void check_snapped(const SearchSpace& space, const Point& point) {
  REQUIRE(point.size() == space.parameters.size());
  for (std::size_t d = 0; d < point.size(); ++d) {
    INFO(space.parameters[d].name << " at " << point[d]);
    CHECK(point[d] >= 0);
    CHECK(point[d] <= 1);
    CHECK(space.parameters[d].snap(point[d]) == Approx(point[d]).margin(1e-12));
  }
}

// Runs `trials` trials one at a time, each seeing the losses of the ones
// before; returns the history.
std::vector<TrialPoint> run(Sampler& sampler, const std::function<double(const Point&)>& loss, std::size_t trials) {
  std::vector<TrialPoint> history;
  for (std::size_t i = 0; i < trials; ++i) {
    const std::optional<Point> point = sampler.propose(i, history);
    REQUIRE(point);
    history.push_back({*point, loss(*point), false});
  }
  return history;
}

std::vector<Point> points_of(const std::vector<TrialPoint>& history) {
  std::vector<Point> points;
  for (const auto& trial : history) points.push_back(trial.point);
  return points;
}

}  // namespace

TEST_CASE("grid sampler: enumerates every combination once, the last parameter fastest, then stops",
          "[sweep]") {
  const SearchSpace space = space_of("  a: choice(1, 2, 3)\n  b: choice(x, y)\n");
  auto grid = make_grid_sampler(space);
  std::vector<Json> seen;
  for (std::uint64_t i = 0; i < 6; ++i) {
    const auto point = grid->propose(i, {});
    REQUIRE(point);
    check_snapped(space, *point);
    seen.push_back(space.values_at(*point));
  }
  CHECK(seen == std::vector<Json>{
                    {{"a", 1}, {"b", "x"}},
                    {{"a", 1}, {"b", "y"}},
                    {{"a", 2}, {"b", "x"}},
                    {{"a", 2}, {"b", "y"}},
                    {{"a", 3}, {"b", "x"}},
                    {{"a", 3}, {"b", "y"}},
                });
  CHECK_FALSE(grid->propose(6, {}));
  CHECK_FALSE(grid->propose(100, {}));
}

TEST_CASE("grid sampler: covers a larger product exactly once", "[sweep]") {
  const SearchSpace space = space_of("  a: choice(1, 2, 3, 4)\n  b: choice(x, y, z)\n  c: choice(true, false)\n");
  auto grid = make_grid_sampler(space);
  std::set<std::string> seen;
  std::uint64_t count = 0;
  while (const auto point = grid->propose(count, {})) {
    seen.insert(space.values_at(*point).dump());
    ++count;
  }
  CHECK(count == 24);
  CHECK(seen.size() == 24);
}

TEST_CASE("grid sampler: rejects a parameter that is not a choice, by name", "[sweep]") {
  const SearchSpace space = space_of("  a: choice(1, 2)\n  lr: uniform(0.01, 0.1)\n  n: randint(3)\n");
  try {
    make_grid_sampler(space);
    FAIL("expected mlctl::Error");
  } catch (const mlctl::Error& error) {
    CHECK(error.kind() == ErrorKind::invalid_argument);
    CHECK(std::string(error.what()) ==
          "grid sampling needs every parameter to be a choice; search_space.lr is uniform");
  }
}

TEST_CASE("random sampler: the same seed gives the same points, another seed others", "[sweep]") {
  const SearchSpace space = space_of(k_mixed);
  auto first = make_random_sampler(space, 11);
  auto again = make_random_sampler(space, 11);
  auto other = make_random_sampler(space, 12);
  std::vector<Point> a, b, c;
  for (std::uint64_t i = 0; i < 50; ++i) {
    a.push_back(*first->propose(i, {}));
    b.push_back(*again->propose(i, {}));
    c.push_back(*other->propose(i, {}));
    check_snapped(space, a.back());
  }
  CHECK(a == b);
  CHECK(a != c);
  // Trial i depends on i alone, not on the calls before it.
  CHECK(*make_random_sampler(space, 11)->propose(37, {}) == a[37]);
}

TEST_CASE("random sampler: points spread over the cube", "[sweep]") {
  auto sampler = make_random_sampler(space_of(k_square), 3);
  int below = 0;
  for (std::uint64_t i = 0; i < 400; ++i) {
    const Point p = *sampler->propose(i, {});
    CHECK(p[0] >= 0);
    CHECK(p[0] <= 1);
    CHECK(p[1] >= 0);
    CHECK(p[1] <= 1);
    if (p[0] < 0.5) ++below;
  }
  CHECK(below > 150);
  CHECK(below < 250);
}

TEST_CASE("bayesian sampler: the same seed and history give the same proposals", "[sweep]") {
  const SearchSpace space = space_of(k_square);
  auto first = make_bayesian_sampler(space, 5);
  auto again = make_bayesian_sampler(space, 5);
  const auto a = points_of(run(*first, quadratic, 20));
  const auto b = points_of(run(*again, quadratic, 20));
  CHECK(a == b);
  auto other = make_bayesian_sampler(space, 6);
  CHECK(points_of(run(*other, quadratic, 20)) != a);
}

TEST_CASE("bayesian sampler: proposes only values a mixed space can take", "[sweep]") {
  const SearchSpace space = space_of(k_mixed);
  // Loss favours gelu, 3 layers, batch 64 and lr near 1e-3.
  auto loss = [&](const Point& p) {
    const Json values = space.values_at(p);
    double total = values["act"] == "gelu" ? 0 : 1;
    total += std::abs(values["layers"].get<double>() - 3);
    total += std::abs(values["batch"].get<double>() - 64) / 64;
    total += std::abs(std::log10(values["lr"].get<double>()) + 3);
    return total;
  };
  auto sampler = make_bayesian_sampler(space, 9);
  const auto history = run(*sampler, loss, 25);
  for (const auto& trial : history) {
    check_snapped(space, trial.point);
    const Json values = space.values_at(trial.point);
    INFO(values.dump());
    CHECK(values["layers"].is_number_integer());
    CHECK(values["batch"].is_number_integer());
    CHECK(values["batch"].get<std::int64_t>() % 16 == 0);
    const double lr = values["lr"].get<double>();
    CHECK(lr >= std::exp(-9.21) * (1 - 1e-12));
    CHECK(lr <= std::exp(-2.30) * (1 + 1e-12));
  }
}

TEST_CASE("bayesian sampler: finds the minimum of a 2-D quadratic within 30 trials", "[sweep]") {
  for (std::uint64_t seed : {1, 2, 3}) {
    INFO("seed " << seed);
    auto sampler = make_bayesian_sampler(space_of(k_square), seed);
    const auto history = run(*sampler, quadratic, 30);
    double best = 1e9;
    for (const auto& trial : history) best = std::min(best, *trial.loss);
    CHECK(best < 0.05);
  }
}

TEST_CASE("bayesian sampler: does not propose a pending point again", "[sweep]") {
  // 60 points: with eight trials running, the model's best guess is often
  // one of them.
  const std::string discrete = "  a: choice(1, 2, 3, 4, 5)\n  b: choice(10, 20, 30, 40)\n  c: choice(x, y, z)\n";
  for (const std::string& parameters : {k_square, k_mixed, discrete}) {
    INFO(parameters);
    const SearchSpace space = space_of(parameters);
    auto sampler = make_bayesian_sampler(space, 4);
    // Ten finished trials, then fifteen proposed while all earlier ones are
    // still running.
    auto loss = [](const Point& p) {
      double total = 0;
      for (double u : p) total += (u - 0.4) * (u - 0.4);
      return total;
    };
    std::vector<TrialPoint> history = run(*sampler, loss, 10);
    for (std::uint64_t i = 10; i < 25; ++i) {
      const auto point = sampler->propose(i, history);
      REQUIRE(point);
      for (const auto& trial : history) {
        if (trial.pending) CHECK(trial.point != *point);
      }
      history.push_back({*point, std::nullopt, true});
    }
  }
}

TEST_CASE("bayesian sampler: still proposes a point when every point is taken", "[sweep]") {
  const SearchSpace space = space_of("  a: choice(1, 2)\n  b: choice(x, y)\n");
  mlctl::sweep::BayesianOptions options;
  options.initial_trials = 2;
  auto sampler = make_bayesian_sampler(space, 1, options);
  std::vector<TrialPoint> history = {{{0.25, 0.25}, 1.0, false}, {{0.75, 0.75}, 2.0, false}};
  for (double a : {0.25, 0.75}) {
    for (double b : {0.25, 0.75}) history.push_back({{a, b}, std::nullopt, true});
  }
  const auto point = sampler->propose(6, history);
  REQUIRE(point);
  check_snapped(space, *point);
}
