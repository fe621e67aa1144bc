#include <mlctl/sweep/search_space.hpp>

#include <mlctl/core/error.hpp>
#include <mlctl/core/yaml_overrides.hpp>
#include <mlctl/sweep/sampler.hpp>

#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

using mlctl::ErrorKind;
using mlctl::Json;
using mlctl::sweep::Distribution;
using mlctl::sweep::parse_compact_parameter;
using mlctl::sweep::parse_search_space;
using mlctl::sweep::Parameter;
using mlctl::sweep::SearchSpace;
using mlctl::sweep::TrialRandom;

namespace {

// Parses the `search_space` key of a sweep file named sweep.yml.
SearchSpace parse(const std::string& text) {
  const YAML::Node root = mlctl::load_yaml(text, "sweep.yml");
  return parse_search_space(root["search_space"], "sweep.yml");
}

// One parameter, given as the text after `search_space:\n  p: `.
Parameter parameter(const std::string& spec) {
  const SearchSpace space = parse("search_space:\n  p: " + spec + "\n");
  REQUIRE(space.parameters.size() == 1);
  return space.parameters.front();
}

std::string parse_error(const std::string& text) {
  try {
    parse(text);
  } catch (const mlctl::Error& error) {
    CHECK(error.kind() == ErrorKind::invalid_argument);
    return error.what();
  }
  FAIL("expected mlctl::Error for:\n" << text);
  return {};
}

// The edges, the middle, and 500 seeded draws.
std::vector<double> unit_samples() {
  std::vector<double> u = {0.0, 1e-12, 0.5, 1 - 1e-12, 1.0};
  for (std::uint64_t i = 0; i < 500; ++i) u.push_back(TrialRandom(7, i).uniform());
  return u;
}

// value / q is a whole number, to 1e-9 relative.
bool is_multiple(double value, double q) {
  double steps = value / q;
  return std::abs(steps - std::round(steps)) <= 1e-9 * std::max(1.0, std::abs(steps));
}

double number(const Json& value) {
  REQUIRE(value.is_number());
  return value.get<double>();
}

const std::string k_expected_types =
    "choice, randint, uniform, quniform, loguniform, qloguniform, normal, qnormal, lognormal, qlognormal";

}  // namespace

TEST_CASE("search space: choice gives only its values, each for an equal share of the cube", "[sweep]") {
  const Parameter p = parameter("{type: choice, values: [16, 32, 64, \"wide\"]}");
  CHECK(p.distribution == Distribution::choice);
  CHECK(p.choice_count() == 4);
  std::set<std::string> seen;
  for (double u : unit_samples()) {
    const Json value = p.value_at(u);
    CHECK(std::find(p.values.begin(), p.values.end(), value) != p.values.end());
    seen.insert(value.dump());
  }
  CHECK(seen == std::set<std::string>{"16", "32", "64", "\"wide\""});
  CHECK(p.value_at(0.24) == Json(16));
  CHECK(p.value_at(0.26) == Json(32));
  CHECK(p.value_at(1.0) == Json("wide"));
  CHECK(p.unit_of(Json(64)) == 0.625);  // the centre of the third cell
}

TEST_CASE("search space: randint gives integers from lower up to, not including, upper", "[sweep]") {
  const Parameter p = parameter("{type: randint, lower: -2, upper: 3}");
  std::set<std::int64_t> seen;
  for (double u : unit_samples()) {
    const Json value = p.value_at(u);
    REQUIRE(value.is_number_integer());
    const auto x = value.get<std::int64_t>();
    CHECK(x >= -2);
    CHECK(x < 3);
    seen.insert(x);
  }
  CHECK(seen == std::set<std::int64_t>{-2, -1, 0, 1, 2});
  CHECK(parameter("{type: randint, upper: 4}").value_at(1.0) == Json(3));
  CHECK(parameter("{type: randint, upper: 4}").value_at(0.0) == Json(0));
}

