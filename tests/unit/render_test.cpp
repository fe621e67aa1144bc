#include <mlctl/core/render.hpp>

#include <mlctl/core/error.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace mlctl {
namespace {

const Json k_runs = Json::parse(R"([
  {"id": "run-1", "status": "completed", "acc": 0.912345678, "epochs": 10,
   "metrics": {"loss": 0.5}},
  {"id": "run-22", "status": "failed", "acc": null, "epochs": 3, "metrics": {}}
])");

std::string stream_rows(OutputFormat format, const Json& rows, const RenderOptions& options = {}) {
  std::ostringstream out;
  std::unique_ptr<RowWriter> writer = make_row_writer(format, out, options);
  for (const Json& row : rows) writer->write_row(row);
  writer->finish();
  return out.str();
}

std::string strip_ansi(std::string_view text) {
  std::string plain;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\x1b') {
      while (i < text.size() && text[i] != 'm') ++i;
      continue;
    }
    plain += text[i];
  }
  return plain;
}

TEST_CASE("render: output format names parse to formats and back", "[render]") {
  const std::vector<std::pair<const char*, OutputFormat>> cases = {
      {"table", OutputFormat::table},       {"json", OutputFormat::json},
      {"yaml", OutputFormat::yaml},         {"tsv", OutputFormat::tsv},
      {"markdown", OutputFormat::markdown},
  };
  for (const auto& [name, format] : cases) {
    CHECK(parse_output_format(name) == format);
    CHECK(std::string(to_string(format)) == name);
  }
}

TEST_CASE("render: an unknown output format names the allowed values", "[render]") {
  for (const char* text : {"xml", "JSON", "", "tables"}) {
    INFO(text);
    try {
      parse_output_format(text);
      FAIL("expected an error");
    } catch (const Error& error) {
      CHECK(error.kind() == ErrorKind::invalid_argument);
      CHECK(std::string(error.what()) ==
            fmt::format("unknown output format '{}' (expected one of: table, json, yaml, tsv, "
                        "markdown)",
                        text));
    }
  }
}

TEST_CASE("render: json is pretty-printed with full precision", "[render]") {
  Json value = Json::parse(R"({"a": 0.1, "b": [1, 1e-07], "c": {}, "d": "é"})");
  CHECK(render(value, OutputFormat::json) == R"({
  "a": 0.1,
  "b": [
    1,
    1e-07
  ],
  "c": {},
  "d": "é"
}
)");
  CHECK(render(Json(0.123456789012), OutputFormat::json) == "0.123456789012\n");
  CHECK(render(Json("x"), OutputFormat::json) == "\"x\"\n");
  CHECK(render(Json::array(), OutputFormat::json) == "[]\n");
}

TEST_CASE("render: invalid UTF-8 in a value does not fail the output", "[render]") {
  Json value = {{"name", std::string("bad\xff")}};
  CHECK(render(value, OutputFormat::json) == "{\n  \"name\": \"bad\xef\xbf\xbd\"\n}\n");
}

TEST_CASE("render: yaml writes nested values in block style", "[render]") {
  Json value = Json::parse(R"({
    "name": "run-1", "epochs": 10, "lr": 0.001, "tiny": 1e-07, "done": true,
    "note": null, "tags": ["a", "b"], "empty_list": [], "empty_map": {},
    "metrics": {"acc": 0.9, "history": [{"epoch": 1, "loss": 0.5}, {"epoch": 2}]},
    "grid": [[1, 2], [], [3]]
  })");
  CHECK(render(value, OutputFormat::yaml) == R"(name: run-1
epochs: 10
lr: 0.001
tiny: 1.0e-07
done: true
note: null
tags:
- a
- b
empty_list: []
empty_map: {}
metrics:
  acc: 0.9
  history:
  - epoch: 1
    loss: 0.5
  - epoch: 2
grid:
- - 1
  - 2
- []
- - 3
)");
}

TEST_CASE("render: yaml of lists and scalars at the top level", "[render]") {
  CHECK(render(Json::parse(R"([{"a": 1, "b": {"c": 2}}, "x"])"), OutputFormat::yaml) ==
        "- a: 1\n  b:\n    c: 2\n- x\n");
  CHECK(render(Json::array(), OutputFormat::yaml) == "[]\n");
  CHECK(render(Json::object(), OutputFormat::yaml) == "{}\n");
  CHECK(render(Json(nullptr), OutputFormat::yaml) == "null\n");
  CHECK(render(Json(3), OutputFormat::yaml) == "3\n");
  CHECK(render(Json(2.5), OutputFormat::yaml) == "2.5\n");
  CHECK(render(Json(3.0), OutputFormat::yaml) == "3.0\n");
  CHECK(render(Json(0.1 + 0.2), OutputFormat::yaml) == "0.30000000000000004\n");
  CHECK(render(Json(std::nan("")), OutputFormat::yaml) == ".nan\n");
  CHECK(render(Json(-HUGE_VAL), OutputFormat::yaml) == "-.inf\n");
}

