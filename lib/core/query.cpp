#include <mlctl/core/query.hpp>

#include <mlctl/core/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlctl {
namespace {
struct FunctionSpec;

enum class NodeKind {
  identity,
  field,
  literal,
  subexpression,  // also `a[0]` and `a | b`: evaluate right on the result of left
  index,
  slice,
  projection,         // children: left, right
  value_projection,   // children: left, right
  flatten,            // children: child
  filter_projection,  // children: left, right, condition
  comparator,
  logical_and,
  logical_or,
  logical_not,
  multi_list,
  multi_hash,
  function,
  expref,  // children: the referenced expression
};

enum class Comparator { eq, ne, lt, le, gt, ge };
}  // namespace

namespace detail {

struct QueryNode {
  NodeKind kind = NodeKind::identity;
  std::size_t offset = 0;  // byte offset into the expression, for diagnostics
  std::string name;        // field name or function name
  Json literal;
  std::int64_t index = 0;
  std::optional<std::int64_t> slice_start, slice_stop;
  std::int64_t slice_step = 1;
  Comparator comparator = Comparator::eq;
  const FunctionSpec* function = nullptr;
  std::vector<std::string> keys;  // multi_hash keys, parallel to children
  std::vector<std::unique_ptr<QueryNode>> children;
};

}  // namespace detail

namespace {

using detail::QueryNode;
using NodePtr = std::unique_ptr<QueryNode>;

std::string dump_compact(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool is_utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::size_t utf8_length(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !is_utf8_continuation(c); }));
}

// "--query:1:7" for a byte offset; columns count code points, not bytes.
std::string locate(std::string_view source_name, std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else if (!is_utf8_continuation(text[i])) {
      ++column;
    }
  }
  return fmt::format("{}:{}:{}", source_name, line, column);
}

// ---------------------------------------------------------------------------
// Lexer

enum class Tok {
  eof,
  identifier,
  quoted_identifier,
  literal,
  number,
  dot,
  star,
  flatten,
  lbracket,
  rbracket,
  filter,
  lbrace,
  rbrace,
  lparen,
  rparen,
  comma,
  colon,
  pipe,
  logical_or,
  logical_and,
  expref,
  logical_not,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  current,
};

struct Token {
  Tok kind = Tok::eof;
  std::size_t offset = 0;
  std::size_t length = 0;
  std::string text;  // identifier name
  Json value;        // literal or number value
  bool is_integer = false;
};

class Lexer {
 public:
  Lexer(std::string_view text, std::string_view source_name)
      : m_text(text), m_source_name(source_name) {}

  std::vector<Token> tokenize() {
    std::vector<Token> tokens;
    while (true) {
      skip_whitespace();
      if (m_pos >= m_text.size()) break;
      tokens.push_back(next());
    }
    Token eof;
    eof.offset = m_text.size();
    tokens.push_back(std::move(eof));
    return tokens;
  }

 private:
  [[noreturn]] void fail(std::size_t offset, const std::string& message) const {
    throw Error(ErrorKind::parse,
                fmt::format("{}: {}", locate(m_source_name, m_text, offset), message));
  }

  void skip_whitespace() {
    while (m_pos < m_text.size() && (m_text[m_pos] == ' ' || m_text[m_pos] == '\t' ||
                                     m_text[m_pos] == '\n' || m_text[m_pos] == '\r')) {
      ++m_pos;
    }
  }

  char peek(std::size_t ahead = 0) const {
    return m_pos + ahead < m_text.size() ? m_text[m_pos + ahead] : '\0';
  }

  Token make(Tok kind, std::size_t length) {
    Token token;
    token.kind = kind;
    token.offset = m_pos;
    token.length = length;
    m_pos += length;
    return token;
  }

  static bool is_identifier_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  Token next() {
    char c = peek();
    if (is_identifier_start(c)) return identifier();
    if (is_digit(c) || (c == '-' && is_digit(peek(1)))) return number();
    switch (c) {
      case '"':
        return quoted_identifier();
      case '\'':
        return raw_string();
      case '`':
        return json_literal();
      case '[':
        if (peek(1) == ']') return make(Tok::flatten, 2);
        if (peek(1) == '?') return make(Tok::filter, 2);
        return make(Tok::lbracket, 1);
      case ']':
        return make(Tok::rbracket, 1);
      case '{':
        return make(Tok::lbrace, 1);
      case '}':
        return make(Tok::rbrace, 1);
      case '(':
        return make(Tok::lparen, 1);
      case ')':
        return make(Tok::rparen, 1);
      case ',':
        return make(Tok::comma, 1);
      case ':':
        return make(Tok::colon, 1);
      case '.':
        return make(Tok::dot, 1);
      case '*':
        return make(Tok::star, 1);
      case '@':
        return make(Tok::current, 1);
      case '|':
        return peek(1) == '|' ? make(Tok::logical_or, 2) : make(Tok::pipe, 1);
      case '&':
        return peek(1) == '&' ? make(Tok::logical_and, 2) : make(Tok::expref, 1);
      case '!':
        return peek(1) == '=' ? make(Tok::ne, 2) : make(Tok::logical_not, 1);
      case '<':
        return peek(1) == '=' ? make(Tok::le, 2) : make(Tok::lt, 1);
      case '>':
        return peek(1) == '=' ? make(Tok::ge, 2) : make(Tok::gt, 1);
      case '=':
        if (peek(1) == '=') return make(Tok::eq, 2);
        fail(m_pos, "unexpected character '=' (did you mean '=='?)");
      default:
        break;
    }
    // Show the whole UTF-8 sequence, not its first byte.
    std::size_t end = m_pos + 1;
    while (end < m_text.size() && is_utf8_continuation(m_text[end])) ++end;
    fail(m_pos, fmt::format("unexpected character '{}'", m_text.substr(m_pos, end - m_pos)));
  }

  Token identifier() {
    std::size_t end = m_pos + 1;
    while (end < m_text.size() && (is_identifier_start(m_text[end]) || is_digit(m_text[end]))) {
      ++end;
    }
    Token token = make(Tok::identifier, end - m_pos);
    token.text = std::string(m_text.substr(token.offset, token.length));
    return token;
  }

