#include <mlctl/sweep/search_space.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <mlctl/core/did_you_mean.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/yaml_overrides.hpp>
#include <mlctl/sweep/gaussian.hpp>

namespace mlctl::sweep {
namespace {

struct DistributionInfo {
  Distribution distribution;
  const char* name;
  std::vector<std::string> required;
  std::vector<std::string> optional;
};

const std::vector<DistributionInfo>& distributions() {
  static const std::vector<DistributionInfo> table = {
      {Distribution::choice, "choice", {"values"}, {}},
      {Distribution::randint, "randint", {"upper"}, {"lower"}},
      {Distribution::uniform, "uniform", {"min_value", "max_value"}, {}},
      {Distribution::quniform, "quniform", {"min_value", "max_value", "q"}, {}},
      {Distribution::loguniform, "loguniform", {"min_value", "max_value"}, {}},
      {Distribution::qloguniform, "qloguniform", {"min_value", "max_value", "q"}, {}},
      {Distribution::normal, "normal", {"mu", "sigma"}, {}},
      {Distribution::qnormal, "qnormal", {"mu", "sigma", "q"}, {}},
      {Distribution::lognormal, "lognormal", {"mu", "sigma"}, {}},
      {Distribution::qlognormal, "qlognormal", {"mu", "sigma", "q"}, {}},
  };
  return table;
}

const DistributionInfo* find_distribution(std::string_view name) {
  for (const auto& info : distributions()) {
    if (name == info.name) return &info;
  }
  return nullptr;
}

std::vector<std::string> distribution_names() {
  std::vector<std::string> names;
  for (const auto& info : distributions()) names.emplace_back(info.name);
  return names;
}

bool is_quantised(Distribution d) {
  return d == Distribution::quniform || d == Distribution::qloguniform || d == Distribution::qnormal ||
         d == Distribution::qlognormal;
}

// u kept off the edges so normal quantiles stay finite.
constexpr double k_edge = 1e-9;

Json number_json(double value, bool integral) {
  if (integral && std::abs(value) < 9e15) return Json(std::int64_t(std::llround(value)));
  return Json(value);
}

Json yaml_to_json(const YAML::Node& node) {
  if (node.IsSequence()) {
    Json list = Json::array();
    for (const auto& item : node) list.push_back(yaml_to_json(item));
    return list;
  }
  if (node.IsMap()) {
    Json map = Json::object();
    for (const auto& entry : node) map[entry.first.Scalar()] = yaml_to_json(entry.second);
    return map;
  }
  if (node.IsNull()) return Json(nullptr);
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return Json(text);  // quoted: a string even if it looks like a number
  if (text == "true" || text == "True") return Json(true);
  if (text == "false" || text == "False") return Json(false);
  std::int64_t integer = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), integer);
  if (ec == std::errc() && end == text.data() + text.size()) return Json(integer);
  double number = 0;
  auto [end2, ec2] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec2 == std::errc() && end2 == text.data() + text.size() && std::isfinite(number)) return Json(number);
  return Json(text);
}

