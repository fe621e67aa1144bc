#pragma once

// JMESPath queries over JSON values, for `--query` (as in `az ... --query`).
//
// The supported language is this subset of JMESPath
// (https://jmespath.org/specification.html):
//   identifiers, "quoted identifiers", sub-expressions a.b.c, indexes [0] [-1],
//   slices [1:3] [::2], list projections [*], flatten [], object projection *,
//   filters [?expr] with == != < <= > >= && || ! and parentheses, 'raw strings',
//   `json literals`, @, multiselect lists [a, b] and hashes {k: a}, pipes |,
//   and the built-in functions abs, avg, ceil, contains, ends_with, floor, join,
//   keys, length, map, max, max_by, merge, min, min_by, not_null, reverse,
//   sort, sort_by, starts_with, sum, to_array, to_number, to_string, type,
//   values.
// One extension: a bare number (`[?acc > 0.9]`, `[?epoch >= -1]`) is read as a
// number literal, because az users write it that way; standard JMESPath needs
// backticks (`0.9`).

#include <mlctl/core/json.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace mlctl {

namespace detail {
struct QueryNode;
}  // namespace detail

// A parsed JMESPath expression. Parse once, evaluate against many documents.
// Immutable after parse; copies share the syntax tree, and `evaluate` may be
// called from several threads at once.
class Query {
 public:
  // Parses `expression`. `source_name` prefixes diagnostics, which name the
  // 1-based line and column and what was expected, e.g.
  //   "--query:1:7: expected ']' (got end of input)".
  // Throws Error(parse) for malformed expressions, unknown functions and
  // calls with the wrong number of arguments.
  static Query parse(std::string_view expression, std::string_view source_name = "--query");

  // Evaluates the expression with `doc` as the current node. Follows JMESPath
  // semantics: a missing field is null, projections drop null results,
  // ordering comparisons of non-numbers give null.
  // Throws Error(invalid_argument) when a function gets an argument of the
  // wrong type (`sum(names)`), naming the function and the position.
  Json evaluate(const Json& doc) const;

  // The text the query was parsed from.
  const std::string& expression() const noexcept { return m_expression; }

 private:
  Query(std::shared_ptr<const detail::QueryNode> root, std::string expression,
        std::string source_name);

  std::shared_ptr<const detail::QueryNode> m_root;
  std::string m_expression;
  std::string m_source_name;
};

// Parses and evaluates in one step: Query::parse(expression, source_name)
// .evaluate(doc). Throws what those throw.
Json apply_query(const Json& doc, std::string_view expression,
                 std::string_view source_name = "--query");

}  // namespace mlctl
