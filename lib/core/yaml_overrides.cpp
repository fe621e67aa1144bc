#include <mlctl/core/yaml_overrides.hpp>

#include <mlctl/core/error.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace mlctl {
namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

bool is_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// One step of a --set path. `a.b[2].0` is {a}, {b}, {[2]}, {0}: a bracket
// always indexes a sequence, a bare number only where the node is one.
struct PathStep {
  std::string key;
  bool is_bracket_index = false;
  bool is_number = false;  // a bare key like `0`, an index where the node is a sequence
  std::size_t index = 0;   // for brackets and numbers
};

// Everything a message needs to name the assignment the user typed.
struct OverrideContext {
  std::string_view source_name;
  std::string_view assignment;

  [[noreturn]] void fail(ErrorKind kind, std::string_view what) const {
    throw Error(kind, fmt::format("{} '{}': {}", source_name, assignment, what));
  }
};

std::size_t parse_index(std::string_view digits, std::string_view path,
                        const OverrideContext& context) {
  if (!is_digits(digits)) {
    context.fail(ErrorKind::invalid_argument,
                 fmt::format("sequence index '{}' in path '{}' is not a number", digits, path));
  }
  // Anything with more than 9 digits is out of range for any real document;
  // capping here keeps the conversion free of overflow.
  if (digits.size() > 9) {
    context.fail(ErrorKind::invalid_argument,
                 fmt::format("sequence index '{}' in path '{}' is too large", digits, path));
  }
  std::size_t value = 0;
  for (char c : digits) value = value * 10 + static_cast<std::size_t>(c - '0');
  return value;
}

std::vector<PathStep> parse_path(std::string_view path, const OverrideContext& context) {
  std::vector<PathStep> steps;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = path.find('.', start);
    const std::string_view part =
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    const std::size_t bracket = part.find('[');
    const std::string_view name = part.substr(0, bracket);
    if (name.empty()) {
      context.fail(ErrorKind::invalid_argument, fmt::format("empty field name in path '{}'", path));
    }
    if (name.find(']') != std::string_view::npos) {
      context.fail(ErrorKind::invalid_argument, fmt::format("unmatched ']' in path '{}'", path));
    }
    PathStep named;
    named.key = std::string(name);
    if (is_digits(name) && name.size() <= 9) {
      named.is_number = true;
      named.index = parse_index(name, path, context);
    }
    steps.push_back(std::move(named));

    std::size_t position = bracket;
    while (position != std::string_view::npos && position < part.size()) {
      if (part[position] != '[') {
        context.fail(ErrorKind::invalid_argument,
                     fmt::format("expected '.' or '[' after ']' in path '{}'", path));
      }
      const std::size_t close = part.find(']', position);
      if (close == std::string_view::npos) {
        context.fail(ErrorKind::invalid_argument, fmt::format("unclosed '[' in path '{}'", path));
      }
      PathStep indexed;
      indexed.is_bracket_index = true;
      indexed.index = parse_index(part.substr(position + 1, close - position - 1), path, context);
      indexed.key = std::to_string(indexed.index);
      steps.push_back(std::move(indexed));
      position = close + 1;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return steps;
}

// How a step addresses `node`: a sequence item, or a map entry.
bool indexes_sequence(const PathStep& step, const YAML::Node& node) {
  return step.is_bracket_index || (node.IsSequence() && step.is_number);
}

// The path up to and including step `count - 1`, as the user would write it.
std::string path_prefix(const std::vector<PathStep>& steps, std::size_t count) {
  std::string prefix;
  for (std::size_t i = 0; i < count; ++i) {
    if (steps[i].is_bracket_index) {
      prefix += fmt::format("[{}]", steps[i].index);
    } else {
      if (!prefix.empty()) prefix += '.';
      prefix += steps[i].key;
    }
  }
  return prefix;
}

// Walks the existing tree without changing it, so a bad path fails before
// anything is created. Once the walk leaves the tree every later container is
// new and empty, where only index 0 (an append) is in range.
void check_path(const YAML::Node& root, const std::vector<PathStep>& steps,
                const OverrideContext& context) {
  YAML::Node current;
  current.reset(root);
  bool exists = !is_absent(root);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const PathStep& step = steps[i];
    const std::string parent =
        i == 0 ? std::string("the document") : "'" + path_prefix(steps, i) + "'";
    if (!exists) {
      if (step.is_bracket_index && step.index > 0) {
        context.fail(
            ErrorKind::invalid_argument,
            fmt::format("index {} is out of range for {}, which has no items", step.index, parent));
      }
      continue;
    }
    if (current.IsScalar()) {
      context.fail(ErrorKind::invalid_argument,
                   fmt::format("{} is a scalar, so it has no field '{}'", parent, step.key));
    }
    if (step.is_bracket_index && current.IsMap()) {
      context.fail(ErrorKind::invalid_argument, fmt::format("{} is a map, not a sequence", parent));
    }
    if (current.IsSequence() && !indexes_sequence(step, current)) {
      context.fail(ErrorKind::invalid_argument,
                   fmt::format("{} is a sequence, so it has no field '{}'", parent, step.key));
    }
    if (indexes_sequence(step, current) && step.index > current.size()) {
      context.fail(ErrorKind::invalid_argument,
                   fmt::format("index {} is out of range for {}, which has {} item{}", step.index,
                               parent, current.size(), current.size() == 1 ? "" : "s"));
    }
    // Const lookups: a missing entry comes back as an invalid "zombie" node
    // instead of being inserted. reset() throws on a zombie, so test first.
    const YAML::Node child = indexes_sequence(step, current) ? std::as_const(current)[step.index]
                                                             : std::as_const(current)[step.key];
    exists = !is_absent(child);
    if (exists) current.reset(child);
  }
}

