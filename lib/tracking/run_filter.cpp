#include <mlctl/tracking/run_filter.hpp>

#include <mlctl/core/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <optional>
#include <system_error>
#include <utility>

namespace mlctl::tracking {
namespace {

// Deep enough for any hand-written filter, shallow enough that a hostile one (the filter can
// arrive over HTTP) cannot overflow the stack of this recursive-descent parser or exceed SQLite's
// expression depth limit.
constexpr int k_max_depth = 100;

// ---------------------------------------------------------------------------------------------
// Names

struct AttributeName {
  std::string_view name;
  RunAttribute attribute;
};

// In the order the error for an unknown attribute lists them.
constexpr std::array k_attribute_names{
    AttributeName{"id", RunAttribute::uid},
    AttributeName{"run_id", RunAttribute::uid},
    AttributeName{"name", RunAttribute::display_name},
    AttributeName{"display_name", RunAttribute::display_name},
    AttributeName{"status", RunAttribute::status},
    AttributeName{"status_reason", RunAttribute::status_reason},
    AttributeName{"exit_code", RunAttribute::exit_code},
    AttributeName{"experiment", RunAttribute::experiment_name},
    AttributeName{"experiment_name", RunAttribute::experiment_name},
    AttributeName{"parent", RunAttribute::parent_uid},
    AttributeName{"parent_id", RunAttribute::parent_uid},
    AttributeName{"host", RunAttribute::host},
    AttributeName{"git_commit", RunAttribute::git_commit},
    AttributeName{"kind", RunAttribute::kind},
    AttributeName{"created", RunAttribute::created_at},
    AttributeName{"created_at", RunAttribute::created_at},
    AttributeName{"start_time", RunAttribute::start_time},
    AttributeName{"end_time", RunAttribute::end_time},
    AttributeName{"duration", RunAttribute::duration},
};

struct PrefixName {
  std::string_view name;
  FieldKind kind;
};

// The singular forms are MLflow's spellings, accepted so its users' filters carry over.
constexpr std::array k_prefix_names{
    PrefixName{"metrics", FieldKind::metric}, PrefixName{"params", FieldKind::param},
    PrefixName{"tags", FieldKind::tag},       PrefixName{"attributes", FieldKind::attribute},
    PrefixName{"metric", FieldKind::metric},  PrefixName{"param", FieldKind::param},
    PrefixName{"tag", FieldKind::tag},        PrefixName{"attribute", FieldKind::attribute},
    PrefixName{"attr", FieldKind::attribute},
};

struct AttributeColumn {
  std::string_view sql;
  bool numeric;
};

AttributeColumn column_of(RunAttribute attribute) {
  switch (attribute) {
    case RunAttribute::uid: return {"r.uid", false};
    case RunAttribute::display_name: return {"r.display_name", false};
    case RunAttribute::status: return {"r.status", false};
    case RunAttribute::status_reason: return {"r.status_reason", false};
    case RunAttribute::exit_code: return {"r.exit_code", true};
    case RunAttribute::experiment_name: return {"e.name", false};
    case RunAttribute::parent_uid:
      return {"(SELECT pr.uid FROM runs pr WHERE pr.id = r.parent_id)", false};
    case RunAttribute::host: return {"r.host", false};
    case RunAttribute::git_commit: return {"r.git_commit", false};
    case RunAttribute::kind: return {"r.kind", false};
    case RunAttribute::created_at: return {"r.created_at", true};
    case RunAttribute::start_time: return {"r.start_time", true};
    case RunAttribute::end_time: return {"r.end_time", true};
    case RunAttribute::duration: return {"(r.end_time - r.start_time)", true};
  }
  return {"NULL", false};
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

// Case-insensitive edit distance, for "did you mean" suggestions.
std::size_t levenshtein(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const bool same = ascii_lower(a[i - 1]) == ascii_lower(b[j - 1]);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The closest candidate within distance 2, if any. A distance as large as the word itself would
// suggest an unrelated name ("x" -> "id"), so that is not close.
template <typename Names>
std::optional<std::string_view> closest_name(std::string_view word, const Names& names) {
  std::optional<std::string_view> best;
  std::size_t best_distance = 3;
  for (const auto& entry : names) {
    const std::size_t distance = levenshtein(word, entry.name);
    if (distance < best_distance && distance < word.size()) {
      best = entry.name;
      best_distance = distance;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Lexer

enum class TokenKind { word, string, number, op, lparen, rparen, comma, end };

struct Token {
  TokenKind kind = TokenKind::end;
  std::size_t offset = 0;  // of the first character, for diagnostics
  std::string_view text;   // as written
  // word: the key or name, decoded when quoted; string: the decoded contents.
  std::string value;
  // word: `prefix.` in front of a quoted name (`metrics."a b"` -> "metrics"), else empty.
  std::string_view prefix;
  bool quoted = false;  // word: the name was quoted, so it is never a keyword
  SqlValue number;      // number: int64 when written without '.' or exponent and in range
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) {
  return is_name_start(c) || is_digit(c) || c == '.' || c == '/' || c == '-';
}
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// Tokens are produced on demand so that the first problem reported is the leftmost one, whether
// the lexer or the parser finds it.
class Lexer {
 public:
  Lexer(std::string_view source, std::string_view source_name)
      : m_source(source), m_source_name(source_name) {}

  Token next() {
    while (m_pos < m_source.size() && is_space(m_source[m_pos])) ++m_pos;
    Token token;
    token.offset = m_pos;
    if (m_pos == m_source.size()) {
      token.kind = TokenKind::end;
      return token;
    }
    const char c = m_source[m_pos];
    if (is_name_start(c)) {
      lex_name(token);
    } else if (c == '`') {
      token.kind = TokenKind::word;
      token.quoted = true;
      token.value = read_quoted("quoted name");
    } else if (c == '\'' || c == '"') {
      token.kind = TokenKind::string;
      token.value = read_quoted("string");
    } else if (is_digit(c) || starts_number(m_pos)) {
      lex_number(token);
    } else {
      lex_punctuation(token);
    }
    token.text = m_source.substr(token.offset, m_pos - token.offset);
    return token;
  }

  [[noreturn]] void fail(std::size_t offset, const std::string& message,
                         std::string hint = {}) const {
    throw Error(ErrorKind::parse, fmt::format("{}: {}", position(offset), message),
                std::move(hint));
  }

  // "--filter:1:7", for the start of a message.
  std::string position(std::size_t offset) const {
    return fmt::format("{}:{}", m_source_name, line_column(offset));
  }

  // "1:7": 1-based, columns counted in code points so that they match what a terminal shows.
  std::string line_column(std::size_t offset) const {
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i < offset && i < m_source.size(); ++i) {
      const auto byte = static_cast<unsigned char>(m_source[i]);
      if (byte == '\n') {
        ++line;
        column = 1;
      } else if ((byte & 0xC0) != 0x80) {
        ++column;
      }
    }
    return fmt::format("{}:{}", line, column);
  }

 private:
  bool starts_number(std::size_t pos) const {
    auto digit_at = [&](std::size_t i) { return i < m_source.size() && is_digit(m_source[i]); };
    if (m_source[pos] == '-') ++pos;
    if (pos < m_source.size() && m_source[pos] == '.') ++pos;
    return digit_at(pos);
  }

  void lex_name(Token& token) {
    token.kind = TokenKind::word;
    const std::size_t start = m_pos;
    while (m_pos < m_source.size() && is_name_char(m_source[m_pos])) ++m_pos;
    // `metrics."val loss"`: a quoted key straight after the prefix's dot.
    if (m_source[m_pos - 1] == '.' && m_pos < m_source.size() &&
        (m_source[m_pos] == '`' || m_source[m_pos] == '"')) {
      token.prefix = m_source.substr(start, m_pos - 1 - start);
      token.quoted = true;
      token.value = read_quoted("quoted name");
    } else {
      token.value = std::string(m_source.substr(start, m_pos - start));
    }
  }

  // Reads a literal quoted with the character at m_pos. A doubled quote stands for itself, as in
  // SQL; so does a quote or backslash after a backslash. Any other backslash is kept, so Windows
  // paths and like-pattern escapes (`\%`) pass through unchanged.
  std::string read_quoted(std::string_view what) {
    const std::size_t start = m_pos;
    const char quote = m_source[m_pos++];
    std::string value;
    while (true) {
      if (m_pos >= m_source.size()) fail(start, fmt::format("unterminated {}", what));
      const char c = m_source[m_pos++];
      if (c == quote) {
        if (m_pos < m_source.size() && m_source[m_pos] == quote) {
          value += quote;
          ++m_pos;
          continue;
        }
        return value;
      }
      if (c == '\\' && m_pos < m_source.size() &&
          (m_source[m_pos] == quote || m_source[m_pos] == '\\')) {
        value += m_source[m_pos++];
        continue;
      }
      value += c;
    }
  }

  void lex_number(Token& token) {
    token.kind = TokenKind::number;
    const std::size_t start = m_pos;
    auto digits = [&] {
      while (m_pos < m_source.size() && is_digit(m_source[m_pos])) ++m_pos;
    };
    bool integral = true;
    if (m_source[m_pos] == '-') ++m_pos;
    digits();
    if (m_pos < m_source.size() && m_source[m_pos] == '.') {
      integral = false;
      ++m_pos;
      digits();
    }
    bool well_formed = true;
    if (m_pos < m_source.size() && (m_source[m_pos] == 'e' || m_source[m_pos] == 'E')) {
      integral = false;
      ++m_pos;
      if (m_pos < m_source.size() && (m_source[m_pos] == '+' || m_source[m_pos] == '-')) ++m_pos;
      const std::size_t exponent = m_pos;
      digits();
      well_formed = m_pos > exponent;
    }
    // "1.2.3", "5abc" and "1e" are one mistake, reported whole rather than as a number followed
    // by something unexpected.
    if (m_pos < m_source.size() && is_name_char(m_source[m_pos])) well_formed = false;
    if (!well_formed) {
      while (m_pos < m_source.size() && is_name_char(m_source[m_pos])) ++m_pos;
      fail(start, fmt::format("malformed number '{}'", m_source.substr(start, m_pos - start)));
    }

    const char* first = m_source.data() + start;
    const char* last = m_source.data() + m_pos;
    if (integral) {
      std::int64_t value = 0;
      const auto [end, error] = std::from_chars(first, last, value);
      if (error == std::errc{} && end == last) {
        token.number = value;
        return;
      }
      // Too large for int64: fall through and keep it as a double.
    }
    double value = 0;
    const auto [end, error] = std::from_chars(first, last, value);
    if (error != std::errc{} || end != last) {
      fail(start,
           fmt::format("number '{}' is out of range", m_source.substr(start, m_pos - start)));
    }
    token.number = value;
  }

  void lex_punctuation(Token& token) {
    const char c = m_source[m_pos];
    const char next = m_pos + 1 < m_source.size() ? m_source[m_pos + 1] : '\0';
    switch (c) {
      case '(':
        token.kind = TokenKind::lparen;
        ++m_pos;
        return;
      case ')':
        token.kind = TokenKind::rparen;
        ++m_pos;
        return;
      case ',':
        token.kind = TokenKind::comma;
        ++m_pos;
        return;
      case '=':
        token.kind = TokenKind::op;
        m_pos += next == '=' ? 2 : 1;
        return;
      case '<':
        token.kind = TokenKind::op;
        m_pos += next == '=' || next == '>' ? 2 : 1;
        return;
      case '>':
        token.kind = TokenKind::op;
        m_pos += next == '=' ? 2 : 1;
        return;
      case '!':
        if (next == '=') {
          token.kind = TokenKind::op;
          m_pos += 2;
          return;
        }
        break;
      default: break;
    }
    // Show the whole UTF-8 character, not its first byte.
    std::size_t length = 1;
    while (m_pos + length < m_source.size() &&
           (static_cast<unsigned char>(m_source[m_pos + length]) & 0xC0) == 0x80) {
      ++length;
    }
    fail(m_pos, fmt::format("unexpected character '{}'", m_source.substr(m_pos, length)));
  }

  std::string_view m_source;
  std::string_view m_source_name;
  std::size_t m_pos = 0;
};

// ---------------------------------------------------------------------------------------------
// Parser

bool is_keyword(const Token& token, std::string_view keyword) {
  return token.kind == TokenKind::word && !token.quoted && iequals(token.text, keyword);
}

bool is_reserved(const Token& token) {
  for (std::string_view keyword : {"and", "or", "not", "in", "like", "ilike", "is", "null"}) {
    if (is_keyword(token, keyword)) return true;
  }
  return false;
}

// How a token reads in "(got ...)".
std::string describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::end: return "end of input";
    case TokenKind::string: return fmt::format("string {}", token.text);
    default: return fmt::format("'{}'", token.text);
  }
}

CompareOp op_from_text(std::string_view text) {
  if (text == "=" || text == "==") return CompareOp::eq;
  if (text == "!=" || text == "<>") return CompareOp::ne;
  if (text == "<") return CompareOp::lt;
  if (text == "<=") return CompareOp::le;
  if (text == ">") return CompareOp::gt;
  return CompareOp::ge;
}

bool is_string(const SqlValue& value) { return std::holds_alternative<std::string>(value); }

// A resolved field and how the user wrote it, for messages.
struct ParsedField {
  FieldRef ref;
  std::string_view text;
};

class Parser {
 public:
  Parser(std::string_view source, std::string_view source_name) : m_lexer(source, source_name) {
    advance();
  }

  FilterNode parse_filter() {
    if (m_token.kind == TokenKind::end) return FilterNode{};
    FilterNode filter = parse_or(0);
    if (m_token.kind == TokenKind::rparen) fail("unmatched ')'");
    if (m_token.kind != TokenKind::end) {
      fail(fmt::format("expected 'and', 'or' or end of input (got {})", describe(m_token)));
    }
    return filter;
  }

  std::vector<OrderKey> parse_order() {
    std::vector<OrderKey> keys;
    if (m_token.kind == TokenKind::end) return keys;
    while (true) {
      const ParsedField field = parse_field();
      OrderKey key{field.ref, false};
      if (is_keyword(m_token, "asc") || is_keyword(m_token, "desc")) {
        key.descending = is_keyword(m_token, "desc");
        advance();
        keys.push_back(std::move(key));
        if (m_token.kind == TokenKind::end) break;
        if (m_token.kind != TokenKind::comma) {
          fail(fmt::format("expected ',' or end of input (got {})", describe(m_token)));
        }
      } else {
        keys.push_back(std::move(key));
        if (m_token.kind == TokenKind::end) break;
        if (m_token.kind != TokenKind::comma) {
          fail(fmt::format("expected 'asc', 'desc', ',' or end of input after '{}' (got {})",
                           field.text, describe(m_token)));
        }
      }
      advance();  // the comma
    }
    return keys;
  }

 private:
  void advance() { m_token = m_lexer.next(); }

  [[noreturn]] void fail(const std::string& message, std::string hint = {}) const {
    m_lexer.fail(m_token.offset, message, std::move(hint));
  }

  FilterNode parse_or(int depth) {
    FilterNode first = parse_and(depth);
    if (!is_keyword(m_token, "or")) return first;
    FilterNode any{FilterNode::Kind::any_of, {}, {}};
    any.children.push_back(std::move(first));
    while (is_keyword(m_token, "or")) {
      advance();
      any.children.push_back(parse_and(depth));
    }
    return any;
  }

  FilterNode parse_and(int depth) {
    FilterNode first = parse_unary(depth);
    if (!is_keyword(m_token, "and")) return first;
    FilterNode all{FilterNode::Kind::all_of, {}, {}};
    all.children.push_back(std::move(first));
    while (is_keyword(m_token, "and")) {
      advance();
      all.children.push_back(parse_unary(depth));
    }
    return all;
  }

  FilterNode parse_unary(int depth) {
    if (depth >= k_max_depth) {
      fail(fmt::format("expression nests too deeply (more than {} levels)", k_max_depth));
    }
    if (is_keyword(m_token, "not")) {
      advance();
      FilterNode negation{FilterNode::Kind::negation, {}, {}};
      negation.children.push_back(parse_unary(depth + 1));
      return negation;
    }
    if (m_token.kind == TokenKind::lparen) {
      const std::size_t open = m_token.offset;
      advance();
      FilterNode inner = parse_or(depth + 1);
      if (m_token.kind == TokenKind::end) {
        fail(fmt::format("expected ')' to close the '(' at {} (got end of input)",
                         m_lexer.line_column(open)));
      }
      if (m_token.kind != TokenKind::rparen) {
        fail(fmt::format("expected 'and', 'or' or ')' to close the '(' at {} (got {})",
                         m_lexer.line_column(open), describe(m_token)));
      }
      advance();
      return inner;
    }
    return parse_comparison();
  }

  ParsedField parse_field() {
    if (m_token.kind != TokenKind::word || is_reserved(m_token)) {
      fail(fmt::format(
          "expected a field such as metrics.NAME, params.NAME, tags.NAME or an attribute (got {})",
          describe(m_token)));
    }
    ParsedField field{resolve_field(), m_token.text};
    advance();
    return field;
  }

  FieldRef resolve_field() const {
    const Token& token = m_token;
    std::string_view prefix;
    std::string key;
    if (token.quoted) {
      prefix = token.prefix;
      key = token.value;
    } else {
      const std::string_view text = token.text;
      const std::size_t dot = text.find('.');
      if (dot == std::string_view::npos) return FieldRef{FieldKind::attribute, {}, attribute(text)};
      prefix = text.substr(0, dot);
      key = std::string(text.substr(dot + 1));
    }
    if (prefix.empty()) return FieldRef{FieldKind::attribute, {}, attribute(key)};

    const auto found = std::find_if(k_prefix_names.begin(), k_prefix_names.end(),
                                    [&](const PrefixName& p) { return iequals(p.name, prefix); });
    if (found == k_prefix_names.end()) {
      const auto suggestion = closest_name(prefix, k_prefix_names);
      fail(fmt::format(
          "unknown prefix '{}' in '{}'{}; fields are metrics.NAME, params.NAME, "
          "tags.NAME or attributes.NAME",
          prefix, token.text, suggestion ? fmt::format(" (did you mean '{}'?)", *suggestion) : ""));
    }
    if (key.empty()) fail(fmt::format("expected a name after '{}.'", prefix));
    if (found->kind == FieldKind::attribute) {
      return FieldRef{FieldKind::attribute, {}, attribute(key)};
    }
    return FieldRef{found->kind, std::move(key), RunAttribute::uid};
  }

  RunAttribute attribute(std::string_view name) const {
    for (const AttributeName& entry : k_attribute_names) {
      if (iequals(entry.name, name)) return entry.attribute;
    }
    std::string valid;
    for (const AttributeName& entry : k_attribute_names) {
      if (!valid.empty()) valid += ", ";
      valid += entry.name;
    }
    const auto suggestion = closest_name(name, k_attribute_names);
    fail(fmt::format("unknown attribute '{}'{}; attributes are {}", name,
                     suggestion ? fmt::format(" (did you mean '{}'?)", *suggestion) : "", valid),
         fmt::format("metrics, params and tags need a prefix: metrics.{0}, params.{0}, tags.{0}",
                     name));
  }

  FilterNode parse_comparison() {
    const ParsedField field = parse_field();
    FilterNode node{FilterNode::Kind::comparison, {}, {}};
    Comparison& comparison = node.comparison;
    comparison.field = field.ref;

    if (m_token.kind == TokenKind::op) {
      const std::string_view op = m_token.text;
      comparison.op = op_from_text(op);
      advance();
      comparison.values.push_back(parse_value(field, op));
      return node;
    }

    bool negated = false;
    if (is_keyword(m_token, "not")) {
      negated = true;
      advance();
      if (!is_keyword(m_token, "like") && !is_keyword(m_token, "ilike") &&
          !is_keyword(m_token, "in")) {
        fail(fmt::format("expected 'like', 'ilike' or 'in' after 'not' (got {})",
                         describe(m_token)));
      }
    }
    if (is_keyword(m_token, "like") || is_keyword(m_token, "ilike")) {
      const bool ilike = is_keyword(m_token, "ilike");
      comparison.op = ilike ? (negated ? CompareOp::not_ilike : CompareOp::ilike)
                            : (negated ? CompareOp::not_like : CompareOp::like);
      if (is_numeric(field.ref)) {
        fail(fmt::format("'{}' needs text; {} is numeric", ilike ? "ilike" : "like", field.text));
      }
      const std::string operator_text = ilike ? "ilike" : "like";
      advance();
      if (m_token.kind != TokenKind::string) {
        fail(fmt::format("expected a quoted pattern after '{}' (got {})", operator_text,
                         describe(m_token)));
      }
      comparison.values.push_back(m_token.value);
      advance();
      return node;
    }
    if (is_keyword(m_token, "in")) {
      comparison.op = negated ? CompareOp::not_in : CompareOp::in;
      advance();
      if (m_token.kind != TokenKind::lparen) {
        fail(fmt::format("expected '(' after 'in' (got {})", describe(m_token)));
      }
      std::string_view after = "(";
      while (true) {
        advance();
        // Params and tags take either type, but one comparison is either numeric or textual.
        // Other fields accept one type, and parse_value says which.
        const bool keyed = field.ref.kind == FieldKind::param || field.ref.kind == FieldKind::tag;
        const bool literal = m_token.kind == TokenKind::string || m_token.kind == TokenKind::number;
        if (keyed && literal && !comparison.values.empty() &&
            (m_token.kind == TokenKind::string) != is_string(comparison.values.front())) {
          fail("values in an 'in' list must all be numbers or all be strings");
        }
        comparison.values.push_back(parse_value(field, after));
        if (m_token.kind == TokenKind::rparen) break;
        if (m_token.kind != TokenKind::comma) {
          fail(fmt::format("expected ',' or ')' in the 'in' list (got {})", describe(m_token)));
        }
        after = ",";
      }
      advance();
      return node;
    }
    if (is_keyword(m_token, "is")) {
      advance();
      comparison.op = CompareOp::is_null;
      if (is_keyword(m_token, "not")) {
        comparison.op = CompareOp::is_not_null;
        advance();
      }
      if (!is_keyword(m_token, "null")) {
        fail(fmt::format("expected 'null' or 'not null' after 'is' (got {})", describe(m_token)));
      }
      advance();
      return node;
    }
    fail(fmt::format("expected a comparison operator after '{}' (got {})", field.text,
                     describe(m_token)));
  }

  static bool is_numeric(const FieldRef& field) {
    return field.kind == FieldKind::metric ||
           (field.kind == FieldKind::attribute && column_of(field.attribute).numeric);
  }

  // A value to compare `field` with, following the operator or list punctuation `after`.
  SqlValue parse_value(const ParsedField& field, std::string_view after) {
    if (m_token.kind == TokenKind::word && !m_token.quoted) {
      if (is_keyword(m_token, "null")) {
        fail("compare with null using 'is null' or 'is not null'");
      }
      fail(fmt::format("expected a value after '{}' (got {})", after, describe(m_token)),
           fmt::format("quote text values: '{}'", m_token.text));
    }
    if (m_token.kind != TokenKind::string && m_token.kind != TokenKind::number) {
      fail(fmt::format("expected a value after '{}' (got {})", after, describe(m_token)));
    }
    const bool text = m_token.kind == TokenKind::string;
    if (text && is_numeric(field.ref)) {
      fail(fmt::format("{} is numeric; compare it with a number", field.text));
    }
    if (!text && field.ref.kind == FieldKind::attribute) {
      if (!column_of(field.ref.attribute).numeric) {
        fail(fmt::format("{} is text; compare it with a quoted string", field.text));
      }
    }
    SqlValue value = text ? SqlValue{m_token.value} : m_token.number;
    advance();
    return value;
  }

  Lexer m_lexer;
  Token m_token;
};

// ---------------------------------------------------------------------------------------------
// Compiler

// Params and tags are stored as text. CAST turns any text into a number ("auto" -> 0), so a
// numeric comparison first checks that the text is made of number characters and has a digit.
// It is a screen, not a full number grammar ("1-2" passes and casts to 1), which is enough for
// values that programs logged.
std::string numeric_text_check(std::string_view column) {
  return fmt::format("({0} GLOB '*[0-9]*' AND {0} NOT GLOB '*[^0-9.eE+-]*')", column);
}

// SQLite's LIKE ignores ASCII case unless a connection-wide pragma says otherwise, and has no
// case-sensitive form; GLOB is always case-sensitive. So like patterns are rewritten as GLOB
// patterns: % -> *, _ -> ?, and the characters GLOB treats specially but LIKE does not are put in
// a one-character class. A backslash escapes only %, _ and itself, so `C:\data%` still means a
// Windows path.
std::string like_to_glob(std::string_view pattern) {
  std::string glob;
  glob.reserve(pattern.size());
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '%') {
      glob += '*';
      continue;
    }
    if (c == '_') {
      glob += '?';
      continue;
    }
    if (c == '\\' && i + 1 < pattern.size() &&
        (pattern[i + 1] == '%' || pattern[i + 1] == '_' || pattern[i + 1] == '\\')) {
      c = pattern[++i];
    }
    if (c == '*' || c == '?' || c == '[') {
      glob += '[';
      glob += c;
      glob += ']';
    } else {
      glob += c;
    }
  }
  return glob;
}

std::string_view sql_operator(CompareOp op) {
  switch (op) {
    case CompareOp::eq: return "=";
    case CompareOp::ne: return "!=";
    case CompareOp::lt: return "<";
    case CompareOp::le: return "<=";
    case CompareOp::gt: return ">";
    case CompareOp::ge: return ">=";
    default: return "=";
  }
}

struct KeyedTable {
  std::string_view table;
  std::string_view alias;
};

KeyedTable keyed_table(FieldKind kind) {
  switch (kind) {
    case FieldKind::metric: return {"latest_metrics", "m"};
    case FieldKind::param: return {"params", "p"};
    case FieldKind::tag: return {"tags", "t"};
    case FieldKind::attribute: break;
  }
  return {"", ""};
}

// Compiled SQL and whether it can evaluate to NULL (comparisons on nullable run columns can;
// membership tests never do). `not` needs to know: NOT NULL is NULL, which WHERE treats as false, so
// `not exit_code = 0` would drop runs without an exit code instead of keeping them.
struct Compiled {
  std::string sql;
  bool may_be_null = false;
};

class FilterCompiler {
 public:
  Compiled compile(const FilterNode& node) {
    switch (node.kind) {
      case FilterNode::Kind::all_of:
      case FilterNode::Kind::any_of: return compile_list(node);
      case FilterNode::Kind::negation: {
        const Compiled operand = compile(node.children.front());
        if (operand.may_be_null) return {fmt::format("NOT coalesce({}, 0)", operand.sql), false};
        return {fmt::format("NOT {}", operand.sql), false};
      }
      case FilterNode::Kind::comparison: return compile_comparison(node.comparison);
    }
    return {"0", false};
  }