TEST_CASE("search space: uniform and loguniform stay within their bounds", "[sweep]") {
  const Parameter uniform = parameter("{type: uniform, min_value: -0.5, max_value: 2}");
  const Parameter log = parameter("{type: loguniform, min_value: -9.21, max_value: -2.30}");
  const double log_low = std::exp(-9.21), log_high = std::exp(-2.30);
  for (double u : unit_samples()) {
    const double x = number(uniform.value_at(u));
    CHECK(x >= -0.5);
    CHECK(x <= 2);
    const double y = number(log.value_at(u));
    CHECK(y >= log_low * (1 - 1e-12));
    CHECK(y <= log_high * (1 + 1e-12));
  }
  CHECK(number(uniform.value_at(0)) == -0.5);
  CHECK(number(uniform.value_at(1)) == 2);
  CHECK(number(log.value_at(0)) == Approx(log_low).epsilon(1e-12));
  CHECK(number(log.value_at(1)) == Approx(log_high).epsilon(1e-12));
  // exp of the midpoint: the geometric mean of the bounds.
  CHECK(number(log.value_at(0.5)) == Approx(std::sqrt(log_low * log_high)).epsilon(1e-12));
  // u outside the cube is clamped.
  CHECK(number(uniform.value_at(-3)) == -0.5);
  CHECK(number(uniform.value_at(7)) == 2);
}

TEST_CASE("search space: quantised distributions give multiples of q", "[sweep]") {
  struct Case {
    std::string spec;
    double q;
    double low, high;  // the range of the quantised values
    bool integers;     // whole q: JSON integers
  };
  const std::vector<Case> cases = {
      // round(uniform / q) * q: the bounds are quantised too.
      {"{type: quniform, min_value: 0.2, max_value: 2.2, q: 0.5}", 0.5, 0.0, 2.0, false},
      {"{type: quniform, min_value: 1, max_value: 10, q: 1}", 1, 1, 10, true},
      {"{type: quniform, min_value: 0.001, max_value: 0.1, q: 0.001}", 0.001, 0.001, 0.1, false},
      {"{type: qloguniform, min_value: 0, max_value: 4.605170185988092, q: 1}", 1, 1, 100, true},
      {"{type: qloguniform, min_value: -6.9, max_value: -2.3, q: 0.005}", 0.005, 0.0, 0.1, false},
      {"{type: qnormal, mu: 10, sigma: 3, q: 2}", 2, -1e9, 1e9, true},
      {"{type: qlognormal, mu: 2, sigma: 0.5, q: 1}", 1, 0, 1e9, true},
  };
  for (const Case& c : cases) {
    INFO(c.spec);
    const Parameter p = parameter(c.spec);
    CHECK(p.q == c.q);
    for (double u : unit_samples()) {
      INFO("u = " << u);
      const Json value = p.value_at(u);
      const double x = number(value);
      CHECK(std::isfinite(x));
      CHECK(is_multiple(x, c.q));
      CHECK(x >= c.low - 1e-12);
      CHECK(x <= c.high + 1e-12);
      if (c.integers) CHECK(value.is_number_integer());
    }
  }
}

TEST_CASE("search space: normal and lognormal have their median at mu and finite edges", "[sweep]") {
  const Parameter normal = parameter("{type: normal, mu: 3, sigma: 2}");
  const Parameter lognormal = parameter("{type: lognormal, mu: 1, sigma: 0.5}");
  CHECK(number(normal.value_at(0.5)) == Approx(3).margin(1e-9));
  CHECK(number(lognormal.value_at(0.5)) == Approx(std::exp(1.0)).epsilon(1e-9));
  // One sigma either side: Phi(1) = 0.8413447460685429.
  CHECK(number(normal.value_at(0.8413447460685429)) == Approx(5).margin(1e-8));
  CHECK(number(normal.value_at(1 - 0.8413447460685429)) == Approx(1).margin(1e-8));

  std::vector<double> draws;
  for (double u : unit_samples()) {
    const double x = number(normal.value_at(u));
    CHECK(std::isfinite(x));
    draws.push_back(x);
    const double y = number(lognormal.value_at(u));
    CHECK(std::isfinite(y));
    CHECK(y > 0);
  }
  // The sample median of 505 draws is within a few standard errors
  // (1.25 sigma / sqrt(n) = 0.11) of mu.
  std::nth_element(draws.begin(), draws.begin() + std::ptrdiff_t(draws.size() / 2), draws.end());
  CHECK(draws[draws.size() / 2] == Approx(3).margin(0.4));
}

