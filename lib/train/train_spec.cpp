#include <mlctl/train/train_spec.hpp>

#include <mlctl/core/did_you_mean.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/yaml_overrides.hpp>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace mlctl::train {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> k_top_keys = {
    "$schema",
    "type",
    "task",
    "data",
    "label",
    "features",
    "validation_fraction",
    "test_fraction",
    "model",
    "learning_rate",
    "num_epochs",
    "batch_size",
    "optimizer",
    "momentum",
    "weight_decay",
    "early_stopping",
    "seed",
    "device",
    "threads",
    "experiment_name",
    "display_name",
    "description",
    "tags",
};
const std::vector<std::string> k_data_keys = {"train", "validation", "test"};
// Also the order of model keys in to_json and params.
const std::vector<std::string> k_model_keys = {
    "type",          "hidden_sizes", "dropout",      "activation",  "vocab_size",
    "embedding_dim", "ngrams",       "image_height", "image_width", "channels",
};
const std::vector<std::string> k_early_stopping_keys = {"metric", "patience", "mode"};
const std::vector<std::string> k_tasks = {"classification", "regression"};
// In ModelType order.
const std::vector<std::string> k_model_types = {"linear", "mlp", "text", "cnn"};
const std::vector<std::string> k_activations = {"relu", "tanh", "gelu", "sigmoid"};
const std::vector<std::string> k_optimizers = {"adam", "adamw", "sgd"};
const std::vector<std::string> k_devices = {"auto", "cpu", "cuda"};
const std::vector<std::string> k_modes = {"min", "max"};

constexpr std::string_view k_asset_prefix = "azureml:";
constexpr std::string_view k_data_expected =
    "a registered dataset such as azureml:churn:1 or a CSV path";

bool contains(const std::vector<std::string>& list, std::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

// "a, b or c", the way a sentence lists choices.
std::string join_choices(const std::vector<std::string>& words) {
  std::string text;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) text += i + 1 == words.size() ? " or " : ", ";
    text += words[i];
  }
  return text;
}

std::string join_with_and(const std::vector<std::string>& words) {
  std::string text;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) text += i + 1 == words.size() ? " and " : ", ";
    text += words[i];
  }
  return text;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return node.size() == 0 ? "an empty map" : "a map";
    case YAML::NodeType::Sequence:
      return node.size() == 0 ? "an empty sequence" : "a sequence";
    case YAML::NodeType::Scalar:
      return fmt::format("'{}'", node.Scalar());
    default:
      return "nothing";
  }
}

std::vector<ModelType> model_types_for(std::string_view key) {
  using enum ModelType;
  // The text model and the cnn have a dense head after their features.
  if (key == "hidden_sizes" || key == "dropout" || key == "activation") return {mlp, text, cnn};
  if (key == "vocab_size" || key == "embedding_dim" || key == "ngrams") return {text};
  if (key == "image_height" || key == "image_width" || key == "channels") return {cnn};
  return {linear, mlp, text, cnn};
}

bool model_key_applies(std::string_view key, ModelType type) {
  const std::vector<ModelType> types = model_types_for(key);
  return std::find(types.begin(), types.end(), type) != types.end();
}

std::vector<int> default_hidden_sizes(ModelType type) {
  return type == ModelType::mlp ? std::vector<int>{64} : std::vector<int>{};
}

std::vector<int> default_channels(ModelType type) {
  return type == ModelType::cnn ? std::vector<int>{16, 32} : std::vector<int>{};
}

// Metrics that get better as they fall; every other metric is maximised.
bool minimised_by_default(std::string_view metric) {
  return metric.ends_with("loss") || metric.ends_with("rmse") || metric.ends_with("mae");
}

std::optional<Task> task_from(std::string_view text) {
  if (text == "classification") return Task::classification;
  if (text == "regression") return Task::regression;
  return std::nullopt;
}

std::optional<ModelType> model_type_from(std::string_view text) {
  for (std::size_t i = 0; i < k_model_types.size(); ++i) {
    if (k_model_types[i] == text) return static_cast<ModelType>(i);
  }
  return std::nullopt;
}