  std::vector<SqlValue> take_params() { return std::move(m_params); }

 private:
  Compiled compile_list(const FilterNode& node) {
    if (node.children.empty()) return {"1", false};
    if (node.children.size() == 1) return compile(node.children.front());
    const std::string_view separator = node.kind == FilterNode::Kind::all_of ? " AND " : " OR ";
    Compiled result{"(", false};
    for (std::size_t i = 0; i < node.children.size(); ++i) {
      if (i > 0) result.sql += separator;
      const Compiled child = compile(node.children[i]);
      result.sql += child.sql;
      result.may_be_null = result.may_be_null || child.may_be_null;
    }
    result.sql += ')';
    return result;
  }

  Compiled compile_comparison(const Comparison& comparison) {
    const FieldRef& field = comparison.field;
    const bool null_test =
        comparison.op == CompareOp::is_null || comparison.op == CompareOp::is_not_null;
    if (field.kind == FieldKind::attribute) {
      const std::string_view column = column_of(field.attribute).sql;
      if (null_test) {
        return {fmt::format("{} {}", column,
                            comparison.op == CompareOp::is_null ? "IS NULL" : "IS NOT NULL"),
                false};
      }
      return {predicate(column, comparison, false), true};
    }

    // `r.id IN (SELECT run_id ... WHERE key = ? AND ...)` rather than a
    // correlated EXISTS: SQLite builds the set once from the (key, value)
    // index instead of probing once per run (10,000 runs: ~3x faster).
    const auto [table, alias] = keyed_table(field.kind);
    const std::string subquery =
        fmt::format("SELECT {1}.run_id FROM {0} {1} WHERE {1}.key = ?", table, alias);
    m_params.emplace_back(field.key);
    if (null_test) {
      return {fmt::format("r.id {}IN ({})", comparison.op == CompareOp::is_null ? "NOT " : "",
                          subquery),
              false};
    }
    const bool text_column = field.kind != FieldKind::metric;
    const std::string value = fmt::format("{}.value", alias);
    return {fmt::format("r.id IN ({} AND {})", subquery, predicate(value, comparison, text_column)),
            false};
  }

