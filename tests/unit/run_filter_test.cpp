#include <mlctl/tracking/run_filter.hpp>

#include <mlctl/core/error.hpp>

#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using mlctl::Error;
using mlctl::ErrorKind;
using mlctl::tracking::compile_run_filter;
using mlctl::tracking::compile_run_order;
using mlctl::tracking::FieldKind;
using mlctl::tracking::FilterNode;
using mlctl::tracking::parse_run_filter;
using mlctl::tracking::parse_run_order;
using mlctl::tracking::RunAttribute;
using mlctl::tracking::SqlFragment;
using mlctl::tracking::SqlValue;
using Uids = std::vector<std::string>;

namespace {

constexpr const char* k_schema = R"sql(
  CREATE TABLE experiments(id INTEGER PRIMARY KEY, name TEXT);
  CREATE TABLE runs(id INTEGER PRIMARY KEY, uid TEXT, experiment_id INTEGER, parent_id INTEGER,
                    display_name TEXT, status TEXT, status_reason TEXT, exit_code INTEGER,
                    created_at REAL, start_time REAL, end_time REAL, host TEXT, git_commit TEXT,
                    kind TEXT);
  CREATE TABLE params(run_id INTEGER, key TEXT, value TEXT, PRIMARY KEY(run_id, key));
  CREATE TABLE tags(run_id INTEGER, key TEXT, value TEXT, PRIMARY KEY(run_id, key));
  CREATE TABLE latest_metrics(run_id INTEGER, key TEXT, value REAL, step INTEGER,
                              timestamp REAL, PRIMARY KEY(run_id, key));
)sql";

// Eight runs in two experiments. Durations: r1 100, r2 600, r3 50, r4 active, r5 900, r6 100,
// r7 10, r8 300.
constexpr const char* k_runs = R"sql(
  INSERT INTO experiments VALUES (1, 'mnist'), (2, 'cifar');
  INSERT INTO runs VALUES
    (1, 'r1', 1, NULL, 'baseline', 'FINISHED', NULL, 0,
     990, 1000, 1100, 'gpu-1', 'abc123', 'train'),
    (2, 'r2', 1, NULL, 'wide', 'FINISHED', NULL, 0, 995, 1000, 1600, 'gpu-2', 'abc123', 'train'),
    (3, 'r3', 1, NULL, 'deep', 'FAILED', 'OOM', 1, 1990, 2000, 2050, 'gpu-1', 'def456', 'train'),
    (4, 'r4', 2, NULL, 'resnet', 'RUNNING', NULL, NULL,
     2990, 3000, NULL, 'gpu-2', 'def456', 'train'),
    (5, 'r5', 2, NULL, 'vit', 'FINISHED', NULL, 0, 2995, 3000, 3900, 'gpu-1', 'def456', 'sweep'),
    (6, 'r6', 2, 5, 'child', 'FINISHED', NULL, 0, 3090, 3100, 3200, 'gpu-1', 'def456', 'train'),
    (7, 'r7', 1, NULL, NULL, 'KILLED', 'signal 9', 137, 3990, 4000, 4010, 'cpu', NULL, 'train'),
    (8, 'r8', 2, NULL, 'Baseline-2', 'FINISHED', NULL, 0,
     4990, 5000, 5300, 'gpu-2', 'fff000', 'train');
  INSERT INTO latest_metrics(run_id, key, value) VALUES
    (1, 'acc', 0.91), (1, 'loss', 0.30), (1, 'val loss', 0.35),
    (2, 'acc', 0.95), (2, 'loss', 0.20),
    (3, 'acc', 0.50),
    (4, 'acc', 0.80),
    (5, 'acc', 0.97), (5, 'loss', 0.10),
    (7, 'acc', 0.89),
    (8, 'acc', 0.93);
  INSERT INTO params VALUES
    (1, 'lr', '0.01'), (1, 'batch-size', '32'), (1, 'optimizer', 'adam'),
    (2, 'lr', '0.001'), (2, 'optimizer', 'sgd'),
    (3, 'lr', '0.1'), (3, 'optimizer', 'Adam'),
    (4, 'lr', '1e-3'),
    (5, 'lr', 'auto'),
    (6, 'lr', '0.01'),
    (7, 'batch-size', '128'),
    (8, 'lr', '0.01'), (8, 'optimizer', 'ADAM');
  INSERT INTO tags VALUES
    (1, 'team', 'a'), (1, 'mlctl.source', 'cli'),
    (2, 'team', 'b'),
    (3, 'team', 'c'), (3, 'note', '50% done'),
    (4, 'team', 'a'),
    (5, 'team', 'b'), (5, 'note', 'v_2 [final]'),
    (6, 'team', 'a'), (6, 'mlctl.source', 'sweep'),
    (7, 'path', 'C:\data\x_1'),
    (8, 'team', 'A');
)sql";

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

