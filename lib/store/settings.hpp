#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace mlctl::store {

// User-tunable defaults. Precedence, highest first: command-line flags
// (applied by the caller), MLCTL_* environment variables, the project's
// mlctl.yaml, the user's ~/.config/mlctl/config.yaml.
struct Settings {
  std::optional<std::string> output;  // default --output (MLCTL_OUTPUT, defaults.output)
  std::string experiment = "Default";  // default experiment (MLCTL_EXPERIMENT, defaults.experiment)
};

// Reads the settings files that exist and the environment. A file with an
// unknown key or a wrong type fails with Error(parse|invalid_argument)
// naming file:line:column.
Settings load_settings(const std::optional<std::filesystem::path>& project_config,
                       const std::optional<std::filesystem::path>& user_config);

// ~/.config/mlctl/config.yaml (honouring XDG_CONFIG_HOME), or nullopt if
// there is no home directory.
std::optional<std::filesystem::path> user_config_path();

}  // namespace mlctl::store