// The value's marks point into the assignment text, not the document it is
// grafted onto; a later diagnostic would name a wrong line of the job file.
// Rebuilding the tree gives nodes without a position, which yaml_location
// reports as the source alone.
YAML::Node without_marks(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      YAML::Node copy(node.Scalar());
      copy.SetTag(node.Tag());
      return copy;
    }
    case YAML::NodeType::Sequence: {
      YAML::Node copy(YAML::NodeType::Sequence);
      for (const YAML::Node& item : node) copy.push_back(without_marks(item));
      copy.SetTag(node.Tag());
      copy.SetStyle(node.Style());
      return copy;
    }
    case YAML::NodeType::Map: {
      YAML::Node copy(YAML::NodeType::Map);
      for (const auto& entry : node) {
        copy.force_insert(without_marks(entry.first), without_marks(entry.second));
      }
      copy.SetTag(node.Tag());
      copy.SetStyle(node.Style());
      return copy;
    }
    default:
      return YAML::Node(YAML::NodeType::Null);
  }
}

YAML::Node string_value(std::string_view text) {
  YAML::Node node{std::string(text)};
  node.SetTag("!");  // a quoted scalar's tag: the text is a string, never a number
  return node;
}

YAML::Node parse_value(std::string_view text, const OverrideContext& context) {
  if (text.empty()) return YAML::Node(YAML::NodeType::Null);
  // Text starting with one of these is unmistakably YAML syntax, so failing
  // to parse it is an error and its parsed form is what the user meant.
  constexpr std::string_view k_yaml_starts = "[{\"'!&*|>";
  const bool is_yaml_syntax = k_yaml_starts.find(text.front()) != std::string_view::npos;
  YAML::Node parsed;
  try {
    parsed = YAML::Load(std::string(text));
  } catch (const YAML::Exception& error) {
    if (is_yaml_syntax) {
      context.fail(ErrorKind::parse, fmt::format("the value is not valid YAML: {}", error.msg));
    }
    return string_value(text);
  }
  if (is_yaml_syntax) return without_marks(parsed);
  if (parsed.IsScalar() && parsed.Scalar() == text) return without_marks(parsed);
  if (parsed.IsNull() && (text == "~" || text == "null" || text == "Null" || text == "NULL")) {
    return YAML::Node(YAML::NodeType::Null);
  }
  return string_value(text);
}