TEST_CASE("search space: unit_of inverts value_at for continuous distributions", "[sweep]") {
  for (const std::string spec : {
           "{type: uniform, min_value: -0.5, max_value: 2}",
           "{type: loguniform, min_value: -9.21, max_value: -2.30}",
           "{type: normal, mu: 3, sigma: 2}",
           "{type: lognormal, mu: 1, sigma: 0.5}",
       }) {
    INFO(spec);
    const Parameter p = parameter(spec);
    for (double u : unit_samples()) {
      if (u < 1e-6 || u > 1 - 1e-6) continue;  // normal tails are clamped to 1e-9
      INFO("u = " << u);
      CHECK(p.unit_of(p.value_at(u)) == Approx(u).margin(1e-9));
    }
  }
}

TEST_CASE("search space: snap is idempotent and keeps the value", "[sweep]") {
  for (const std::string spec : {
           "{type: choice, values: [a, b, c]}",
           "{type: choice, values: [0.1, 0.2]}",
           "{type: randint, lower: 3, upper: 9}",
           "{type: uniform, min_value: 0, max_value: 1}",
           "{type: quniform, min_value: 0.2, max_value: 2.2, q: 0.5}",
           "{type: loguniform, min_value: -5, max_value: 0}",
           "{type: qloguniform, min_value: -6.9, max_value: -2.3, q: 0.005}",
           "{type: normal, mu: 0, sigma: 1}",
           "{type: qnormal, mu: 10, sigma: 3, q: 2}",
           "{type: lognormal, mu: 0, sigma: 1}",
           "{type: qlognormal, mu: 2, sigma: 0.5, q: 1}",
       }) {
    INFO(spec);
    const Parameter p = parameter(spec);
    for (double u : unit_samples()) {
      INFO("u = " << u);
      const double once = p.snap(u);
      CHECK(once >= 0);
      CHECK(once <= 1);
      CHECK(p.snap(once) == Approx(once).margin(1e-9));
      const Json value = p.value_at(u);
      const Json snapped = p.value_at(once);
      if (value.is_number_float()) {
        CHECK(snapped.get<double>() == Approx(value.get<double>()).epsilon(1e-9));
      } else {
        CHECK(snapped == value);
      }
    }
  }
}

TEST_CASE("search space: parses az's map form for every distribution", "[sweep]") {
  const SearchSpace space = parse(R"(search_space:
  lr: {type: loguniform, min_value: -9.21, max_value: -2.30}
  hidden: {type: choice, values: [16, 32, 64, 128]}
  layers: {type: randint, upper: 4}
  start: {type: randint, lower: 2, upper: 5}
  dropout: {type: uniform, min_value: 0.0, max_value: 0.5}
  batch: {type: quniform, min_value: 16, max_value: 128, q: 16}
  wd: {type: qloguniform, min_value: -9, max_value: -2, q: 0.0001}
  shift:
    type: normal
    mu: 0.5
    sigma: 0.1
  qshift: {type: qnormal, mu: 10, sigma: 2, q: 1}
  scale: {type: lognormal, mu: 0, sigma: 1}
  qscale: {type: qlognormal, mu: 1, sigma: 1, q: 2}
)");
  REQUIRE(space.parameters.size() == 11);
  const auto& p = space.parameters;
  CHECK(p[0].name == "lr");
  CHECK(p[0].distribution == Distribution::loguniform);
  CHECK(p[0].low == -9.21);
  CHECK(p[0].high == -2.30);
  CHECK(p[1].distribution == Distribution::choice);
  CHECK(p[1].values == std::vector<Json>{16, 32, 64, 128});
  CHECK(p[1].is_ordered_choice());
  CHECK(p[2].distribution == Distribution::randint);
  CHECK(p[2].low == 0);
  CHECK(p[2].high == 4);
  CHECK(p[3].low == 2);
  CHECK(p[3].high == 5);
  CHECK(p[4].distribution == Distribution::uniform);
  CHECK(p[4].high == 0.5);
  CHECK(p[5].distribution == Distribution::quniform);
  CHECK(p[5].q == 16);
  CHECK(p[6].distribution == Distribution::qloguniform);
  CHECK(p[6].q == 0.0001);
  CHECK(p[7].distribution == Distribution::normal);
  CHECK(p[7].mu == 0.5);
  CHECK(p[7].sigma == 0.1);
  CHECK(p[8].distribution == Distribution::qnormal);
  CHECK(p[8].q == 1);
  CHECK(p[9].distribution == Distribution::lognormal);
  CHECK(p[10].distribution == Distribution::qlognormal);
  CHECK(p[10].q == 2);
  CHECK_FALSE(space.is_discrete());
  CHECK(space.grid_size() == 0);
}