TEST_CASE("render: yaml quotes strings only where they would be misread", "[render]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain", "plain"},
      {"run-1", "run-1"},
      {"two words", "two words"},
      {"https://example.com/a", "https://example.com/a"},
      {"a#b", "a#b"},
      {"héllo", "héllo"},
      {"it's", "it's"},
      {"", R"("")"},
      {"true", R"("true")"},
      {"False", R"("False")"},
      {"yes", R"("yes")"},
      {"off", R"("off")"},
      {"null", R"("null")"},
      {"~", R"("~")"},
      {"123", R"("123")"},
      {"1.5", R"("1.5")"},
      {"-1", R"("-1")"},
      {".5", R"(".5")"},
      {"1e3", R"("1e3")"},
      {".inf", R"(".inf")"},
      {"-.Inf", R"("-.Inf")"},
      {"0x1f", R"("0x1f")"},
      {"2024-01-01", R"("2024-01-01")"},
      {"12:30", R"("12:30")"},
      {" lead", R"(" lead")"},
      {"trail ", R"("trail ")"},
      {"a: b", R"("a: b")"},
      {"key:", R"("key:")"},
      {"a #b", R"("a #b")"},
      {"-x", R"("-x")"},
      {"- x", R"("- x")"},
      {"?x", R"("?x")"},
      {":x", R"(":x")"},
      {",x", R"(",x")"},
      {"[x", R"("[x")"},
      {"]x", R"("]x")"},
      {"{x", R"("{x")"},
      {"}x", R"("}x")"},
      {"#x", R"("#x")"},
      {"&x", R"("&x")"},
      {"*x", R"("*x")"},
      {"!x", R"("!x")"},
      {"|x", R"("|x")"},
      {">x", R"(">x")"},
      {"'x", R"("'x")"},
      {"\"x", R"("\"x")"},
      {"%x", R"("%x")"},
      {"@x", R"("@x")"},
      {"`x", R"("`x")"},
      {"line\nbreak", R"("line\nbreak")"},
      {"tab\there", R"("tab\there")"},
      {"del\x7f", R"("del\x7f")"},
  };
  for (const auto& [text, expected] : cases) {
    INFO(text);
    CHECK(render(Json(text), OutputFormat::yaml) == expected + "\n");
    CHECK(render(Json{{text, 1}}, OutputFormat::yaml) == expected + ": 1\n");
  }
}

TEST_CASE("render: tsv writes a line per row without a header", "[render]") {
  CHECK(render(k_runs, OutputFormat::tsv) ==
        "run-1\tcompleted\t0.912345678\t10\t{\"loss\":0.5}\n"
        "run-22\tfailed\t\t3\t{}\n");
}

TEST_CASE("render: tsv columns are the union of keys in first-seen order", "[render]") {
  Json rows = Json::parse(R"([{"a": 1}, {"b": 2, "a": 3}, {"c": [1, "x"]}])");
  CHECK(render(rows, OutputFormat::tsv) == "1\t\t\n3\t2\t\n\t\t[1,\"x\"]\n");
}

TEST_CASE("render: tsv escapes tabs and newlines inside values", "[render]") {
  Json rows = Json::parse(R"([{"a": "x\ty", "b": "line1\nline2\r\n"}])");
  CHECK(render(rows, OutputFormat::tsv) == "x\\ty\tline1\\nline2\\r\\n\n");
}

TEST_CASE("render: tsv of scalars, arrays and single objects", "[render]") {
  const std::vector<std::pair<Json, std::string>> cases = {
      {Json("text"), "text\n"},
      {Json(0.1), "0.1\n"},
      {Json(1e-07), "1e-07\n"},
      {Json(true), "true\n"},
      {Json(nullptr), ""},
      {Json::array(), ""},
      {Json::parse(R"(["a", "b"])"), "a\nb\n"},
      {Json::parse(R"([["a", 1], ["b", null, true]])"), "a\t1\nb\t\ttrue\n"},
      {Json::parse(R"([1, null, {"a": 2}])"), "1\n\n2\n"},
      {Json::parse(R"({"id": "r1", "m": {"acc": 0.5}, "n": null})"), "r1\t{\"acc\":0.5}\t\n"},
  };
  for (const auto& [value, expected] : cases) {
    INFO(value.dump());
    CHECK(render(value, OutputFormat::tsv) == expected);
  }
}

TEST_CASE("render: explicit columns pick and order values by dotted path", "[render]") {
  RenderOptions options;
  options.columns = {{"Loss", "metrics.loss"}, {"Run", "id"}, {"First tag", "tags.0"}};
  Json rows = Json::parse(R"([{"id": "r1", "metrics": {"loss": 0.25}, "tags": ["x", "y"]},
                               {"id": "r2", "metrics.loss": 1}])");
  CHECK(render(rows, OutputFormat::tsv, options) == "0.25\tr1\tx\n1\tr2\t\n");
  CHECK(render(rows, OutputFormat::table, options) ==
        "Loss  Run  First tag\n"
        "----  ---  ---------\n"
        "0.25  r1   x\n"
        "   1  r2\n");
}

TEST_CASE("render: table aligns columns under a header and a dashed line", "[render]") {
  CHECK(render(k_runs, OutputFormat::table) ==
        "id      status          acc  epochs\n"
        "------  ---------  --------  ------\n"
        "run-1   completed  0.912346      10\n"
        "run-22  failed                    3\n");
}

TEST_CASE("render: table skips keys that only ever hold objects or arrays", "[render]") {
  Json rows = Json::parse(R"([{"a": {"x": 1}, "b": [1], "c": 1}, {"a": 2, "b": [], "c": 2}])");
  CHECK(render(rows, OutputFormat::table) ==
        "a        c\n"
        "-------  -\n"
        "{\"x\":1}  1\n"
        "2        2\n");
}

TEST_CASE("render: table shows doubles with 6 significant digits", "[render]") {
  const std::vector<std::pair<double, std::string>> cases = {
      {0.912345678, "0.912346"},
      {0.912345, "0.912345"},
      {12345.67, "12345.7"},
      {1.5e-07, "1.5e-07"},
      {3.0, "3"},
      {1e6, "1e+06"},
      {-0.25, "-0.25"},
      {0.1 + 0.2, "0.3"},
  };
  for (const auto& [number, expected] : cases) {
    INFO(expected);
    CHECK(render(Json(number), OutputFormat::table) == expected + "\n");
    CHECK(render(Json(number), OutputFormat::markdown) == expected + "\n");
  }
  CHECK(render(Json(123456789), OutputFormat::table) == "123456789\n");
}

TEST_CASE("render: table of one object lists flattened keys and values", "[render]") {
  Json run = Json::parse(R"({"id": "run-1", "status": "running",
                              "metrics": {"acc": 0.5, "per_class": {"cat": 0.25}},
                              "tags": ["a", "b"], "params": {}, "note": null})");
  CHECK(render(run, OutputFormat::table) ==
        "Key                    Value\n"
        "---------------------  ---------\n"
        "id                     run-1\n"
        "status                 running\n"
        "metrics.acc            0.5\n"
        "metrics.per_class.cat  0.25\n"
        "tags                   [\"a\",\"b\"]\n"
        "params                 {}\n"
        "note\n");
}

TEST_CASE("render: table of one object with columns lists those columns", "[render]") {
  RenderOptions options;
  options.columns = {{"Name", "id"}, {"Accuracy", "metrics.acc"}};
  Json run = Json::parse(R"({"id": "run-1", "metrics": {"acc": 0.5}})");
  CHECK(render(run, OutputFormat::table, options) ==
        "Key       Value\n"
        "--------  -----\n"
        "Name      run-1\n"
        "Accuracy  0.5\n");
}

TEST_CASE("render: table of scalars, lists of scalars and lists of lists", "[render]") {
  CHECK(render(Json("just text"), OutputFormat::table) == "just text\n");
  CHECK(render(Json(42), OutputFormat::table) == "42\n");
  CHECK(render(Json(false), OutputFormat::table) == "false\n");
  CHECK(render(Json(nullptr), OutputFormat::table) == "");
  CHECK(render(Json::array(), OutputFormat::table) == "");
  CHECK(render(Json::object(), OutputFormat::table) == "");
  CHECK(render(Json::parse(R"(["a", "bb", null])"), OutputFormat::table) ==
        "Result\n------\na\nbb\n\n");
  CHECK(render(Json::parse(R"([["run-1", "completed", 3], ["run-22", "failed"]])"),
               OutputFormat::table) ==
        "Column1  Column2    Column3\n"
        "-------  ---------  -------\n"
        "run-1    completed        3\n"
        "run-22   failed\n");
  CHECK(render(Json::parse(R"([{"a": 1}, "x"])"), OutputFormat::table) ==
        "Result\n-------\n{\"a\":1}\nx\n");
}

TEST_CASE("render: table cells stay on one line", "[render]") {
  Json rows = Json::parse(R"([{"a": "two\nlines", "b": "tab\there"}])");
  CHECK(render(rows, OutputFormat::table) ==
        "a          b\n"
        "---------  --------\n"
        "two lines  tab here\n");
}

TEST_CASE("render: table widths count characters, not bytes", "[render]") {
  Json rows = Json::parse(R"([{"name": "héllo", "n": 1}, {"name": "ab", "n": 2}])");
  CHECK(render(rows, OutputFormat::table) ==
        "name   n\n"
        "-----  -\n"
        "héllo  1\n"
        "ab     2\n");
}

TEST_CASE("render: color makes headers bold and statuses coloured", "[render]") {
  Json rows = Json::parse(R"([{"id": "a", "status": "completed"}, {"id": "b", "status": "failed"},
                               {"id": "c", "status": "Running"}, {"id": "d", "status": "queued"},
                               {"id": "e", "status": "canceled"}, {"id": "f", "status": "odd"}])");
  RenderOptions options;
  options.color = true;
  std::string colored = render(rows, OutputFormat::table, options);
  CHECK(colored ==
        "\x1b[1mid\x1b[0m  \x1b[1mstatus\x1b[0m\n"
        "--  ---------\n"
        "a   \x1b[32mcompleted\x1b[0m\n"
        "b   \x1b[31mfailed\x1b[0m\n"
        "c   \x1b[33mRunning\x1b[0m\n"
        "d   \x1b[33mqueued\x1b[0m\n"
        "e   \x1b[2mcanceled\x1b[0m\n"
        "f   odd\n");
  CHECK(strip_ansi(colored) == render(rows, OutputFormat::table));
}

TEST_CASE("render: color pads around the escape codes, not inside them", "[render]") {
  RenderOptions options;
  options.color = true;
  options.columns = {{"Status", "status"}, {"Id", "id"}};
  Json rows =
      Json::parse(R"([{"id": "a", "status": "failed"}, {"id": "b", "status": "completed"}])");
  std::string colored = render(rows, OutputFormat::table, options);
  CHECK(colored ==
        "\x1b[1mStatus\x1b[0m     \x1b[1mId\x1b[0m\n"
        "---------  --\n"
        "\x1b[31mfailed\x1b[0m     a\n"
        "\x1b[32mcompleted\x1b[0m  b\n");
  CHECK(strip_ansi(colored) == render(rows, OutputFormat::table, {options.columns, false}));
}

TEST_CASE("render: color marks the status row of a Key/Value table", "[render]") {
  RenderOptions options;
  options.color = true;
  CHECK(render(Json::parse(R"({"id": "r", "status": "failed"})"), OutputFormat::table, options) ==
        "\x1b[1mKey\x1b[0m     \x1b[1mValue\x1b[0m\n"
        "------  ------\n"
        "id      r\n"
        "status  \x1b[31mfailed\x1b[0m\n");
}

TEST_CASE("render: markdown writes a GitHub pipe table", "[render]") {
  CHECK(render(k_runs, OutputFormat::markdown) ==
        "| id | status | acc | epochs |\n"
        "| --- | --- | --- | --- |\n"
        "| run-1 | completed | 0.912346 | 10 |\n"
        "| run-22 | failed |  | 3 |\n");
}

TEST_CASE("render: markdown escapes pipes and newlines in cells", "[render]") {
  Json rows = Json::parse(R"([{"a|b": "x|y", "c": "one\ntwo\r\nthree"}])");
  CHECK(render(rows, OutputFormat::markdown) ==
        "| a\\|b | c |\n"
        "| --- | --- |\n"
        "| x\\|y | one<br>two<br>three |\n");
}

TEST_CASE("render: markdown of one object, scalars and lists of scalars", "[render]") {
  CHECK(render(Json::parse(R"({"id": "r", "m": {"acc": 0.5}})"), OutputFormat::markdown) ==
        "| Key | Value |\n| --- | --- |\n| id | r |\n| m.acc | 0.5 |\n");
  CHECK(render(Json("x"), OutputFormat::markdown) == "x\n");
  CHECK(render(Json::array(), OutputFormat::markdown) == "");
  CHECK(render(Json::parse("[1, 2]"), OutputFormat::markdown) ==
        "| Result |\n| --- |\n| 1 |\n| 2 |\n");
}

TEST_CASE("render: markdown is never coloured", "[render]") {
  RenderOptions options;
  options.color = true;
  CHECK(render(k_runs, OutputFormat::markdown, options) == render(k_runs, OutputFormat::markdown));
}

TEST_CASE("render: streamed rows equal the rendered list", "[render]") {
  Json rows = Json::parse(R"([{"id": "a", "m": {"x": [1, 2]}, "n": 0.5},
                               {"id": "b", "m": {}, "n": null}, {"id": "c"}])");
  for (OutputFormat format :
       {OutputFormat::json, OutputFormat::yaml, OutputFormat::table, OutputFormat::markdown}) {
    INFO(to_string(format));
    CHECK(stream_rows(format, rows) == render(rows, format));
    CHECK(stream_rows(format, Json::array()) == render(Json::array(), format));
  }
  RenderOptions options;
  options.columns = {{"Id", "id"}, {"X", "m.x.1"}};
  CHECK(stream_rows(OutputFormat::tsv, rows, options) == render(rows, OutputFormat::tsv, options));
  CHECK(stream_rows(OutputFormat::tsv, rows, options) == "a\t2\nb\t\nc\t\n");
}

TEST_CASE("render: streamed json is a pretty list, or [] when empty", "[render]") {
  CHECK(stream_rows(OutputFormat::json, Json::parse(R"([{"a": 1}, 2])")) ==
        "[\n  {\n    \"a\": 1\n  },\n  2\n]\n");
  CHECK(stream_rows(OutputFormat::json, Json::array()) == "[]\n");
  CHECK(stream_rows(OutputFormat::yaml, Json::array()) == "[]\n");
  CHECK(stream_rows(OutputFormat::tsv, Json::array()) == "");
  CHECK(stream_rows(OutputFormat::table, Json::array()) == "");
}

TEST_CASE("render: streamed tsv adds a column when a row brings a new key", "[render]") {
  CHECK(stream_rows(OutputFormat::tsv, Json::parse(R"([{"a": 1}, {"b": 2, "a": 3}, {"b": 4}])")) ==
        "1\n3\t2\n\t4\n");
}

TEST_CASE("render: json, yaml and tsv writers stream; table waits for finish", "[render]") {
  Json row = {{"id", "a"}, {"n", 1}};
  for (OutputFormat format : {OutputFormat::json, OutputFormat::yaml, OutputFormat::tsv}) {
    std::ostringstream out;
    auto writer = make_row_writer(format, out, {});
    writer->write_row(row);
    CHECK_FALSE(out.str().empty());
  }
  for (OutputFormat format : {OutputFormat::table, OutputFormat::markdown}) {
    std::ostringstream out;
    auto writer = make_row_writer(format, out, {});
    writer->write_row(row);
    CHECK(out.str().empty());
    writer->finish();
    CHECK(out.str() == render(Json::array({row}), format));
  }
}

TEST_CASE("render: a row writer handles 100,000 rows", "[render]") {
  std::ostringstream out;
  auto writer = make_row_writer(OutputFormat::tsv, out, {{{"Id", "id"}, {"Acc", "m.acc"}}, false});
  for (int i = 0; i < 100000; ++i) writer->write_row({{"id", i}, {"m", {{"acc", 0.5}}}});
  writer->finish();
  std::string text = out.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == 100000);
  CHECK(text.substr(text.size() - 10) == "99999\t0.5\n");
}

TEST_CASE("render: a row writer reports misuse and failed streams", "[render]") {
  std::ostringstream out;
  auto writer = make_row_writer(OutputFormat::json, out, {});
  writer->finish();
  writer->finish();  // a second finish does nothing
  CHECK(out.str() == "[]\n");
  try {
    writer->write_row(Json(1));
    FAIL("expected an error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::internal);
    CHECK(std::string(error.what()) == "RowWriter::write_row called after finish()");
  }

  std::ostringstream broken;
  broken.setstate(std::ios::badbit);
  auto failing = make_row_writer(OutputFormat::tsv, broken, {});
  try {
    failing->write_row(Json(1));
    FAIL("expected an error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::io);
    CHECK(std::string(error.what()) == "cannot write output: the output stream failed");
  }
}

}  // namespace
}  // namespace mlctl