// The whole text as a finite number, or nullopt. from_chars, unlike strtod,
// ignores the locale, so "0.5" reads the same everywhere.
std::optional<double> parse_double(const YAML::Node& node) {
  if (!node.IsScalar()) return std::nullopt;
  const std::string& text = node.Scalar();
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

template <typename Int>
std::optional<Int> parse_integer(const YAML::Node& node) {
  if (!node.IsScalar()) return std::nullopt;
  const std::string& text = node.Scalar();
  Int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

bool is_dataset_name(std::string_view name) {
  const auto is_alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  return !name.empty() && is_alnum(name.front()) &&
         std::all_of(name.begin(), name.end(),
                     [&](char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.'; });
}

// "NAME:VERSION" or "NAME:latest" for `NAME:VERSION`, `NAME:latest` or
// `NAME@latest` (without the azureml: prefix); nullopt for anything else.
// VERSION is normalised ("02" is 2) as data::parse_dataset_ref reads it.
std::optional<std::string> parse_dataset_reference(std::string_view text) {
  std::string_view name, version;
  if (const auto at = text.find('@'); at != std::string_view::npos) {
    name = text.substr(0, at);
    if (text.substr(at + 1) != "latest") return std::nullopt;
    version = "latest";
  } else if (const auto colon = text.find(':'); colon != std::string_view::npos) {
    name = text.substr(0, colon);
    version = text.substr(colon + 1);
  } else {
    return std::nullopt;
  }
  if (!is_dataset_name(name)) return std::nullopt;
  if (version == "latest") return fmt::format("{}:latest", name);
  int number = 0;
  const auto [end, error] =
      std::from_chars(version.data(), version.data() + version.size(), number);
  if (version.empty() || version.front() < '0' || version.front() > '9' || error != std::errc() ||
      end != version.data() + version.size() || number < 1) {
    return std::nullopt;
  }
  return fmt::format("{}:{}", name, number);
}

bool ends_with_csv(std::string_view text) {
  if (text.size() < 4) return false;
  std::string tail(text.substr(text.size() - 4));
  std::transform(tail.begin(), tail.end(), tail.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return tail == ".csv";
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

// Reads one train job. Problems are collected, not thrown one at a time, so
// a user fixing a job file sees all of them in one go.
class TrainJobParser {
 public:
  TrainJobParser(std::string_view source_name, const fs::path& base_dir)
      : m_source(source_name), m_base_dir(absolute_base(base_dir)) {
    m_spec.source = m_source;
  }

  TrainSpec parse(const YAML::Node& root) {
    if (is_absent(root)) {
      throw Error(ErrorKind::invalid_argument,
                  fmt::format("{}: the job is empty; expected a map with at least 'task', "
                              "'data', 'label' and 'model'",
                              m_source));
    }
    if (!root.IsMap()) {
      throw Error(ErrorKind::invalid_argument,
                  fmt::format("{}: expected a map of job fields, found {}",
                              yaml_location(m_source, root.Mark()), describe(root)));
    }
    std::vector<std::string> seen;
    for (const Entry& entry : entries(root, "")) {
      seen.push_back(entry.name);
      read_field(entry);
    }
    for (const char* required : {"task", "data", "label", "model"}) {
      if (!contains(seen, required)) {
        problem(m_source, fmt::format("missing required key '{}'", required));
      }
    }
    check_across_fields();
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
    const fs::path base = fs::absolute(base_dir.empty() ? fs::path(".") : base_dir, error);
    if (error) {
      throw Error(ErrorKind::io,
                  fmt::format("cannot make '{}' absolute: {}", base_dir.string(), error.message()));
    }
    return base.lexically_normal();
  }

  fs::path resolve(std::string_view text) const {
    const fs::path path(text);
    return (path.is_absolute() ? path : m_base_dir / path).lexically_normal();
  }

  // Where a value is: its own position, or the position of its key, if
  // that key was in the file, for a value set by --set and for a null, which
  // yaml-cpp places at the next token.
  std::string at(const YAML::Node& node, const YAML::Node& fallback = YAML::Node()) const {
    const bool use_fallback = fallback.IsDefined() && node.IsDefined() && node.IsNull();
    if (node.IsDefined() && !node.Mark().is_null() && !use_fallback) {
      return yaml_location(m_source, node.Mark());
    }
    if (fallback.IsDefined()) return yaml_location(m_source, fallback.Mark());
    return m_source;
  }

  void problem(const std::string& where, std::string_view what,
               ErrorKind kind = ErrorKind::invalid_argument) {
    m_problems.push_back({kind, fmt::format("{}: {}", where, what)});
  }

  // "'FIELD' must be EXPECTED, found VALUE", at the value.
  void wrong_value(const Entry& entry, std::string_view field, std::string_view expected) {
    problem(at(entry.value, entry.key),
            fmt::format("'{}' must be {}, found {}", field, expected, describe(entry.value)));
  }

  void unknown_key(const Entry& entry, std::string_view context,
                   const std::vector<std::string>& keys) {
    problem(at(entry.key), fmt::format("unknown key '{}'{}{}", entry.name, context,
                                       did_you_mean_hint(entry.name, keys)));
  }

  // The entries of a map, without duplicates or non-scalar keys (each
  // reported). `context` names the map in messages (" in 'model'"), empty
  // at the top.
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

  // ----- values -----

  // A string, "" for null; nullopt (reported) for a map or a sequence.
  std::optional<std::string> read_string(const Entry& entry, std::string_view field) {
    if (is_absent(entry.value)) return std::string();
    if (!entry.value.IsScalar()) {
      wrong_value(entry, field, "a string");
      return std::nullopt;
    }
    return entry.value.Scalar();
  }

  // One of `choices`; nullopt (reported) for anything else, null included.
  // `what` names the field in prose: "unknown model type 'mpl' (...)".
  std::optional<std::string> read_choice(const Entry& entry, std::string_view field,
                                         std::string_view what,
                                         const std::vector<std::string>& choices) {
    if (!entry.value.IsScalar()) {
      wrong_value(entry, field, join_choices(choices));
      return std::nullopt;
    }
    const std::string& text = entry.value.Scalar();
    if (contains(choices, text)) return text;
    const std::optional<std::string> match = closest_match(text, choices);
    problem(at(entry.value, entry.key),
            fmt::format("unknown {} '{}' (expected {}{})", what, text, join_choices(choices),
                        match ? fmt::format("; did you mean '{}'?", *match) : std::string()));
    return std::nullopt;
  }

  // Sets `target` to the number when `valid` accepts it; false (reported)
  // otherwise. Null keeps the default.
  template <typename Valid>
  bool read_number(const Entry& entry, std::string_view field, std::string_view expected,
                   double& target, Valid valid) {
    if (is_absent(entry.value)) return true;
    const std::optional<double> value = parse_double(entry.value);
    if (!value || !valid(*value)) {
      wrong_value(entry, field, expected);
      return false;
    }
    target = *value;
    return true;
  }

  bool read_fraction(const Entry& entry, std::string_view field, double& target) {
    return read_number(entry, field, "a number in [0, 1)", target,
                       [](double v) { return v >= 0 && v < 1; });
  }

  // Sets `target` to an integer in [minimum, maximum]; false (reported)
  // otherwise. Null keeps the default. `expected` describes the range.
  template <typename Int>
  bool read_integer(const Entry& entry, std::string_view field, std::string_view expected,
                    Int& target, Int minimum, Int maximum = std::numeric_limits<Int>::max()) {
    if (is_absent(entry.value)) return true;
    const std::optional<Int> value = parse_integer<Int>(entry.value);
    if (!value || *value < minimum || *value > maximum) {
      wrong_value(entry, field, expected);
      return false;
    }
    target = *value;
    return true;
  }

  // A list of integers >= 1; nullopt (reported) for anything else. Null
  // gives nullopt too, without a problem: the default applies.
  std::optional<std::vector<int>> read_sizes(const Entry& entry, std::string_view field,
                                             std::string_view example) {
    if (is_absent(entry.value)) return std::nullopt;
    if (!entry.value.IsSequence()) {
      wrong_value(entry, field, fmt::format("a list of integers such as {}", example));
      return std::nullopt;
    }
    std::vector<int> sizes;
    bool ok = true;
    for (std::size_t i = 0; i < entry.value.size(); ++i) {
      const YAML::Node item = entry.value[i];
      const std::optional<int> size = parse_integer<int>(item);
      if (!size || *size < 1) {
        problem(at(item, entry.key), fmt::format("'{}[{}]' must be an integer >= 1, found {}",
                                                 field, i, describe(item)));
        ok = false;
        continue;
      }
      sizes.push_back(*size);
    }
    if (!ok) return std::nullopt;
    return sizes;
  }

  // ----- fields -----

  void read_field(const Entry& entry) {
    const std::string& name = entry.name;
    if (name == "$schema") {
      read_string(entry, name);  // accepted, never fetched
    } else if (name == "type") {
      if (!entry.value.IsScalar() || entry.value.Scalar() != "train") {
        problem(at(entry.value, entry.key),
                fmt::format("expected type 'train', found {}", describe(entry.value)));
      }
    } else if (name == "task") {
      if (const auto task = read_choice(entry, name, "task", k_tasks)) {
        m_spec.task = *task_from(*task);
      }
    } else if (name == "data") {
      read_data(entry);
    } else if (name == "label") {
      const auto label = read_string(entry, name);
      if (label && label->empty()) {
        wrong_value(entry, name, "the name of the target column");
      } else if (label) {
        m_spec.label = *label;
      }
    } else if (name == "features") {
      read_features(entry);
    } else if (name == "validation_fraction") {
      m_validation_fraction = entry;
      m_fractions_ok = read_fraction(entry, name, m_spec.validation_fraction) && m_fractions_ok;
    } else if (name == "test_fraction") {
      m_test_fraction = entry;
      m_fractions_ok = read_fraction(entry, name, m_spec.test_fraction) && m_fractions_ok;
    } else if (name == "model") {
      read_model(entry);
    } else if (name == "learning_rate") {
      read_number(entry, name, "a number > 0", m_spec.learning_rate,
                  [](double v) { return v > 0; });
    } else if (name == "num_epochs" || name == "batch_size") {
      read_integer(entry, name, "an integer >= 1",
                   name == "num_epochs" ? m_spec.num_epochs : m_spec.batch_size, 1);
    } else if (name == "optimizer") {
      if (is_absent(entry.value)) return;
      if (auto optimizer = read_choice(entry, name, "optimizer", k_optimizers)) {
        m_spec.optimizer = std::move(*optimizer);
      }
    } else if (name == "momentum") {
      read_fraction(entry, name, m_spec.momentum);
    } else if (name == "weight_decay") {
      read_number(entry, name, "a number >= 0", m_spec.weight_decay,
                  [](double v) { return v >= 0; });
    } else if (name == "early_stopping") {
      read_early_stopping(entry);
    } else if (name == "seed") {
      read_integer<std::uint64_t>(entry, name, "an integer >= 0", m_spec.seed, 0);
    } else if (name == "device") {
      if (is_absent(entry.value)) return;
      if (auto device = read_choice(entry, name, "device", k_devices)) {
        m_spec.device = std::move(*device);
      }
    } else if (name == "threads") {
      read_integer(entry, name, "an integer >= 0", m_spec.threads, 0);
    } else if (name == "experiment_name" || name == "display_name" || name == "description") {
      if (auto text = read_string(entry, name)) {
        (name == "experiment_name" ? m_spec.experiment_name
         : name == "display_name"  ? m_spec.display_name
                                   : m_spec.description) = std::move(*text);
      }
    } else if (name == "tags") {
      read_tags(entry);
    } else {
      unknown_key(entry, "", k_top_keys);
    }
  }

  void read_data(const Entry& entry) {
    if (!entry.value.IsMap()) {
      wrong_value(entry, "data", "a map such as {train: azureml:churn:1}");
      return;
    }
    bool has_train = false;
    for (const Entry& field : entries(entry.value, " in 'data'")) {
      if (!contains(k_data_keys, field.name)) {
        unknown_key(field, " in 'data'", k_data_keys);
        continue;
      }
      const std::string path = "data." + field.name;
      if (field.name == "train") {
        has_train = true;
        if (auto source = read_source(field, path, true)) m_spec.train = std::move(*source);
      } else if (field.name == "validation") {
        m_spec.validation = read_source(field, path, false);
        m_has_validation_data = !is_absent(field.value);
      } else {
        m_spec.test = read_source(field, path, false);
        m_has_test_data = !is_absent(field.value);
      }
    }
    if (!has_train) problem(at(entry.key), "missing required key 'train' in 'data'");
  }

  // A dataset or a path, by the rules in the header. Null is nullopt, and a
  // problem only where the source is required.
  std::optional<DataSource> read_source(const Entry& entry, std::string_view field, bool required) {
    if (is_absent(entry.value) && !required) return std::nullopt;
    if (!entry.value.IsScalar() || entry.value.Scalar().empty()) {
      wrong_value(entry, field, k_data_expected);
      return std::nullopt;
    }
    const std::string& text = entry.value.Scalar();
    const std::string where = at(entry.value, entry.key);
    DataSource source;
    const YAML::Mark mark = entry.value.Mark().is_null() ? entry.key.Mark() : entry.value.Mark();
    if (!mark.is_null()) {
      source.line = mark.line + 1;
      source.column = mark.column + 1;
    }
    if (text.find("://") != std::string::npos) {
      problem(where,
              fmt::format("'{}' refers to the cloud location '{}', which cannot be read "
                          "locally; give a local path or a registered dataset",
                          field, text),
              ErrorKind::not_supported);
      return std::nullopt;
    }
    if (text.starts_with(k_asset_prefix)) {
      auto reference =
          parse_dataset_reference(std::string_view(text).substr(k_asset_prefix.size()));
      if (!reference) {
        problem(where, fmt::format("'{}' has an invalid dataset reference '{}'; expected "
                                   "azureml:NAME:VERSION or azureml:NAME@latest",
                                   field, text));
        return std::nullopt;
      }
      source.is_dataset = true;
      source.value = std::move(*reference);
      return source;
    }
    const bool looks_like_reference =
        text.find('/') == std::string::npos && !ends_with_csv(text) &&
        (text.find(':') != std::string::npos || text.find('@') != std::string::npos);
    if (looks_like_reference) {
      auto reference = parse_dataset_reference(text);
      if (!reference) {
        problem(where, fmt::format("'{}' has an invalid dataset reference '{}'; expected "
                                   "NAME:VERSION or NAME:latest, or ./{} for a file",
                                   field, text, text));
        return std::nullopt;
      }
      source.is_dataset = true;
      source.value = std::move(*reference);
      return source;
    }
    source.value = resolve(text).string();
    return source;
  }

  void read_features(const Entry& entry) {
    if (is_absent(entry.value)) return;
    if (!entry.value.IsSequence()) {
      wrong_value(entry, "features", "a list of column names such as [age, plan]");
      return;
    }
    if (entry.value.size() == 0) {
      problem(at(entry.value, entry.key),
              "'features' is empty; leave it out to use every column but the label");
      return;
    }
    for (std::size_t i = 0; i < entry.value.size(); ++i) {
      const YAML::Node item = entry.value[i];
      if (!item.IsScalar() || item.Scalar().empty()) {
        problem(at(item, entry.key),
                fmt::format("'features[{}]' must be a column name, found {}", i, describe(item)));
        continue;
      }
      if (contains(m_spec.features, item.Scalar())) {
        problem(at(item, entry.key), fmt::format("'features' names '{}' twice", item.Scalar()));
        continue;
      }
      m_spec.features.push_back(item.Scalar());
      m_feature_nodes.push_back(item);
    }
  }

  void read_model(const Entry& entry) {
    if (!entry.value.IsMap()) {
      wrong_value(entry, "model", "a map such as {type: mlp}");
      return;
    }
    const std::vector<Entry> fields = entries(entry.value, " in 'model'");
    // The type decides which other keys are allowed, so it is read first.
    std::optional<ModelType> type;
    bool has_type = false;
    for (const Entry& field : fields) {
      if (field.name != "type") continue;
      has_type = true;
      if (const auto text = read_choice(field, "model.type", "model type", k_model_types)) {
        type = model_type_from(*text);
      }
    }
    if (!has_type) problem(at(entry.key), "missing required key 'type' in 'model'");

    ModelSpec& model = m_spec.model;
    if (type) model.type = *type;
    std::optional<std::vector<int>> hidden_sizes, channels;
    std::optional<Entry> hidden_sizes_entry;
    bool has_height = false, has_width = false;
    for (const Entry& field : fields) {
      const std::string& name = field.name;
      if (name == "type") continue;
      if (!contains(k_model_keys, name)) {
        unknown_key(field, " in 'model'", k_model_keys);
        continue;
      }
      if (type && !model_key_applies(name, *type)) {
        std::vector<std::string> types;
        for (ModelType t : model_types_for(name)) types.push_back(to_string(t));
        problem(at(field.key),
                fmt::format("'{}' applies to model type{} {}, not {}", name,
                            types.size() == 1 ? "" : "s", join_with_and(types), to_string(*type)));
        continue;
      }
      const std::string path = "model." + name;
      if (name == "hidden_sizes") {
        hidden_sizes = read_sizes(field, path, "[64, 32]");
        hidden_sizes_entry = field;
      } else if (name == "dropout") {
        read_fraction(field, path, model.dropout);
      } else if (name == "activation") {
        if (is_absent(field.value)) continue;
        if (auto activation = read_choice(field, path, "activation", k_activations)) {
          model.activation = std::move(*activation);
        }
      } else if (name == "vocab_size") {
        read_integer(field, path, "an integer >= 10", model.vocab_size, 10);
      } else if (name == "embedding_dim") {
        read_integer(field, path, "an integer >= 1", model.embedding_dim, 1);
      } else if (name == "ngrams") {
        read_integer(field, path, "an integer from 1 to 3", model.ngrams, 1, 3);
      } else if (name == "image_height") {
        has_height = !is_absent(field.value);
        read_integer(field, path, "an integer >= 1", model.image_height, 1);
      } else if (name == "image_width") {
        has_width = !is_absent(field.value);
        read_integer(field, path, "an integer >= 1", model.image_width, 1);
      } else if (name == "channels") {
        channels = read_sizes(field, path, "[16, 32]");
        if (channels && channels->empty()) {
          wrong_value(field, path, "a list of one or more integers such as [16, 32]");
          channels.reset();
        }
      }
    }
    if (!type) return;

    model.hidden_sizes = hidden_sizes ? *hidden_sizes : default_hidden_sizes(*type);
    model.channels = channels ? *channels : default_channels(*type);
    if (*type == ModelType::mlp && hidden_sizes && hidden_sizes->empty()) {
      problem(at(hidden_sizes_entry->value, hidden_sizes_entry->key),
              "'model.hidden_sizes' is empty, which model type mlp does not allow; use model "
              "type linear for a model without hidden layers");
    }
    if (*type == ModelType::cnn) {
      if (!has_height) problem(at(entry.key), "model type cnn needs 'image_height'");
      if (!has_width) problem(at(entry.key), "model type cnn needs 'image_width'");
    }
  }

  void read_early_stopping(const Entry& entry) {
    if (is_absent(entry.value)) return;  // `early_stopping:` turns it off
    if (!entry.value.IsMap()) {
      wrong_value(entry, "early_stopping", "a map such as {metric: val_loss, patience: 3}");
      return;
    }
    EarlyStopping early_stopping;
    std::optional<std::string> mode;
    bool has_metric = false, ok = true;
    for (const Entry& field : entries(entry.value, " in 'early_stopping'")) {
      const std::string path = "early_stopping." + field.name;
      if (field.name == "metric") {
        has_metric = true;
        // The trainer logs val_* metrics per epoch; the names depend on the
        // task, so only the prefix can be checked before training.
        if (!field.value.IsScalar() || !field.value.Scalar().starts_with("val_") ||
            field.value.Scalar().size() == 4) {
          wrong_value(field, path, "a validation metric such as val_loss");
          ok = false;
        } else {
          early_stopping.metric = field.value.Scalar();
        }
      } else if (field.name == "patience") {
        ok = read_integer(field, path, "an integer >= 1", early_stopping.patience, 1) && ok;
      } else if (field.name == "mode") {
        if (is_absent(field.value)) continue;
        mode = read_choice(field, path, "early stopping mode", k_modes);
        ok = mode.has_value() && ok;
      } else {
        unknown_key(field, " in 'early_stopping'", k_early_stopping_keys);
        ok = false;
      }
    }
    if (!has_metric) problem(at(entry.key), "missing required key 'metric' in 'early_stopping'");
    if (!has_metric || !ok) return;
    early_stopping.maximize = mode ? *mode == "max" : !minimised_by_default(early_stopping.metric);
    m_spec.early_stopping = std::move(early_stopping);
    m_early_stopping_key = entry.key;
  }

  void read_tags(const Entry& entry) {
    if (is_absent(entry.value)) return;
    if (!entry.value.IsMap()) {
      wrong_value(entry, "tags", "a map of names to values");
      return;
    }
    for (const Entry& tag : entries(entry.value, " in 'tags'")) {
      if (!is_absent(tag.value) && !tag.value.IsScalar()) {
        problem(at(tag.value, tag.key),
                fmt::format("tag '{}' must be a string, found {}", tag.name, describe(tag.value)));
        continue;
      }
      m_spec.tags[tag.name] = is_absent(tag.value) ? std::string() : tag.value.Scalar();
    }
  }

  // Rules between fields, checked once every field is read.
  void check_across_fields() {
    // A data file replaces its fraction, so only the fractions in use count.
    const double validation = m_has_validation_data ? 0 : m_spec.validation_fraction;
    const double test = m_has_test_data ? 0 : m_spec.test_fraction;
    if (m_fractions_ok && validation + test >= 1) {
      const std::string where = m_test_fraction ? at(m_test_fraction->value, m_test_fraction->key)
                                : m_validation_fraction
                                    ? at(m_validation_fraction->value, m_validation_fraction->key)
                                    : m_source;
      problem(where, fmt::format("'validation_fraction' + 'test_fraction' must be below 1, "
                                 "found {} + {}",
                                 validation, test));
    }
    if (m_spec.early_stopping && !m_has_validation_data && m_spec.validation_fraction == 0) {
      problem(at(m_early_stopping_key),
              "'early_stopping' needs validation data; give data.validation or a "
              "validation_fraction above 0");
    }
    for (const YAML::Node& node : m_feature_nodes) {
      if (node.IsScalar() && !m_spec.label.empty() && node.Scalar() == m_spec.label) {
        problem(at(node), fmt::format("'features' includes the label '{}'", m_spec.label));
      }
    }
  }

  std::string m_source;
  fs::path m_base_dir;
  TrainSpec m_spec;
  std::vector<Problem> m_problems;
  bool m_has_validation_data = false, m_has_test_data = false;
  bool m_fractions_ok = true;
  std::optional<Entry> m_validation_fraction, m_test_fraction;
  YAML::Node m_early_stopping_key;
  std::vector<YAML::Node> m_feature_nodes;
};

// ----- JSON -----

[[noreturn]] void bad_json(std::string_view what) {
  throw Error(ErrorKind::parse, fmt::format("train spec: {}", what));
}

const Json& required(const Json& object, std::string_view key, std::string_view path) {
  const auto found = object.find(std::string(key));
  if (found == object.end() || found->is_null()) {
    bad_json(fmt::format("missing required key '{}'", path));
  }
  return *found;
}

const Json& object_at(const Json& object, std::string_view key, std::string_view path) {
  const Json& value = required(object, key, path);
  if (!value.is_object()) bad_json(fmt::format("'{}' must be an object", path));
  return value;
}

Json source_to_json(const DataSource& source) {
  return {{"kind", source.is_dataset ? "dataset" : "path"},
          {"value", source.value},
          {"line", source.line},
          {"column", source.column}};
}

DataSource source_from_json(const Json& json, std::string_view path) {
  if (!json.is_object()) bad_json(fmt::format("'{}' must be an object", path));
  DataSource source;
  const std::string kind = required(json, "kind", fmt::format("{}.kind", path)).get<std::string>();
  if (kind != "dataset" && kind != "path") {
    bad_json(fmt::format("unknown kind '{}' in '{}'", kind, path));
  }
  source.is_dataset = kind == "dataset";
  source.value = required(json, "value", fmt::format("{}.value", path)).get<std::string>();
  source.line = json.value("line", 0);
  source.column = json.value("column", 0);
  return source;
}

Json model_to_json(const ModelSpec& model) {
  Json json = Json::object();
  for (const std::string& key : k_model_keys) {
    if (!model_key_applies(key, model.type)) continue;
    if (key == "type") json[key] = to_string(model.type);
    if (key == "hidden_sizes") json[key] = model.hidden_sizes;
    if (key == "dropout") json[key] = model.dropout;
    if (key == "activation") json[key] = model.activation;
    if (key == "vocab_size") json[key] = model.vocab_size;
    if (key == "embedding_dim") json[key] = model.embedding_dim;
    if (key == "ngrams") json[key] = model.ngrams;
    if (key == "image_height") json[key] = model.image_height;
    if (key == "image_width") json[key] = model.image_width;
    if (key == "channels") json[key] = model.channels;
  }
  return json;
}

ModelSpec model_from_json(const Json& json) {
  ModelSpec model;
  const std::string type = required(json, "type", "model.type").get<std::string>();
  const std::optional<ModelType> parsed = model_type_from(type);
  if (!parsed) bad_json(fmt::format("unknown model type '{}'", type));
  model.type = *parsed;
  model.hidden_sizes = json.value("hidden_sizes", default_hidden_sizes(model.type));
  model.dropout = json.value("dropout", model.dropout);
  model.activation = json.value("activation", model.activation);
  model.vocab_size = json.value("vocab_size", model.vocab_size);
  model.embedding_dim = json.value("embedding_dim", model.embedding_dim);
  model.ngrams = json.value("ngrams", model.ngrams);
  model.image_height = json.value("image_height", model.image_height);
  model.image_width = json.value("image_width", model.image_width);
  model.channels = json.value("channels", default_channels(model.type));
  return model;
}

TrainSpec spec_from_json(const Json& json) {
  if (!json.is_object()) bad_json("expected an object");
  TrainSpec spec;
  spec.source = json.value("source", std::string());
  if (json.contains("type") && json["type"] != "train") {
    bad_json(fmt::format("expected type 'train', found {}", json["type"].dump()));
  }
  const std::string task = required(json, "task", "task").get<std::string>();
  const std::optional<Task> parsed_task = task_from(task);
  if (!parsed_task) bad_json(fmt::format("unknown task '{}'", task));
  spec.task = *parsed_task;

  const Json& data = object_at(json, "data", "data");
  spec.train = source_from_json(required(data, "train", "data.train"), "data.train");
  for (const char* split : {"validation", "test"}) {
    if (!data.contains(split) || data[split].is_null()) continue;
    (std::string_view(split) == "validation" ? spec.validation : spec.test) =
        source_from_json(data[split], fmt::format("data.{}", split));
  }
  spec.label = required(json, "label", "label").get<std::string>();
  spec.features = json.value("features", spec.features);
  spec.validation_fraction = json.value("validation_fraction", spec.validation_fraction);
  spec.test_fraction = json.value("test_fraction", spec.test_fraction);
  spec.model = model_from_json(object_at(json, "model", "model"));
  spec.learning_rate = json.value("learning_rate", spec.learning_rate);
  spec.num_epochs = json.value("num_epochs", spec.num_epochs);
  spec.batch_size = json.value("batch_size", spec.batch_size);
  spec.optimizer = json.value("optimizer", spec.optimizer);
  spec.momentum = json.value("momentum", spec.momentum);
  spec.weight_decay = json.value("weight_decay", spec.weight_decay);
  if (json.contains("early_stopping") && !json["early_stopping"].is_null()) {
    const Json& stopping = object_at(json, "early_stopping", "early_stopping");
    EarlyStopping early_stopping;
    early_stopping.metric =
        required(stopping, "metric", "early_stopping.metric").get<std::string>();
    early_stopping.patience = stopping.value("patience", early_stopping.patience);
    const std::string mode = stopping.value(
        "mode", std::string(minimised_by_default(early_stopping.metric) ? "min" : "max"));
    if (!contains(k_modes, mode)) bad_json(fmt::format("unknown early stopping mode '{}'", mode));
    early_stopping.maximize = mode == "max";
    spec.early_stopping = std::move(early_stopping);
  }
  spec.seed = json.value("seed", spec.seed);
  spec.device = json.value("device", spec.device);
  spec.threads = json.value("threads", spec.threads);
  spec.experiment_name = json.value("experiment_name", spec.experiment_name);
  spec.display_name = json.value("display_name", spec.display_name);
  spec.description = json.value("description", spec.description);
  spec.tags = json.value("tags", spec.tags);
  return spec;
}

// A param value: numbers as the shortest text that reads back exactly,
// lists as "[a,b]".
std::string param_text(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) return fmt::format("{}", value.get<double>());
  if (value.is_array()) {
    std::string text = "[";
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (i > 0) text += ',';
      text += param_text(value[i]);
    }
    return text + "]";
  }
  return value.dump();  // integers and booleans
}

}  // namespace

const char* to_string(Task task) noexcept {
  switch (task) {
    case Task::classification:
      return "classification";
    case Task::regression:
      return "regression";
  }
  return "unknown";
}

const char* to_string(ModelType type) noexcept {
  switch (type) {
    case ModelType::linear:
      return "linear";
    case ModelType::mlp:
      return "mlp";
    case ModelType::text:
      return "text";
    case ModelType::cnn:
      return "cnn";
  }
  return "unknown";
}

Json TrainSpec::to_json() const {
  Json data = {{"train", source_to_json(train)}};
  data["validation"] = validation ? source_to_json(*validation) : Json();
  data["test"] = test ? source_to_json(*test) : Json();
  Json json = Json::object();
  json["source"] = source;
  json["type"] = "train";
  json["task"] = to_string(task);
  json["data"] = std::move(data);
  json["label"] = label;
  json["features"] = features;
  json["validation_fraction"] = validation_fraction;
  json["test_fraction"] = test_fraction;
  json["model"] = model_to_json(model);
  json["learning_rate"] = learning_rate;
  json["num_epochs"] = num_epochs;
  json["batch_size"] = batch_size;
  json["optimizer"] = optimizer;
  json["momentum"] = momentum;
  json["weight_decay"] = weight_decay;
  json["early_stopping"] = early_stopping ? Json{{"metric", early_stopping->metric},
                                                 {"patience", early_stopping->patience},
                                                 {"mode", early_stopping->maximize ? "max" : "min"}}
                                          : Json();
  json["seed"] = seed;
  json["device"] = device;
  json["threads"] = threads;
  json["experiment_name"] = experiment_name;
  json["display_name"] = display_name;
  json["description"] = description;
  json["tags"] = tags;
  return json;
}

TrainSpec TrainSpec::from_json(const Json& json) {
  try {
    return spec_from_json(json);
  } catch (const Json::exception& error) {
    // A wrong type ("learning_rate": "fast"); nlohmann names it.
    bad_json(error.what());
  }
}

std::vector<std::pair<std::string, std::string>> TrainSpec::params() const {
  std::vector<std::pair<std::string, std::string>> result;
  const auto add = [&](std::string key, const Json& value) {
    result.emplace_back(std::move(key), param_text(value));
  };
  add("task", to_string(task));
  add("label", label);
  if (!features.empty()) add("features", features);
  if (!validation) add("validation_fraction", validation_fraction);
  if (!test) add("test_fraction", test_fraction);
  const Json model_json = model_to_json(model);
  for (const auto& [key, value] : model_json.items()) add("model." + key, value);
  add("learning_rate", learning_rate);
  add("num_epochs", num_epochs);
  add("batch_size", batch_size);
  add("optimizer", optimizer);
  if (optimizer == "sgd") add("momentum", momentum);
  add("weight_decay", weight_decay);
  if (early_stopping) {
    add("early_stopping.metric", early_stopping->metric);
    add("early_stopping.patience", early_stopping->patience);
    add("early_stopping.mode", early_stopping->maximize ? "max" : "min");
  }
  add("seed", seed);
  add("device", device);
  add("threads", threads);
  return result;
}

TrainSpec parse_train_job(std::string_view yaml_text, std::string_view source_name,
                          const std::filesystem::path& base_dir,
                          const std::vector<std::string>& overrides) {
  YAML::Node root = load_yaml(yaml_text, source_name);
  for (const std::string& assignment : overrides) apply_override(root, assignment);
  return parse_train_job(root, source_name, base_dir);
}

TrainSpec parse_train_job(const YAML::Node& root, std::string_view source_name,
                          const std::filesystem::path& base_dir) {
  try {
    return TrainJobParser(source_name, base_dir).parse(root);
  } catch (const YAML::Exception& error) {
    // Reading a loaded tree should not throw; translated all the same so
    // that no yaml-cpp type crosses this header.
    throw Error(ErrorKind::parse,
                fmt::format("{}: {}", yaml_location(source_name, error.mark), error.msg));
  }
}

}  // namespace mlctl::train