void execute(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    throw std::runtime_error(text);
  }
}

DbHandle open_runs_db() {
  sqlite3* raw = nullptr;
  if (sqlite3_open(":memory:", &raw) != SQLITE_OK) throw std::runtime_error("sqlite3_open");
  DbHandle db(raw);
  execute(db.get(), k_schema);
  execute(db.get(), k_runs);
  return db;
}

// Runs `SELECT r.uid ... WHERE <where> ORDER BY <order>` with the fragments' values bound.
Uids query_uids(sqlite3* db, const SqlFragment& where, const SqlFragment& order) {
  const std::string sql =
      "SELECT r.uid FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE " + where.sql +
      " ORDER BY " + order.sql;
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    throw std::runtime_error(std::string(sqlite3_errmsg(db)) + " in: " + sql);
  }
  StatementHandle statement(raw);
  REQUIRE(sqlite3_bind_parameter_count(raw) ==
          static_cast<int>(where.params.size() + order.params.size()));
  int index = 1;
  for (const auto* fragment : {&where, &order}) {
    for (const SqlValue& value : fragment->params) {
      if (const auto* integer = std::get_if<std::int64_t>(&value)) {
        sqlite3_bind_int64(raw, index, *integer);
      } else if (const auto* real = std::get_if<double>(&value)) {
        sqlite3_bind_double(raw, index, *real);
      } else {
        const auto& text = std::get<std::string>(value);
        sqlite3_bind_text(raw, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
      }
      ++index;
    }
  }
  Uids uids;
  int rc = 0;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    uids.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(raw, 0)));
  }
  if (rc != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db));
  return uids;
}

// The uids of the runs matching `filter`, in id order.
Uids matching(const std::string& filter) {
  static DbHandle db = open_runs_db();
  return query_uids(db.get(), compile_run_filter(filter), compile_run_order(""));
}

// The uids of all runs in `order_by` order.
Uids ordered(const std::string& order_by) {
  static DbHandle db = open_runs_db();
  return query_uids(db.get(), compile_run_filter(""), compile_run_order(order_by));
}

// The message of the parse error `call` throws, or a note that it threw none.
template <typename Call>
std::string parse_error(Call call) {
  try {
    call();
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::parse);
    return error.what();
  }
  return "(no error)";
}

std::string filter_error(const std::string& filter) {
  return parse_error([&] { compile_run_filter(filter); });
}

std::string order_error(const std::string& order_by) {
  return parse_error([&] { compile_run_order(order_by); });
}

const std::string k_attributes =
    "attributes are id, run_id, name, display_name, status, status_reason, exit_code, experiment, "
    "experiment_name, parent, parent_id, host, git_commit, kind, created, created_at, start_time, "
    "end_time, duration";

}  // namespace

TEST_CASE("run filter: a blank filter matches every run", "[filter]") {
  CHECK(matching("") == Uids{"r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"});
  CHECK(matching("  \n ") == Uids{"r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"});
  CHECK(compile_run_filter("").sql == "1");
}

TEST_CASE("run filter: 'or' binds looser than 'and'", "[filter]") {
  CHECK(matching("metrics.acc > 0.9 and tags.team = 'a' or tags.team = 'c'") == Uids{"r1", "r3"});
  CHECK(matching("tags.team = 'c' or metrics.acc > 0.9 and tags.team = 'a'") == Uids{"r1", "r3"});
  CHECK(matching("metrics.acc > 0.9 and (tags.team = 'a' or tags.team = 'c')") == Uids{"r1"});
}