TEST_CASE("search space: parses the compact form", "[sweep]") {
  const SearchSpace space = parse(R"(search_space:
  dropout: uniform(0.01, 0.1)
  hidden: choice(16, 32, 64)
  layers: randint(4)
  start: randint(2, 5)
  batch: quniform(16, 128, 16)
  lr: loguniform(-9.21, -2.3)
  shift: normal(0, 1)
  act: choice(relu, "gelu", 0.5)
)");
  REQUIRE(space.parameters.size() == 8);
  const auto& p = space.parameters;
  CHECK(p[0].distribution == Distribution::uniform);
  CHECK(p[0].low == 0.01);
  CHECK(p[0].high == 0.1);
  CHECK(p[1].distribution == Distribution::choice);
  CHECK(p[1].values == std::vector<Json>{16, 32, 64});
  CHECK(p[2].distribution == Distribution::randint);
  CHECK(p[2].low == 0);
  CHECK(p[2].high == 4);
  CHECK(p[3].low == 2);
  CHECK(p[3].high == 5);
  CHECK(p[4].distribution == Distribution::quniform);
  CHECK(p[4].q == 16);
  CHECK(p[5].low == -9.21);
  CHECK(p[6].distribution == Distribution::normal);
  CHECK(p[6].sigma == 1);
  CHECK(p[7].values == std::vector<Json>{"relu", "gelu", 0.5});
  CHECK_FALSE(p[7].is_ordered_choice());

  const auto direct = parse_compact_parameter("x", "qnormal(0, 2, 0.5)");
  REQUIRE(direct);
  CHECK(direct->name == "x");
  CHECK(direct->mu == 0);
  CHECK(direct->sigma == 2);
  CHECK(direct->q == 0.5);
  CHECK_FALSE(parse_compact_parameter("x", "0.5"));
  CHECK_FALSE(parse_compact_parameter("x", "max(1, 2)"));
}

TEST_CASE("search space: a space of choices is discrete with the product as its grid size", "[sweep]") {
  const SearchSpace space = parse("search_space:\n  a: choice(1, 2, 3)\n  b: choice(x, y)\n");
  CHECK(space.is_discrete());
  CHECK(space.grid_size() == 6);
  CHECK(space.values_at({0.9, 0.1}) == Json{{"a", 3}, {"b", "x"}});
}

TEST_CASE("search space: value_text prints values as a command line wants them", "[sweep]") {
  CHECK(mlctl::sweep::value_text(Json(0.001)) == "0.001");
  CHECK(mlctl::sweep::value_text(Json(64)) == "64");
  CHECK(mlctl::sweep::value_text(Json("relu")) == "relu");
  CHECK(mlctl::sweep::value_text(Json::parse("[64,32]")) == "[64,32]");
}

