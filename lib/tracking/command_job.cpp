#include <mlctl/tracking/command_job.hpp>

#include <mlctl/core/did_you_mean.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/yaml_overrides.hpp>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>
#include <utility>

namespace mlctl::tracking {
namespace {

namespace fs = std::filesystem;

// Top-level keys of the az command-job schema that mean something locally.
const std::vector<std::string> k_local_fields = {
    "$schema",
    "type",
    "command",
    "code",
    "inputs",
    "outputs",
    "environment_variables",
    "name",
    "experiment_name",
    "display_name",
    "description",
    "tags",
    "properties",
    "limits",
};
// Accepted so that an Azure ML job file runs unchanged, but only the cloud can
// honour them; each one present gives a notice.
const std::vector<std::string> k_cloud_only_fields = {
    "environment", "compute",  "resources",      "distribution",
    "services",    "identity", "queue_settings", "is_deterministic",
};
const std::vector<std::string> k_input_keys = {"type", "path", "mode", "description",
                                               "path_on_compute"};
const std::vector<std::string> k_input_types = {"uri_file",     "uri_folder",   "mltable",
                                                "mlflow_model", "custom_model", "triton_model"};
const std::vector<std::string> k_input_modes = {"ro_mount", "rw_mount",   "download",
                                                "direct",   "eval_mount", "eval_download"};
const std::vector<std::string> k_output_keys = {"type",        "mode", "path",
                                                "description", "name", "version"};
const std::vector<std::string> k_output_types = {"uri_folder", "uri_file", "mltable",
                                                 "mlflow_model", "custom_model"};
const std::vector<std::string> k_output_modes = {"rw_mount", "upload", "direct"};
const std::vector<std::string> k_limits_keys = {"timeout"};

constexpr std::string_view k_asset_prefix = "azureml:";

bool contains(const std::vector<std::string>& list, std::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::string join(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& word : words) {
    if (!text.empty()) text += ", ";
    text += word;
  }
  return text;
}

bool is_asset_word(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

// "NAME:VERSION" for `NAME:VERSION` or `NAME@latest` (the azureml: prefix
// already removed), or nullopt when the text is neither.
std::optional<std::string> parse_asset_reference(std::string_view text) {
  if (const auto at = text.find('@'); at != std::string_view::npos) {
    const std::string_view name = text.substr(0, at);
    if (!is_asset_word(name) || text.substr(at + 1) != "latest") return std::nullopt;
    return fmt::format("{}:latest", name);
  }
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view name = text.substr(0, colon);
  const std::string_view version = text.substr(colon + 1);
  if (!is_asset_word(name) || !is_asset_word(version)) return std::nullopt;
  return std::string(text);
}

bool is_uri(std::string_view text) { return text.find("://") != std::string_view::npos; }

struct Entry {
  std::string name;
  YAML::Node key;
  YAML::Node value;
};

struct Problem {
  ErrorKind kind;
  std::string message;
};

// Reads one job document. Problems are collected, not thrown one at a time,
// so a user fixing a job file sees all of them in one go.
class CommandJobParser {
 public:
  CommandJobParser(std::string_view source_name, const fs::path& base_dir)
      : m_source(source_name), m_base_dir(absolute_base(base_dir)) {
    m_spec.source = m_source;
    m_spec.code_dir = m_base_dir;
  }

  CommandJobSpec parse(const YAML::Node& root) {
    if (is_absent(root)) {
      throw Error(
          ErrorKind::invalid_argument,
          fmt::format("{}: the job is empty; expected a map with at least 'command'", m_source));
    }
    if (!root.IsMap()) {
      throw Error(ErrorKind::invalid_argument,
                  fmt::format("{}: expected a map of job fields, found {}",
                              yaml_location(m_source, root.Mark()), describe(root)));
    }
    bool has_command = false;
    for (const Entry& entry : entries(root, "")) {
      if (entry.name == "command") has_command = true;
      read_field(entry);
    }
    if (!has_command) {
      add_problem(ErrorKind::invalid_argument,
                  fmt::format("{}: missing required key 'command'", m_source));
    }
    if (!m_problems.empty()) {
      std::string message;
      for (const Problem& problem : m_problems) {
        if (!message.empty()) message += '\n';
        message += problem.message;
      }
      throw Error(m_problems.front().kind, message);
    }
    return std::move(m_spec);
  }

 private:
  static fs::path absolute_base(const fs::path& base_dir) {
    std::error_code error;
    fs::path base = fs::absolute(base_dir.empty() ? fs::path(".") : base_dir, error);
    if (error) {
      throw Error(ErrorKind::io,
                  fmt::format("cannot make '{}' absolute: {}", base_dir.string(), error.message()));
    }
    return normalised(base);
  }

  static fs::path normalised(const fs::path& path) {
    fs::path result = path.lexically_normal();
    // "src/" normalises to "/job/src/"; the trailing separator would make two
    // spellings of one directory compare unequal.
    if (!result.has_filename() && result != result.root_path()) result = result.parent_path();
    return result;
  }

  fs::path resolve(std::string_view text) const {
    const fs::path path(text);
    return normalised(path.is_absolute() ? path : m_base_dir / path);
  }

  // Where a value is: its own position, or, for a value set by --set, the
  // position of its key in the file, if that key was there.
  std::string at(const YAML::Node& node, const YAML::Node& fallback = YAML::Node()) const {
    if (node.IsDefined() && !node.Mark().is_null()) return yaml_location(m_source, node.Mark());
    if (fallback.IsDefined()) return yaml_location(m_source, fallback.Mark());
    return m_source;
  }

  void add_problem(ErrorKind kind, std::string message) {
    m_problems.push_back({kind, std::move(message)});
  }

  void problem(const std::string& where, std::string_view what,
               ErrorKind kind = ErrorKind::invalid_argument) {
    add_problem(kind, fmt::format("{}: {}", where, what));
  }

  void notice(const YAML::Node& key, std::string_view field) {
    m_spec.notices.push_back(
        fmt::format("{}: '{}' is ignored when running locally", at(key), field));
  }

  // The entries of a map, without duplicates or non-scalar keys (each reported).
  // `context` names the map in messages ("in input 'data'"), empty at the top.
  std::vector<Entry> entries(const YAML::Node& map, std::string_view context) {
    std::vector<Entry> result;
    for (const auto& pair : map) {
      const YAML::Node& key = pair.first;
      if (!key.IsScalar()) {
        problem(at(key), fmt::format("expected a name as key{}, found {}", context, describe(key)));
        continue;
      }
      const auto first = std::find_if(result.begin(), result.end(),
                                      [&](const Entry& e) { return e.name == key.Scalar(); });
      if (first != result.end()) {
        const YAML::Mark mark = first->key.Mark();
        problem(at(key), fmt::format("duplicate key '{}'{}{}", key.Scalar(), context,
                                     mark.is_null() ? std::string()
                                                    : fmt::format(" (first given at line {})",
                                                                  mark.line + 1)));
        continue;
      }
      result.push_back({key.Scalar(), pair.first, pair.second});
    }
    return result;
  }

  // A scalar's text, "" for null; reports anything else as not a string.
  std::optional<std::string> scalar(const Entry& entry, std::string_view field) {
    if (is_absent(entry.value)) return std::string();
    if (!entry.value.IsScalar()) {
      problem(at(entry.value, entry.key),
              fmt::format("'{}' must be a string, found {}", field, describe(entry.value)));
      return std::nullopt;
    }
    return entry.value.Scalar();
  }

  // A map, or nullopt when the value is null (absent) or not a map (reported).
  std::optional<std::vector<Entry>> map_entries(const Entry& entry, std::string_view field,
                                                std::string_view expected) {
    if (is_absent(entry.value)) return std::nullopt;
    if (!entry.value.IsMap()) {
      problem(at(entry.value, entry.key),
              fmt::format("'{}' must be {}, found {}", field, expected, describe(entry.value)));
      return std::nullopt;
    }
    return entries(entry.value, fmt::format(" in '{}'", field));
  }

  void read_field(const Entry& entry) {
    const std::string& name = entry.name;
    if (name == "$schema") return;  // a URL for editors; never fetched
    if (name == "type") return read_type(entry);
    if (name == "command") return read_command(entry);
    if (name == "code") return read_code(entry);
    if (name == "inputs") return read_inputs(entry);
    if (name == "outputs") return read_outputs(entry);
    if (name == "environment_variables") {
      return read_string_map(entry, m_spec.environment_variables, "environment variable", true);
    }
    if (name == "tags") return read_string_map(entry, m_spec.tags, "tag", false);
    if (name == "properties") return read_string_map(entry, m_spec.properties, "property", false);
    if (name == "limits") return read_limits(entry);
    if (name == "name") return read_string(entry, m_spec.name);
    if (name == "experiment_name") return read_string(entry, m_spec.experiment_name);
    if (name == "display_name") return read_string(entry, m_spec.display_name);
    if (name == "description") return read_string(entry, m_spec.description);
    if (contains(k_cloud_only_fields, name)) return notice(entry.key, name);

    std::vector<std::string> known = k_local_fields;
    known.insert(known.end(), k_cloud_only_fields.begin(), k_cloud_only_fields.end());
    problem(at(entry.key), fmt::format("unknown key '{}'{}", name, did_you_mean_hint(name, known)));
  }

  void read_string(const Entry& entry, std::string& target) {
    if (auto text = scalar(entry, entry.name)) target = std::move(*text);
  }

  void read_type(const Entry& entry) {
    const auto type = scalar(entry, "type");
    if (type && !type->empty() && *type != "command") {
      problem(at(entry.value, entry.key),
              fmt::format("expected type 'command', found '{}'", *type));
    }
  }

  void read_command(const Entry& entry) {
    if (is_absent(entry.value)) {
      problem(at(entry.key), "'command' is empty; expected the shell command to run");
      return;
    }
    const auto command = scalar(entry, "command");
    if (!command) return;
    const std::string_view trimmed = trim(*command);
    if (trimmed.empty()) {
      problem(at(entry.value, entry.key), "'command' is empty; expected the shell command to run");
      return;
    }
    m_spec.command = std::string(trimmed);
  }

  void read_code(const Entry& entry) {
    const auto code = scalar(entry, "code");
    if (!code || code->empty()) return;
    if (code->starts_with(k_asset_prefix) || is_uri(*code)) {
      problem(at(entry.value, entry.key),
              fmt::format("'code' refers to '{}', which only Azure ML can fetch; "
                          "give a local directory",
                          *code),
              ErrorKind::not_supported);
      return;
    }
    m_spec.code_dir = resolve(*code);
  }

  void read_inputs(const Entry& entry) {
    const auto inputs = map_entries(entry, "inputs", "a map of input names to values");
    if (!inputs) return;
    for (const Entry& input : *inputs) {
      if (!is_identifier(input.name)) {
        problem(at(input.key),
                fmt::format("input name '{}' is not valid; use letters, digits and '_', "
                            "not starting with a digit",
                            input.name));
        continue;
      }
      if (auto parsed = read_input(input)) m_spec.inputs.emplace(input.name, std::move(*parsed));
    }
  }

  std::optional<JobInput> read_input(const Entry& input) {
    JobInput result;
    const YAML::Mark mark = input.key.Mark();
    if (!mark.is_null()) {
      result.line = mark.line + 1;
      result.column = mark.column + 1;
    }
    const YAML::Node& value = input.value;
    if (is_absent(value)) {
      problem(at(input.key), fmt::format("input '{}' has no value; give a literal or a map "
                                         "with 'type' and 'path'",
                                         input.name));
      return std::nullopt;
    }
    if (value.IsScalar()) {
      const std::string& text = value.Scalar();
      // Only the azureml: prefix makes a scalar an asset: "12:30" or
      // "a:b" are ordinary literal values, as they are to az.
      if (!text.starts_with(k_asset_prefix)) {
        result.value = text;
        return result;
      }
      if (!read_asset(input, value, text, result)) return std::nullopt;
      return result;
    }
    if (!value.IsMap()) {
      problem(at(value, input.key),
              fmt::format("input '{}' must be a literal value or a map with 'type' and 'path', "
                          "found {}",
                          input.name, describe(value)));
      return std::nullopt;
    }
    return read_input_map(input, std::move(result));
  }

  // Fills `result` with the dataset an azureml: reference names.
  bool read_asset(const Entry& input, const YAML::Node& node, std::string_view text,
                  JobInput& result) {
    if (is_uri(text)) {
      problem(at(node, input.key),
              fmt::format("input '{}' refers to the cloud path '{}', which cannot be read "
                          "locally; give a local path or a registered dataset",
                          input.name, text),
              ErrorKind::not_supported);
      return false;
    }
    const auto reference = parse_asset_reference(text.substr(k_asset_prefix.size()));
    if (!reference) {
      problem(at(node, input.key),
              fmt::format("input '{}' has an invalid dataset reference '{}'; expected "
                          "azureml:NAME:VERSION or azureml:NAME@latest",
                          input.name, text));
      return false;
    }
    result.kind = JobInput::Kind::dataset;
    result.value = *reference;
    return true;
  }

  std::optional<JobInput> read_input_map(const Entry& input, JobInput result) {
    const std::string context = fmt::format(" in input '{}'", input.name);
    std::string type = "uri_folder";  // az's default for a job input
    std::optional<Entry> path;
    bool ok = true;
    for (const Entry& field : entries(input.value, context)) {
      if (field.name == "type") {
        const auto text = scalar(field, "type");
        if (!text) {
          ok = false;
        } else if (!contains(k_input_types, *text)) {
          problem(at(field.value, field.key),
                  unknown_value("input", input.name, "type", *text, k_input_types));
          ok = false;
        } else {
          type = *text;
        }
      } else if (field.name == "path") {
        path = field;
      } else if (field.name == "mode") {
        // Local runs read files in place; the mode is only checked.
        ok = check_choice(field, "input", input.name, k_input_modes) && ok;
      } else if (field.name == "description") {
        ok = scalar(field, "description").has_value() && ok;
      } else if (field.name == "path_on_compute") {
        notice(field.key, fmt::format("inputs.{}.path_on_compute", input.name));
      } else {
        problem(at(field.key), fmt::format("unknown key '{}'{}{}", field.name, context,
                                           did_you_mean_hint(field.name, k_input_keys)));
        ok = false;
      }
    }
    if (!path || is_absent(path->value)) {
      if (ok) {
        problem(at(path ? path->key : input.key),
                fmt::format("input '{}' of type {} needs a 'path'", input.name, type));
      }
      return std::nullopt;
    }
    const auto text = scalar(*path, "path");
    if (!text || !ok) return std::nullopt;

    if (text->starts_with(k_asset_prefix) || is_uri(*text)) {
      if (!read_asset(input, path->value, *text, result)) return std::nullopt;
      return result;
    }
    if (type == "uri_file" || type == "uri_folder") {
      result.kind = type == "uri_file" ? JobInput::Kind::uri_file : JobInput::Kind::uri_folder;
      result.value = resolve(*text).string();
      return result;
    }
    // A table or a model: either a registered asset without its azureml:
    // prefix, or a local folder that holds it.
    if (auto reference = parse_asset_reference(*text)) {
      result.kind = JobInput::Kind::dataset;
      result.value = std::move(*reference);
      return result;
    }
    result.kind = JobInput::Kind::uri_folder;
    result.value = resolve(*text).string();
    return result;
  }

  static std::string unknown_value(std::string_view what, std::string_view name,
                                   std::string_view field, std::string_view value,
                                   const std::vector<std::string>& choices) {
    const std::string hint = did_you_mean_hint(value, choices);
    if (!hint.empty()) {
      return fmt::format("{} '{}' has unknown {} '{}'{}", what, name, field, value, hint);
    }
    return fmt::format("{} '{}' has unknown {} '{}'; expected one of {}", what, name, field, value,
                       join(choices));
  }

  bool check_choice(const Entry& field, std::string_view what, std::string_view name,
                    const std::vector<std::string>& choices) {
    const auto text = scalar(field, field.name);
    if (!text) return false;
    if (contains(choices, *text)) return true;
    problem(at(field.value, field.key), unknown_value(what, name, field.name, *text, choices));
    return false;
  }

  void read_outputs(const Entry& entry) {
    const auto outputs = map_entries(entry, "outputs", "a map of output names to outputs");
    if (!outputs) return;
    for (const Entry& output : *outputs) {
      if (!is_identifier(output.name)) {
        problem(at(output.key),
                fmt::format("output name '{}' is not valid; use letters, digits and '_', "
                            "not starting with a digit",
                            output.name));
        continue;
      }
      if (auto parsed = read_output(output)) {
        m_spec.outputs.emplace(output.name, std::move(*parsed));
      }
    }
  }

  std::optional<JobOutput> read_output(const Entry& output) {
    JobOutput result;
    if (is_absent(output.value)) return result;
    if (!output.value.IsMap()) {
      problem(at(output.value, output.key),
              fmt::format("output '{}' must be a map such as {{type: uri_folder}}, or empty, "
                          "found {}",
                          output.name, describe(output.value)));
      return std::nullopt;
    }
    const std::string context = fmt::format(" in output '{}'", output.name);
    bool ok = true;
    for (const Entry& field : entries(output.value, context)) {
      if (field.name == "type") {
        if (check_choice(field, "output", output.name, k_output_types)) {
          result.type = field.value.Scalar();
        } else {
          ok = false;
        }
      } else if (field.name == "mode") {
        ok = check_choice(field, "output", output.name, k_output_modes) && ok;
      } else if (field.name == "description") {
        ok = scalar(field, "description").has_value() && ok;
      } else if (contains(k_output_keys, field.name)) {
        // A datastore path, or registering the output as an asset: mlctl
        // writes every output under the run's own directory.
        notice(field.key, fmt::format("outputs.{}.{}", output.name, field.name));
      } else {
        problem(at(field.key), fmt::format("unknown key '{}'{}{}", field.name, context,
                                           did_you_mean_hint(field.name, k_output_keys)));
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return result;
  }

  void read_string_map(const Entry& entry, std::map<std::string, std::string>& target,
                       std::string_view what, bool is_environment) {
    const auto values = map_entries(entry, entry.name, "a map of names to values");
    if (!values) return;
    for (const Entry& value : *values) {
      // A name with '=' cannot be put into an environment block.
      if (is_environment && (value.name.empty() || value.name.find('=') != std::string::npos)) {
        problem(at(value.key),
                fmt::format("environment variable name '{}' is not valid", value.name));
        continue;
      }
      if (!is_absent(value.value) && !value.value.IsScalar()) {
        problem(at(value.value, value.key), fmt::format("{} '{}' must be a string, found {}", what,
                                                        value.name, describe(value.value)));
        continue;
      }
      target[value.name] = is_absent(value.value) ? std::string() : value.value.Scalar();
    }
  }

  void read_limits(const Entry& entry) {
    const auto limits = map_entries(entry, "limits", "a map such as {timeout: 3600}");
    if (!limits) return;
    for (const Entry& limit : *limits) {
      if (limit.name != "timeout") {
        problem(at(limit.key), fmt::format("unknown key '{}' in 'limits'{}", limit.name,
                                           did_you_mean_hint(limit.name, k_limits_keys)));
        continue;
      }
      if (is_absent(limit.value)) continue;
      double seconds = 0;
      const std::string text = limit.value.IsScalar() ? limit.value.Scalar() : std::string();
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
      if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
          !std::isfinite(seconds) || seconds <= 0) {
        problem(at(limit.value, limit.key),
                fmt::format("'limits.timeout' must be a positive number of seconds, found {}",
                            describe(limit.value)));
        continue;
      }
      m_spec.timeout_seconds = seconds;
    }
  }

  std::string m_source;
  fs::path m_base_dir;
  CommandJobSpec m_spec;
  std::vector<Problem> m_problems;
};

// ----- command placeholders -----

struct Placeholder {
  std::string text;  // normalised, "${{inputs.lr}}", for messages
  bool is_input = true;
  std::string name;
};

Placeholder parse_placeholder(std::string_view body, std::string_view source_name) {
  const std::string_view content = trim(body);
  Placeholder placeholder;
  placeholder.text = fmt::format("${{{{{}}}}}", content);
  const auto dot = content.find('.');
  const std::string_view space = content.substr(0, dot);
  if (dot == std::string_view::npos || (space != "inputs" && space != "outputs")) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("{}: command refers to {}, which a command job cannot resolve; "
                            "use ${{{{inputs.NAME}}}} or ${{{{outputs.NAME}}}}",
                            source_name, placeholder.text));
  }
  placeholder.is_input = space == "inputs";
  placeholder.name = std::string(trim(content.substr(dot + 1)));
  return placeholder;
}

std::vector<std::string> names_of(const std::map<std::string, std::string>& values) {
  std::vector<std::string> names;
  for (const auto& [name, value] : values) names.push_back(name);
  return names;
}

// Substitutes the placeholders of `text`. In an optional block an unknown
// name makes the whole block vanish (nullopt); elsewhere it is an error.
std::optional<std::string> substitute(std::string_view text,
                                      const std::map<std::string, std::string>& input_values,
                                      const std::map<std::string, std::string>& output_paths,
                                      std::string_view source_name, bool optional) {
  std::string result;
  std::size_t position = 0;
  while (true) {
    const std::size_t open = text.find("${{", position);
    if (open == std::string_view::npos) break;
    result.append(text.substr(position, open - position));
    const std::size_t close = text.find("}}", open + 3);
    if (close == std::string_view::npos) {
      throw Error(ErrorKind::invalid_argument,
                  fmt::format("{}: command has a '${{{{' without its closing '}}}}'", source_name));
    }
    const Placeholder placeholder =
        parse_placeholder(text.substr(open + 3, close - open - 3), source_name);
    const auto& values = placeholder.is_input ? input_values : output_paths;
    const auto found = values.find(placeholder.name);
    if (found == values.end()) {
      if (optional) return std::nullopt;
      throw Error(
          ErrorKind::invalid_argument,
          fmt::format("{}: command refers to {} but the job has no {} '{}'{}", source_name,
                      placeholder.text, placeholder.is_input ? "input" : "output", placeholder.name,
                      did_you_mean_hint(placeholder.name, names_of(values))));
    }
    result.append(found->second);
    position = close + 2;
  }
  result.append(text.substr(position));
  return result;
}

}  // namespace

const std::vector<std::string>& cloud_only_command_fields() { return k_cloud_only_fields; }

bool is_identifier(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string job_type(const YAML::Node& root, std::string_view source_name) {
  if (!root.IsMap()) return "command";
  const YAML::Node type = root["type"];
  if (is_absent(type) || (type.IsScalar() && type.Scalar().empty())) return "command";
  if (!type.IsScalar()) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("{}: 'type' must be a string such as 'command', found {}",
                            yaml_location(source_name, type.Mark()), describe(type)));
  }
  return type.Scalar();
}