  // Standard JMESPath numbers are integers (indexes, slices); fractions and
  // exponents are accepted for the bare-number-literal extension.
  Token number() {
    std::size_t end = m_pos;
    if (m_text[end] == '-') ++end;
    while (end < m_text.size() && is_digit(m_text[end])) ++end;
    bool is_integer = true;
    if (end + 1 < m_text.size() && m_text[end] == '.' && is_digit(m_text[end + 1])) {
      is_integer = false;
      ++end;
      while (end < m_text.size() && is_digit(m_text[end])) ++end;
    }
    if (end < m_text.size() && (m_text[end] == 'e' || m_text[end] == 'E')) {
      std::size_t exponent = end + 1;
      if (exponent < m_text.size() && (m_text[exponent] == '+' || m_text[exponent] == '-')) {
        ++exponent;
      }
      if (exponent < m_text.size() && is_digit(m_text[exponent])) {
        is_integer = false;
        end = exponent;
        while (end < m_text.size() && is_digit(m_text[end])) ++end;
      }
    }
    Token token = make(Tok::number, end - m_pos);
    std::string_view digits = m_text.substr(token.offset, token.length);
    token.is_integer = is_integer;
    if (is_integer) {
      std::int64_t value = 0;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec != std::errc() || ptr != digits.data() + digits.size()) {
        fail(token.offset, fmt::format("number '{}' is out of range", digits));
      }
      token.value = value;
    } else {
      double value = 0;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec != std::errc() || ptr != digits.data() + digits.size()) {
        fail(token.offset, fmt::format("number '{}' is out of range", digits));
      }
      token.value = value;
    }
    return token;
  }

  // Finds the closing `quote`, skipping backslash escapes; returns its offset.
  std::size_t find_closing(char quote, std::string_view what) const {
    std::size_t i = m_pos + 1;
    while (i < m_text.size()) {
      if (m_text[i] == '\\') {
        i += 2;
      } else if (m_text[i] == quote) {
        return i;
      } else {
        ++i;
      }
    }
    fail(m_pos, fmt::format("unterminated {}: expected a closing {} (got end of input)", what,
                            quote == '\'' ? std::string("\"'\"") : fmt::format("'{}'", quote)));
  }

  Token quoted_identifier() {
    std::size_t close = find_closing('"', "quoted identifier");
    Token token = make(Tok::quoted_identifier, close + 1 - m_pos);
    Json parsed =
        Json::parse(m_text.substr(token.offset, token.length), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_string()) {
      fail(token.offset,
           fmt::format("invalid quoted identifier {}", m_text.substr(token.offset, token.length)));
    }
    token.text = parsed.get<std::string>();
    return token;
  }

  // Per the JMESPath grammar only \' and \\ are escapes in raw strings; any
  // other backslash is kept, so 'C:\temp' means what it says.
  Token raw_string() {
    std::size_t close = find_closing('\'', "raw string");
    Token token = make(Tok::literal, close + 1 - m_pos);
    std::string value;
    for (std::size_t i = token.offset + 1; i < close; ++i) {
      if (m_text[i] == '\\' && i + 1 < close && (m_text[i + 1] == '\'' || m_text[i + 1] == '\\')) {
        ++i;
      }
      value += m_text[i];
    }
    token.value = std::move(value);
    return token;
  }

  Token json_literal() {
    std::size_t close = find_closing('`', "JSON literal");
    Token token = make(Tok::literal, close + 1 - m_pos);
    std::string body;
    for (std::size_t i = token.offset + 1; i < close; ++i) {
      if (m_text[i] == '\\' && i + 1 < close && m_text[i + 1] == '`') ++i;
      body += m_text[i];
    }
    Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      // Old JMESPath accepted `foo` as a string; say how to write it now.
      fail(token.offset,
           fmt::format("invalid JSON literal `{}` (a string needs double quotes, `\"{}\"`, or "
                       "use a raw string, '{}')",
                       body, body, body));
    }
    token.value = std::move(parsed);
    return token;
  }

  std::string_view m_text;
  std::string_view m_source_name;
  std::size_t m_pos = 0;
};

// ---------------------------------------------------------------------------
// Function table

enum TypeMask : unsigned {
  k_number = 1u << 0,
  k_string = 1u << 1,
  k_boolean = 1u << 2,
  k_null = 1u << 3,
  k_array = 1u << 4,
  k_object = 1u << 5,
  k_expref = 1u << 6,
  k_array_number = 1u << 7,
  k_array_string = 1u << 8,
  k_any = k_number | k_string | k_boolean | k_null | k_array | k_object,
};

class Evaluator;
struct Call;

struct FunctionSpec {
  std::string_view name;
  std::vector<unsigned> args;  // accepted types per argument
  bool variadic = false;       // the last argument may repeat (at least once)
  Json (*impl)(const Call& call) = nullptr;
};

// A result that either borrows from the document (or from the syntax tree)
// or owns a computed value. Borrowing keeps `[?x > `1`].id` over a large
// document from copying every row the filter looks at.
class Value {
 public:
  static Value borrow(const Json& value) {
    Value result;
    result.m_ref = &value;
    return result;
  }
  static Value own(Json value) {
    Value result;
    result.m_owned = std::move(value);
    return result;
  }

  const Json& get() const { return m_ref != nullptr ? *m_ref : m_owned; }
  bool owned() const { return m_ref == nullptr; }
  Json& mutable_owned() { return m_owned; }
  Json take() && { return m_ref != nullptr ? *m_ref : std::move(m_owned); }

 private:
  const Json* m_ref = nullptr;
  Json m_owned;
};

const Json k_null_json;

const char* type_name(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number";
    default:
      return "null";
  }
}

bool is_truthy(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return false;
    case Json::value_t::boolean:
      return value.get<bool>();
    case Json::value_t::string:
      return !value.get_ref<const std::string&>().empty();
    case Json::value_t::array:
    case Json::value_t::object:
      return !value.empty();
    default:
      return true;
  }
}