std::optional<double> parse_number(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

// Checks the ranges of a parameter whose numbers are set; "" when fine.
std::vector<std::string> range_problems(const Parameter& p) {
  std::vector<std::string> problems;
  switch (p.distribution) {
    case Distribution::choice:
      if (p.values.empty()) problems.push_back("values must be a non-empty list");
      break;
    case Distribution::randint:
      if (p.low != std::floor(p.low) || p.high != std::floor(p.high)) {
        problems.push_back("lower and upper must be integers");
      } else if (p.low >= p.high) {
        problems.push_back(fmt::format("upper ({}) must be above lower ({})", p.high, p.low));
      }
      break;
    case Distribution::uniform:
    case Distribution::quniform:
    case Distribution::loguniform:
    case Distribution::qloguniform:
      if (p.low >= p.high) {
        problems.push_back(fmt::format("min_value ({}) must be below max_value ({})", p.low, p.high));
      }
      if ((p.distribution == Distribution::loguniform || p.distribution == Distribution::qloguniform) &&
          p.high > 700) {
        problems.push_back(fmt::format("max_value ({}) is a natural-log exponent and too large: exp({}) overflows",
                                       p.high, p.high));
      }
      break;
    case Distribution::normal:
    case Distribution::qnormal:
    case Distribution::lognormal:
    case Distribution::qlognormal:
      if (p.sigma <= 0) problems.push_back(fmt::format("sigma ({}) must be above 0", p.sigma));
      // value_at reaches about 6 sigma (u is kept 1e-9 off the edges); past
      // exp(700) a value would be inf, which JSON writes as null.
      if ((p.distribution == Distribution::lognormal || p.distribution == Distribution::qlognormal) &&
          p.sigma > 0 && p.mu + 6 * p.sigma > 700) {
        problems.push_back(fmt::format("mu ({}) and sigma ({}) are natural-log parameters and too large: "
                                       "exp(mu + 6 * sigma) overflows",
                                       p.mu, p.sigma));
      }
      break;
  }
  if (is_quantised(p.distribution) && p.q <= 0) problems.push_back(fmt::format("q ({}) must be above 0", p.q));
  return problems;
}

}  // namespace

const char* to_string(Distribution distribution) noexcept {
  for (const auto& info : distributions()) {
    if (info.distribution == distribution) return info.name;
  }
  return "?";
}

bool Parameter::is_ordered_choice() const {
  return distribution == Distribution::choice &&
         std::all_of(values.begin(), values.end(), [](const Json& v) { return v.is_number(); }) &&
         std::is_sorted(values.begin(), values.end(),
                        [](const Json& a, const Json& b) { return a.get<double>() < b.get<double>(); });
}

Json Parameter::value_at(double u) const {
  u = std::clamp(u, 0.0, 1.0);
  auto quantise = [this](double x) { return q > 0 ? std::round(x / q) * q : x; };
  bool q_integral = q > 0 && q == std::floor(q);
  switch (distribution) {
    case Distribution::choice: {
      auto index = std::min(values.size() - 1, std::size_t(u * double(values.size())));
      return values[index];
    }
    case Distribution::randint: {
      double count = high - low;
      return Json(std::int64_t(low) + std::int64_t(std::min(count - 1, std::floor(u * count))));
    }
    case Distribution::uniform:
      return Json(low + u * (high - low));
    case Distribution::quniform:
      return number_json(quantise(low + u * (high - low)), q_integral);
    case Distribution::loguniform:
      return Json(std::exp(low + u * (high - low)));
    case Distribution::qloguniform:
      return number_json(quantise(std::exp(low + u * (high - low))), q_integral);
    case Distribution::normal:
      return Json(mu + sigma * normal_quantile(std::clamp(u, k_edge, 1 - k_edge)));
    case Distribution::qnormal:
      return number_json(quantise(mu + sigma * normal_quantile(std::clamp(u, k_edge, 1 - k_edge))), q_integral);
    case Distribution::lognormal:
      return Json(std::exp(mu + sigma * normal_quantile(std::clamp(u, k_edge, 1 - k_edge))));
    case Distribution::qlognormal:
      return number_json(quantise(std::exp(mu + sigma * normal_quantile(std::clamp(u, k_edge, 1 - k_edge)))),
                         q_integral);
  }
  return Json(nullptr);
}

double Parameter::unit_of(const Json& value) const {
  if (distribution == Distribution::choice) {
    auto it = std::find(values.begin(), values.end(), value);
    if (it == values.end()) return 0.5;
    return (double(it - values.begin()) + 0.5) / double(values.size());
  }
  if (!value.is_number()) return 0.5;
  double x = value.get<double>();
  switch (distribution) {
    case Distribution::randint:
      return std::clamp((x - low + 0.5) / (high - low), 0.0, 1.0);
    case Distribution::uniform:
    case Distribution::quniform:
      return std::clamp((x - low) / (high - low), 0.0, 1.0);
    case Distribution::loguniform:
    case Distribution::qloguniform:
      return x <= 0 ? 0.0 : std::clamp((std::log(x) - low) / (high - low), 0.0, 1.0);
    case Distribution::normal:
    case Distribution::qnormal:
      return normal_cdf((x - mu) / sigma);
    case Distribution::lognormal:
    case Distribution::qlognormal:
      return x <= 0 ? 0.0 : normal_cdf((std::log(x) - mu) / sigma);
    case Distribution::choice:
      break;
  }
  return 0.5;
}

