#pragma once

// The `--filter` and `--order-by` languages of `mlctl run list`, compiled to SQL so that SQLite
// does the searching. Pure: text in, SQL text plus bound values out; no database access. All
// functions are thread-safe and return values the caller owns.
//
// Filter grammar (keywords case-insensitive; precedence not > and > or):
//
//   filter     := or_expr | <blank>            blank matches every run
//   or_expr    := and_expr ('or' and_expr)*
//   and_expr   := unary ('and' unary)*
//   unary      := 'not' unary | '(' or_expr ')' | comparison
//   comparison := field ('=' | '==' | '!=' | '<>' | '<' | '<=' | '>' | '>=') value
//               | field ['not'] ('like' | 'ilike') string
//               | field ['not'] 'in' '(' value (',' value)* ')'
//               | field 'is' ['not'] 'null'
//   field      := ('metrics' | 'params' | 'tags') '.' key | ['attributes' '.'] attribute
//   key        := [A-Za-z0-9_./-]+ | `quoted` | "quoted"    (`tags.mlctl.source` has key
//                                                           "mlctl.source")
//   value      := 'string' | "string" | number              ('' or \' escapes a quote)
//
// The singular prefixes `metric.`, `param.`, `tag.`, `attribute.` and `attr.` are accepted too,
// as MLflow does. Prefixes and attribute names are case-insensitive; keys are not.
//
// Semantics:
// - Every comparison, including `!=`, `not like` and `not in`, is false for a run that lacks the
//   metric, param, tag or attribute value; only the `not` operator gives the complement, so
//   `not metrics.loss < 0.2` includes runs that never logged `loss`.
// - Metrics and the numeric attributes (exit_code, times, duration) take numbers only. Params and
//   tags compare as text against a string and numerically against a number; numerically, a value
//   that is not made of number characters ("auto") never matches.
// - `like` is case-sensitive, `ilike` folds ASCII case. `%` matches any run of characters, `_`
//   one character; `\%`, `\_` and `\\` match those characters literally (`'50\%'`), and any other
//   backslash is an ordinary character (`'C:\data%'`). Both compile to SQLite GLOB, which is
//   case-sensitive whatever `PRAGMA case_sensitive_like` says, after translating the pattern.
// - Times are unix seconds; `duration` is end_time - start_time, null while a run is active.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mlctl::tracking {

// A value bound to one `?` placeholder.
using SqlValue = std::variant<std::int64_t, double, std::string>;

// A piece of SQL with its `?` placeholders and the values to bind to them, in order.
struct SqlFragment {
  std::string sql;
  std::vector<SqlValue> params;
};

enum class FieldKind { metric, param, tag, attribute };

// Run attributes a filter or ordering can name. The names users write, with aliases, are listed
// in the error for an unknown attribute.
enum class RunAttribute {
  uid,              // id, run_id
  display_name,     // name, display_name
  status,           //
  status_reason,    //
  exit_code,        // integer
  experiment_name,  // experiment, experiment_name
  parent_uid,       // parent, parent_id: the uid of the parent run
  host,             //
  git_commit,       //
  kind,             //
  created_at,       // created, created_at: unix seconds
  start_time,       // unix seconds
  end_time,         // unix seconds
  duration,         // end_time - start_time, seconds
};

// What the left side of a comparison or an ordering key names.
struct FieldRef {
  FieldKind kind = FieldKind::attribute;
  std::string key;                             // metric, param or tag key
  RunAttribute attribute = RunAttribute::uid;  // when kind == attribute
};

enum class CompareOp {
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  like,
  not_like,
  ilike,
  not_ilike,
  in,
  not_in,
  is_null,
  is_not_null,
};

// One `field op value(s)` test. `values` holds one value for eq..not_ilike (a string for the
// like family), one or more of a single type for in/not_in, and none for is_null/is_not_null.
struct Comparison {
  FieldRef field;
  CompareOp op = CompareOp::eq;
  std::vector<SqlValue> values;
};

// The parsed, validated filter. A tree of all_of (and), any_of (or), negation (exactly one child)
// and comparison leaves. An all_of with no children matches every run.
struct FilterNode {
  enum class Kind { all_of, any_of, negation, comparison };

  Kind kind = Kind::all_of;
  std::vector<FilterNode> children;
  Comparison comparison;  // when kind == comparison
};

// One `--order-by` key.
struct OrderKey {
  FieldRef field;
  bool descending = false;
};

// Parses and checks a filter expression; every user error is raised here, so compiling a parsed
// tree cannot fail. Throws Error(parse) with the 1-based position prefixed by `source_name`:
//   "--filter:1:20: expected a value after '>' (got end of input)"
// Unknown attributes are named with the valid ones and a "did you mean" where one is close;
// Error::hint() then suggests the metrics./params./tags. prefixes, and for an unquoted word where a
// value belongs it suggests quoting.
FilterNode parse_run_filter(std::string_view expression, std::string_view source_name = "--filter");

// Compiles a parsed filter to a boolean SQL expression over `runs r` joined with
// `experiments e ON e.id = r.experiment_id`, to splice after WHERE. The expression is
// self-contained (safe to combine with AND). Every literal and key is a bound parameter, never SQL
// text. Metric, param and tag tests are `r.id IN (SELECT run_id ...)` subqueries on
// latest_metrics, params and tags, which SQLite answers from their (key, value) indexes.
// Does not throw except std::bad_alloc.
SqlFragment compile_run_filter(const FilterNode& filter);

// parse_run_filter then compile_run_filter. Throws Error(parse) as parse_run_filter does.
SqlFragment compile_run_filter(std::string_view expression,
                               std::string_view source_name = "--filter");

// Parses "metrics.acc desc, start_time": comma-separated fields, each optionally followed by
// `asc` (the default) or `desc`. Blank input gives no keys. Throws Error(parse) as
// parse_run_filter does, with `source_name` "--order-by" by default.
std::vector<OrderKey> parse_run_order(std::string_view order_by,
                                      std::string_view source_name = "--order-by");

// Compiles ordering keys to an ORDER BY list (without the words ORDER BY) over the same tables as
// compile_run_filter. Metrics, params and tags are scalar subqueries; params and tags that look
// like numbers sort numerically and before text values. Missing values sort last in both
// directions (NULLS LAST, so SQLite >= 3.30) and ties are broken by `r.id ASC`, which is also the
// whole result for no keys. Does not throw except std::bad_alloc.
SqlFragment compile_run_order(std::span<const OrderKey> keys);

// parse_run_order then compile_run_order. Throws Error(parse) as parse_run_order does.
SqlFragment compile_run_order(std::string_view order_by,
                              std::string_view source_name = "--order-by");

}  // namespace mlctl::tracking