TEST_CASE("run filter: 'not' binds tighter than 'and'", "[filter]") {
  CHECK(matching("not tags.team = 'a' and metrics.acc > 0.9") == Uids{"r2", "r5", "r8"});
  CHECK(matching("not (tags.team = 'a' and metrics.acc > 0.9)") ==
        Uids{"r2", "r3", "r4", "r5", "r6", "r7", "r8"});
  CHECK(matching("not not tags.team = 'c'") == Uids{"r3"});
}

TEST_CASE("run filter: keywords are case-insensitive", "[filter]") {
  CHECK(matching("METRICS.acc > 0.9 AND NOT tags.team = 'b' Or tags.team IN ('c')") ==
        Uids{"r1", "r3", "r8"});
  CHECK(matching("params.optimizer ILIKE 'adam' AND tags.team IS NOT NULL") ==
        Uids{"r1", "r3", "r8"});
}

TEST_CASE("run filter: a missing key fails every comparison and 'not' complements", "[filter]") {
  CHECK(matching("metrics.loss < 0.25") == Uids{"r2", "r5"});
  CHECK(matching("metrics.loss != 0.2") == Uids{"r1", "r5"});
  CHECK(matching("not metrics.loss < 0.25") == Uids{"r1", "r3", "r4", "r6", "r7", "r8"});
  CHECK(matching("metrics.loss >= 0") == Uids{"r1", "r2", "r5"});
}

TEST_CASE("run filter: every comparison operator on metrics", "[filter]") {
  CHECK(matching("metrics.acc = 0.95") == Uids{"r2"});
  CHECK(matching("metrics.acc == 0.95") == Uids{"r2"});
  CHECK(matching("metrics.acc <> 0.95") == Uids{"r1", "r3", "r4", "r5", "r7", "r8"});
  CHECK(matching("metrics.acc < 0.8") == Uids{"r3"});
  CHECK(matching("metrics.acc <= 0.8") == Uids{"r3", "r4"});
  CHECK(matching("metrics.acc >= 0.95") == Uids{"r2", "r5"});
  CHECK(matching("metrics.acc>9e-1") == Uids{"r1", "r2", "r5", "r8"});
  CHECK(matching("metrics.acc > -1 and metrics.acc < 1") ==
        Uids{"r1", "r2", "r3", "r4", "r5", "r7", "r8"});
  CHECK(matching("metrics.acc > .96") == Uids{"r5"});
}

TEST_CASE("run filter: 'in' and 'not in' lists", "[filter]") {
  CHECK(matching("tags.team in ('a', 'b')") == Uids{"r1", "r2", "r4", "r5", "r6"});
  CHECK(matching("tags.team not in ('a', 'b')") == Uids{"r3", "r8"});
  CHECK(matching("metrics.acc in (0.5, 0.97)") == Uids{"r3", "r5"});
  CHECK(matching("params.lr in (0.001, 0.1)") == Uids{"r2", "r3", "r4"});
  CHECK(matching("status not in ('FINISHED')") == Uids{"r3", "r4", "r7"});
  CHECK(matching("exit_code in (1, 137)") == Uids{"r3", "r7"});
}

TEST_CASE("run filter: 'like' is case-sensitive and 'ilike' is not", "[filter]") {
  CHECK(matching("params.optimizer like 'a%'") == Uids{"r1"});
  CHECK(matching("params.optimizer ilike 'a%'") == Uids{"r1", "r3", "r8"});
  CHECK(matching("params.optimizer not like 'a%'") == Uids{"r2", "r3", "r8"});
  CHECK(matching("params.optimizer not ilike 'A%'") == Uids{"r2"});
  CHECK(matching("name like 'b%'") == Uids{"r1"});
  CHECK(matching("name ilike 'b%'") == Uids{"r1", "r8"});
  CHECK(matching("name like '_ide'") == Uids{"r2"});
  CHECK(matching("name like 'B%-_'") == Uids{"r8"});
}