// JMESPath equality: numbers by value (1 == 1.0), objects regardless of key
// order (ordered_json's own == compares order too).
bool deep_equal(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) return a == b;
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !deep_equal(it.value(), *other)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!deep_equal(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

// Orders two numbers or two strings; callers check the types.
bool less_than(const Json& a, const Json& b) {
  if (a.is_string()) return a.get_ref<const std::string&>() < b.get_ref<const std::string&>();
  return a < b;
}

std::string describe_mask(unsigned mask) {
  std::vector<std::string_view> names;
  if (mask == k_any) return "any value";
  if (mask & k_number) names.push_back("number");
  if (mask & k_string) names.push_back("string");
  if (mask & k_boolean) names.push_back("boolean");
  if (mask & k_null) names.push_back("null");
  if (mask & k_array) names.push_back("array");
  if (mask & k_array_number) names.push_back("array of numbers");
  if (mask & k_array_string) names.push_back("array of strings");
  if (mask & k_object) names.push_back("object");
  if (mask & k_expref) names.push_back("expression reference (&expr)");
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += i + 1 == names.size() ? " or " : ", ";
    text += names[i];
  }
  return text;
}

bool all_of_type(const Json& array, bool (Json::*predicate)() const noexcept) {
  return std::all_of(array.begin(), array.end(),
                     [&](const Json& element) { return (element.*predicate)(); });
}

bool matches_mask(unsigned mask, const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return mask & k_null;
    case Json::value_t::boolean:
      return mask & k_boolean;
    case Json::value_t::string:
      return mask & k_string;
    case Json::value_t::object:
      return mask & k_object;
    case Json::value_t::array:
      if (mask & k_array) return true;
      if ((mask & k_array_number) && all_of_type(value, &Json::is_number)) return true;
      if ((mask & k_array_string) && all_of_type(value, &Json::is_string)) return true;
      return false;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return mask & k_number;
    default:
      return false;
  }
}

// "string", or for arrays that failed an element check, what was inside.
std::string describe_value(unsigned mask, const Json& value) {
  if (!value.is_array() || !(mask & (k_array_number | k_array_string))) return type_name(value);
  bool numbers = false;
  bool strings = false;
  for (const Json& element : value) {
    if (element.is_number()) {
      numbers = true;
    } else if (element.is_string()) {
      strings = true;
    } else {
      return fmt::format("array containing {}", type_name(element));
    }
  }
  if (numbers && strings) return "array mixing numbers and strings";
  return fmt::format("array of {}", numbers ? "numbers" : "strings");
}

Json make_number(double value) {
  // Whole results (ceil, floor, sums of integers) print as integers.
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 9.0e15) {
    return static_cast<std::int64_t>(value);
  }
  return value;
}

// Walks the syntax tree. Holds the expression text only for diagnostics.
class Evaluator {
 public:
  Evaluator(std::string_view text, std::string_view source_name)
      : m_text(text), m_source_name(source_name) {}

  Value eval(const QueryNode& node, const Json& current) const;

  [[noreturn]] void fail(const QueryNode& node, const std::string& message) const {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("{}: {}", locate(m_source_name, m_text, node.offset), message));
  }

 private:
  Value call_function(const QueryNode& node, const Json& current) const;
  static Value slice(const QueryNode& node, const Json& current);

  std::string_view m_text;
  std::string_view m_source_name;
};

struct Call {
  const Evaluator& evaluator;
  const QueryNode& node;
  std::vector<Value> args;  // null placeholders where the argument is an expref

  const Json& arg(std::size_t i) const { return args[i].get(); }
  const QueryNode& expref(std::size_t i) const { return *node.children[i]->children[0]; }
  std::string_view name() const { return node.name; }

  // Evaluates the expref argument on every element of `array`; the results
  // must be all numbers or all strings, as sort_by, max_by and min_by need.
  std::vector<Value> sort_keys(std::size_t expref_index, const Json& array) const {
    std::vector<Value> keys;
    keys.reserve(array.size());
    const QueryNode& expression = expref(expref_index);
    for (std::size_t i = 0; i < array.size(); ++i) {
      Value key = evaluator.eval(expression, array[i]);
      const Json& first = i == 0 ? key.get() : keys[0].get();
      bool ok = (key.get().is_number() && first.is_number()) ||
                (key.get().is_string() && first.is_string());
      if (!ok) {
        evaluator.fail(node, fmt::format("{}() key must be all numbers or all strings "
                                         "(element {} gives {}{})",
                                         name(), i, type_name(key.get()),
                                         i == 0 ? "" : fmt::format(" after {}", type_name(first))));
      }
      keys.push_back(std::move(key));
    }
    return keys;
  }
};

double as_double(const Json& value) { return value.get<double>(); }

std::vector<std::string_view> utf8_characters(std::string_view text) {
  std::vector<std::string_view> characters;
  std::size_t start = 0;
  for (std::size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || !is_utf8_continuation(text[i])) {
      characters.push_back(text.substr(start, i - start));
      start = i;
    }
  }
  return characters;
}

Json fn_abs(const Call& call) {
  const Json& value = call.arg(0);
  if (value.is_number_float()) return std::fabs(value.get<double>());
  if (value.is_number_unsigned()) return value;
  std::int64_t integer = value.get<std::int64_t>();
  if (integer == std::numeric_limits<std::int64_t>::min()) return std::fabs(double(integer));
  return integer < 0 ? -integer : integer;
}

Json fn_avg(const Call& call) {
  const Json& array = call.arg(0);
  if (array.empty()) return nullptr;
  double total = 0;
  for (const Json& element : array) total += as_double(element);
  return total / static_cast<double>(array.size());
}

Json fn_ceil(const Call& call) { return make_number(std::ceil(as_double(call.arg(0)))); }
Json fn_floor(const Call& call) { return make_number(std::floor(as_double(call.arg(0)))); }

Json fn_contains(const Call& call) {
  const Json& subject = call.arg(0);
  const Json& search = call.arg(1);
  if (subject.is_string()) {
    return search.is_string() && subject.get_ref<const std::string&>().find(
                                     search.get_ref<const std::string&>()) != std::string::npos;
  }
  return std::any_of(subject.begin(), subject.end(),
                     [&](const Json& element) { return deep_equal(element, search); });
}

Json fn_starts_with(const Call& call) {
  return call.arg(0).get_ref<const std::string&>().starts_with(
      call.arg(1).get_ref<const std::string&>());
}