TEST_CASE("search space: rejects bad parameters with exact, placed messages", "[sweep]") {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"search_space:\n  lr: {type: uniform, min_value: 0.1, max_value: 0.01}\n",
       "sweep.yml:2:7: search_space.lr: min_value (0.1) must be below max_value (0.01)"},
      {"search_space:\n  lr: {type: loguniform, min_value: -2, max_value: -2}\n",
       "sweep.yml:2:7: search_space.lr: min_value (-2) must be below max_value (-2)"},
      {"search_space:\n  lr: uniform(0.1, 0.01)\n",
       "sweep.yml:2:7: search_space.lr: 'uniform(0.1, 0.01)': min_value (0.1) must be below max_value (0.01)"},
      {"search_space:\n  h: {type: choice, values: []}\n",
       "sweep.yml:2:6: search_space.h: values must be a non-empty list"},
      {"search_space:\n  h: choice()\n", "sweep.yml:2:6: search_space.h: 'choice()': values must be a non-empty list"},
      {"search_space:\n  s: {type: normal, mu: 0, sigma: 0}\n",
       "sweep.yml:2:6: search_space.s: sigma (0) must be above 0"},
      {"search_space:\n  s: lognormal(0, -1)\n",
       "sweep.yml:2:6: search_space.s: 'lognormal(0, -1)': sigma (-1) must be above 0"},
      {"search_space:\n  b: {type: quniform, min_value: 1, max_value: 10, q: 0}\n",
       "sweep.yml:2:6: search_space.b: q (0) must be above 0"},
      {"search_space:\n  b: qnormal(0, 1, -0.5)\n",
       "sweep.yml:2:6: search_space.b: 'qnormal(0, 1, -0.5)': q (-0.5) must be above 0"},
      {"search_space:\n  r: randint(0)\n", "sweep.yml:2:6: search_space.r: 'randint(0)': upper (0) must be above lower (0)"},
      {"search_space:\n  r: {type: randint, upper: 2.5}\n",
       "sweep.yml:2:6: search_space.r: lower and upper must be integers"},
      {"search_space:\n  lr: {type: unifrom, min_value: 0, max_value: 1}\n",
       "sweep.yml:2:14: search_space.lr: unknown distribution 'unifrom' (expected " + k_expected_types +
           ") (did you mean 'uniform'?)"},
      {"search_space:\n  lr: {type: uniform, min_value: 0, max_value: 1, maxvalue: 2}\n",
       "sweep.yml:2:51: search_space.lr: unknown key 'maxvalue' for a uniform parameter (expected type, min_value, "
       "max_value) (did you mean 'max_value'?)"},
      {"search_space:\n  lr: {type: uniform, min_value: 0}\n",
       "sweep.yml:2:7: search_space.lr: 'max_value' is required for a uniform parameter"},
      {"search_space:\n  lr: {min_value: 0, max_value: 1}\n",
       "sweep.yml:2:7: search_space.lr: 'type' is required (" + k_expected_types + ")"},
      {"search_space:\n  lr: {type: uniform, min_value: low, max_value: 1}\n",
       "sweep.yml:2:34: search_space.lr: 'min_value' must be a number"},
      {"search_space:\n  lr: uniform(0.1)\n",
       "sweep.yml:2:7: search_space.lr: 'uniform(0.1)': uniform takes 2 arguments (min_value, max_value)"},
      {"search_space:\n  lr: uniform(a, 1)\n", "sweep.yml:2:7: search_space.lr: 'uniform(a, 1)': 'a' is not a number"},
      {"search_space:\n  lr: 0.01\n",
       "sweep.yml:2:7: search_space.lr: expected a distribution such as {type: choice, values: [...]} or "
       "uniform(0.01, 0.1), got '0.01'"},
      {"search_space: []\n",
       "sweep.yml:1:15: search_space must be a map of parameter names to distributions, such as lr: {type: uniform, "
       "min_value: 0.001, max_value: 0.1}"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK(parse_error(c.text) == c.message);
  }
}

TEST_CASE("search space: rejects a lognormal whose values would overflow", "[sweep]") {
  CHECK(parse_error("search_space:\n  s: {type: lognormal, mu: 800, sigma: 1}\n") ==
        "sweep.yml:2:6: search_space.s: mu (800) and sigma (1) are natural-log parameters and too large: "
        "exp(mu + 6 * sigma) overflows");
  CHECK(parse_error("search_space:\n  s: qlognormal(650, 10, 1)\n") ==
        "sweep.yml:2:6: search_space.s: 'qlognormal(650, 10, 1)': mu (650) and sigma (10) are natural-log "
        "parameters and too large: exp(mu + 6 * sigma) overflows");
  CHECK(std::isfinite(number(parameter("lognormal(600, 10)").value_at(1.0))));
}

TEST_CASE("search space: a compact choice that is not valid YAML is an invalid argument", "[sweep]") {
  try {
    parse_compact_parameter("h", "choice({)");
    FAIL("expected mlctl::Error");
  } catch (const mlctl::Error& error) {
    CHECK(error.kind() == ErrorKind::invalid_argument);
    CHECK(std::string(error.what()) == "search_space.h:1:3: illegal flow end");
  }
}

TEST_CASE("search space: collects the problems of every parameter", "[sweep]") {
  CHECK(parse_error("search_space:\n  a: {type: uniform, min_value: 1, max_value: 0}\n  b: {type: choise, values: "
                    "[1]}\n") ==
        "sweep.yml:2:6: search_space.a: min_value (1) must be below max_value (0)\n"
        "sweep.yml:3:13: search_space.b: unknown distribution 'choise' (expected " +
            k_expected_types + ") (did you mean 'choice'?)");
}