CommandJobSpec parse_command_job(std::string_view yaml_text, std::string_view source_name,
                                 const std::filesystem::path& base_dir,
                                 const std::vector<std::string>& overrides) {
  YAML::Node root = load_yaml(yaml_text, source_name);
  for (const std::string& assignment : overrides) apply_override(root, assignment);
  return parse_command_job(root, source_name, base_dir);
}

CommandJobSpec parse_command_job(const YAML::Node& root, std::string_view source_name,
                                 const std::filesystem::path& base_dir) {
  try {
    return CommandJobParser(source_name, base_dir).parse(root);
  } catch (const YAML::Exception& error) {
    // Reading a loaded tree should not throw; translated all the same so
    // that no yaml-cpp type crosses this header.
    throw Error(ErrorKind::parse,
                fmt::format("{}: {}", yaml_location(source_name, error.mark), error.msg));
  }
}

std::string resolve_command(std::string_view command,
                            const std::map<std::string, std::string>& input_values,
                            const std::map<std::string, std::string>& output_paths,
                            std::string_view source_name) {
  std::string result;
  std::size_t position = 0;
  while (true) {
    const std::size_t open = command.find("$[[", position);
    if (open == std::string_view::npos) break;
    result += *substitute(command.substr(position, open - position), input_values, output_paths,
                          source_name, false);
    const std::size_t close = command.find("]]", open + 3);
    if (close == std::string_view::npos) {
      throw Error(ErrorKind::invalid_argument,
                  fmt::format("{}: command has a '$[[' without its closing ']]'", source_name));
    }
    const std::string_view block = command.substr(open + 3, close - open - 3);
    if (block.find("$[[") != std::string_view::npos) {
      throw Error(ErrorKind::invalid_argument,
                  fmt::format("{}: command has a '$[[' inside another; optional blocks "
                              "cannot be nested",
                              source_name));
    }
    if (auto kept = substitute(block, input_values, output_paths, source_name, true)) {
      result += *kept;
    }
    position = close + 2;
  }
  result += *substitute(command.substr(position), input_values, output_paths, source_name, false);
  return result;
}

}  // namespace mlctl::tracking