Json fn_ends_with(const Call& call) {
  return call.arg(0).get_ref<const std::string&>().ends_with(
      call.arg(1).get_ref<const std::string&>());
}

Json fn_join(const Call& call) {
  const std::string& glue = call.arg(0).get_ref<const std::string&>();
  std::string text;
  bool first = true;
  for (const Json& element : call.arg(1)) {
    if (!first) text += glue;
    first = false;
    text += element.get_ref<const std::string&>();
  }
  return text;
}

Json fn_keys(const Call& call) {
  Json keys = Json::array();
  for (auto it = call.arg(0).begin(); it != call.arg(0).end(); ++it) keys.push_back(it.key());
  return keys;
}

Json fn_values(const Call& call) {
  Json values = Json::array();
  for (const Json& value : call.arg(0)) values.push_back(value);
  return values;
}

Json fn_length(const Call& call) {
  const Json& value = call.arg(0);
  if (value.is_string()) {
    return static_cast<std::int64_t>(utf8_length(value.get_ref<const std::string&>()));
  }
  return static_cast<std::int64_t>(value.size());
}

Json fn_map(const Call& call) {
  Json results = Json::array();
  for (const Json& element : call.arg(1)) {
    results.push_back(call.evaluator.eval(call.expref(0), element).take());
  }
  return results;
}

Json extreme(const Call& call, bool want_max) {
  const Json& array = call.arg(0);
  if (array.empty()) return nullptr;
  const Json* best = &array[0];
  for (const Json& element : array) {
    if (want_max ? less_than(*best, element) : less_than(element, *best)) best = &element;
  }
  return *best;
}

Json fn_max(const Call& call) { return extreme(call, true); }
Json fn_min(const Call& call) { return extreme(call, false); }

Json extreme_by(const Call& call, bool want_max) {
  const Json& array = call.arg(0);
  if (array.empty()) return nullptr;
  std::vector<Value> keys = call.sort_keys(1, array);
  std::size_t best = 0;
  for (std::size_t i = 1; i < keys.size(); ++i) {
    if (want_max ? less_than(keys[best].get(), keys[i].get())
                 : less_than(keys[i].get(), keys[best].get())) {
      best = i;
    }
  }
  return array[best];
}

Json fn_max_by(const Call& call) { return extreme_by(call, true); }
Json fn_min_by(const Call& call) { return extreme_by(call, false); }

Json fn_merge(const Call& call) {
  Json merged = Json::object();
  for (const Value& arg : call.args) {
    for (auto it = arg.get().begin(); it != arg.get().end(); ++it) merged[it.key()] = it.value();
  }
  return merged;
}

Json fn_not_null(const Call& call) {
  for (const Value& arg : call.args) {
    if (!arg.get().is_null()) return arg.get();
  }
  return nullptr;
}

Json fn_reverse(const Call& call) {
  const Json& value = call.arg(0);
  if (value.is_string()) {
    std::vector<std::string_view> characters = utf8_characters(value.get_ref<const std::string&>());
    std::string reversed;
    for (auto it = characters.rbegin(); it != characters.rend(); ++it) reversed += *it;
    return reversed;
  }
  Json reversed = Json::array();
  for (auto it = value.rbegin(); it != value.rend(); ++it) reversed.push_back(*it);
  return reversed;
}

Json fn_sort(const Call& call) {
  const Json& array = call.arg(0);
  std::vector<Json> elements(array.begin(), array.end());
  std::stable_sort(elements.begin(), elements.end(), less_than);
  return Json(std::move(elements));
}

Json fn_sort_by(const Call& call) {
  const Json& array = call.arg(0);
  std::vector<Value> keys = call.sort_keys(1, array);
  std::vector<std::size_t> order(array.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return less_than(keys[a].get(), keys[b].get());
  });
  Json sorted = Json::array();
  for (std::size_t i : order) sorted.push_back(array[i]);
  return sorted;
}

Json fn_sum(const Call& call) {
  // Stay integral while every addend is an integer and nothing overflows.
  std::int64_t integer_total = 0;
  bool integral = true;
  double total = 0;
  for (const Json& element : call.arg(0)) {
    total += as_double(element);
    if (integral && element.is_number_integer()) {
      integral =
          !__builtin_add_overflow(integer_total, element.get<std::int64_t>(), &integer_total);
    } else {
      integral = false;
    }
  }
  if (integral) return integer_total;
  return total;
}

Json fn_to_array(const Call& call) {
  if (call.arg(0).is_array()) return call.arg(0);
  return Json::array({call.arg(0)});
}

Json fn_to_number(const Call& call) {
  const Json& value = call.arg(0);
  if (value.is_number()) return value;
  if (!value.is_string()) return nullptr;
  const std::string& text = value.get_ref<const std::string&>();
  const char* begin = text.data();
  const char* end = begin + text.size();
  std::int64_t integer = 0;
  auto [integer_end, integer_error] = std::from_chars(begin, end, integer);
  if (integer_error == std::errc() && integer_end == end) return integer;
  double real = 0;
  auto [real_end, real_error] = std::from_chars(begin, end, real);
  if (real_error == std::errc() && real_end == end && !text.empty()) return real;
  return nullptr;
}

Json fn_to_string(const Call& call) {
  if (call.arg(0).is_string()) return call.arg(0);
  return dump_compact(call.arg(0));
}

Json fn_type(const Call& call) { return type_name(call.arg(0)); }

