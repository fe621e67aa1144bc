#include <mlctl/core/query.hpp>

#include <mlctl/core/error.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace mlctl {
namespace {

const Json k_runs = Json::parse(R"([
  {"id": "run-1", "name": "baseline", "status": "completed", "start_time": 30,
   "metrics": {"acc": 0.91, "loss": 0.3}, "tags": ["a", "b"]},
  {"id": "run-2", "name": "wide", "status": "failed", "start_time": 10,
   "metrics": {"acc": 0.85}, "tags": []},
  {"id": "run-3", "name": "deep", "status": "completed", "start_time": 20,
   "metrics": {"acc": 0.95, "loss": 0.2}, "tags": ["b"]}
])");

struct Case {
  const char* expression;
  const char* expected;  // JSON text
};

// Compares JSON text so a failure shows both values readably.
void check_cases(const Json& doc, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    INFO("query: " << c.expression);
    CHECK(apply_query(doc, c.expression).dump() == Json::parse(c.expected).dump());
  }
}

std::string parse_error(std::string_view expression) {
  try {
    Query::parse(expression);
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::parse);
    return error.what();
  }
  return "no error";
}

std::string evaluation_error(const Json& doc, std::string_view expression) {
  try {
    apply_query(doc, expression);
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::invalid_argument);
    return error.what();
  }
  return "no error";
}

TEST_CASE("query: the examples from the --query documentation work", "[query]") {
  check_cases(k_runs, {
                          {"[].name", R"(["baseline", "wide", "deep"])"},
                          {"[?status=='completed'].id", R"(["run-1", "run-3"])"},
                          {"[0].metrics.acc", "0.91"},
                          {"[?metrics.acc > `0.9`] | [0].id", R"("run-1")"},
                          {"length(@)", "3"},
                          {"sort_by(@, &start_time)[-1].id", R"("run-1")"},
                      });
}

TEST_CASE("query: identifiers and sub-expressions follow fields, null when missing", "[query]") {
  Json doc = Json::parse(R"({"a": {"b": {"c": 1}}, "with space": 2, "x": "text"})");
  check_cases(doc, {
                       {"a", R"({"b": {"c": 1}})"},
                       {"a.b.c", "1"},
                       {"a.missing.c", "null"},
                       {"missing", "null"},
                       {R"("with space")", "2"},
                       {R"(a."b".c)", "1"},
                       {"x.y", "null"},
                       {"@", R"({"a": {"b": {"c": 1}}, "with space": 2, "x": "text"})"},
                       {"@.a.b", R"({"c": 1})"},
                   });
}

TEST_CASE("query: indexes count from either end and are null out of range", "[query]") {
  Json doc = Json::parse(R"({"xs": [10, 20, 30], "s": "abc"})");
  check_cases(doc, {
                       {"xs[0]", "10"},
                       {"xs[2]", "30"},
                       {"xs[-1]", "30"},
                       {"xs[-3]", "10"},
                       {"xs[3]", "null"},
                       {"xs[-4]", "null"},
                       {"s[0]", "null"},
                       {"xs[0][0]", "null"},
                   });
}

TEST_CASE("query: slices take start, stop and step like Python", "[query]") {
  Json doc = Json::parse("[0, 1, 2, 3, 4, 5]");
  check_cases(doc, {
                       {"[1:3]", "[1, 2]"},
                       {"[::2]", "[0, 2, 4]"},
                       {"[:2]", "[0, 1]"},
                       {"[4:]", "[4, 5]"},
                       {"[-2:]", "[4, 5]"},
                       {"[::-1]", "[5, 4, 3, 2, 1, 0]"},
                       {"[4:1:-2]", "[4, 2]"},
                       {"[10:]", "[]"},
                       {"[-10:2]", "[0, 1]"},
                       {"[:]", "[0, 1, 2, 3, 4, 5]"},
                   });
  check_cases(Json::parse(R"({"a": "text"})"), {{"a[0:1]", "null"}});
}

