#include <mlctl/tracking/metrics_file.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

namespace mlctl::tracking {
namespace {

// Ordered, so a batch line's metrics are stored in the order written.
using json = nlohmann::ordered_json;

std::optional<double> metric_number(const json& value) {
  if (value.is_number()) return value.get<double>();
  if (value.is_null()) return std::nan("");
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text == "NaN" || text == "nan") return std::nan("");
    if (text == "Infinity" || text == "inf") return std::numeric_limits<double>::infinity();
    if (text == "-Infinity" || text == "-inf") return -std::numeric_limits<double>::infinity();
  }
  return std::nullopt;
}

std::string describe(const json& value) {
  std::string text = value.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

// nlohmann's messages start with "[json.exception.parse_error.101] ".
std::string strip_exception_prefix(std::string message) {
  if (!message.empty() && message[0] == '[') {
    auto end = message.find("] ");
    if (end != std::string::npos) message.erase(0, end + 2);
  }
  return message;
}

// The common line, {"name": "loss", "value": 0.31, "step": 4} with plain
// strings and numbers in any key order, parsed without building a JSON
// document (2-3x faster ingestion). Anything else -- escapes, null, the
// "metrics" form, a repeated or unknown key, a malformed line -- returns
// false and takes the full parser, which also words the errors.
class SimpleLine {
 public:
  explicit SimpleLine(std::string_view text) : m_text(text) {}

  bool parse(double now, std::vector<MetricPoint>& points) {
    std::string_view name;
    std::optional<double> value, timestamp;
    std::optional<std::int64_t> step;
    bool have_name = false;
    skip_space();
    if (!take('{')) return false;
    skip_space();
    if (take('}')) return false;
    while (true) {
      std::string_view key;
      if (!string(key)) return false;
      skip_space();
      if (!take(':')) return false;
      skip_space();
      if (key == "name" || key == "key") {
        if (have_name || !string(name) || name.empty()) return false;
        have_name = true;
      } else if (key == "value") {
        double number = 0;
        if (value || !real(number)) return false;
        value = number;
      } else if (key == "step") {
        std::int64_t number = 0;
        if (step || !integer(number)) return false;
        step = number;
      } else if (key == "timestamp") {
        double number = 0;
        if (timestamp || !real(number)) return false;
        timestamp = number > 1e11 ? number / 1000.0 : number;
      } else {
        return false;
      }
      skip_space();
      if (take('}')) break;
      if (!take(',')) return false;
      skip_space();
    }
    skip_space();
    if (m_position != m_text.size() || !have_name || !value) return false;
    points.push_back({std::string(name), *value, step, timestamp.value_or(now)});
    return true;
  }

 private:
  void skip_space() {
    while (m_position < m_text.size() && (m_text[m_position] == ' ' || m_text[m_position] == '\t')) ++m_position;
  }
  bool take(char c) {
    if (m_position < m_text.size() && m_text[m_position] == c) {
      ++m_position;
      return true;
    }
    return false;
  }
  bool string(std::string_view& out) {
    if (!take('"')) return false;
    std::size_t end = m_text.find('"', m_position);
    if (end == std::string_view::npos) return false;
    out = m_text.substr(m_position, end - m_position);
    for (char c : out) {
      if (c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
    }
    m_position = end + 1;
    return true;
  }
  // A JSON number: starts with '-' or a digit (from_chars alone would take "inf").
  bool starts_number() const {
    return m_position < m_text.size() && (m_text[m_position] == '-' || (m_text[m_position] >= '0' && m_text[m_position] <= '9'));
  }
  bool real(double& out) {
    if (!starts_number()) return false;
    auto [end, ec] = std::from_chars(m_text.data() + m_position, m_text.data() + m_text.size(), out);
    if (ec != std::errc() || !std::isfinite(out)) return false;
    m_position = std::size_t(end - m_text.data());
    return true;
  }
  bool integer(std::int64_t& out) {
    if (!starts_number()) return false;
    auto [end, ec] = std::from_chars(m_text.data() + m_position, m_text.data() + m_text.size(), out);
    if (ec != std::errc()) return false;
    std::size_t next = std::size_t(end - m_text.data());
    if (next < m_text.size() && (m_text[next] == '.' || m_text[next] == 'e' || m_text[next] == 'E')) return false;
    m_position = next;
    return true;
  }

  std::string_view m_text;
  std::size_t m_position = 0;
};

}  // namespace

void MetricsFileParser::feed(std::string_view bytes, double now, std::vector<MetricPoint>& points,
                             std::vector<MetricLineError>& errors) {
  std::size_t start = 0;
  while (true) {
    std::size_t newline = bytes.find('\n', start);
    if (newline == std::string_view::npos) break;
    if (m_pending.empty()) {
      parse_line(bytes.substr(start, newline - start), now, points, errors);
    } else {
      m_pending.append(bytes.substr(start, newline - start));
      parse_line(m_pending, now, points, errors);
      m_pending.clear();
    }
    start = newline + 1;
  }
  m_pending.append(bytes.substr(start));
}

void MetricsFileParser::finish(double now, std::vector<MetricPoint>& points, std::vector<MetricLineError>& errors) {
  if (!m_pending.empty()) {
    std::string last = std::move(m_pending);
    m_pending.clear();
    parse_line(last, now, points, errors);
  }
}

void MetricsFileParser::parse_line(std::string_view line, double now, std::vector<MetricPoint>& points,
                                   std::vector<MetricLineError>& errors) {
  ++m_line;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return;
  auto fail = [&](std::string message) { errors.push_back({m_line, std::move(message)}); };
  if (SimpleLine(line).parse(now, points)) return;

  json object;
  try {
    object = json::parse(line);
  } catch (const json::exception& error) {
    return fail(fmt::format("invalid JSON: {}", strip_exception_prefix(error.what())));
  }
  if (!object.is_object()) return fail(fmt::format("expected a JSON object, got {}", describe(object)));

  std::optional<std::int64_t> step;
  if (auto it = object.find("step"); it != object.end() && !it->is_null()) {
    if (it->is_number_integer()) {
      step = it->get<std::int64_t>();
    } else if (it->is_number_float() && std::floor(it->get<double>()) == it->get<double>()) {
      step = static_cast<std::int64_t>(it->get<double>());
    } else {
      return fail(fmt::format("\"step\" must be an integer, got {}", describe(*it)));
    }
  }
  double timestamp = now;
  if (auto it = object.find("timestamp"); it != object.end() && !it->is_null()) {
    if (!it->is_number()) return fail(fmt::format("\"timestamp\" must be unix seconds, got {}", describe(*it)));
    timestamp = it->get<double>();
    if (timestamp > 1e11) timestamp /= 1000.0;  // milliseconds, as MLflow writes them
  }

  if (auto batch = object.find("metrics"); batch != object.end()) {
    if (!batch->is_object()) return fail("\"metrics\" must be an object of name: value");
    std::size_t first = points.size();
    for (const auto& [name, value] : batch->items()) {
      auto number = metric_number(value);
      if (!number) {
        points.resize(first);
        return fail(fmt::format("metric \"{}\" must be a number, got {}", name, describe(value)));
      }
      points.push_back({name, *number, step, timestamp});
    }
    return;
  }

  auto name = object.find("name");
  if (name == object.end()) name = object.find("key");
  if (name == object.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return fail("expected a \"name\" (a non-empty string)");
  }
  auto value = object.find("value");
  if (value == object.end()) return fail(fmt::format("metric \"{}\" has no \"value\"", name->get<std::string>()));
  auto number = metric_number(*value);
  if (!number) {
    return fail(fmt::format("\"value\" of \"{}\" must be a number, got {}", name->get<std::string>(), describe(*value)));
  }
  points.push_back({name->get<std::string>(), *number, step, timestamp});
}

}  // namespace mlctl::tracking