TEST_CASE("run filter: like patterns escape with a backslash and GLOB characters are literal",
          "[filter]") {
  CHECK(matching(R"(tags.note like '50\%%')") == Uids{"r3"});
  CHECK(matching(R"(tags.note like '50\%')") == Uids{});
  CHECK(matching(R"(tags.note like 'v\_2%')") == Uids{"r5"});
  CHECK(matching("tags.note like '*'") == Uids{});
  CHECK(matching("tags.note like '%[final]'") == Uids{"r5"});
  CHECK(matching("tags.note ilike '%[FINAL]'") == Uids{"r5"});
  CHECK(matching("tags.note like '%?%'") == Uids{});
  CHECK(matching(R"(tags.path like 'C:\data%')") == Uids{"r7"});
  CHECK(matching(R"(tags.path like '%\x\_1')") == Uids{"r7"});
  CHECK(matching(R"(tags.path like '%x\_')") == Uids{});
}

TEST_CASE("run filter: 'is null' tests presence of a key or attribute", "[filter]") {
  CHECK(matching("metrics.loss is null") == Uids{"r3", "r4", "r6", "r7", "r8"});
  CHECK(matching("metrics.loss is not null") == Uids{"r1", "r2", "r5"});
  CHECK(matching("tags.team is null") == Uids{"r7"});
  CHECK(matching("end_time is null") == Uids{"r4"});
  CHECK(matching("duration is null") == Uids{"r4"});
  CHECK(matching("name is null") == Uids{"r7"});
  CHECK(matching("parent is not null") == Uids{"r6"});
}

TEST_CASE("run filter: params compare numerically with numbers and as text with strings",
          "[filter]") {
  CHECK(matching("params.lr = 0.01") == Uids{"r1", "r6", "r8"});
  CHECK(matching("params.lr = 0.001") == Uids{"r2", "r4"});
  CHECK(matching("params.lr = '0.001'") == Uids{"r2"});
  // 'auto' is not a number: it must not be cast to 0 and match.
  CHECK(matching("params.lr < 0.01") == Uids{"r2", "r4"});
  CHECK(matching("params.lr != 0.01") == Uids{"r2", "r3", "r4"});
  CHECK(matching("params.lr > '0.01'") == Uids{"r3", "r4", "r5"});
  CHECK(matching("params.batch-size > 64") == Uids{"r7"});
  CHECK(matching("params.batch-size > '64'") == Uids{});
  CHECK(matching("params.batch-size = 32") == Uids{"r1"});
}

TEST_CASE("run filter: attributes, also with the attributes. prefix", "[filter]") {
  CHECK(matching("status = 'FAILED' or exit_code != 0") == Uids{"r3", "r7"});
  CHECK(matching("attributes.status = 'RUNNING'") == Uids{"r4"});
  CHECK(matching("experiment = 'cifar' and duration > 500") == Uids{"r5"});
  CHECK(matching("experiment_name = 'mnist'") == Uids{"r1", "r2", "r3", "r7"});
  CHECK(matching("start_time >= 3000 and start_time < 4000") == Uids{"r4", "r5", "r6"});
  CHECK(matching("created < 1000 or created_at > 4500") == Uids{"r1", "r2", "r8"});
  CHECK(matching("end_time > 5000") == Uids{"r8"});
  CHECK(matching("duration <= 100") == Uids{"r1", "r3", "r6", "r7"});
  CHECK(matching("id = 'r3' or run_id = 'r4'") == Uids{"r3", "r4"});
  CHECK(matching("display_name = 'vit'") == Uids{"r5"});
  CHECK(matching("parent = 'r5' or parent_id = 'r1'") == Uids{"r6"});
  CHECK(matching("host = 'cpu'") == Uids{"r7"});
  CHECK(matching("git_commit like 'abc%'") == Uids{"r1", "r2"});
  CHECK(matching("kind = 'sweep'") == Uids{"r5"});
  CHECK(matching("status_reason = 'OOM'") == Uids{"r3"});
  CHECK(matching("attr.kind = 'sweep' and Attributes.Host = 'gpu-1'") == Uids{"r5"});
  CHECK(matching("`start_time` > 4500") == Uids{"r8"});
}