TEST_CASE("query: a slice projects what follows it", "[query]") {
  check_cases(k_runs, {
                          {"[1:].id", R"(["run-2", "run-3"])"},
                          {"[:2].metrics.loss", "[0.3]"},
                      });
}

TEST_CASE("query: list projections apply to each element and skip nulls", "[query]") {
  check_cases(k_runs, {
                          {"[*].id", R"(["run-1", "run-2", "run-3"])"},
                          {"[*].metrics.loss", "[0.3, 0.2]"},
                          {"[*].tags[0]", R"(["a", "b"])"},
                          {"[*].missing", "[]"},
                          {"[*]", k_runs.dump().c_str()},
                      });
  check_cases(Json::parse(R"({"a": 1})"), {{"[*].b", "null"}, {"a[*]", "null"}});
}

TEST_CASE("query: flatten merges one level of nested arrays", "[query]") {
  Json doc =
      Json::parse(R"({"a": [[1, 2], 3, [4, [5]]], "runs": [{"t": ["x", "y"]}, {"t": ["z"]}]})");
  check_cases(doc, {
                       {"a[]", "[1, 2, 3, 4, [5]]"},
                       {"a[][]", "[1, 2, 3, 4, 5]"},
                       {"runs[].t[]", R"(["x", "y", "z"])"},
                       {"runs[*].t", R"([["x", "y"], ["z"]])"},
                       {"runs[*].t[]", R"(["x", "y", "z"])"},
                       {"b[]", "null"},
                   });
  check_cases(k_runs, {{"[].tags[]", R"(["a", "b", "b"])"}});
}

TEST_CASE("query: object projections apply to each value", "[query]") {
  Json doc = Json::parse(R"({"m": {"acc": {"v": 1}, "loss": {"v": 2}, "lr": {"w": 3}}})");
  check_cases(doc, {
                       {"m.*.v", "[1, 2]"},
                       {"m.*", R"([{"v": 1}, {"v": 2}, {"w": 3}])"},
                       {"*.acc.v", "[1]"},
                       {"m.acc.*", "[1]"},
                       {"m.acc.v.*", "null"},
                   });
}

TEST_CASE("query: filter projection keeps matching rows", "[query]") {
  check_cases(k_runs,
              {
                  {"[?status == 'completed'].name", R"(["baseline", "deep"])"},
                  {"[?status != 'completed'].name", R"(["wide"])"},
                  {"[?start_time < `20`].id", R"(["run-2"])"},
                  {"[?start_time <= `20`].id", R"(["run-2", "run-3"])"},
                  {"[?start_time > `20`].id", R"(["run-1"])"},
                  {"[?start_time >= `20`].id", R"(["run-1", "run-3"])"},
                  {"[?metrics.loss].id", R"(["run-1", "run-3"])"},
                  {"[?tags].id", R"(["run-1", "run-3"])"},
                  {"[?!tags].id", R"(["run-2"])"},
                  {"[?status == 'completed' && start_time < `25`].id", R"(["run-3"])"},
                  {"[?status == 'failed' || start_time > `25`].id", R"(["run-1", "run-2"])"},
                  {"[?!(status == 'completed')].id", R"(["run-2"])"},
                  {"[?contains(tags, 'b')].id", R"(["run-1", "run-3"])"},
                  {"[?status == 'nope']", "[]"},
                  {"[?metrics.acc > `0.9`].metrics.acc", "[0.91, 0.95]"},
                  {"[?status == 'completed'] | length(@)", "2"},
              });
  check_cases(Json::parse(R"({"a": 1})"), {{"[?a]", "null"}});
}

TEST_CASE("query: bare numbers in comparisons are number literals", "[query]") {
  check_cases(k_runs, {
                          {"[?metrics.acc > 0.9].id", R"(["run-1", "run-3"])"},
                          {"[?start_time == 10].id", R"(["run-2"])"},
                          {"[?start_time > -1] | length(@)", "3"},
                          {"[?metrics.acc > 9e-1].id", R"(["run-1", "run-3"])"},
                      });
}

