#include <catch2/catch.hpp>

#include <cmath>

#include <mlctl/tracking/metrics_file.hpp>

using mlctl::tracking::MetricLineError;
using mlctl::tracking::MetricPoint;
using mlctl::tracking::MetricsFileParser;

namespace {
struct Parsed {
  std::vector<MetricPoint> points;
  std::vector<MetricLineError> errors;
};
Parsed parse_all(std::string_view text) {
  MetricsFileParser parser;
  Parsed parsed;
  parser.feed(text, 100.0, parsed.points, parsed.errors);
  parser.finish(100.0, parsed.points, parsed.errors);
  return parsed;
}
}  // namespace

TEST_CASE("metrics file: points with and without step and timestamp", "[metrics-file]") {
  auto parsed = parse_all(
      "{\"name\": \"loss\", \"value\": 0.31, \"step\": 4}\n"
      "{\"key\": \"acc\", \"value\": 1, \"timestamp\": 1732260000.5}\n"
      "{\"name\": \"lr\", \"value\": 0.1, \"timestamp\": 1732260000500}\n");
  REQUIRE(parsed.errors.empty());
  REQUIRE(parsed.points.size() == 3);
  CHECK(parsed.points[0].key == "loss");
  CHECK(parsed.points[0].value == 0.31);
  CHECK(parsed.points[0].step == 4);
  CHECK(parsed.points[0].timestamp == 100.0);
  CHECK(parsed.points[1].key == "acc");
  CHECK_FALSE(parsed.points[1].step.has_value());
  CHECK(parsed.points[1].timestamp == 1732260000.5);
  CHECK(parsed.points[2].timestamp == Approx(1732260000.5));  // milliseconds
}

TEST_CASE("metrics file: a batch line logs several metrics at one step", "[metrics-file]") {
  auto parsed = parse_all("{\"metrics\": {\"loss\": 0.5, \"acc\": \"NaN\"}, \"step\": 2}\n");
  REQUIRE(parsed.points.size() == 2);
  CHECK(parsed.points[0].key == "loss");
  CHECK(parsed.points[1].key == "acc");
  CHECK(std::isnan(parsed.points[1].value));
  CHECK(parsed.points[1].step == 2);
}

TEST_CASE("metrics file: malformed lines are reported with their number and skipped", "[metrics-file]") {
  auto parsed = parse_all(
      "{\"name\": \"loss\", \"value\": 1}\n"
      "\n"
      "not json\n"
      "{\"name\": \"loss\"}\n"
      "{\"name\": \"loss\", \"value\": \"high\"}\n"
      "[1, 2]\n"
      "{\"name\": \"loss\", \"value\": 2, \"step\": 1.5}\n"
      "{\"value\": 3}\n"
      "{\"name\": \"loss\", \"value\": 4}\r\n");
  REQUIRE(parsed.points.size() == 2);
  CHECK(parsed.points[1].value == 4);
  REQUIRE(parsed.errors.size() == 6);
  CHECK(parsed.errors[0].line == 3);
  CHECK(parsed.errors[0].message.rfind("invalid JSON: ", 0) == 0);
  CHECK(parsed.errors[1].line == 4);
  CHECK(parsed.errors[1].message == "metric \"loss\" has no \"value\"");
  CHECK(parsed.errors[2].message == "\"value\" of \"loss\" must be a number, got \"high\"");
  CHECK(parsed.errors[3].message == "expected a JSON object, got [1,2]");
  CHECK(parsed.errors[4].message == "\"step\" must be an integer, got 1.5");
  CHECK(parsed.errors[5].line == 8);
  CHECK(parsed.errors[5].message == "expected a \"name\" (a non-empty string)");
}

TEST_CASE("metrics file: a line split across reads is parsed once complete", "[metrics-file]") {
  MetricsFileParser parser;
  std::vector<MetricPoint> points;
  std::vector<MetricLineError> errors;
  parser.feed("{\"name\": \"lo", 1.0, points, errors);
  CHECK(points.empty());
  parser.feed("ss\", \"value\": 7}\n{\"name\": \"x\", ", 1.0, points, errors);
  REQUIRE(points.size() == 1);
  CHECK(points[0].key == "loss");
  parser.feed("\"value\": 8}", 1.0, points, errors);
  CHECK(points.size() == 1);
  parser.finish(1.0, points, errors);
  REQUIRE(points.size() == 2);
  CHECK(points[1].value == 8);
  CHECK(errors.empty());
  CHECK(parser.lines_read() == 2);
}

TEST_CASE("metrics file: plain lines and lines the full parser takes give the same points", "[metrics-file]") {
  // Each pair: a line the fast path reads, and the same point written so
  // that only the full JSON parser can read it.
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {R"({"name": "loss", "value": 0.31, "step": 4})", R"({"name": "loss", "value": 0.31, "step": 4.0})"},
      {R"({"step": 7, "value": -2.5e-3, "key": "lr"})", R"({"step": 7, "value": -2.5e-3, "key": "l\u0072"})"},
      {R"({"name":"acc","value":1,"timestamp":1732260000500})", R"({"name":"acc","value":1.0,"timestamp":1732260000500.0})"},
      {"{ \"name\" : \"x\" ,\t\"value\" : 3 }", R"({"metrics": {"x": 3}})"},
  };
  for (const auto& [plain, full] : pairs) {
    INFO(plain);
    Parsed a = parse_all(plain + "\n"), b = parse_all(full + "\n");
    REQUIRE(a.errors.empty());
    REQUIRE(b.errors.empty());
    REQUIRE(a.points.size() == 1);
    REQUIRE(b.points.size() == 1);
    CHECK(a.points[0].key == b.points[0].key);
    CHECK(a.points[0].value == b.points[0].value);
    CHECK(a.points[0].step == b.points[0].step);
    CHECK(a.points[0].timestamp == b.points[0].timestamp);
  }
  // What the fast path refuses still gets the full parser's verdict.
  Parsed bad = parse_all("{\"name\": \"loss\", \"value\": inf}\n{\"name\": \"\", \"value\": 1}\n{\"name\": \"a\", \"value\": 1, \"value\": 2}\n");
  REQUIRE(bad.errors.size() == 2);
  CHECK(bad.errors[0].line == 1);
  CHECK(bad.errors[1].message == "expected a \"name\" (a non-empty string)");
  REQUIRE(bad.points.size() == 1);  // nlohmann keeps the last of repeated keys
  CHECK(bad.points[0].value == 2);
}