const std::vector<FunctionSpec>& function_table() {
  static const std::vector<FunctionSpec> table = {
      {"abs", {k_number}, false, fn_abs},
      {"avg", {k_array_number}, false, fn_avg},
      {"ceil", {k_number}, false, fn_ceil},
      {"contains", {k_array | k_string, k_any}, false, fn_contains},
      {"ends_with", {k_string, k_string}, false, fn_ends_with},
      {"floor", {k_number}, false, fn_floor},
      {"join", {k_string, k_array_string}, false, fn_join},
      {"keys", {k_object}, false, fn_keys},
      {"length", {k_string | k_array | k_object}, false, fn_length},
      {"map", {k_expref, k_array}, false, fn_map},
      {"max", {k_array_number | k_array_string}, false, fn_max},
      {"max_by", {k_array, k_expref}, false, fn_max_by},
      {"merge", {k_object}, true, fn_merge},
      {"min", {k_array_number | k_array_string}, false, fn_min},
      {"min_by", {k_array, k_expref}, false, fn_min_by},
      {"not_null", {k_any}, true, fn_not_null},
      {"reverse", {k_string | k_array}, false, fn_reverse},
      {"sort", {k_array_number | k_array_string}, false, fn_sort},
      {"sort_by", {k_array, k_expref}, false, fn_sort_by},
      {"starts_with", {k_string, k_string}, false, fn_starts_with},
      {"sum", {k_array_number}, false, fn_sum},
      {"to_array", {k_any}, false, fn_to_array},
      {"to_number", {k_any}, false, fn_to_number},
      {"to_string", {k_any}, false, fn_to_string},
      {"type", {k_any}, false, fn_type},
      {"values", {k_object}, false, fn_values},
  };
  return table;
}