TEST_CASE("run filter: 'not' on an attribute includes runs where it is null", "[filter]") {
  // r4 is still running: no end time, no duration, no exit code.
  CHECK(matching("not duration > 500") == Uids{"r1", "r3", "r4", "r6", "r7", "r8"});
  CHECK(matching("not exit_code = 0") == Uids{"r3", "r4", "r7"});
  CHECK(matching("not (exit_code = 0 or name = 'deep')") == Uids{"r4", "r7"});
  CHECK(matching("not not exit_code = 0") == Uids{"r1", "r2", "r5", "r6", "r8"});
}

TEST_CASE("run filter: keys may be quoted or contain dots, slashes and dashes", "[filter]") {
  CHECK(matching("metrics.`val loss` < 0.4") == Uids{"r1"});
  CHECK(matching("metrics.\"val loss\" < 0.4") == Uids{"r1"});
  CHECK(matching("params.\"batch-size\" = '32'") == Uids{"r1"});
  CHECK(matching("tags.mlctl.source = 'sweep'") == Uids{"r6"});
  CHECK(matching("tags.`mlctl.source` in ('cli', 'sweep')") == Uids{"r1", "r6"});
  CHECK(matching("metric.acc > 0.96 or param.lr = 'auto' or tag.team = 'c'") == Uids{"r3", "r5"});
}

TEST_CASE("run filter: string literals take either quote and escape quotes", "[filter]") {
  CHECK(matching("tags.team = \"a\"") == Uids{"r1", "r4", "r6"});
  CHECK(matching("tags.note = '50% done'") == Uids{"r3"});
  CHECK(matching("tags.team = 'it''s'") == Uids{});
  const FilterNode doubled = parse_run_filter("tags.x = 'it''s'");
  CHECK(std::get<std::string>(doubled.comparison.values.at(0)) == "it's");
  const FilterNode escaped = parse_run_filter(R"(tags.x = 'it\'s \\ C:\data')");
  CHECK(std::get<std::string>(escaped.comparison.values.at(0)) == R"(it's \ C:\data)");
  const FilterNode in_double = parse_run_filter(R"(tags.x = "say ""hi"" \"now\"")");
  CHECK(std::get<std::string>(in_double.comparison.values.at(0)) == R"(say "hi" "now")");
}

TEST_CASE("run filter: literals and keys are bound, never spliced into the SQL", "[filter]") {
  const SqlFragment fragment = compile_run_filter("tags.`t'; DROP` = 'a'' or 1=1 --'");
  CHECK(fragment.sql.find("DROP") == std::string::npos);
  CHECK(fragment.sql.find("1=1") == std::string::npos);
  REQUIRE(fragment.params.size() == 2);
  CHECK(std::get<std::string>(fragment.params[0]) == "t'; DROP");
  CHECK(std::get<std::string>(fragment.params[1]) == "a' or 1=1 --");
  CHECK(matching("tags.team = 'a'' or 1=1 --'") == Uids{});
}

TEST_CASE("run filter: metric comparisons compile to index-driven IN subqueries", "[filter]") {
  const SqlFragment fragment = compile_run_filter("metrics.acc > 0.9");
  CHECK(fragment.sql ==
        "r.id IN (SELECT m.run_id FROM latest_metrics m WHERE m.key = ? AND m.value > ?)");
  CHECK(compile_run_filter("metrics.acc is null").sql ==
        "r.id NOT IN (SELECT m.run_id FROM latest_metrics m WHERE m.key = ?)");
  REQUIRE(fragment.params.size() == 2);
  CHECK(std::get<std::string>(fragment.params[0]) == "acc");
  CHECK(std::get<double>(fragment.params[1]) == 0.9);
  CHECK(std::get<std::int64_t>(compile_run_filter("exit_code = 137").params.at(0)) == 137);
}