YAML::Node new_container(const PathStep& next) {
  return YAML::Node(next.is_bracket_index ? YAML::NodeType::Sequence : YAML::NodeType::Map);
}

// Assumes check_path passed. yaml-cpp's Node::operator= writes through to the
// node it refers to, so the walk moves with reset() and assigns only to
// replace what is in the tree.
void assign_path(YAML::Node& root, const std::vector<PathStep>& steps, const YAML::Node& value) {
  if (is_absent(root)) root = new_container(steps.front());
  YAML::Node current;
  current.reset(root);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const PathStep& step = steps[i];
    const bool last = i + 1 == steps.size();
    if (indexes_sequence(step, current)) {
      if (step.index == current.size()) {
        current.push_back(last ? value : new_container(steps[i + 1]));
        if (last) return;
        YAML::Node child = current[step.index];
        current.reset(child);
        continue;
      }
      if (last) {
        current[step.index] = value;
        return;
      }
      YAML::Node child = current[step.index];
      if (is_absent(child)) child = new_container(steps[i + 1]);
      current.reset(child);
    } else {
      if (last) {
        current[step.key] = value;
        return;
      }
      YAML::Node child = current[step.key];
      if (is_absent(child)) child = new_container(steps[i + 1]);
      current.reset(child);
    }
  }
}

}  // namespace

std::string yaml_location(std::string_view source_name, const YAML::Mark& mark) {
  if (mark.is_null()) return std::string(source_name);
  if (source_name.empty()) return fmt::format("{}:{}", mark.line + 1, mark.column + 1);
  return fmt::format("{}:{}:{}", source_name, mark.line + 1, mark.column + 1);
}

YAML::Node load_yaml(std::string_view text, std::string_view source_name) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& error) {
    throw Error(ErrorKind::parse,
                fmt::format("{}: {}", yaml_location(source_name, error.mark), error.msg));
  }
  if (documents.empty()) return YAML::Node(YAML::NodeType::Null);
  // yaml-cpp starts a new document wherever the first one ends, with or
  // without `---`, so "- a\nb: 1" is two documents, not a syntax error.
  if (documents.size() > 1) {
    throw Error(ErrorKind::parse,
                fmt::format("{}: expected a single YAML document, found another one here",
                            yaml_location(source_name, documents[1].Mark())));
  }
  return documents.front();
}

void apply_override(YAML::Node& root, std::string_view assignment, std::string_view source_name) {
  const OverrideContext context{source_name, assignment};
  const std::size_t equals = assignment.find('=');
  if (equals == std::string_view::npos) {
    context.fail(ErrorKind::invalid_argument, "expected PATH=VALUE, such as inputs.lr=0.01");
  }
  const std::string_view path = trim(assignment.substr(0, equals));
  if (path.empty()) context.fail(ErrorKind::invalid_argument, "the path before '=' is empty");

  const std::vector<PathStep> steps = parse_path(path, context);
  const YAML::Node value = parse_value(trim(assignment.substr(equals + 1)), context);
  try {
    check_path(root, steps, context);
    assign_path(root, steps, value);
  } catch (const YAML::Exception& error) {
    // Not expected after check_path; translated so no yaml-cpp type escapes.
    context.fail(ErrorKind::internal, error.msg);
  }
}

bool is_absent(const YAML::Node& node) { return !node.IsDefined() || node.IsNull(); }

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Scalar:
      return fmt::format("'{}'", node.Scalar());
    default:
      return "nothing";
  }
}

}  // namespace mlctl
