#include <mlctl/store/settings.hpp>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>

#include <mlctl/core/did_you_mean.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/yaml_overrides.hpp>

namespace mlctl::store {
namespace {

std::string position(const std::string& source, const YAML::Node& node) {
  return fmt::format("{}:{}:{}", source, node.Mark().line + 1, node.Mark().column + 1);
}

void apply_file(Settings& settings, const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  const std::string source = path.string();
  YAML::Node root = load_yaml(read_file(path), source);
  if (!root || root.IsNull()) return;
  if (!root.IsMap()) {
    throw Error(ErrorKind::invalid_argument, fmt::format("{}: expected a mapping at the top level", position(source, root)));
  }
  static const std::vector<std::string> k_top = {"defaults"};
  static const std::vector<std::string> k_defaults = {"output", "experiment"};
  for (const auto& entry : root) {
    const std::string key = entry.first.as<std::string>();
    if (key != "defaults") {
      throw Error(ErrorKind::invalid_argument, fmt::format("{}: unknown key '{}'{}", position(source, entry.first), key,
                                                           did_you_mean_hint(key, k_top)));
    }
    if (!entry.second.IsMap()) {
      throw Error(ErrorKind::invalid_argument,
                  fmt::format("{}: 'defaults' must be a mapping", position(source, entry.second)));
    }
    for (const auto& item : entry.second) {
      const std::string name = item.first.as<std::string>();
      if (!item.second.IsScalar()) {
        throw Error(ErrorKind::invalid_argument,
                    fmt::format("{}: 'defaults.{}' must be a string", position(source, item.second), name));
      }
      if (name == "output") {
        settings.output = item.second.as<std::string>();
      } else if (name == "experiment") {
        settings.experiment = item.second.as<std::string>();
      } else {
        throw Error(ErrorKind::invalid_argument,
                    fmt::format("{}: unknown key 'defaults.{}'{}", position(source, item.first), name,
                                did_you_mean_hint(name, k_defaults)));
      }
    }
  }
}

}  // namespace

std::optional<std::filesystem::path> user_config_path() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    return std::filesystem::path(xdg) / "mlctl" / "config.yaml";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::filesystem::path(home) / ".config" / "mlctl" / "config.yaml";
  }
  return std::nullopt;
}

Settings load_settings(const std::optional<std::filesystem::path>& project_config,
                       const std::optional<std::filesystem::path>& user_config) {
  Settings settings;
  if (user_config) apply_file(settings, *user_config);
  if (project_config) apply_file(settings, *project_config);
  if (const char* output = std::getenv("MLCTL_OUTPUT"); output && *output) settings.output = output;
  if (const char* experiment = std::getenv("MLCTL_EXPERIMENT"); experiment && *experiment) {
    settings.experiment = experiment;
  }
  return settings;
}

}  // namespace mlctl::store