TEST_CASE("run filter: parsing yields a tree that compiles separately", "[filter]") {
  const FilterNode filter =
      parse_run_filter("not metrics.acc > 1 and (status = 'x' or kind = 'y')");
  REQUIRE(filter.kind == FilterNode::Kind::all_of);
  REQUIRE(filter.children.size() == 2);
  CHECK(filter.children[0].kind == FilterNode::Kind::negation);
  const auto& metric = filter.children[0].children.at(0).comparison;
  CHECK(metric.field.kind == FieldKind::metric);
  CHECK(metric.field.key == "acc");
  CHECK(std::get<std::int64_t>(metric.values.at(0)) == 1);
  CHECK(filter.children[1].kind == FilterNode::Kind::any_of);
  CHECK(filter.children[1].children.at(1).comparison.field.attribute == RunAttribute::kind);
  CHECK(compile_run_filter(filter).params.size() == 4);
}

TEST_CASE("run filter: malformed filters are reported with their position", "[filter]") {
  struct Case {
    std::string filter;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"metrics.accuracy > ", "--filter:1:20: expected a value after '>' (got end of input)"},
      {"metrics.acc > 0.9 and tags.x = and",
       "--filter:1:32: expected a value after '=' (got 'and')"},
      {"tags.team = 'a", "--filter:1:13: unterminated string"},
      {"tags.team = \"a", "--filter:1:13: unterminated string"},
      {"metrics.`val loss > 1", "--filter:1:9: unterminated quoted name"},
      {"stauts = 'FAILED'",
       "--filter:1:1: unknown attribute 'stauts' (did you mean 'status'?); " + k_attributes},
      {"accuracy > 0.9", "--filter:1:1: unknown attribute 'accuracy'; " + k_attributes},
      {"attributes.duratoin > 1",
       "--filter:1:1: unknown attribute 'duratoin' (did you mean 'duration'?); " + k_attributes},
      {"metircs.acc > 1",
       "--filter:1:1: unknown prefix 'metircs' in 'metircs.acc' (did you mean 'metrics'?); "
       "fields are metrics.NAME, params.NAME, tags.NAME or attributes.NAME"},
      {"metrics. > 1", "--filter:1:1: expected a name after 'metrics.'"},
      {"(metrics.acc > 0.9",
       "--filter:1:19: expected ')' to close the '(' at 1:1 (got end of input)"},
      {"((metrics.acc > 0.9) or kind = 'a'",
       "--filter:1:35: expected ')' to close the '(' at 1:1 (got end of input)"},
      {"(metrics.acc > 0.9 foo",
       "--filter:1:20: expected 'and', 'or' or ')' to close the '(' at 1:1 (got 'foo')"},
      {"metrics.acc > 0.9)", "--filter:1:18: unmatched ')'"},
      {"metrics.acc > 0.9 foo", "--filter:1:19: expected 'and', 'or' or end of input (got 'foo')"},
      {"metrics.acc > 0.9 'x'",
       "--filter:1:19: expected 'and', 'or' or end of input (got string 'x')"},
      {"metrics.acc = 'high'", "--filter:1:15: metrics.acc is numeric; compare it with a number"},
      {"metrics.acc in (0.5, 'x')",
       "--filter:1:22: metrics.acc is numeric; compare it with a number"},
      {"start_time > '2024-01-01'",
       "--filter:1:14: start_time is numeric; compare it with a number"},
      {"status = 1", "--filter:1:10: status is text; compare it with a quoted string"},
      {"metrics.acc like '0.9%'", "--filter:1:13: 'like' needs text; metrics.acc is numeric"},
      {"params.x like 5", "--filter:1:15: expected a quoted pattern after 'like' (got '5')"},
      {"params.optimizer = adam", "--filter:1:20: expected a value after '=' (got 'adam')"},
      {"params.x = null", "--filter:1:12: compare with null using 'is null' or 'is not null'"},
      {"tags.team in ()", "--filter:1:15: expected a value after '(' (got ')')"},
      {"tags.team in ('a',)", "--filter:1:19: expected a value after ',' (got ')')"},
      {"tags.team in ('a' 'b')",
       "--filter:1:19: expected ',' or ')' in the 'in' list (got string 'b')"},
      {"tags.team in 'a'", "--filter:1:14: expected '(' after 'in' (got string 'a')"},
      {"tags.team in ('a', 1)",
       "--filter:1:20: values in an 'in' list must all be numbers or all be strings"},
      {"tags.team is 'a'",
       "--filter:1:14: expected 'null' or 'not null' after 'is' (got string 'a')"},
      {"tags.team not = 'a'",
       "--filter:1:15: expected 'like', 'ilike' or 'in' after 'not' (got '=')"},
      {"metrics.acc 0.9",
       "--filter:1:13: expected a comparison operator after 'metrics.acc' (got '0.9')"},
      {"metrics.acc > 0.9 and",
       "--filter:1:22: expected a field such as metrics.NAME, params.NAME, tags.NAME or an "
       "attribute (got end of input)"},
      {"'a' = tags.team",
       "--filter:1:1: expected a field such as metrics.NAME, params.NAME, tags.NAME or an "
       "attribute (got string 'a')"},
      {"()",
       "--filter:1:2: expected a field such as metrics.NAME, params.NAME, tags.NAME or an "
       "attribute (got ')')"},
      {"metrics.acc ~ 1", "--filter:1:13: unexpected character '~'"},
      {"metrics.acc ! 1", "--filter:1:13: unexpected character '!'"},
      {"tags.x = 'a' and é", "--filter:1:18: unexpected character 'é'"},
      {"metrics.acc > 1.2.3", "--filter:1:15: malformed number '1.2.3'"},
      {"metrics.acc > 5abc", "--filter:1:15: malformed number '5abc'"},
      {"metrics.acc > 1e", "--filter:1:15: malformed number '1e'"},
      {"metrics.acc > 1e999", "--filter:1:15: number '1e999' is out of range"},
      {"tags.x = 'é' or",
       "--filter:1:16: expected a field such as metrics.NAME, params.NAME, "
       "tags.NAME or an attribute (got end of input)"},
      {"metrics.acc > 0.9\nand tags.team =",
       "--filter:2:16: expected a value after '=' (got end of input)"},
  };
  for (const Case& c : cases) {
    INFO("filter: " << c.filter);
    CHECK(filter_error(c.filter) == c.message);
  }
}