TEST_CASE("query: comparisons follow JMESPath typing", "[query]") {
  Json doc = Json::parse(R"({"i": 1, "f": 1.0, "s": "1", "o1": {"a": 1, "b": 2},
                             "o2": {"b": 2, "a": 1}, "arr": [1, 2], "t": true, "n": null})");
  check_cases(doc, {
                       {"i == f", "true"},
                       {"i == s", "false"},
                       {"o1 == o2", "true"},
                       {"arr == `[1, 2]`", "true"},
                       {"arr == `[2, 1]`", "false"},
                       {"t == `true`", "true"},
                       {"n == missing", "true"},
                       {"s < 'z'", "null"},
                       {"i < s", "null"},
                       {"t > i", "null"},
                       {"i < `2`", "true"},
                       {"f >= i", "true"},
                   });
}

TEST_CASE("query: && and || return operands, ! negates truthiness", "[query]") {
  Json doc = Json::parse(R"({"a": 0, "b": "", "c": [], "d": {}, "e": "x", "f": false})");
  check_cases(doc, {
                       {"a || e", "0"},
                       {"b || e", R"("x")"},
                       {"c || d || e", R"("x")"},
                       {"e && a", "0"},
                       {"b && e", R"("")"},
                       {"missing || f", "false"},
                       {"!a", "false"},
                       {"!b", "true"},
                       {"!missing", "true"},
                       {"!e", "false"},
                       {"(b || e) && a", "0"},
                       {"b || e && a", "0"},
                   });
}

TEST_CASE("query: literals in backticks and raw strings", "[query]") {
  check_cases(Json::object(), {
                                  {"`1`", "1"},
                                  {"`\"x\"`", R"("x")"},
                                  {"`true`", "true"},
                                  {"`null`", "null"},
                                  {"`[1, {\"a\": 2}]`", R"([1, {"a": 2}])"},
                                  {R"(`"back\`tick"`)", R"("back`tick")"},
                                  {"'text'", R"("text")"},
                                  {R"('it\'s')", R"("it's")"},
                                  {R"('a\\b')", R"("a\\b")"},
                                  {R"('C:\temp')", R"("C:\\temp")"},
                                  {"''", R"("")"},
                                  {"0.5", "0.5"},
                              });
}

TEST_CASE("query: multiselect lists and hashes build new values", "[query]") {
  check_cases(
      k_runs,
      {
          {"[].[id, status]",
           R"([["run-1", "completed"], ["run-2", "failed"], ["run-3", "completed"]])"},
          {"[].{name: name, acc: metrics.acc}",
           R"([{"name": "baseline", "acc": 0.91}, {"name": "wide", "acc": 0.85},
                       {"name": "deep", "acc": 0.95}])"},
          {"[0].{\"run id\": id, loss: metrics.loss}", R"({"run id": "run-1", "loss": 0.3})"},
          {"[1].{loss: metrics.loss}", R"({"loss": null})"},
          {"[0].metrics.[acc, loss]", "[0.91, 0.3]"},
          {"[0].metrics.{a: acc}", R"({"a": 0.91})"},
          {"missing.[a, b]", "null"},
          {"missing.{a: a}", "null"},
          {"[0].[id, missing]", R"(["run-1", null])"},
      });
}

TEST_CASE("query: a pipe stops the projection on its left", "[query]") {
  check_cases(k_runs, {
                          {"[*].id | [0]", R"("run-1")"},
                          {"[*].id[0]", "[]"},
                          {"[].tags | [1]", R"([])"},
                          {"[*].metrics | [?acc > `0.9`] | length(@)", "2"},
                          {"[0] | id", R"("run-1")"},
                      });
}

