#pragma once

// A sweep's search space, in the az ml v2 sweep-job form:
//
//   search_space:
//     learning_rate: {type: loguniform, min_value: -9.21, max_value: -2.30}
//     hidden:        {type: choice, values: [16, 32, 64, 128]}
//     layers:        {type: randint, upper: 4}          # 0, 1, 2 or 3
//     dropout:       uniform(0.0, 0.5)                  # compact form
//
// Distributions and their keys (the log ones take natural-log exponents as
// bounds, exactly as az ml defines them):
//   choice      values (a non-empty list of any YAML values)
//   randint     upper, optional lower (default 0): an integer in [lower, upper)
//   uniform     min_value, max_value
//   quniform    min_value, max_value, q: round(uniform / q) * q
//   loguniform  min_value, max_value: exp(uniform(min_value, max_value))
//   qloguniform min_value, max_value, q
//   normal      mu, sigma
//   qnormal     mu, sigma, q
//   lognormal   mu, sigma: exp(normal(mu, sigma))
//   qlognormal  mu, sigma, q
//
// Every sampler works in the unit cube: a parameter's coordinate u in
// [0, 1] maps to its value through the distribution's inverse CDF, so a
// uniform u gives a sample of the distribution and a model-based sampler
// can treat every parameter alike.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mlctl/core/json.hpp>

namespace YAML {
class Node;
}

namespace mlctl::sweep {

enum class Distribution {
  choice,
  randint,
  uniform,
  quniform,
  loguniform,
  qloguniform,
  normal,
  qnormal,
  lognormal,
  qlognormal,
};

// "choice", "randint", ...
const char* to_string(Distribution distribution) noexcept;

struct Parameter {
  std::string name;
  Distribution distribution = Distribution::uniform;
  std::vector<Json> values;  // choice
  double low = 0, high = 0;  // randint [low, high); (log)uniform bounds
  double mu = 0, sigma = 1;  // (log)normal
  double q = 0;              // quantisation step; 0: none

  // The value at unit coordinate u (clamped to [0, 1]). Quantised and
  // integer values are JSON integers when they are whole numbers and q is.
  Json value_at(double u) const;
  // The unit coordinate of a value this parameter can take: the centre of
  // its cell for choice and randint. Used to place the values of a
  // quantised parameter back in the cube.
  double unit_of(const Json& value) const;
  // Snaps a coordinate to the one of the value it gives, so that points a
  // model sees are points that were actually tried.
  double snap(double u) const { return unit_of(value_at(u)); }
  // Number of distinct values for choice; 0 for the others.
  std::size_t choice_count() const { return distribution == Distribution::choice ? values.size() : 0; }
  // True when choice values are all numbers, so their order means something.
  bool is_ordered_choice() const;
};

struct SearchSpace {
  std::vector<Parameter> parameters;  // in the order of the file

  // Values of a point (one coordinate per parameter), as {name: value}.
  Json values_at(const std::vector<double>& point) const;
  // True when every parameter is a choice (grid sampling needs that).
  bool is_discrete() const;
  // The number of points of the grid: the product of the choice counts.
  std::uint64_t grid_size() const;
};

// The text of a value as a run param or a command-line word: numbers in
// their shortest exact form ("0.001", "64"), strings as they are, other
// JSON as compact JSON ("[64,32]").
std::string value_text(const Json& value);

// Parses `search_space` (a map of parameter name to distribution).
// `source_name` prefixes messages. Collects every problem and throws
// Error(invalid_argument) with one line each: "sweep.yml:7:5: search_space.lr:
// min_value (0.1) must be below max_value (0.01)"; unknown types and keys get
// a did-you-mean hint. Pure and thread-safe.
SearchSpace parse_search_space(const YAML::Node& node, std::string_view source_name);

// Parses a compact form, `uniform(0.01, 0.1)`, `choice(16, 32, 64)`,
// `randint(4)`, `normal(0, 1)`, `quniform(1, 10, 1)`...; the arguments are
// those of the map form in order (randint: upper, or lower and upper).
// nullopt when the text is not of that shape; Error(invalid_argument) when
// it is but the arguments are wrong.
std::optional<Parameter> parse_compact_parameter(std::string_view name, std::string_view text);

}  // namespace mlctl::sweep