const FunctionSpec* find_function(std::string_view name) {
  for (const FunctionSpec& spec : function_table()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

unsigned argument_mask(const FunctionSpec& spec, std::size_t index) {
  return index < spec.args.size() ? spec.args[index] : spec.args.back();
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string suggest_function(std::string_view name) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (const FunctionSpec& spec : function_table()) {
    std::size_t distance = edit_distance(name, spec.name);
    // Only near misses: "foo" is not a typo of "floor".
    if (distance < best_distance && distance * 2 < name.size()) {
      best = spec.name;
      best_distance = distance;
    }
  }
  return best.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", best);
}

// ---------------------------------------------------------------------------
// Parser: a Pratt parser with the binding powers of the reference
// implementation (jmespath.py), so precedence matches what users get in az.

constexpr int k_projection_stop = 10;
constexpr int k_max_depth = 256;

int binding_power(Tok kind) {
  switch (kind) {
    case Tok::pipe:
      return 1;
    case Tok::logical_or:
      return 2;
    case Tok::logical_and:
      return 3;
    case Tok::eq:
    case Tok::ne:
    case Tok::lt:
    case Tok::le:
    case Tok::gt:
    case Tok::ge:
      return 5;
    case Tok::flatten:
      return 9;
    case Tok::star:
      return 20;
    case Tok::filter:
      return 21;
    case Tok::dot:
      return 40;
    case Tok::logical_not:
      return 45;
    case Tok::lbrace:
      return 50;
    case Tok::lbracket:
      return 55;
    case Tok::lparen:
      return 60;
    default:
      return 0;
  }
}

NodePtr make_node(NodeKind kind, std::size_t offset) {
  auto node = std::make_unique<QueryNode>();
  node->kind = kind;
  node->offset = offset;
  return node;
}

NodePtr make_binary(NodeKind kind, std::size_t offset, NodePtr left, NodePtr right) {
  NodePtr node = make_node(kind, offset);
  node->children.push_back(std::move(left));
  node->children.push_back(std::move(right));
  return node;
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view source_name)
      : m_text(text), m_source_name(source_name), m_tokens(Lexer(text, source_name).tokenize()) {}

  NodePtr parse() {
    NodePtr root = expression(0);
    if (current().kind != Tok::eof) {
      Tok kind = current().kind;
      if (kind == Tok::rbracket || kind == Tok::rparen || kind == Tok::rbrace) {
        fail(current(), fmt::format("unmatched {}", describe(current())));
      }
      fail(current(), fmt::format("expected end of input (got {})", describe(current())));
    }
    return root;
  }

 private:
  const Token& current() const { return m_tokens[m_pos]; }
  const Token& lookahead(std::size_t ahead) const {
    return m_tokens[std::min(m_pos + ahead, m_tokens.size() - 1)];
  }
  void advance() {
    if (m_pos + 1 < m_tokens.size()) ++m_pos;
  }

  std::string describe(const Token& token) const {
    if (token.kind == Tok::eof) return "end of input";
    std::string_view text = m_text.substr(token.offset, token.length);
    if (utf8_length(text) > 24) {
      std::vector<std::string_view> characters = utf8_characters(text);
      std::string shortened;
      for (std::size_t i = 0; i < 21; ++i) shortened += characters[i];
      return fmt::format("'{}...'", shortened);
    }
    return fmt::format("'{}'", text);
  }

  [[noreturn]] void fail_at(std::size_t offset, const std::string& message) const {
    throw Error(ErrorKind::parse,
                fmt::format("{}: {}", locate(m_source_name, m_text, offset), message));
  }
  [[noreturn]] void fail(const Token& token, const std::string& message) const {
    fail_at(token.offset, message);
  }

  // Consumes a token of `kind`; `what` is how the message names it.
  void expect(Tok kind, std::string_view what) {
    if (current().kind != kind) {
      fail(current(), fmt::format("expected {} (got {})", what, describe(current())));
    }
    advance();
  }

  NodePtr expression(int power) {
    // Parsing recurses per nesting level; bound it so a hostile query cannot
    // overflow the stack.
    if (++m_depth > k_max_depth) {
      fail(current(), fmt::format("expression nested more than {} levels deep", k_max_depth));
    }
    NodePtr left = nud();
    while (power < binding_power(current().kind)) left = led(std::move(left));
    --m_depth;
    return left;
  }

  NodePtr nud() {
    const Token& token = current();
    std::size_t offset = token.offset;
    switch (token.kind) {
      case Tok::literal:
      case Tok::number: {
        // A bare number is the az-style extension; see the header.
        NodePtr node = make_node(NodeKind::literal, offset);
        node->literal = token.value;
        advance();
        return node;
      }
      case Tok::identifier: {
        NodePtr node = make_node(NodeKind::field, offset);
        node->name = token.text;
        advance();
        return node;
      }
      case Tok::quoted_identifier: {
        NodePtr node = make_node(NodeKind::field, offset);
        node->name = token.text;
        advance();
        if (current().kind == Tok::lparen) {
          fail(current(), "a quoted identifier cannot be called as a function");
        }
        return node;
      }
      case Tok::star: {
        advance();
        NodePtr right = current().kind == Tok::rbracket ? make_node(NodeKind::identity, offset)
                                                        : projection_rhs(binding_power(Tok::star));
        return make_binary(NodeKind::value_projection, offset,
                           make_node(NodeKind::identity, offset), std::move(right));
      }
      case Tok::filter:
        advance();
        return filter(make_node(NodeKind::identity, offset), offset);
      case Tok::lbrace:
        advance();
        return multi_hash(offset);
      case Tok::lparen: {
        advance();
        NodePtr inner = expression(0);
        expect(Tok::rparen, "')'");
        return inner;
      }
      case Tok::flatten: {
        advance();
        return flatten(make_node(NodeKind::identity, offset), offset);
      }
      case Tok::logical_not: {
        advance();
        NodePtr node = make_node(NodeKind::logical_not, offset);
        node->children.push_back(expression(binding_power(Tok::logical_not)));
        return node;
      }
      case Tok::lbracket: {
        advance();
        Tok next = current().kind;
        if (next == Tok::number || next == Tok::colon) {
          return project_if_slice(make_node(NodeKind::identity, offset), index_expression(),
                                  offset);
        }
        if (next == Tok::star && lookahead(1).kind == Tok::rbracket) {
          advance();
          advance();
          return make_binary(NodeKind::projection, offset, make_node(NodeKind::identity, offset),
                             projection_rhs(binding_power(Tok::star)));
        }
        return multi_list(offset);
      }
      case Tok::current:
        advance();
        return make_node(NodeKind::identity, offset);
      case Tok::expref:
        fail(token, "'&' may only start a function argument, as in sort_by(@, &name)");
      default:
        fail(token, fmt::format("expected an expression (got {})", describe(token)));
    }
  }

  NodePtr led(NodePtr left) {
    const Token& token = current();
    std::size_t offset = token.offset;
    Tok kind = token.kind;
    switch (kind) {
      case Tok::dot: {
        advance();
        if (current().kind == Tok::star) {
          advance();
          return make_binary(NodeKind::value_projection, offset, std::move(left),
                             projection_rhs(binding_power(Tok::dot)));
        }
        return make_binary(NodeKind::subexpression, offset, std::move(left),
                           dot_rhs(binding_power(Tok::dot)));
      }
      case Tok::pipe: {
        advance();
        return make_binary(NodeKind::subexpression, offset, std::move(left),
                           expression(binding_power(Tok::pipe)));
      }
      case Tok::logical_or:
      case Tok::logical_and: {
        advance();
        return make_binary(kind == Tok::logical_or ? NodeKind::logical_or : NodeKind::logical_and,
                           offset, std::move(left), expression(binding_power(kind)));
      }
      case Tok::eq:
      case Tok::ne:
      case Tok::lt:
      case Tok::le:
      case Tok::gt:
      case Tok::ge: {
        advance();
        NodePtr node = make_binary(NodeKind::comparator, offset, std::move(left),
                                   expression(binding_power(kind)));
        node->comparator = kind == Tok::eq   ? Comparator::eq
                           : kind == Tok::ne ? Comparator::ne
                           : kind == Tok::lt ? Comparator::lt
                           : kind == Tok::le ? Comparator::le
                           : kind == Tok::gt ? Comparator::gt
                                             : Comparator::ge;
        return node;
      }
      case Tok::lparen:
        return function_call(std::move(left));
      case Tok::filter:
        advance();
        return filter(std::move(left), offset);
      case Tok::flatten:
        advance();
        return flatten(std::move(left), offset);
      case Tok::lbracket: {
        advance();
        Tok next = current().kind;
        if (next == Tok::number || next == Tok::colon) {
          return project_if_slice(std::move(left), index_expression(), offset);
        }
        if (next == Tok::star && lookahead(1).kind == Tok::rbracket) {
          advance();
          advance();
          return make_binary(NodeKind::projection, offset, std::move(left),
                             projection_rhs(binding_power(Tok::star)));
        }
        fail(current(),
             fmt::format("expected a number, ':' or '*' after '[' (got {})", describe(current())));
      }
      default:
        fail(token, fmt::format("unexpected {}", describe(token)));
    }
  }

  NodePtr filter(NodePtr left, std::size_t offset) {
    NodePtr condition = expression(0);
    expect(Tok::rbracket, "']'");
    NodePtr node = make_binary(NodeKind::filter_projection, offset, std::move(left),
                               projection_rhs(binding_power(Tok::filter)));
    node->children.push_back(std::move(condition));
    return node;
  }

  NodePtr flatten(NodePtr left, std::size_t offset) {
    NodePtr flat = make_node(NodeKind::flatten, offset);
    flat->children.push_back(std::move(left));
    return make_binary(NodeKind::projection, offset, std::move(flat),
                       projection_rhs(binding_power(Tok::flatten)));
  }

  // After '[' when the next token is a number or ':'.
  NodePtr index_expression() {
    if (current().kind == Tok::colon || lookahead(1).kind == Tok::colon) return slice();
    const Token& token = current();
    NodePtr node = make_node(NodeKind::index, token.offset);
    node->index = integer_of(token);
    advance();
    expect(Tok::rbracket, "']'");
    return node;
  }

  std::int64_t integer_of(const Token& token) const {
    if (!token.is_integer) {
      fail(token, fmt::format("expected an integer (got {})", describe(token)));
    }
    return token.value.get<std::int64_t>();
  }

  NodePtr slice() {
    NodePtr node = make_node(NodeKind::slice, current().offset);
    std::optional<std::int64_t> parts[3];
    std::size_t part = 0;
    while (current().kind != Tok::rbracket) {
      const Token& token = current();
      if (token.kind == Tok::colon) {
        if (++part == 3) fail(token, "too many ':' in slice (at most [start:stop:step])");
        advance();
      } else if (token.kind == Tok::number) {
        if (parts[part]) fail(token, fmt::format("expected ':' or ']' (got {})", describe(token)));
        parts[part] = integer_of(token);
        advance();
      } else {
        fail(token,
             fmt::format("expected a number, ':' or ']' in slice (got {})", describe(token)));
      }
    }
    advance();
    if (parts[2] && *parts[2] == 0) fail_at(node->offset, "slice step cannot be 0");
    node->slice_start = parts[0];
    node->slice_stop = parts[1];
    node->slice_step = parts[2].value_or(1);
    return node;
  }

  NodePtr project_if_slice(NodePtr left, NodePtr right, std::size_t offset) {
    bool is_slice = right->kind == NodeKind::slice;
    NodePtr indexed =
        make_binary(NodeKind::subexpression, offset, std::move(left), std::move(right));
    if (!is_slice) return indexed;
    return make_binary(NodeKind::projection, offset, std::move(indexed),
                       projection_rhs(binding_power(Tok::star)));
  }

  // What follows a projection: nothing (identity), or more to apply to each
  // element. Tokens binding looser than k_projection_stop end the projection.
  NodePtr projection_rhs(int power) {
    const Token& token = current();
    if (binding_power(token.kind) < k_projection_stop) {
      return make_node(NodeKind::identity, token.offset);
    }
    switch (token.kind) {
      case Tok::lbracket:
      case Tok::filter:
        return expression(power);
      case Tok::dot:
        advance();
        return dot_rhs(power);
      default:
        fail(token,
             fmt::format("expected '.', '[' or '[?' after a projection (got {})", describe(token)));
    }
  }

  NodePtr dot_rhs(int power) {
    const Token& token = current();
    switch (token.kind) {
      case Tok::identifier:
      case Tok::quoted_identifier:
      case Tok::star:
        return expression(power);
      case Tok::lbracket:
        advance();
        return multi_list(token.offset);
      case Tok::lbrace:
        advance();
        return multi_hash(token.offset);
      default:
        fail(token, fmt::format("expected an identifier, '*', '[' or '{{' after '.' (got {})",
                                describe(token)));
    }
  }

  NodePtr multi_list(std::size_t offset) {
    NodePtr node = make_node(NodeKind::multi_list, offset);
    while (true) {
      node->children.push_back(expression(0));
      if (current().kind == Tok::rbracket) break;
      expect(Tok::comma, "',' or ']'");
    }
    advance();
    return node;
  }

  NodePtr multi_hash(std::size_t offset) {
    NodePtr node = make_node(NodeKind::multi_hash, offset);
    while (true) {
      const Token& key = current();
      if (key.kind != Tok::identifier && key.kind != Tok::quoted_identifier) {
        fail(key, fmt::format("expected a key name (got {})", describe(key)));
      }
      node->keys.push_back(key.text);
      advance();
      expect(Tok::colon, "':'");
      node->children.push_back(expression(0));
      if (current().kind == Tok::rbrace) break;
      expect(Tok::comma, "',' or '}'");
    }
    advance();
    return node;
  }

  NodePtr function_call(NodePtr left) {
    const Token& paren = current();
    if (left->kind != NodeKind::field) {
      fail(paren, "unexpected '(' (only a function name may be called)");
    }
    const FunctionSpec* spec = find_function(left->name);
    if (spec == nullptr) {
      fail_at(left->offset,
              fmt::format("unknown function '{}'{}", left->name, suggest_function(left->name)));
    }
    NodePtr node = make_node(NodeKind::function, left->offset);
    node->name = left->name;
    node->function = spec;
    advance();
    if (current().kind != Tok::rparen) {
      while (true) {
        std::size_t argument_offset = current().offset;
        bool is_expref = current().kind == Tok::expref;
        if (is_expref) advance();
        NodePtr argument = expression(0);
        unsigned mask = node->children.size() < spec->args.size() || spec->variadic
                            ? argument_mask(*spec, node->children.size())
                            : k_any;
        if (is_expref && !(mask & k_expref)) {
          fail_at(argument_offset,
                  fmt::format("argument {} of {}() cannot be an expression reference ('&')",
                              node->children.size() + 1, spec->name));
        }
        if (!is_expref && mask == k_expref) {
          fail_at(argument_offset, fmt::format("argument {} of {}() must be an expression "
                                               "reference, as in &name",
                                               node->children.size() + 1, spec->name));
        }
        if (is_expref) {
          NodePtr wrapper = make_node(NodeKind::expref, argument_offset);
          wrapper->children.push_back(std::move(argument));
          argument = std::move(wrapper);
        }
        node->children.push_back(std::move(argument));
        if (current().kind != Tok::comma) break;
        advance();
      }
    }
    expect(Tok::rparen, "',' or ')'");
    std::size_t count = node->children.size();
    std::size_t wanted = spec->args.size();
    if (spec->variadic ? count < wanted : count != wanted) {
      fail_at(node->offset, fmt::format("{}() takes {}{} argument{} (got {})", spec->name,
                                        spec->variadic ? "at least " : "", wanted,
                                        wanted == 1 ? "" : "s", count));
    }
    return node;
  }

  std::string_view m_text;
  std::string_view m_source_name;
  std::vector<Token> m_tokens;
  std::size_t m_pos = 0;
  int m_depth = 0;
};

// Clamps a slice bound the way the JMESPath specification says.
std::int64_t clamp_slice_bound(std::int64_t length, std::int64_t bound, std::int64_t step) {
  if (bound < 0) {
    bound += length;
    if (bound < 0) bound = step < 0 ? -1 : 0;
  } else if (bound >= length) {
    bound = step < 0 ? length - 1 : length;
  }
  return bound;
}

// The result of evaluating `right` on a value that lives in `left`: if `left`
// is a temporary, the result must not keep pointing into it.
Value keep_alive(Value right, const Value& left) {
  if (left.owned() && !right.owned()) return Value::own(right.get());
  return right;
}

Value Evaluator::slice(const QueryNode& node, const Json& current) {
  if (!current.is_array()) return Value::borrow(k_null_json);
  auto length = static_cast<std::int64_t>(current.size());
  std::int64_t step = node.slice_step;
  std::int64_t start = node.slice_start ? clamp_slice_bound(length, *node.slice_start, step)
                                        : (step > 0 ? 0 : length - 1);
  std::int64_t stop = node.slice_stop ? clamp_slice_bound(length, *node.slice_stop, step)
                                      : (step > 0 ? length : -1);
  Json result = Json::array();
  for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    result.push_back(current[static_cast<std::size_t>(i)]);
  }
  return Value::own(std::move(result));
}

