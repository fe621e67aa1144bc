#include "cli/options.hpp"

namespace mlctl::cli {

CLI::Option* add_repeatable(CLI::App& command, const std::string& name, std::vector<std::string>& values,
                            const std::string& description) {
  return command.add_option(name, values, description)
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void set_examples(CLI::App& command, std::string_view examples) {
  command.footer(std::string("Examples:\n  ") + std::string(examples));
}

}  // namespace mlctl::cli