TEST_CASE("query: built-in functions compute JMESPath results", "[query]") {
  Json doc = Json::parse(R"({
    "nums": [3, 1, 2], "reals": [1.5, 2.5], "words": ["b", "c", "a"], "empty": [],
    "text": "héllo", "obj": {"x": 1, "y": "two"}, "n": null, "neg": -4, "f": 2.5,
    "runs": [{"k": "b", "v": 2}, {"k": "a", "v": 3}, {"k": "c", "v": 1}]})");
  check_cases(doc, {
                       {"length(nums)", "3"},
                       {"length(text)", "5"},
                       {"length(obj)", "2"},
                       {"contains(words, 'a')", "true"},
                       {"contains(nums, `4`)", "false"},
                       {"contains(text, 'll')", "true"},
                       {"contains(text, `1`)", "false"},
                       {"starts_with(text, 'hé')", "true"},
                       {"ends_with(text, 'lo')", "true"},
                       {"ends_with(text, 'x')", "false"},
                       {"max(nums)", "3"},
                       {"min(nums)", "1"},
                       {"max(words)", R"("c")"},
                       {"min(words)", R"("a")"},
                       {"max(empty)", "null"},
                       {"sum(nums)", "6"},
                       {"sum(reals)", "4.0"},
                       {"sum(empty)", "0"},
                       {"avg(nums)", "2.0"},
                       {"avg(empty)", "null"},
                       {"sort(nums)", "[1, 2, 3]"},
                       {"sort(words)", R"(["a", "b", "c"])"},
                       {"sort_by(runs, &v)[*].k", R"(["c", "b", "a"])"},
                       {"sort_by(runs, &k)[*].v", "[3, 2, 1]"},
                       {"max_by(runs, &v).k", R"("a")"},
                       {"min_by(runs, &v).k", R"("c")"},
                       {"max_by(empty, &v)", "null"},
                       {"keys(obj)", R"(["x", "y"])"},
                       {"values(obj)", R"([1, "two"])"},
                       {"to_string(nums)", R"("[3,1,2]")"},
                       {"to_string(text)", R"("héllo")"},
                       {"to_number('12')", "12"},
                       {"to_number('1.5')", "1.5"},
                       {"to_number('abc')", "null"},
                       {"to_number(obj)", "null"},
                       {"to_number(f)", "2.5"},
                       {"join(', ', words)", R"("b, c, a")"},
                       {"join('', empty)", R"("")"},
                       {"reverse(nums)", "[2, 1, 3]"},
                       {"reverse(text)", R"("olléh")"},
                       {"not_null(n, missing, neg)", "-4"},
                       {"not_null(n)", "null"},
                       {"type(nums)", R"("array")"},
                       {"type(obj)", R"("object")"},
                       {"type(text)", R"("string")"},
                       {"type(f)", R"("number")"},
                       {"type(n)", R"("null")"},
                       {"type(`true`)", R"("boolean")"},
                       {"abs(neg)", "4"},
                       {"ceil(f)", "3"},
                       {"floor(f)", "2"},
                       {"map(&v, runs)", "[2, 3, 1]"},
                       {"map(&missing, runs)", "[null, null, null]"},
                       {"merge(obj, `{\"y\": 2, \"z\": 3}`)", R"({"x": 1, "y": 2, "z": 3})"},
                       {"to_array(f)", "[2.5]"},
                       {"to_array(nums)", "[3, 1, 2]"},
                       {"length(runs[?v > `1`])", "2"},
                       {"runs[*].k | join('-', @)", R"("b-a-c")"},
                   });
}

TEST_CASE("query: sort_by is stable", "[query]") {
  Json doc = Json::parse(R"([{"g": 1, "id": "a"}, {"g": 0, "id": "b"}, {"g": 1, "id": "c"},
                             {"g": 0, "id": "d"}])");
  check_cases(doc, {{"sort_by(@, &g)[*].id", R"(["b", "d", "a", "c"])"}});
}

TEST_CASE("query: a parsed query can be evaluated against many documents", "[query]") {
  Query query = Query::parse("[?acc > `0.5`].id");
  CHECK(query.expression() == "[?acc > `0.5`].id");
  CHECK(query.evaluate(Json::parse(R"([{"id": 1, "acc": 0.9}])")) == Json::parse("[1]"));
  CHECK(query.evaluate(Json::parse(R"([{"id": 2, "acc": 0.1}])")) == Json::parse("[]"));
  Query copy = query;
  CHECK(copy.evaluate(Json::parse(R"([{"id": 3, "acc": 0.7}])")) == Json::parse("[3]"));
}