  // `column op ?...`, pushing the bound values. `text_column` marks param and tag values, which
  // are compared numerically when the literal is a number.
  std::string predicate(std::string_view column, const Comparison& comparison, bool text_column) {
    const bool numeric_literal =
        !comparison.values.empty() && !is_string(comparison.values.front());
    std::string guard;
    std::string operand(column);
    if (text_column && numeric_literal) {
      guard = numeric_text_check(column) + " AND ";
      operand = fmt::format("CAST({} AS REAL)", column);
    }

    switch (comparison.op) {
      case CompareOp::like:
      case CompareOp::not_like:
      case CompareOp::ilike:
      case CompareOp::not_ilike: {
        const bool negated =
            comparison.op == CompareOp::not_like || comparison.op == CompareOp::not_ilike;
        const bool fold =
            comparison.op == CompareOp::ilike || comparison.op == CompareOp::not_ilike;
        m_params.emplace_back(like_to_glob(std::get<std::string>(comparison.values.front())));
        // lower() on both sides folds the same characters whatever lower() supports in this build.
        return fold ? fmt::format("lower({}) {}GLOB lower(?)", column, negated ? "NOT " : "")
                    : fmt::format("{} {}GLOB ?", column, negated ? "NOT " : "");
      }
      case CompareOp::in:
      case CompareOp::not_in: {
        std::string placeholders;
        for (const SqlValue& value : comparison.values) {
          if (!placeholders.empty()) placeholders += ", ";
          placeholders += '?';
          m_params.push_back(value);
        }
        return fmt::format("{}{} {}IN ({})", guard, operand,
                           comparison.op == CompareOp::not_in ? "NOT " : "", placeholders);
      }
      default:
        m_params.push_back(comparison.values.front());
        return fmt::format("{}{} {} ?", guard, operand, sql_operator(comparison.op));
    }
  }