Json SearchSpace::values_at(const std::vector<double>& point) const {
  Json values = Json::object();
  for (std::size_t i = 0; i < parameters.size() && i < point.size(); ++i) {
    values[parameters[i].name] = parameters[i].value_at(point[i]);
  }
  return values;
}

bool SearchSpace::is_discrete() const {
  return std::all_of(parameters.begin(), parameters.end(),
                     [](const Parameter& p) { return p.distribution == Distribution::choice; });
}

std::uint64_t SearchSpace::grid_size() const {
  std::uint64_t size = 1;
  for (const auto& p : parameters) {
    std::uint64_t count = p.choice_count();
    if (count == 0) return 0;
    if (size > UINT64_MAX / count) return UINT64_MAX;
    size *= count;
  }
  return size;
}

std::string value_text(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) {
    double x = value.get<double>();
    char buffer[64];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, x);
    return std::string(buffer, end);
  }
  return value.dump();
}

std::optional<Parameter> parse_compact_parameter(std::string_view name, std::string_view text) {
  auto open = text.find('(');
  if (open == std::string_view::npos || text.empty() || text.back() != ')') return std::nullopt;
  std::string_view type_name = text.substr(0, open);
  const DistributionInfo* info = find_distribution(type_name);
  if (!info) return std::nullopt;
  std::string_view inside = text.substr(open + 1, text.size() - open - 2);
  Parameter p;
  p.name = std::string(name);
  p.distribution = info->distribution;
  auto fail = [&](const std::string& why) {
    return Error(ErrorKind::invalid_argument, fmt::format("search_space.{}: '{}': {}", name, text, why));
  };
  if (p.distribution == Distribution::choice) {
    YAML::Node list;
    try {
      list = load_yaml("[" + std::string(inside) + "]", fmt::format("search_space.{}", name));
    } catch (const Error& error) {
      // load_yaml throws parse; the contract here is invalid_argument.
      throw Error(ErrorKind::invalid_argument, error.what());
    }
    for (const auto& item : list) p.values.push_back(yaml_to_json(item));
  } else {
    std::vector<double> args;
    std::size_t start = 0;
    while (start <= inside.size()) {
      auto comma = inside.find(',', start);
      std::string_view word = inside.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      auto number = parse_number(word);
      if (!number) throw fail(fmt::format("'{}' is not a number", word));
      args.push_back(*number);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    std::size_t required = info->required.size();
    bool randint_with_lower = p.distribution == Distribution::randint && args.size() == 2;
    if (args.size() != required && !randint_with_lower) {
      throw fail(fmt::format("{} takes {} argument{} ({})", info->name, required, required == 1 ? "" : "s",
                             fmt::join(info->required, ", ")));
    }
    switch (p.distribution) {
      case Distribution::randint:
        p.low = randint_with_lower ? args[0] : 0;
        p.high = args.back();
        break;
      case Distribution::uniform:
      case Distribution::loguniform:
        p.low = args[0], p.high = args[1];
        break;
      case Distribution::quniform:
      case Distribution::qloguniform:
        p.low = args[0], p.high = args[1], p.q = args[2];
        break;
      case Distribution::normal:
      case Distribution::lognormal:
        p.mu = args[0], p.sigma = args[1];
        break;
      default:
        p.mu = args[0], p.sigma = args[1], p.q = args[2];
        break;
    }
  }
  auto problems = range_problems(p);
  if (!problems.empty()) throw fail(problems.front());
  return p;
}

SearchSpace parse_search_space(const YAML::Node& node, std::string_view source_name) {
  std::vector<std::string> problems;
  auto problem = [&](const YAML::Node& at, const std::string& text) {
    problems.push_back(fmt::format("{}: {}", yaml_location(source_name, at.Mark()), text));
  };
  SearchSpace space;
  if (!node.IsMap() || node.size() == 0) {
    problem(node, "search_space must be a map of parameter names to distributions, such as "
                  "lr: {type: uniform, min_value: 0.001, max_value: 0.1}");
    throw Error(ErrorKind::invalid_argument, problems.front());
  }
  for (const auto& entry : node) {
    const std::string name = entry.first.Scalar();
    const YAML::Node& spec = entry.second;
    std::string where = "search_space." + name;
    if (name.empty()) {
      problem(entry.first, "a parameter name must not be empty");
      continue;
    }
    if (spec.IsScalar()) {
      try {
        auto compact = parse_compact_parameter(name, spec.Scalar());
        if (!compact) {
          problem(spec, fmt::format("{}: expected a distribution such as {{type: choice, values: [...]}} or "
                                    "uniform(0.01, 0.1), got '{}'",
                                    where, spec.Scalar()));
        } else {
          space.parameters.push_back(*compact);
        }
      } catch (const Error& error) {
        problem(spec, error.what());
      }
      continue;
    }
    if (!spec.IsMap()) {
      problem(spec, fmt::format("{}: expected a map with a 'type' (choice, uniform, ...)", where));
      continue;
    }
    const YAML::Node type_node = spec["type"];
    if (!type_node || !type_node.IsScalar()) {
      problem(spec, fmt::format("{}: 'type' is required ({})", where, fmt::join(distribution_names(), ", ")));
      continue;
    }
    const DistributionInfo* info = find_distribution(type_node.Scalar());
    if (!info) {
      problem(type_node, fmt::format("{}: unknown distribution '{}' (expected {}){}", where, type_node.Scalar(),
                                     fmt::join(distribution_names(), ", "),
                                     did_you_mean_hint(type_node.Scalar(), distribution_names())));
      continue;
    }
    Parameter p;
    p.name = name;
    p.distribution = info->distribution;
    std::vector<std::string> allowed = {"type"};
    allowed.insert(allowed.end(), info->required.begin(), info->required.end());
    allowed.insert(allowed.end(), info->optional.begin(), info->optional.end());
    bool complete = true;
    for (const auto& field : spec) {
      const std::string key = field.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        problem(field.first, fmt::format("{}: unknown key '{}' for a {} parameter (expected {}){}", where, key,
                                         info->name, fmt::join(allowed, ", "), did_you_mean_hint(key, allowed)));
        complete = false;
      }
    }
    for (const auto& key : info->required) {
      if (!spec[key] || spec[key].IsNull()) {
        problem(spec, fmt::format("{}: '{}' is required for a {} parameter", where, key, info->name));
        complete = false;
      }
    }
    if (!complete) continue;
    auto number = [&](const char* key, double& out) {
      const YAML::Node value = spec[key];
      if (!value) return;
      auto parsed = value.IsScalar() ? parse_number(value.Scalar()) : std::nullopt;
      if (!parsed) {
        problem(value, fmt::format("{}: '{}' must be a number", where, key));
        complete = false;
        return;
      }
      out = *parsed;
    };
    if (p.distribution == Distribution::choice) {
      const YAML::Node values = spec["values"];
      if (!values.IsSequence()) {
        problem(values, fmt::format("{}: 'values' must be a list", where));
        continue;
      }
      for (const auto& item : values) p.values.push_back(yaml_to_json(item));
    } else if (p.distribution == Distribution::randint) {
      number("lower", p.low);
      number("upper", p.high);
    } else {
      number("min_value", p.low);
      number("max_value", p.high);
      number("mu", p.mu);
      number("sigma", p.sigma);
      number("q", p.q);
    }
    if (!complete) continue;
    for (const auto& why : range_problems(p)) problem(spec, fmt::format("{}: {}", where, why));
    space.parameters.push_back(std::move(p));
  }
  if (!problems.empty()) {
    throw Error(ErrorKind::invalid_argument, fmt::format("{}", fmt::join(problems, "\n")));
  }
  return space;
}

}  // namespace mlctl::sweep