TEST_CASE("query: whitespace between tokens is ignored", "[query]") {
  check_cases(k_runs, {{" [?status == 'failed' ] . id ", R"(["run-2"])"},
                       {"[0]\n  .id", R"("run-1")"},
                       {"sort_by( @ , & start_time )[ 0 ].id", R"("run-2")"}});
}

TEST_CASE("query: malformed expressions name the column and what was expected", "[query]") {
  struct ErrorCase {
    const char* expression;
    const char* message;
  };
  const std::vector<ErrorCase> cases = {
      {"items[0", "--query:1:8: expected ']' (got end of input)"},
      {"[0", "--query:1:3: expected ']' (got end of input)"},
      {"a]", "--query:1:2: unmatched ']'"},
      {"(a", "--query:1:3: expected ')' (got end of input)"},
      {"a)", "--query:1:2: unmatched ')'"},
      {"{a: b", "--query:1:6: expected ',' or '}' (got end of input)"},
      {"[?a == 'x'", "--query:1:11: expected ']' (got end of input)"},
      {"[a, b", "--query:1:6: expected ',' or ']' (got end of input)"},
      {"\"abc",
       "--query:1:1: unterminated quoted identifier: expected a closing '\"' (got end "
       "of input)"},
      {"[?a == 'abc]",
       "--query:1:8: unterminated raw string: expected a closing \"'\" (got end "
       "of input)"},
      {"`1", "--query:1:1: unterminated JSON literal: expected a closing '`' (got end of input)"},
      {"a ^ b", "--query:1:3: unexpected character '^'"},
      {"a # b", "--query:1:3: unexpected character '#'"},
      {"a € b", "--query:1:3: unexpected character '€'"},
      {"[?a = 'x']", "--query:1:5: unexpected character '=' (did you mean '=='?)"},
      {"foo(@)", "--query:1:1: unknown function 'foo'"},
      {"lenght(@)", "--query:1:1: unknown function 'lenght' (did you mean 'length'?)"},
      {"[].sortby(@, &x)", "--query:1:4: unknown function 'sortby' (did you mean 'sort_by'?)"},
      {"length(@, @)", "--query:1:1: length() takes 1 argument (got 2)"},
      {"sort_by(@)", "--query:1:1: sort_by() takes 2 arguments (got 1)"},
      {"not_null()", "--query:1:1: not_null() takes at least 1 argument (got 0)"},
      {"sort_by(@, start_time)",
       "--query:1:12: argument 2 of sort_by() must be an expression reference, as in &name"},
      {"length(&a)", "--query:1:8: argument 1 of length() cannot be an expression reference ('&')"},
      {"&a", "--query:1:1: '&' may only start a function argument, as in sort_by(@, &name)"},
      {"length(@,)", "--query:1:10: expected an expression (got ')')"},
      {"length(@ @)", "--query:1:10: expected ',' or ')' (got '@')"},
      {"\"length\"(@)", "--query:1:9: a quoted identifier cannot be called as a function"},
      {"a.(b)", "--query:1:3: expected an identifier, '*', '[' or '{' after '.' (got '(')"},
      {"a.", "--query:1:3: expected an identifier, '*', '[' or '{' after '.' (got end of input)"},
      {"", "--query:1:1: expected an expression (got end of input)"},
      {"a b", "--query:1:3: expected end of input (got 'b')"},
      {"a[b]", "--query:1:3: expected a number, ':' or '*' after '[' (got 'b')"},
      {"a[1.5]", "--query:1:3: expected an integer (got '1.5')"},
      {"a[::0]", "--query:1:3: slice step cannot be 0"},
      {"a[1:2:3:4]", "--query:1:8: too many ':' in slice (at most [start:stop:step])"},
      {"a[1 2]", "--query:1:5: expected ']' (got '2')"},
      {"{}", "--query:1:2: expected a key name (got '}')"},
      {"{a b}", "--query:1:4: expected ':' (got 'b')"},
      {"[*]*", "--query:1:4: expected '.', '[' or '[?' after a projection (got '*')"},
      {"a.b(c)", "--query:1:3: unknown function 'b'"},
      {"a[0](b)", "--query:1:5: unexpected '(' (only a function name may be called)"},
      {"`{bad`",
       "--query:1:1: invalid JSON literal `{bad` (a string needs double quotes, "
       "`\"{bad\"`, or use a raw string, '{bad')"},
      {"[?status == `completed`]",
       "--query:1:13: invalid JSON literal `completed` (a string needs double quotes, "
       "`\"completed\"`, or use a raw string, 'completed')"},
      {"a[99999999999999999999]", "--query:1:3: number '99999999999999999999' is out of range"},
      {"a ||\n b ==", "--query:2:6: expected an expression (got end of input)"},
      {"é ^", "--query:1:1: unexpected character 'é'"},
  };
  for (const ErrorCase& c : cases) {
    INFO("query: " << c.expression);
    CHECK(parse_error(c.expression) == c.message);
  }
}