  std::vector<SqlValue> m_params;
};

}  // namespace

FilterNode parse_run_filter(std::string_view expression, std::string_view source_name) {
  return Parser(expression, source_name).parse_filter();
}

SqlFragment compile_run_filter(const FilterNode& filter) {
  FilterCompiler compiler;
  Compiled compiled = compiler.compile(filter);
  return SqlFragment{std::move(compiled.sql), compiler.take_params()};
}

SqlFragment compile_run_filter(std::string_view expression, std::string_view source_name) {
  return compile_run_filter(parse_run_filter(expression, source_name));
}

std::vector<OrderKey> parse_run_order(std::string_view order_by, std::string_view source_name) {
  return Parser(order_by, source_name).parse_order();
}

SqlFragment compile_run_order(std::span<const OrderKey> keys) {
  SqlFragment fragment;
  for (const OrderKey& key : keys) {
    const FieldRef& field = key.field;
    std::string expression;
    switch (field.kind) {
      case FieldKind::attribute: expression = column_of(field.attribute).sql; break;
      case FieldKind::metric:
        expression = "(SELECT m.value FROM latest_metrics m WHERE m.run_id = r.id AND m.key = ?)";
        fragment.params.emplace_back(field.key);
        break;
      case FieldKind::param:
      case FieldKind::tag: {
        // Numbers sort before text in SQLite, so "0.001" < "0.01" < "1e-1" < "auto".
        const auto [table, alias] = keyed_table(field.kind);
        const std::string value = fmt::format("{}.value", alias);
        expression = fmt::format(
            "(SELECT CASE WHEN {0} THEN CAST({1} AS REAL) ELSE {1} END FROM {2} {3} "
            "WHERE {3}.run_id = r.id AND {3}.key = ?)",
            numeric_text_check(value), value, table, alias);
        fragment.params.emplace_back(field.key);
        break;
      }
    }
    fragment.sql += fmt::format("{} {} NULLS LAST, ", expression, key.descending ? "DESC" : "ASC");
  }
  fragment.sql += "r.id ASC";
  return fragment;
}

SqlFragment compile_run_order(std::string_view order_by, std::string_view source_name) {
  return compile_run_order(parse_run_order(order_by, source_name));
}

}  // namespace mlctl::tracking