TEST_CASE("run filter: errors name the caller's source and carry a hint", "[filter]") {
  CHECK(parse_error([] { parse_run_filter("tags.x >", "saved-search 'best'"); }) ==
        "saved-search 'best':1:9: expected a value after '>' (got end of input)");
  try {
    compile_run_filter("accuracy > 0.9");
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.hint() ==
          "metrics, params and tags need a prefix: metrics.accuracy, params.accuracy, "
          "tags.accuracy");
  }
  try {
    compile_run_filter("params.optimizer = adam");
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.hint() == "quote text values: 'adam'");
  }
}

TEST_CASE("run filter: deep nesting is refused rather than overflowing the stack", "[filter]") {
  const std::string deep = std::string(500, '(') + "kind = 'x'" + std::string(500, ')');
  CHECK(filter_error(deep) == "--filter:1:101: expression nests too deeply (more than 100 levels)");
  std::string nots;
  for (int i = 0; i < 500; ++i) nots += "not ";
  CHECK(filter_error(nots + "kind = 'x'") ==
        "--filter:1:401: expression nests too deeply (more than 100 levels)");
  const std::string ok = std::string(50, '(') + "kind = 'sweep'" + std::string(50, ')');
  CHECK(matching(ok) == Uids{"r5"});
}

TEST_CASE("run order: keys sort with missing values last and ties broken by id", "[order]") {
  CHECK(ordered("metrics.acc desc") == Uids{"r5", "r2", "r8", "r1", "r7", "r4", "r3", "r6"});
  CHECK(ordered("metrics.acc") == Uids{"r3", "r4", "r7", "r1", "r8", "r2", "r5", "r6"});
  CHECK(ordered("metrics.acc ASC") == Uids{"r3", "r4", "r7", "r1", "r8", "r2", "r5", "r6"});
  CHECK(ordered("experiment, start_time desc") ==
        Uids{"r8", "r6", "r4", "r5", "r7", "r3", "r1", "r2"});
  CHECK(ordered("duration desc") == Uids{"r5", "r2", "r8", "r1", "r6", "r3", "r7", "r4"});
  CHECK(ordered("end_time") == Uids{"r1", "r2", "r3", "r6", "r5", "r7", "r8", "r4"});
  CHECK(ordered("") == Uids{"r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"});
  CHECK(compile_run_order("").sql == "r.id ASC");
}