TEST_CASE("query: deeply nested expressions are rejected, not a stack overflow", "[query]") {
  std::string nested = std::string(300, '(') + "a" + std::string(300, ')');
  CHECK(parse_error(nested) == "--query:1:257: expression nested more than 256 levels deep");
  std::string fine = std::string(100, '(') + "a" + std::string(100, ')');
  CHECK(apply_query(Json::parse(R"({"a": 1})"), fine) == Json(1));
}

TEST_CASE("query: diagnostics use the given source name", "[query]") {
  try {
    apply_query(Json::object(), "a[", "runs.yml:3");
    FAIL("expected an error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::parse);
    CHECK(std::string(error.what()) ==
          "runs.yml:3:1:3: expected a number, ':' or '*' after '[' (got end of input)");
  }
}

TEST_CASE("query: functions reject arguments of the wrong type", "[query]") {
  Json doc = Json::parse(R"({"words": ["a", "b"], "mixed": [1, "a"], "nulls": [1, null],
                             "runs": [{"t": 1}, {"t": "x"}, {}], "n": 5})");
  struct ErrorCase {
    const char* expression;
    const char* message;
  };
  const std::vector<ErrorCase> cases = {
      {"sum(words)",
       "--query:1:1: sum() argument 1 must be array of numbers (got array of strings)"},
      {"avg(nulls)",
       "--query:1:1: avg() argument 1 must be array of numbers (got array containing "
       "null)"},
      {"max(mixed)",
       "--query:1:1: max() argument 1 must be array of numbers or array of strings "
       "(got array mixing numbers and strings)"},
      {"length(n)",
       "--query:1:1: length() argument 1 must be string, array or object (got number)"},
      {"starts_with(n, 'a')", "--query:1:1: starts_with() argument 1 must be string (got number)"},
      {"keys(words)", "--query:1:1: keys() argument 1 must be object (got array)"},
      {"join(',', mixed)",
       "--query:1:1: join() argument 2 must be array of strings (got array "
       "mixing numbers and strings)"},
      {"sort_by(runs, &t)",
       "--query:1:1: sort_by() key must be all numbers or all strings "
       "(element 1 gives string after number)"},
      {"max_by(runs[2:], &t)",
       "--query:1:1: max_by() key must be all numbers or all strings "
       "(element 0 gives null)"},
      {"runs[*].sum(@)", "--query:1:9: sum() argument 1 must be array of numbers (got object)"},
      {"abs('x')", "--query:1:1: abs() argument 1 must be number (got string)"},
      {"map(&t, n)", "--query:1:1: map() argument 2 must be array (got number)"},
      {"merge(n)", "--query:1:1: merge() argument 1 must be object (got number)"},
  };
  for (const ErrorCase& c : cases) {
    INFO("query: " << c.expression);
    CHECK(evaluation_error(doc, c.expression) == c.message);
  }
}

}  // namespace
}  // namespace mlctl