Value Evaluator::eval(const QueryNode& node, const Json& current) const {
  switch (node.kind) {
    case NodeKind::identity:
      return Value::borrow(current);
    case NodeKind::field: {
      if (current.is_object()) {
        auto it = current.find(node.name);
        if (it != current.end()) return Value::borrow(*it);
      }
      return Value::borrow(k_null_json);
    }
    case NodeKind::literal:
      return Value::borrow(node.literal);
    case NodeKind::subexpression: {
      Value left = eval(*node.children[0], current);
      Value right = eval(*node.children[1], left.get());
      return keep_alive(std::move(right), left);
    }
    case NodeKind::index: {
      if (!current.is_array()) return Value::borrow(k_null_json);
      std::int64_t index = node.index;
      auto length = static_cast<std::int64_t>(current.size());
      if (index < 0) index += length;
      if (index < 0 || index >= length) return Value::borrow(k_null_json);
      return Value::borrow(current[static_cast<std::size_t>(index)]);
    }
    case NodeKind::slice:
      return slice(node, current);
    case NodeKind::projection:
    case NodeKind::value_projection: {
      Value left = eval(*node.children[0], current);
      const Json& base = left.get();
      bool ok = node.kind == NodeKind::projection ? base.is_array() : base.is_object();
      if (!ok) return Value::borrow(k_null_json);
      Json result = Json::array();
      for (const Json& element : base) {
        Value value = eval(*node.children[1], element);
        if (!value.get().is_null()) result.push_back(std::move(value).take());
      }
      return Value::own(std::move(result));
    }
    case NodeKind::flatten: {
      Value left = eval(*node.children[0], current);
      if (!left.get().is_array()) return Value::borrow(k_null_json);
      Json result = Json::array();
      if (left.owned()) {
        for (Json& element : left.mutable_owned()) {
          if (element.is_array()) {
            for (Json& inner : element) result.push_back(std::move(inner));
          } else {
            result.push_back(std::move(element));
          }
        }
      } else {
        for (const Json& element : left.get()) {
          if (element.is_array()) {
            for (const Json& inner : element) result.push_back(inner);
          } else {
            result.push_back(element);
          }
        }
      }
      return Value::own(std::move(result));
    }
    case NodeKind::filter_projection: {
      Value left = eval(*node.children[0], current);
      if (!left.get().is_array()) return Value::borrow(k_null_json);
      Json result = Json::array();
      for (const Json& element : left.get()) {
        if (!is_truthy(eval(*node.children[2], element).get())) continue;
        Value value = eval(*node.children[1], element);
        if (!value.get().is_null()) result.push_back(std::move(value).take());
      }
      return Value::own(std::move(result));
    }
    case NodeKind::comparator: {
      Value left = eval(*node.children[0], current);
      Value right = eval(*node.children[1], current);
      const Json& a = left.get();
      const Json& b = right.get();
      switch (node.comparator) {
        case Comparator::eq:
          return Value::own(deep_equal(a, b));
        case Comparator::ne:
          return Value::own(!deep_equal(a, b));
        default:
          break;
      }
      if (!a.is_number() || !b.is_number()) return Value::borrow(k_null_json);
      switch (node.comparator) {
        case Comparator::lt:
          return Value::own(a < b);
        case Comparator::le:
          return Value::own(a <= b);
        case Comparator::gt:
          return Value::own(a > b);
        default:
          return Value::own(a >= b);
      }
    }
    case NodeKind::logical_or: {
      Value left = eval(*node.children[0], current);
      if (is_truthy(left.get())) return left;
      return eval(*node.children[1], current);
    }
    case NodeKind::logical_and: {
      Value left = eval(*node.children[0], current);
      if (!is_truthy(left.get())) return left;
      return eval(*node.children[1], current);
    }
    case NodeKind::logical_not:
      return Value::own(!is_truthy(eval(*node.children[0], current).get()));
    case NodeKind::multi_list: {
      if (current.is_null()) return Value::borrow(k_null_json);
      Json result = Json::array();
      for (const auto& child : node.children) result.push_back(eval(*child, current).take());
      return Value::own(std::move(result));
    }
    case NodeKind::multi_hash: {
      if (current.is_null()) return Value::borrow(k_null_json);
      Json result = Json::object();
      for (std::size_t i = 0; i < node.children.size(); ++i) {
        result[node.keys[i]] = eval(*node.children[i], current).take();
      }
      return Value::own(std::move(result));
    }
    case NodeKind::function:
      return call_function(node, current);
    case NodeKind::expref:
      break;
  }
  // The parser only puts exprefs where a function takes them.
  throw Error(ErrorKind::internal, "query: expression reference evaluated outside a function");
}