TEST_CASE("run order: params sort numbers numerically, before text", "[order]") {
  CHECK(ordered("params.lr") == Uids{"r2", "r4", "r1", "r6", "r8", "r3", "r5", "r7"});
  CHECK(ordered("params.lr desc") == Uids{"r5", "r3", "r1", "r6", "r8", "r2", "r4", "r7"});
  CHECK(ordered("params.`batch-size` desc, tags.team desc") ==
        Uids{"r7", "r1", "r3", "r2", "r5", "r4", "r6", "r8"});
}

TEST_CASE("run order: malformed keys are reported with their position", "[order]") {
  CHECK(order_error("metrics.acc sideways") ==
        "--order-by:1:13: expected 'asc', 'desc', ',' or end of input after 'metrics.acc' "
        "(got 'sideways')");
  CHECK(order_error("metrics.acc desc desc") ==
        "--order-by:1:18: expected ',' or end of input (got 'desc')");
  CHECK(order_error("start_time,") ==
        "--order-by:1:12: expected a field such as metrics.NAME, params.NAME, tags.NAME or an "
        "attribute (got end of input)");
  CHECK(order_error("stat desc") ==
        "--order-by:1:1: unknown attribute 'stat' (did you mean 'status'?); " + k_attributes);
  CHECK(parse_error([] { parse_run_order("(", "sort"); }) ==
        "sort:1:1: expected a field such as metrics.NAME, params.NAME, tags.NAME or an attribute "
        "(got '(')");
}

TEST_CASE("run order: parsing yields keys", "[order]") {
  const auto keys = parse_run_order("metrics.`val loss` desc, created");
  REQUIRE(keys.size() == 2);
  CHECK(keys[0].field.kind == FieldKind::metric);
  CHECK(keys[0].field.key == "val loss");
  CHECK(keys[0].descending);
  CHECK(keys[1].field.attribute == RunAttribute::created_at);
  CHECK_FALSE(keys[1].descending);
}

// Hidden (run with "[perf]"): the brief's budget is 10,000 runs in well under 30 ms, with the
// (run_id, key) indexes the store creates.
TEST_CASE("run filter: filters 10,000 runs quickly", "[.][perf]") {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(":memory:", &raw) == SQLITE_OK);
  DbHandle db(raw);
  execute(raw, k_schema);
  execute(raw, R"sql(
    INSERT INTO experiments VALUES (1, 'mnist'), (2, 'cifar');
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
    INSERT INTO runs SELECT i, 'u' || i, 1 + i % 2, NULL, 'run ' || i,
        CASE i % 3 WHEN 0 THEN 'FAILED' ELSE 'FINISHED' END, NULL, i % 3, i, i, i + i % 500,
        'h', 'c', 'train' FROM n;
    INSERT INTO latest_metrics SELECT id, 'acc', (id % 1000) / 1000.0, 1, 0 FROM runs;
    INSERT INTO latest_metrics SELECT id, 'loss', (id % 777) / 777.0, 1, 0 FROM runs;
    INSERT INTO params SELECT id, 'lr', CASE id % 4 WHEN 0 THEN '0.01' ELSE '0.001' END FROM runs;
    INSERT INTO params
      SELECT id, 'optimizer', CASE id % 2 WHEN 0 THEN 'adam' ELSE 'sgd' END FROM runs;
    INSERT INTO tags SELECT id, 'team', CASE id % 5 WHEN 0 THEN 'a' ELSE 'b' END FROM runs;
  )sql");
  const std::string filter =
      "metrics.acc > 0.9 and (params.lr = '0.01' or tags.team in ('a','b')) and "
      "not status = 'FAILED' and params.optimizer ilike 'ad%' and duration > 100";
  const auto start = std::chrono::steady_clock::now();
  const Uids uids =
      query_uids(raw, compile_run_filter(filter), compile_run_order("metrics.loss desc"));
  const auto elapsed =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  WARN(uids.size() << " runs in " << elapsed.count() << " ms");
  CHECK(!uids.empty());
  CHECK(elapsed.count() < 30.0);
}
