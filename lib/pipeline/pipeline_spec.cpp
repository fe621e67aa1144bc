#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <functional>
#include <mlctl/core/did_you_mean.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/yaml_overrides.hpp>
#include <mlctl/pipeline/pipeline_spec.hpp>
#include <mlctl/tracking/command_job.hpp>
#include <set>
#include <system_error>
#include <utility>

namespace mlctl::pipeline {
namespace {

using tracking::is_identifier;


namespace fs = std::filesystem;

const std::vector<std::string> k_top_keys = {
    "$schema", "type",   "name",    "display_name", "description", "experiment_name",
    "tags",    "inputs", "outputs", "settings",     "jobs",
};
// Accepted so that an Azure ML pipeline runs unchanged; each gives a notice.
const std::vector<std::string> k_cloud_only_top = {"compute", "identity"};
const std::vector<std::string> k_settings_keys = {"continue_on_step_failure", "force_rerun", "default_compute"};
const std::vector<std::string> k_input_keys = {"type", "default", "path", "description", "optional", "mode"};
const std::vector<std::string> k_component_input_keys = {"type", "default", "optional", "description"};
const std::vector<std::string> k_step_input_keys = {"type", "path", "value", "mode", "description"};
const std::vector<std::string> k_output_keys = {"type", "description", "mode", "path", "name", "version"};
// Output fields that only say where the cloud stores or registers an output:
// mlctl writes every output under the run's own directory.
const std::vector<std::string> k_cloud_only_output_keys = {"path", "name", "version"};
const std::vector<std::string> k_common_step_keys = {
    "type",    "component", "inputs",    "outputs",      "needs",       "retries",
    "timeout", "reuse",     "condition", "display_name", "description",
};
const std::vector<std::string> k_component_keys = {
    "$schema",          "type",   "name",    "version", "display_name", "description", "tags",
    "is_deterministic", "inputs", "outputs", "command", "code",         "environment", "environment_variables",
};
// A component's fields that become part of the step's body.
const std::vector<std::string> k_component_body_keys = {"command",      "code",        "environment_variables",
                                                        "display_name", "description", "tags"};
const std::vector<std::string> k_value_types = {"string",   "number",     "integer",      "boolean",
                                                "uri_file", "uri_folder", "mlflow_model", "custom_model"};
const std::vector<std::string> k_output_types = {"uri_folder", "uri_file", "mlflow_model", "custom_model"};

constexpr std::string_view k_asset_prefix = "azureml:";
constexpr std::string_view k_reference_forms = "${{parent.inputs.NAME}} or ${{parent.jobs.STEP.outputs.NAME}}";

bool contains(const std::vector<std::string>& list, std::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::string join(const std::vector<std::string>& words, std::string_view separator = ", ") {
  std::string text;
  for (const std::string& word : words) {
    if (!text.empty()) text += separator;
    text += word;
  }
  return text;
}

// Step names appear in references (split at '.') and in directory names.
bool is_step_name(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9') || name.front() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// `data.train`: identifiers joined by dots.
bool is_dotted_path(std::string_view name) {
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    if (!is_identifier(name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool is_integer_text(std::string_view text) {
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<double> number_value(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty() || std::none_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<bool> boolean_value(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

std::optional<ValueType> value_type_named(std::string_view name) {
  for (std::size_t i = 0; i < k_value_types.size(); ++i) {
    if (k_value_types[i] == name) return static_cast<ValueType>(i);
  }
  return std::nullopt;
}

bool is_literal_check_type(ValueType type) {
  return type == ValueType::number || type == ValueType::integer || type == ValueType::boolean;
}

// What a literal written without a type is: quoted text is a string, plain
// text a boolean or a number when it reads as one. A path stays a string:
// only a declared type makes a value a file.
ValueType literal_type(const YAML::Node& node) {
  if (node.Tag() == "!") return ValueType::string;
  const std::string& text = node.Scalar();
  if (boolean_value(text)) return ValueType::boolean;
  if (is_integer_text(text)) return ValueType::integer;
  if (number_value(text)) return ValueType::number;
  return ValueType::string;
}

// "an integer" when `text` is not a literal of `type`, nullopt when it is
// (or when the type takes any text).
std::optional<std::string> literal_mismatch(ValueType type, std::string_view text) {
  switch (type) {
    case ValueType::integer:
      if (!is_integer_text(text)) return std::string("an integer");
      break;
    case ValueType::number:
      if (!number_value(text)) return std::string("a number");
      break;
    case ValueType::boolean:
      if (!boolean_value(text)) return std::string("a boolean (true or false)");
      break;
    default:
      break;
  }
  return std::nullopt;
}

std::string expected_phrase(ValueType type) {
  switch (type) {
    case ValueType::integer:
      return "an integer";
    case ValueType::number:
      return "a number";
    case ValueType::boolean:
      return "a boolean (true or false)";
    default:
      return fmt::format("a {}", to_string(type));
  }
}

bool is_uri(std::string_view text) { return text.find("://") != std::string_view::npos; }

fs::path normalised(const fs::path& path) {
  fs::path result = path.lexically_normal();
  // "src/" normalises to "/job/src/"; the trailing separator would make two
  // spellings of one directory compare unequal.
  if (!result.has_filename() && result != result.root_path()) result = result.parent_path();
  return result;
}

fs::path absolute_base(const fs::path& base_dir) {
  std::error_code error;
  fs::path base = fs::absolute(base_dir.empty() ? fs::path(".") : base_dir, error);
  if (error) {
    throw Error(ErrorKind::io, fmt::format("cannot make '{}' absolute: {}", base_dir.string(), error.message()));
  }
  return normalised(base);
}

// A path value as a step will read it: local paths made absolute against
// `base`, dataset references and URIs as written.
std::string resolve_path_value(std::string_view text, const fs::path& base) {
  if (text.starts_with(k_asset_prefix) || is_uri(text) || text.empty()) return std::string(text);
  const fs::path path(text);
  return normalised(path.is_absolute() ? path : base / path).string();
}

Location locate(const std::string& source, const YAML::Node& node, const YAML::Node& fallback = YAML::Node()) {
  Location where;
  where.file = source;
  const YAML::Node* chosen = nullptr;
  // A null's mark is wherever the parser went on reading, often the next
  // line: its key says better where it is.
  const bool null_with_key = node.IsDefined() && node.IsNull() && fallback.IsDefined() && !fallback.Mark().is_null();
  if (node.IsDefined() && !node.Mark().is_null() && !null_with_key) {
    chosen = &node;
  } else if (fallback.IsDefined() && !fallback.Mark().is_null()) {
    chosen = &fallback;
  }
  if (chosen != nullptr) {
    where.line = chosen->Mark().line + 1;
    where.column = chosen->Mark().column + 1;
  }
  return where;
}

// A ${{...}} expression of a pipeline.
struct Reference {
  enum class Kind { parent_input, parent_output, step_output };
  Kind kind = Kind::parent_input;
  std::string step, name;
};

// nullopt when `text` holds no ${{; a reference, or `error` set when the
// text holds one that is not a whole, known reference.
std::optional<Reference> parse_reference(std::string_view raw, std::string& error) {
  const std::string_view text = trim(raw);
  if (text.find("${{") == std::string_view::npos) return std::nullopt;
  if (!text.starts_with("${{") || !text.ends_with("}}") || text.size() < 5 ||
      text.find("${{", 3) != std::string_view::npos ||
      text.substr(3, text.size() - 5).find("}}") != std::string_view::npos) {
    error = fmt::format("a reference must be the whole value, found '{}'", text);
    return std::nullopt;
  }
  std::vector<std::string> parts;
  const std::string_view inner = text.substr(3, text.size() - 5);
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = inner.find('.', start);
    parts.emplace_back(trim(inner.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start)));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  const bool no_empty = std::none_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); });
  if (no_empty && parts.size() == 3 && parts[0] == "parent" && parts[1] == "inputs") {
    return Reference{Reference::Kind::parent_input, {}, parts[2]};
  }
  if (no_empty && parts.size() == 3 && parts[0] == "parent" && parts[1] == "outputs") {
    return Reference{Reference::Kind::parent_output, {}, parts[2]};
  }
  if (no_empty && parts.size() == 5 && parts[0] == "parent" && parts[1] == "jobs" && parts[3] == "outputs") {
    return Reference{Reference::Kind::step_output, parts[2], parts[4]};
  }
  error = fmt::format("'{}' is not a reference mlctl understands", text);
  return std::nullopt;
}

// Writes a node so that quoted text stays text when read again (yaml-cpp's
// emitter would write '20' as 20, a number).
void emit(YAML::Emitter& out, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!") {
        out << YAML::DoubleQuoted << node.Scalar();
      } else {
        out << node.Scalar();
      }
      break;
    case YAML::NodeType::Sequence:
      if (node.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const YAML::Node& item : node) emit(out, item);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Map:
      if (node.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& entry : node) {
        out << YAML::Key;
        emit(out, entry.first);
        out << YAML::Value;
        emit(out, entry.second);
      }
      out << YAML::EndMap;
      break;
    default:
      out << YAML::Null;
      break;
  }
}

struct Entry {
  std::string name;
  YAML::Node key;
  YAML::Node value;
};

struct Problem {
  ErrorKind kind;
  std::string message;
};

struct ComponentInput {
  std::string name;
  ValueType type = ValueType::string;
  std::optional<std::string> default_value;
  Location default_where;
  bool optional = false;
};

// A command component file, read for one step.
struct Component {
  fs::path file;
  std::string source;  // for messages: the path as the pipeline names it
  std::vector<ComponentInput> inputs;
  std::map<std::string, ValueType> outputs;
  std::vector<std::string> output_order;
  std::vector<Entry> body;  // command, code, ... in file order
  std::optional<bool> is_deterministic;

  const ComponentInput* find_input(std::string_view name) const {
    for (const auto& input : inputs) {
      if (input.name == name) return &input;
    }
    return nullptr;
  }
  std::vector<std::string> input_names() const {
    std::vector<std::string> names;
    for (const auto& input : inputs) names.push_back(input.name);
    return names;
  }
};

// What the checks after the first pass need to know of a step, beside
// its StepSpec.
struct StepNotes {
  std::vector<std::string> input_order;       // the step's bindings, in file order
  std::map<std::string, ValueType> expected;  // declared type of a bound input
  std::vector<std::pair<std::string, Location>> needs;
  const StepTypeInfo* type = nullptr;
};

class PipelineParser {
 public:
  PipelineParser(std::string_view source, const fs::path& base_dir, const std::vector<StepTypeInfo>& types)
      : m_source(source), m_base_dir(absolute_base(base_dir)), m_types(types) {
    m_spec.source = m_source;
    m_spec.base_dir = m_base_dir;
  }

  PipelineSpec parse(const YAML::Node& root) {
    if (is_absent(root)) {
      throw Error(ErrorKind::invalid_argument,
                  fmt::format("{}: the pipeline is empty; expected a map with at least 'jobs'", m_source));
    }
    if (!root.IsMap()) {
      throw Error(ErrorKind::invalid_argument, fmt::format("{}: expected a map of pipeline fields, found {}",
                                                           yaml_location(m_source, root.Mark()), describe(root)));
    }
    bool has_jobs = false;
    for (const Entry& entry : entries(m_source, root, "", "key")) {
      if (entry.name == "jobs") has_jobs = true;
      read_field(entry);
    }
    if (!has_jobs) {
      add(fmt::format("{}: missing required key 'jobs'; expected a map of step names to steps", m_source));
    }
    check_references();
    check_outputs();
    check_cycles();
    if (!m_problems.empty()) {
      std::vector<std::string> lines;
      for (const Problem& problem : m_problems) lines.push_back(problem.message);
      throw Error(m_problems.front().kind, join(lines, "\n"));
    }
    return std::move(m_spec);
  }

 private:
  // ----- reporting -----

  void add(std::string message, ErrorKind kind = ErrorKind::invalid_argument) {
    m_problems.push_back({kind, std::move(message)});
  }

  void problem(const Location& where, std::string_view what) { add(fmt::format("{}: {}", where.to_string(), what)); }

  void problem(const std::string& source, const YAML::Node& node, std::string_view what,
               const YAML::Node& fallback = YAML::Node()) {
    problem(locate(source, node, fallback), what);
  }

  void notice(const std::string& source, const YAML::Node& key, std::string_view field) {
    m_spec.notices.push_back(
        fmt::format("{}: '{}' is ignored when running locally", locate(source, key).to_string(), field));
  }

  // The entries of a map, without duplicates or non-scalar keys (each
  // reported). `context` prefixes messages ("jobs.train.inputs: ").
  std::vector<Entry> entries(const std::string& source, const YAML::Node& map, std::string_view context,
                             std::string_view what) {
    std::vector<Entry> result;
    for (const auto& pair : map) {
      const YAML::Node& key = pair.first;
      if (!key.IsScalar()) {
        problem(source, key, fmt::format("{}expected a name as key, found {}", context, describe(key)));
        continue;
      }
      const auto first =
          std::find_if(result.begin(), result.end(), [&](const Entry& e) { return e.name == key.Scalar(); });
      if (first != result.end()) {
        const YAML::Mark mark = first->key.Mark();
        problem(source, key,
                fmt::format("{}duplicate {} '{}'{}", context, what, key.Scalar(),
                            mark.is_null() ? std::string() : fmt::format(" (first given at line {})", mark.line + 1)));
        continue;
      }
      result.push_back({key.Scalar(), pair.first, pair.second});
    }
    return result;
  }

  // A scalar's text, "" for null; reports anything else.
  std::optional<std::string> text(const std::string& source, const Entry& entry, std::string_view field) {
    if (is_absent(entry.value)) return std::string();
    if (!entry.value.IsScalar()) {
      problem(source, entry.value, fmt::format("'{}' must be a string, found {}", field, describe(entry.value)),
              entry.key);
      return std::nullopt;
    }
    return entry.value.Scalar();
  }

  std::optional<bool> boolean(const std::string& source, const Entry& entry, std::string_view field) {
    const std::string value = entry.value.IsScalar() ? entry.value.Scalar() : std::string();
    if (auto parsed = boolean_value(value)) return parsed;
    problem(source, entry.value, fmt::format("{}: expected true or false, got {}", field, describe(entry.value)),
            entry.key);
    return std::nullopt;
  }

  std::optional<ValueType> value_type(const std::string& source, const Entry& entry, std::string_view context,
                                      const std::vector<std::string>& choices) {
    const auto name = text(source, entry, fmt::format("{}.type", context));
    if (!name) return std::nullopt;
    if (contains(choices, *name)) return value_type_named(*name);
    const std::string hint = did_you_mean_hint(*name, choices);
    problem(source, entry.value,
            hint.empty() ? fmt::format("{}: unknown type '{}'; expected one of {}", context, *name, join(choices))
                         : fmt::format("{}: unknown type '{}'{}", context, *name, hint),
            entry.key);
    return std::nullopt;
  }

  // ----- top level -----

  void read_field(const Entry& entry) {
    const std::string& name = entry.name;
    if (name == "$schema") return;
    if (name == "type") {
      const auto type = text(m_source, entry, "type");
      if (type && !type->empty() && *type != "pipeline") {
        problem(m_source, entry.value, fmt::format("expected type 'pipeline', found '{}'", *type), entry.key);
      }
      return;
    }
    if (name == "name") {
      text(m_source, entry, "name");
      return;
    }
    if (name == "display_name") return read_string(entry, m_spec.display_name);
    if (name == "description") return read_string(entry, m_spec.description);
    if (name == "experiment_name") return read_string(entry, m_spec.experiment_name);
    if (name == "tags") return read_tags(entry);
    if (name == "inputs") return read_inputs(entry);
    if (name == "outputs") return read_outputs(entry);
    if (name == "settings") return read_settings(entry);
    if (name == "jobs") return read_jobs(entry);
    if (contains(k_cloud_only_top, name)) return notice(m_source, entry.key, name);
    problem(m_source, entry.key,
            fmt::format("unknown key '{}' in a pipeline job{}", name,
                        did_you_mean_hint(name, concat(k_top_keys, k_cloud_only_top))));
  }

  void read_string(const Entry& entry, std::string& target) {
    if (auto value = text(m_source, entry, entry.name)) target = std::move(*value);
  }

  void read_tags(const Entry& entry) {
    if (is_absent(entry.value)) return;
    if (!entry.value.IsMap()) {
      problem(m_source, entry.value,
              fmt::format("'tags' must be a map of names to values, found {}", describe(entry.value)), entry.key);
      return;
    }
    for (const Entry& tag : entries(m_source, entry.value, "tags: ", "tag")) {
      if (auto value = text(m_source, tag, fmt::format("tags.{}", tag.name))) m_spec.tags[tag.name] = *value;
    }
  }

  // ----- pipeline inputs -----

  void read_inputs(const Entry& entry) {
    if (is_absent(entry.value)) return;
    if (!entry.value.IsMap()) {
      problem(m_source, entry.value,
              fmt::format("'inputs' must be a map of input names to values, found {}", describe(entry.value)),
              entry.key);
      return;
    }
    for (const Entry& input : entries(m_source, entry.value, "", "input")) {
      if (!is_identifier(input.name)) {
        problem(m_source, input.key,
                fmt::format("input name '{}' is not valid; use letters, digits and '_', not starting with a digit",
                            input.name));
        continue;
      }
      read_input(input);
    }
  }

  void read_input(const Entry& input) {
    PipelineInput result;
    result.name = input.name;
    result.where = locate(m_source, input.key);
    const std::string context = fmt::format("inputs.{}", input.name);
    const YAML::Node& value = input.value;
    std::optional<Entry> given;  // the value's entry: the input itself, its default or its path
    bool ok = true;
    bool has_path = false;
    if (is_absent(value)) {
      // reported below as having no value
    } else if (value.IsScalar()) {
      result.type = literal_type(value);
      given = input;
    } else if (value.IsMap()) {
      std::optional<ValueType> declared;
      std::optional<Entry> path, default_value;
      for (const Entry& field : entries(m_source, value, context + ": ", "key")) {
        if (field.name == "type") {
          declared = value_type(m_source, field, context, k_value_types);
          if (!declared) ok = false;
        } else if (field.name == "default" || field.name == "path") {
          if (!is_absent(field.value) && !field.value.IsScalar()) {
            problem(
                m_source, field.value,
                fmt::format("{}.{}: expected a literal value, found {}", context, field.name, describe(field.value)),
                field.key);
            ok = false;
          } else if (!is_absent(field.value)) {
            (field.name == "path" ? path : default_value) = field;
          }
        } else if (field.name == "description" || field.name == "mode") {
          if (auto description = text(m_source, field, fmt::format("{}.{}", context, field.name));
              description && field.name == "description") {
            result.description = *description;
          }
        } else if (field.name == "optional") {
          if (auto optional = boolean(m_source, field, context + ".optional")) result.optional = *optional;
        } else {
          problem(
              m_source, field.key,
              fmt::format("{}: unknown key '{}'{}", context, field.name, did_you_mean_hint(field.name, k_input_keys)));
        }
      }
      if (path && default_value) {
        problem(m_source, path->key, fmt::format("{}: give either 'path' or 'default', not both", context));
        ok = false;
      }
      given = path ? path : default_value;
      has_path = path.has_value();
      if (declared) {
        result.type = *declared;
      } else if (path) {
        result.type = ValueType::uri_folder;  // az's default for a path
      } else if (default_value) {
        result.type = literal_type(default_value->value);
      }
      if (declared && path && !is_path_type(*declared)) {
        problem(m_source, path->key,
                fmt::format("{}: a {} input takes a 'default', not a 'path'", context, to_string(*declared)));
        ok = false;
      }
    } else {
      problem(m_source, value,
              fmt::format("{}: expected a literal or a map such as {{type: uri_file, path: data.csv}}, found {}",
                          context, describe(value)),
              input.key);
      ok = false;
    }
    if (given && ok) {
      const std::string& raw = given->value.Scalar();
      if (auto expected = literal_mismatch(result.type, raw)) {
        problem(m_source, given->value, fmt::format("{}: expected {}, got '{}'", context, *expected, raw), given->key);
      } else if (result.type == ValueType::boolean) {
        result.default_value = *boolean_value(raw) ? "true" : "false";
      } else if (result.type == ValueType::uri_file || result.type == ValueType::uri_folder) {
        result.default_value = resolve_path_value(raw, m_base_dir);
      } else {
        result.default_value = raw;
      }
    } else if (!given && ok && !result.optional) {
      problem(result.where,
              fmt::format("{}: no value; give a {}, mark it 'optional: true' or set it with --set {}=VALUE", context,
                          is_path_type(result.type) && !has_path ? "'path'" : "'default'", input.name));
    }
    m_spec.inputs.push_back(std::move(result));
  }

  // ----- pipeline outputs -----

  void read_outputs(const Entry& entry) {
    if (is_absent(entry.value)) return;
    if (!entry.value.IsMap()) {
      problem(m_source, entry.value,
              fmt::format("'outputs' must be a map of output names to outputs, found {}", describe(entry.value)),
              entry.key);
      return;
    }
    for (const Entry& output : entries(m_source, entry.value, "", "output")) {
      if (!is_identifier(output.name)) {
        problem(m_source, output.key,
                fmt::format("output name '{}' is not valid; use letters, digits and '_', not starting with a digit",
                            output.name));
        continue;
      }
      PipelineOutput result;
      result.name = output.name;
      result.where = locate(m_source, output.key);
      const std::string context = fmt::format("outputs.{}", output.name);
      if (is_absent(output.value)) {
        // declared: a step binds to it
      } else if (output.value.IsScalar()) {
        std::string error;
        const auto reference = parse_reference(output.value.Scalar(), error);
        if (reference && reference->kind == Reference::Kind::step_output) {
          result.step = reference->step;
          result.step_output = reference->name;
          m_output_refs[output.name] = locate(m_source, output.value, output.key);
        } else {
          problem(m_source, output.value,
                  fmt::format("{}: expected ${{{{parent.jobs.STEP.outputs.NAME}}}} or a map such as "
                              "{{type: uri_folder}}, got '{}'",
                              context, output.value.Scalar()),
                  output.key);
        }
      } else if (output.value.IsMap()) {
        if (auto type = read_output_map(m_source, output, context)) result.type = *type;
      } else {
        problem(m_source, output.value,
                fmt::format("{}: expected ${{{{parent.jobs.STEP.outputs.NAME}}}} or a map such as "
                            "{{type: uri_folder}}, found {}",
                            context, describe(output.value)),
                output.key);
      }
      m_spec.outputs.push_back(std::move(result));
    }
  }

  // The type of an output written as a map {type: ..., ...}.
  std::optional<ValueType> read_output_map(const std::string& source, const Entry& output, const std::string& context) {
    std::optional<ValueType> type;
    for (const Entry& field : entries(source, output.value, context + ": ", "key")) {
      if (field.name == "type") {
        type = value_type(source, field, context, k_output_types);
      } else if (field.name == "description" || field.name == "mode") {
        text(source, field, fmt::format("{}.{}", context, field.name));
      } else if (contains(k_cloud_only_output_keys, field.name)) {
        notice(source, field.key, fmt::format("{}.{}", context, field.name));
      } else {
        problem(
            source, field.key,
            fmt::format("{}: unknown key '{}'{}", context, field.name, did_you_mean_hint(field.name, k_output_keys)));
      }
    }
    return type;
  }

  // ----- settings -----

  void read_settings(const Entry& entry) {
    if (is_absent(entry.value)) return;
    if (!entry.value.IsMap()) {
      problem(m_source, entry.value,
              fmt::format("'settings' must be a map such as {{continue_on_step_failure: true}}, found {}",
                          describe(entry.value)),
              entry.key);
      return;
    }
    for (const Entry& field : entries(m_source, entry.value, "settings: ", "key")) {
      if (field.name == "continue_on_step_failure") {
        if (auto value = boolean(m_source, field, "settings.continue_on_step_failure")) {
          m_spec.settings.continue_on_step_failure = *value;
        }
      } else if (field.name == "force_rerun") {
        if (auto value = boolean(m_source, field, "settings.force_rerun")) m_spec.settings.force_rerun = *value;
      } else if (field.name == "default_compute") {
        notice(m_source, field.key, "settings.default_compute");
      } else {
        problem(m_source, field.key,
                fmt::format("unknown key '{}' in 'settings'{}", field.name,
                            did_you_mean_hint(field.name, k_settings_keys)));
      }
    }
  }

  // ----- steps -----

  void read_jobs(const Entry& entry) {
    if (is_absent(entry.value) || (entry.value.IsMap() && entry.value.size() == 0)) {
      problem(m_source, entry.key, "'jobs' is empty; expected at least one step");
      return;
    }
    if (!entry.value.IsMap()) {
      problem(m_source, entry.value,
              fmt::format("'jobs' must be a map of step names to steps, found {}", describe(entry.value)), entry.key);
      return;
    }
    for (const Entry& job : entries(m_source, entry.value, "", "step")) read_step(job);
  }

  const StepTypeInfo* find_type(std::string_view name) const {
    for (const auto& type : m_types) {
      if (type.name == name) return &type;
    }
    return nullptr;
  }

  std::vector<std::string> type_names() const {
    std::vector<std::string> names;
    for (const auto& type : m_types) names.push_back(type.name);
    return names;
  }

  void read_step(const Entry& job) {
    StepSpec step;
    StepNotes notes;
    step.name = job.name;
    step.where = locate(m_source, job.key);
    step.base_dir = m_base_dir;
    const std::string context = fmt::format("jobs.{}", job.name);
    if (!is_step_name(job.name)) {
      problem(step.where, fmt::format("step name '{}' is not valid; use letters, digits, '_' and '-', not "
                                      "starting with a digit or '-'",
                                      job.name));
    }
    if (is_absent(job.value) || !job.value.IsMap()) {
      problem(m_source, job.value,
              fmt::format("{}: expected a map of step fields such as {{type: command, command: ...}}, found {}",
                          context, describe(job.value)),
              job.key);
      add_step(std::move(step), std::move(notes));
      return;
    }
    const std::vector<Entry> fields = entries(m_source, job.value, context + ": ", "key");
    auto field_named = [&](std::string_view name) -> const Entry* {
      for (const Entry& field : fields) {
        if (field.name == name) return &field;
      }
      return nullptr;
    };

    bool type_known = true;
    if (const Entry* type = field_named("type")) {
      if (auto name = text(m_source, *type, context + ".type")) {
        if (!name->empty()) step.type = *name;
      } else {
        type_known = false;
      }
      if (type_known && !find_type(step.type)) {
        const std::string hint = did_you_mean_hint(step.type, type_names());
        problem(m_source, type->value,
                hint.empty() ? fmt::format("unknown step type '{}'; expected one of {}", step.type, join(type_names()))
                             : fmt::format("unknown step type '{}'{}", step.type, hint),
                type->key);
        type_known = false;
      }
    } else if (!find_type(step.type)) {
      problem(step.where,
              fmt::format("{}: the step has no 'type' and mlctl has no '{}' step type", context, step.type));
      type_known = false;
    }
    notes.type = type_known ? find_type(step.type) : nullptr;

    std::optional<Component> component;
    if (const Entry* field = field_named("component")) {
      if (type_known && step.type != "command") {
        problem(m_source, field->key,
                fmt::format("{}: 'component' applies only to command steps, not to a {} step", context, step.type));
      } else if (auto path = text(m_source, *field, context + ".component")) {
        component = read_component(*field, *path, context);
        if (component) step.component_file = component->file;
      }
    }

    // The body: the component's fields, then the step's over them.
    std::vector<std::pair<std::string, YAML::Node>> body;
    auto set_body = [&](const std::string& key, YAML::Node value) {
      for (auto& [name, existing] : body) {
        if (name != key) continue;
        if (key == "environment_variables" && existing.IsMap() && value.IsMap()) {
          for (const auto& variable : value) existing[variable.first.Scalar()] = YAML::Clone(variable.second);
        } else {
          existing = YAML::Clone(value);
        }
        return;
      }
      body.emplace_back(key, YAML::Clone(value));
    };
    if (component) {
      for (const Entry& field : component->body) {
        if (notes.type != nullptr && !contains(notes.type->body_keys, field.name) && field.name != "display_name" &&
            field.name != "description") {
          continue;
        }
        if (field.name == "code" && field.value.IsScalar()) {
          // Relative to the component's file, not to the pipeline.
          set_body("code", YAML::Node(resolve_path_value(field.value.Scalar(), component->file.parent_path())));
        } else {
          set_body(field.name, field.value);
        }
      }
      if (component->is_deterministic == false) step.reuse = false;
    }

    const YAML::Node* inputs_node = nullptr;
    const Entry* inputs_entry = nullptr;
    for (const Entry& field : fields) {
      const std::string& name = field.name;
      const std::string field_context = fmt::format("{}.{}", context, name);
      if (name == "type" || name == "component") continue;
      if (name == "inputs") {
        inputs_entry = &field;
        inputs_node = &field.value;
      } else if (name == "outputs") {
        // read below, once the component's outputs are known
      } else if (name == "needs") {
        read_needs(field, field_context, notes);
      } else if (name == "retries") {
        const std::string value = field.value.IsScalar() ? field.value.Scalar() : std::string();
        if (is_integer_text(value) && value.front() != '-' && value.size() <= 9) {
          step.retries = std::stoi(value);
        } else {
          problem(
              m_source, field.value,
              fmt::format("{}: expected a whole number of at least 0, got {}", field_context, describe(field.value)),
              field.key);
        }
      } else if (name == "timeout") {
        const auto value = number_value(field.value.IsScalar() ? field.value.Scalar() : std::string());
        if (value && *value > 0) {
          step.timeout_seconds = *value;
        } else {
          problem(
              m_source, field.value,
              fmt::format("{}: expected a positive number of seconds, got {}", field_context, describe(field.value)),
              field.key);
        }
      } else if (name == "reuse") {
        if (auto value = boolean(m_source, field, field_context)) step.reuse = *value;
      } else if (name == "condition") {
        read_condition(field, field_context, step);
      } else if (name == "display_name" || name == "description") {
        if (text(m_source, field, field_context)) set_body(name, field.value);
      } else if (notes.type != nullptr && contains(notes.type->body_keys, name)) {
        // A type's own key first: a deploy step's `environment` is not the
        // cloud-only command-job field of that name.
        set_body(name, field.value);
      } else if (contains(tracking::cloud_only_command_fields(), name)) {
        notice(m_source, field.key, field_context);
      } else if (notes.type == nullptr) {
        set_body(name, field.value);  // the unknown type is reported; its keys cannot be checked
      } else if (contains(notes.type->body_keys, name)) {
        set_body(name, field.value);
      } else {
        const std::vector<std::string> known =
            concat(concat(k_common_step_keys, notes.type->body_keys), tracking::cloud_only_command_fields());
        problem(m_source, field.key,
                fmt::format("unknown key '{}' for a {} step{}", name, step.type, did_you_mean_hint(name, known)));
      }
    }
    read_step_inputs(inputs_entry, inputs_node, context, component ? &*component : nullptr, step, notes);
    if (const Entry* outputs = field_named("outputs")) {
      read_step_outputs(*outputs, context, component ? &*component : nullptr, step, notes);
    } else if (component) {
      for (const auto& [name, type] : component->outputs) step.outputs[name] = StepOutput{name, type, {}, {}};
    }

    YAML::Emitter out;
    out << YAML::BeginMap;
    for (const auto& [key, value] : body) {
      out << YAML::Key << key << YAML::Value;
      emit(out, value);
    }
    out << YAML::EndMap;
    step.body_yaml = out.c_str();
    add_step(std::move(step), std::move(notes));
  }

  void add_step(StepSpec step, StepNotes notes) {
    m_spec.steps.push_back(std::move(step));
    m_notes.push_back(std::move(notes));
  }

  void read_needs(const Entry& field, const std::string& context, StepNotes& notes) {
    if (is_absent(field.value)) return;
    if (!field.value.IsSequence()) {
      problem(m_source, field.value,
              fmt::format("{}: expected a list of step names, found {}", context, describe(field.value)), field.key);
      return;
    }
    for (const YAML::Node& item : field.value) {
      if (!item.IsScalar() || item.Scalar().empty()) {
        problem(m_source, item, fmt::format("{}: expected a step name, found {}", context, describe(item)), field.key);
        continue;
      }
      notes.needs.emplace_back(item.Scalar(), locate(m_source, item, field.key));
    }
  }

  void read_condition(const Entry& field, const std::string& context, StepSpec& step) {
    const std::string value = field.value.IsScalar() ? field.value.Scalar() : std::string();
    Binding binding;
    binding.where = locate(m_source, field.value, field.key);
    std::string error;
    if (auto flag = boolean_value(value)) {
      binding.literal = *flag ? "true" : "false";
      step.condition = binding;
      return;
    }
    const auto reference = parse_reference(value, error);
    if (reference && reference->kind == Reference::Kind::step_output) {
      binding.kind = Binding::Kind::step_output;
      binding.step = reference->step;
      binding.name = reference->name;
      step.condition = binding;
    } else if (reference && reference->kind == Reference::Kind::parent_input) {
      binding.kind = Binding::Kind::parent_input;
      binding.name = reference->name;
      step.condition = binding;
    } else {
      problem(binding.where, fmt::format("{}: expected ${{{{parent.jobs.STEP.outputs.NAME}}}}, true or false, got {}",
                                         context, describe(field.value)));
    }
  }

  // A step input's value: a literal or a reference. `type` is the input's
  // declared type, for paths to resolve.
  std::optional<Binding> read_binding(const YAML::Node& node, const YAML::Node& key, const std::string& context,
                                      std::optional<ValueType> type) {
    Binding binding;
    binding.where = locate(m_source, node, key);
    std::string error;
    const auto reference = parse_reference(node.Scalar(), error);
    if (!error.empty()) {
      problem(binding.where, fmt::format("{}: {}; expected {}", context, error, k_reference_forms));
      return std::nullopt;
    }
    if (!reference) {
      binding.literal = node.Scalar();
      if (type == ValueType::uri_file || type == ValueType::uri_folder) {
        binding.literal = resolve_path_value(binding.literal, m_base_dir);
      }
      return binding;
    }
    if (reference->kind == Reference::Kind::parent_output) {
      problem(binding.where,
              fmt::format("{}: an input cannot read a pipeline output; expected {}", context, k_reference_forms));
      return std::nullopt;
    }
    binding.kind =
        reference->kind == Reference::Kind::parent_input ? Binding::Kind::parent_input : Binding::Kind::step_output;
    binding.name = reference->name;
    binding.step = reference->step;
    return binding;
  }

  void read_step_inputs(const Entry* entry, const YAML::Node* node, const std::string& step_context,
                        const Component* component, StepSpec& step, StepNotes& notes) {
    if (node != nullptr && !is_absent(*node) && !node->IsMap()) {
      problem(
          m_source, *node,
          fmt::format("{}.inputs: expected a map of input names to values, found {}", step_context, describe(*node)),
          entry->key);
    } else if (node != nullptr && !is_absent(*node)) {
      for (const Entry& input : entries(m_source, *node, step_context + ".inputs: ", "input")) {
        const std::string context = fmt::format("{}.inputs.{}", step_context, input.name);
        // Other step types bind inputs to fields of their body by a dotted
        // path (`data.train`); a command refers to them as ${{inputs.NAME}}.
        const bool dotted = step.type != "command" && is_dotted_path(input.name);
        if (!is_identifier(input.name) && !dotted) {
          problem(m_source, input.key,
                  fmt::format("input name '{}' is not valid; use letters, digits and '_', not starting with a digit{}",
                              input.name, step.type == "command" ? "" : " (or a dotted path such as data.train)"));
          continue;
        }
        std::optional<ValueType> type;
        if (component) {
          const ComponentInput* declared = component->find_input(input.name);
          if (!declared) {
            problem(m_source, input.key,
                    fmt::format("{}: the component declares no input '{}'{}", context, input.name,
                                did_you_mean_hint(input.name, component->input_names())));
            continue;
          }
          type = declared->type;
        }
        std::optional<Binding> binding;
        if (is_absent(input.value)) {
          problem(m_source, input.key, fmt::format("{}: no value; expected a literal, {}", context, k_reference_forms));
        } else if (input.value.IsScalar()) {
          binding = read_binding(input.value, input.key, context, type);
        } else if (input.value.IsMap()) {
          binding = read_input_map(input, context, type);
          if (binding && !type) type = m_map_type;
        } else {
          problem(
              m_source, input.value,
              fmt::format("{}: expected a literal, {}, found {}", context, k_reference_forms, describe(input.value)),
              input.key);
        }
        if (!binding) continue;
        if (type) notes.expected[input.name] = *type;
        notes.input_order.push_back(input.name);
        step.inputs[input.name] = std::move(*binding);
      }
    }
    if (!component) return;
    for (const ComponentInput& declared : component->inputs) {
      if (step.inputs.count(declared.name)) continue;
      if (declared.default_value) {
        Binding binding;
        binding.literal = *declared.default_value;
        binding.where = declared.default_where;
        step.inputs[declared.name] = binding;
      } else if (!declared.optional) {
        problem(step.where, fmt::format("{}: missing required input '{}'", step_context, declared.name));
      }
    }
  }

  // The az form {type: uri_file, path: data.csv} or {type: integer, value: 3}.
  std::optional<Binding> read_input_map(const Entry& input, const std::string& context,
                                        std::optional<ValueType> declared) {
    std::optional<ValueType> type;
    std::optional<Entry> value;
    bool ok = true;
    for (const Entry& field : entries(m_source, input.value, context + ": ", "key")) {
      if (field.name == "type") {
        type = value_type(m_source, field, context, k_value_types);
        ok = type.has_value() && ok;
      } else if (field.name == "path" || field.name == "value") {
        if (value) {
          problem(m_source, field.key, fmt::format("{}: give either 'path' or 'value', not both", context));
          ok = false;
        } else if (is_absent(field.value) || !field.value.IsScalar()) {
          problem(m_source, field.value,
                  fmt::format("{}.{}: expected a literal or a reference, found {}", context, field.name,
                              describe(field.value)),
                  field.key);
          ok = false;
        } else {
          value = field;
        }
      } else if (field.name == "mode" || field.name == "description") {
        ok = text(m_source, field, fmt::format("{}.{}", context, field.name)).has_value() && ok;
      } else {
        problem(m_source, field.key,
                fmt::format("{}: unknown key '{}'{}", context, field.name,
                            did_you_mean_hint(field.name, k_step_input_keys)));
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    if (!value) {
      problem(m_source, input.key, fmt::format("{}: expected 'path' or 'value'", context));
      return std::nullopt;
    }
    if (!type && value->name == "path") type = ValueType::uri_folder;  // az's default
    m_map_type = type;
    return read_binding(value->value, value->key, context, declared ? declared : type);
  }

  void read_step_outputs(const Entry& entry, const std::string& step_context, const Component* component,
                         StepSpec& step, const StepNotes& notes) {
    if (component) {
      for (const auto& [name, type] : component->outputs) step.outputs[name] = StepOutput{name, type, {}, {}};
    }
    if (is_absent(entry.value)) return;
    if (!entry.value.IsMap()) {
      problem(m_source, entry.value,
              fmt::format("{}.outputs: expected a map of output names to outputs, found {}", step_context,
                          describe(entry.value)),
              entry.key);
      return;
    }
    const std::vector<std::string> fixed =
        notes.type != nullptr ? notes.type->fixed_outputs : std::vector<std::string>{};
    for (const Entry& output : entries(m_source, entry.value, step_context + ".outputs: ", "output")) {
      const std::string context = fmt::format("{}.outputs.{}", step_context, output.name);
      if (!is_identifier(output.name)) {
        problem(m_source, output.key,
                fmt::format("output name '{}' is not valid; use letters, digits and '_', not starting with a digit",
                            output.name));
        continue;
      }
      if (component && !component->outputs.count(output.name)) {
        problem(m_source, output.key,
                fmt::format("{}: the component declares no output '{}'{}", context, output.name,
                            did_you_mean_hint(output.name, component->output_order)));
        continue;
      }
      if (!fixed.empty() && !contains(fixed, output.name)) {
        const std::string hint = did_you_mean_hint(output.name, fixed);
        problem(m_source, output.key,
                hint.empty()
                    ? fmt::format("{}: a {} step has no output '{}'; its outputs are {}", context, step.type,
                                  output.name, join(fixed))
                    : fmt::format("{}: a {} step has no output '{}'{}", context, step.type, output.name, hint));
        continue;
      }
      StepOutput result;
      if (auto found = step.outputs.find(output.name); found != step.outputs.end()) result = found->second;
      result.name = output.name;
      result.where = locate(m_source, output.key);
      if (is_absent(output.value)) {
        // a folder, or the component's type
      } else if (output.value.IsScalar()) {
        std::string error;
        const auto reference = parse_reference(output.value.Scalar(), error);
        if (reference && reference->kind == Reference::Kind::parent_output) {
          result.pipeline_output = reference->name;
        } else {
          problem(
              m_source, output.value,
              fmt::format("{}: expected ${{{{parent.outputs.NAME}}}} or a map such as {{type: uri_folder}}, got '{}'",
                          context, output.value.Scalar()),
              output.key);
          continue;
        }
      } else if (output.value.IsMap()) {
        if (auto type = read_output_map(m_source, output, context)) result.type = *type;
      } else {
        problem(m_source, output.value,
                fmt::format("{}: expected ${{{{parent.outputs.NAME}}}} or a map such as {{type: uri_folder}}, found {}",
                            context, describe(output.value)),
                output.key);
        continue;
      }
      step.outputs[output.name] = std::move(result);
    }
  }

  // ----- components -----

  std::optional<Component> read_component(const Entry& field, const std::string& path_text,
                                          const std::string& step_context) {
    if (path_text.empty()) {
      problem(m_source, field.value, fmt::format("{}.component: expected the path of a component file", step_context),
              field.key);
      return std::nullopt;
    }
    if (path_text.starts_with(k_asset_prefix) || is_uri(path_text)) {
      add(fmt::format("{}: {}.component: '{}' is a registered component, which only Azure ML can fetch; give the "
                      "path of a component file",
                      locate(m_source, field.value, field.key).to_string(), step_context, path_text),
          ErrorKind::not_supported);
      return std::nullopt;
    }
    Component component;
    const fs::path written(path_text);
    component.file = normalised(written.is_absolute() ? written : m_base_dir / written);
    component.source = written.is_absolute()
                           ? written.generic_string()
                           : (fs::path(m_source).parent_path() / written).lexically_normal().generic_string();
    std::error_code error;
    if (!fs::is_regular_file(component.file, error)) {
      problem(m_source, field.value,
              fmt::format("{}.component: the file '{}' does not exist", step_context, component.file.string()),
              field.key);
      return std::nullopt;
    }
    YAML::Node root;
    try {
      root = load_yaml(read_file(component.file), component.source);
    } catch (const Error& failure) {
      add(failure.what(), failure.kind());
      return std::nullopt;
    }
    const std::string& source = component.source;
    if (is_absent(root) || !root.IsMap()) {
      problem(source, root, fmt::format("expected a map of command component fields, found {}", describe(root)));
      return std::nullopt;
    }
    const std::size_t problems_before = m_problems.size();
    const fs::path component_dir = component.file.parent_path();
    for (const Entry& entry : entries(source, root, "", "key")) {
      const std::string& name = entry.name;
      if (name == "$schema") continue;
      if (name == "type") {
        const auto type = text(source, entry, "type");
        if (type && !type->empty() && *type != "command") {
          problem(source, entry.value, fmt::format("expected type 'command', found '{}'", *type), entry.key);
        }
      } else if (name == "name" || name == "version") {
        if (!is_absent(entry.value) && !entry.value.IsScalar()) text(source, entry, name);
      } else if (name == "is_deterministic") {
        component.is_deterministic = boolean(source, entry, name);
      } else if (name == "inputs") {
        read_component_inputs(source, entry, component_dir, component);
      } else if (name == "outputs") {
        read_component_outputs(source, entry, component);
      } else if (contains(k_component_body_keys, name)) {
        if (name == "environment_variables" || name == "tags") {
          if (!is_absent(entry.value) && !entry.value.IsMap()) {
            problem(source, entry.value,
                    fmt::format("'{}' must be a map of names to values, found {}", name, describe(entry.value)),
                    entry.key);
            continue;
          }
        } else if (!text(source, entry, name)) {
          continue;
        }
        component.body.push_back(entry);
      } else if (contains(tracking::cloud_only_command_fields(), name)) {
        notice(source, entry.key, name);
      } else {
        problem(source, entry.key,
                fmt::format("unknown key '{}' in a command component{}", name,
                            did_you_mean_hint(name, concat(k_component_keys, tracking::cloud_only_command_fields()))));
      }
    }
    if (m_problems.size() != problems_before) return std::nullopt;
    return component;
  }

  void read_component_inputs(const std::string& source, const Entry& entry, const fs::path& component_dir,
                             Component& component) {
    if (is_absent(entry.value)) return;
    if (!entry.value.IsMap()) {
      problem(source, entry.value,
              fmt::format("'inputs' must be a map of input names to declarations, found {}", describe(entry.value)),
              entry.key);
      return;
    }
    for (const Entry& input : entries(source, entry.value, "", "input")) {
      const std::string context = fmt::format("inputs.{}", input.name);
      if (!is_identifier(input.name)) {
        problem(source, input.key,
                fmt::format("input name '{}' is not valid; use letters, digits and '_', not starting with a digit",
                            input.name));
        continue;
      }
      if (!input.value.IsMap()) {
        problem(source, input.value,
                fmt::format("{}: expected a declaration such as {{type: integer, default: 10}}, found {}", context,
                            describe(input.value)),
                input.key);
        continue;
      }
      ComponentInput declared;
      declared.name = input.name;
      std::optional<ValueType> type;
      std::optional<Entry> default_value;
      bool ok = true;
      for (const Entry& field : entries(source, input.value, context + ": ", "key")) {
        if (field.name == "type") {
          type = value_type(source, field, context, k_value_types);
          ok = type.has_value() && ok;
        } else if (field.name == "default") {
          if (is_absent(field.value)) continue;
          if (!field.value.IsScalar()) {
            problem(source, field.value,
                    fmt::format("{}.default: expected a literal value, found {}", context, describe(field.value)),
                    field.key);
            ok = false;
          } else {
            default_value = field;
          }
        } else if (field.name == "optional") {
          if (auto optional = boolean(source, field, context + ".optional")) declared.optional = *optional;
        } else if (field.name == "description") {
          text(source, field, context + ".description");
        } else {
          problem(source, field.key,
                  fmt::format("{}: unknown key '{}'{}", context, field.name,
                              did_you_mean_hint(field.name, k_component_input_keys)));
        }
      }
      if (!ok) continue;
      declared.type = type ? *type : default_value ? literal_type(default_value->value) : ValueType::string;
      if (default_value) {
        const std::string& raw = default_value->value.Scalar();
        declared.default_where = locate(source, default_value->value, default_value->key);
        if (auto expected = literal_mismatch(declared.type, raw)) {
          problem(declared.default_where, fmt::format("{}.default: expected {}, got '{}'", context, *expected, raw));
          continue;
        }
        declared.default_value = (declared.type == ValueType::uri_file || declared.type == ValueType::uri_folder)
                                     ? resolve_path_value(raw, component_dir)
                                     : raw;
      }
      component.inputs.push_back(std::move(declared));
    }
  }

  void read_component_outputs(const std::string& source, const Entry& entry, Component& component) {
    if (is_absent(entry.value)) return;
    if (!entry.value.IsMap()) {
      problem(source, entry.value,
              fmt::format("'outputs' must be a map of output names to declarations, found {}", describe(entry.value)),
              entry.key);
      return;
    }
    for (const Entry& output : entries(source, entry.value, "", "output")) {
      const std::string context = fmt::format("outputs.{}", output.name);
      if (!is_identifier(output.name)) {
        problem(source, output.key,
                fmt::format("output name '{}' is not valid; use letters, digits and '_', not starting with a digit",
                            output.name));
        continue;
      }
      ValueType type = ValueType::uri_folder;
      if (!is_absent(output.value) && output.value.IsMap()) {
        if (auto declared = read_output_map(source, output, context)) type = *declared;
      } else if (!is_absent(output.value)) {
        problem(source, output.value,
                fmt::format("{}: expected a declaration such as {{type: uri_folder}}, found {}", context,
                            describe(output.value)),
                output.key);
        continue;
      }
      component.outputs[output.name] = type;
      component.output_order.push_back(output.name);
    }
  }

  // ----- checks across the document -----

  std::vector<std::string> step_names() const {
    std::vector<std::string> names;
    for (const auto& step : m_spec.steps) names.push_back(step.name);
    return names;
  }

  std::vector<std::string> input_names() const {
    std::vector<std::string> names;
    for (const auto& input : m_spec.inputs) names.push_back(input.name);
    return names;
  }

  // The outputs a step can be read from: those it declares and those its
  // type always makes.
  std::vector<std::string> outputs_of(std::size_t index) const {
    std::vector<std::string> names;
    for (const auto& [name, output] : m_spec.steps[index].outputs) names.push_back(name);
    if (m_notes[index].type != nullptr) {
      for (const auto& name : m_notes[index].type->fixed_outputs) {
        if (!contains(names, name)) names.push_back(name);
      }
    }
    return names;
  }

  std::optional<std::size_t> step_index(std::string_view name) const {
    for (std::size_t i = 0; i < m_spec.steps.size(); ++i) {
      if (m_spec.steps[i].name == name) return i;
    }
    return std::nullopt;
  }

  // Reports a reference to a missing step or output; `self` is the step
  // that refers, empty for a pipeline output.
  bool check_step_reference(const Location& where, const std::string& context, const std::string& step,
                            const std::string& output, const std::string& self) {
    if (!self.empty() && step == self) {
      problem(where, fmt::format("{}: a step cannot depend on itself", context));
      return false;
    }
    const auto index = step_index(step);
    if (!index) {
      problem(where, fmt::format("{}: no step '{}' in jobs{}", context, step, did_you_mean_hint(step, step_names())));
      return false;
    }
    const std::vector<std::string> outputs = outputs_of(*index);
    if (!contains(outputs, output)) {
      problem(where, outputs.empty() ? fmt::format("{}: step '{}' has no output '{}'; it declares no outputs", context,
                                                   step, output)
                     : did_you_mean_hint(output, outputs).empty()
                         ? fmt::format("{}: step '{}' has no output '{}'; its outputs are {}", context, step, output,
                                       join(outputs))
                         : fmt::format("{}: step '{}' has no output '{}'{}", context, step, output,
                                       did_you_mean_hint(output, outputs)));
      return false;
    }
    return true;
  }

  void check_binding(const std::string& context, const Binding& binding, std::optional<ValueType> expected,
                     const std::string& self) {
    switch (binding.kind) {
      case Binding::Kind::literal:
        if (expected) {
          if (auto phrase = literal_mismatch(*expected, binding.literal)) {
            problem(binding.where, fmt::format("{}: expected {}, got '{}'", context, *phrase, binding.literal));
          }
        }
        break;
      case Binding::Kind::parent_input: {
        const PipelineInput* input = m_spec.find_input(binding.name);
        if (!input) {
          problem(binding.where, fmt::format("{}: the pipeline has no input '{}'{}", context, binding.name,
                                             did_you_mean_hint(binding.name, input_names())));
          break;
        }
        if (!expected) break;
        const bool mismatch = (is_literal_check_type(*expected) && is_path_type(input->type)) ||
                              (is_path_type(*expected) && is_literal_check_type(input->type));
        if (mismatch) {
          problem(binding.where, fmt::format("{}: expected {}, got pipeline input '{}' of type {}", context,
                                             expected_phrase(*expected), input->name, to_string(input->type)));
        }
        break;
      }
      case Binding::Kind::step_output:
        check_step_reference(binding.where, context, binding.step, binding.name, self);
        break;
    }
  }

  void check_references() {
    for (std::size_t i = 0; i < m_spec.steps.size(); ++i) {
      const StepSpec& step = m_spec.steps[i];
      const StepNotes& notes = m_notes[i];
      for (const auto& [name, where] : notes.needs) {
        const std::string context = fmt::format("jobs.{}.needs", step.name);
        if (name == step.name) {
          problem(where, fmt::format("{}: a step cannot depend on itself", context));
        } else if (!step_index(name)) {
          problem(where,
                  fmt::format("{}: no step '{}' in jobs{}", context, name, did_you_mean_hint(name, step_names())));
        } else {
          m_spec.steps[i].needs.push_back(name);
        }
      }
      for (const std::string& name : notes.input_order) {
        const auto expected = notes.expected.find(name);
        check_binding(fmt::format("jobs.{}.inputs.{}", step.name, name), step.inputs.at(name),
                      expected == notes.expected.end() ? std::nullopt : std::optional(expected->second), step.name);
      }
      if (!step.condition) continue;
      const std::string context = fmt::format("jobs.{}.condition", step.name);
      const PipelineInput* input =
          step.condition->kind == Binding::Kind::parent_input ? m_spec.find_input(step.condition->name) : nullptr;
      if (input && input->type != ValueType::boolean) {
        problem(step.condition->where, fmt::format("{}: expected a boolean (true or false), got pipeline input '{}' "
                                                   "of type {}",
                                                   context, input->name, to_string(input->type)));
      } else {
        check_binding(context, *step.condition, ValueType::boolean, step.name);
      }
    }
  }

  void check_outputs() {
    // Which step output each pipeline output is, for the checks below.
    std::map<std::string, std::string> bound_by;
    for (PipelineOutput& output : m_spec.outputs) {
      if (output.step.empty()) continue;
      const std::string context = fmt::format("outputs.{}", output.name);
      const Location where = m_output_refs.count(output.name) ? m_output_refs.at(output.name) : output.where;
      if (!check_step_reference(where, context, output.step, output.step_output, {})) continue;
      const StepSpec& step = *m_spec.find_step(output.step);
      if (auto found = step.outputs.find(output.step_output); found != step.outputs.end()) {
        output.type = found->second.type;
      }
      bound_by[output.name] = fmt::format("jobs.{}.outputs.{}", output.step, output.step_output);
    }
    std::vector<std::string> names;
    for (const auto& output : m_spec.outputs) names.push_back(output.name);
    for (const StepSpec& step : m_spec.steps) {
      for (const auto& [name, output] : step.outputs) {
        if (!output.pipeline_output) continue;
        const std::string context = fmt::format("jobs.{}.outputs.{}", step.name, name);
        const std::string& target = *output.pipeline_output;
        const auto found = std::find_if(m_spec.outputs.begin(), m_spec.outputs.end(),
                                        [&](const PipelineOutput& o) { return o.name == target; });
        if (found == m_spec.outputs.end()) {
          problem(output.where, fmt::format("{}: the pipeline has no output '{}'{}", context, target,
                                            did_you_mean_hint(target, names)));
          continue;
        }
        const auto previous = bound_by.find(target);
        if (previous != bound_by.end() && previous->second != context) {
          problem(output.where,
                  fmt::format("{}: pipeline output '{}' is already {}", context, target, previous->second));
          continue;
        }
        bound_by[target] = context;
      }
    }
    for (const PipelineOutput& output : m_spec.outputs) {
      if (!output.step.empty() || bound_by.count(output.name)) continue;
      problem(output.where,
              fmt::format("outputs.{0}: no step writes it; add '{0}: ${{{{parent.outputs.{0}}}}}' to a step's outputs",
                          output.name));
    }
  }

  // Each cycle once, from its step that comes first in the file, in the
  // order the steps would run: "a -> b" means b reads from a.
  void check_cycles() {
    const std::size_t count = m_spec.steps.size();
    std::vector<std::vector<std::size_t>> consumers(count);
    for (std::size_t i = 0; i < count; ++i) {
      for (const std::string& dependency : m_spec.steps[i].dependencies()) {
        const auto index = step_index(dependency);
        if (index && *index != i) consumers[*index].push_back(i);
      }
    }
    // Tarjan's strongly connected components.
    std::vector<int> order(count, -1), low(count, 0);
    std::vector<bool> on_stack(count, false);
    std::vector<std::size_t> stack;
    std::vector<std::vector<std::size_t>> components;
    int counter = 0;
    std::function<void(std::size_t)> visit = [&](std::size_t v) {
      order[v] = low[v] = counter++;
      stack.push_back(v);
      on_stack[v] = true;
      for (std::size_t w : consumers[v]) {
        if (order[w] < 0) {
          visit(w);
          low[v] = std::min(low[v], low[w]);
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], order[w]);
        }
      }
      if (low[v] == order[v]) {
        std::vector<std::size_t> component;
        std::size_t w = 0;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          component.push_back(w);
        } while (w != v);
        if (component.size() > 1) components.push_back(std::move(component));
      }
    };
    for (std::size_t i = 0; i < count; ++i) {
      if (order[i] < 0) visit(i);
    }
    std::vector<std::vector<std::size_t>> cycles;
    for (const auto& component : components) {
      const std::set<std::size_t> members(component.begin(), component.end());
      const std::size_t start = *members.begin();
      // The shortest way round from `start`, by a breadth-first search.
      std::map<std::size_t, std::size_t> parent;
      std::deque<std::size_t> queue{start};
      std::optional<std::size_t> last;
      while (!queue.empty() && !last) {
        const std::size_t v = queue.front();
        queue.pop_front();
        for (std::size_t w : consumers[v]) {
          if (!members.count(w)) continue;
          if (w == start) {
            last = v;
            break;
          }
          if (w != start && !parent.count(w)) {
            parent[w] = v;
            queue.push_back(w);
          }
        }
      }
      std::vector<std::size_t> cycle;
      for (std::size_t v = *last; v != start; v = parent.at(v)) cycle.push_back(v);
      cycle.push_back(start);
      std::reverse(cycle.begin(), cycle.end());
      cycles.push_back(std::move(cycle));
    }
    std::sort(cycles.begin(), cycles.end());
    for (const auto& cycle : cycles) {
      std::vector<std::string> names;
      for (std::size_t v : cycle) names.push_back(m_spec.steps[v].name);
      names.push_back(m_spec.steps[cycle.front()].name);
      problem(m_spec.steps[cycle.front()].where, fmt::format("jobs form a cycle: {}", join(names, " -> ")));
    }
  }

  std::string m_source;
  fs::path m_base_dir;
  const std::vector<StepTypeInfo>& m_types;
  PipelineSpec m_spec;
  std::vector<StepNotes> m_notes;                 // parallel to m_spec.steps
  std::map<std::string, Location> m_output_refs;  // where a pipeline output's reference is written
  std::optional<ValueType> m_map_type;            // the type the last read_input_map gave
  std::vector<Problem> m_problems;
};

bool is_top_key(std::string_view name) { return contains(k_top_keys, name) || contains(k_cloud_only_top, name); }

// The inputs the document declares, by their key nodes.
std::vector<std::pair<std::string, YAML::Node>> declared_inputs(const YAML::Node& root) {
  std::vector<std::pair<std::string, YAML::Node>> result;
  if (!root.IsMap()) return result;
  const YAML::Node inputs = std::as_const(root)["inputs"];
  if (!inputs.IsDefined() || !inputs.IsMap()) return result;
  for (const auto& entry : inputs) {
    if (entry.first.IsScalar()) result.emplace_back(entry.first.Scalar(), entry.second);
  }
  return result;
}

// `--set NAME=VALUE` of a pipeline input sets its value: the input itself
// when it is a literal, else its `path` or `default`. Relative paths are
// then resolved like the file's own, against the pipeline's directory.
void apply_pipeline_override(YAML::Node& root, const std::string& assignment) {
  const auto equals = assignment.find('=');
  if (equals == std::string::npos) {
    apply_override(root, assignment, "--set");  // throws: no '='
    return;
  }
  const std::string path(trim(std::string_view(assignment).substr(0, equals)));
  const std::string value = assignment.substr(equals + 1);
  const std::string first = path.substr(0, path.find_first_of(".["));
  const auto inputs = declared_inputs(root);
  const auto input =
      std::find_if(inputs.begin(), inputs.end(), [&](const auto& entry) { return entry.first == first; });
  const bool single = first == path;
  if (input != inputs.end() && (single || !is_top_key(first))) {
    if (!single) {
      apply_override(root, "inputs." + path + "=" + value, "--set");
      return;
    }
    const YAML::Node& node = input->second;
    if (node.IsMap()) {
      const YAML::Node type = node["type"];
      const bool is_path = node["path"] || (type && type.IsScalar() && value_type_named(type.Scalar()) &&
                                            is_path_type(*value_type_named(type.Scalar())));
      apply_override(root, fmt::format("inputs.{}.{}={}", first, is_path ? "path" : "default", value), "--set");
    } else {
      apply_override(root, fmt::format("inputs.{}={}", first, value), "--set");
    }
    return;
  }
  if (single && !is_top_key(first)) {
    std::vector<std::string> names;
    for (const auto& entry : inputs) names.push_back(entry.first);
    throw Error(ErrorKind::invalid_argument,
                fmt::format("--set: the pipeline has no input '{}'{}", first, did_you_mean_hint(first, names)));
  }
  apply_override(root, assignment, "--set");
}

}  // namespace

std::string Location::to_string() const {
  if (line == 0) return file;
  return fmt::format("{}:{}:{}", file, line, column);
}

const char* to_string(ValueType type) noexcept {
  switch (type) {
    case ValueType::string:
      return "string";
    case ValueType::number:
      return "number";
    case ValueType::integer:
      return "integer";
    case ValueType::boolean:
      return "boolean";
    case ValueType::uri_file:
      return "uri_file";
    case ValueType::uri_folder:
      return "uri_folder";
    case ValueType::mlflow_model:
      return "mlflow_model";
    case ValueType::custom_model:
      return "custom_model";
  }
  return "?";
}

bool is_path_type(ValueType type) noexcept {
  return type == ValueType::uri_file || type == ValueType::uri_folder || type == ValueType::mlflow_model ||
         type == ValueType::custom_model;
}

std::vector<std::string> StepSpec::dependencies() const {
  std::vector<std::string> result;
  auto add = [&](const std::string& name) {
    if (std::find(result.begin(), result.end(), name) == result.end()) result.push_back(name);
  };
  for (const std::string& name : needs) add(name);
  for (const auto& [name, binding] : inputs) {
    if (binding.kind == Binding::Kind::step_output) add(binding.step);
  }
  if (condition && condition->kind == Binding::Kind::step_output) add(condition->step);
  return result;
}

const StepSpec* PipelineSpec::find_step(std::string_view name) const {
  for (const auto& step : steps) {
    if (step.name == name) return &step;
  }
  return nullptr;
}

const PipelineInput* PipelineSpec::find_input(std::string_view name) const {
  for (const auto& input : inputs) {
    if (input.name == name) return &input;
  }
  return nullptr;
}

PipelineSpec parse_pipeline(std::string_view yaml_text, std::string_view source_name,
                            const std::filesystem::path& base_dir, const std::vector<StepTypeInfo>& types,
                            const std::vector<std::string>& overrides) {
  YAML::Node root = load_yaml(yaml_text, source_name);
  for (const std::string& assignment : overrides) apply_pipeline_override(root, assignment);
  return PipelineParser(source_name, base_dir, types).parse(root);
}

std::vector<std::string> topological_order(const PipelineSpec& spec) {
  std::vector<std::string> order;
  std::vector<bool> placed(spec.steps.size(), false);
  auto is_placed = [&](const std::string& name) {
    return std::find(order.begin(), order.end(), name) != order.end() || !spec.find_step(name);
  };
  while (order.size() < spec.steps.size()) {
    bool progressed = false;
    for (std::size_t i = 0; i < spec.steps.size(); ++i) {
      if (placed[i]) continue;
      const auto dependencies = spec.steps[i].dependencies();
      if (std::all_of(dependencies.begin(), dependencies.end(),
                      [&](const std::string& name) { return name == spec.steps[i].name || is_placed(name); })) {
        order.push_back(spec.steps[i].name);
        placed[i] = true;
        progressed = true;
        break;  // back to the first step in file order: it may be ready now
      }
    }
    if (!progressed) {
      // A cycle: not expected of a valid spec; keep the rest in file order.
      for (std::size_t i = 0; i < spec.steps.size(); ++i) {
        if (!placed[i]) order.push_back(spec.steps[i].name);
      }
      break;
    }
  }
  return order;
}

}  // namespace mlctl::pipeline