Value Evaluator::call_function(const QueryNode& node, const Json& current) const {
  const FunctionSpec& spec = *node.function;
  Call call{*this, node, {}};
  call.args.reserve(node.children.size());
  for (std::size_t i = 0; i < node.children.size(); ++i) {
    const QueryNode& argument = *node.children[i];
    if (argument.kind == NodeKind::expref) {
      call.args.push_back(Value::borrow(k_null_json));
      continue;
    }
    Value value = eval(argument, current);
    unsigned mask = argument_mask(spec, i);
    if (!matches_mask(mask, value.get())) {
      fail(node, fmt::format("{}() argument {} must be {} (got {})", spec.name, i + 1,
                             describe_mask(mask), describe_value(mask, value.get())));
    }
    call.args.push_back(std::move(value));
  }
  return Value::own(spec.impl(call));
}

}  // namespace

Query::Query(std::shared_ptr<const detail::QueryNode> root, std::string expression,
             std::string source_name)
    : m_root(std::move(root)),
      m_expression(std::move(expression)),
      m_source_name(std::move(source_name)) {}

Query Query::parse(std::string_view expression, std::string_view source_name) {
  std::shared_ptr<const QueryNode> root = Parser(expression, source_name).parse();
  return Query(std::move(root), std::string(expression), std::string(source_name));
}

Json Query::evaluate(const Json& doc) const {
  return Evaluator(m_expression, m_source_name).eval(*m_root, doc).take();
}

Json apply_query(const Json& doc, std::string_view expression, std::string_view source_name) {
  return Query::parse(expression, source_name).evaluate(doc);
}

}  // namespace mlctl
