#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace mlctl::cli {

// An option given once per value (`--tag a=1 --tag b=2`). Each occurrence
// takes exactly one value, so a following `--` still ends the options.
CLI::Option* add_repeatable(CLI::App& command, const std::string& name, std::vector<std::string>& values,
                            const std::string& description);

// Adds "Examples:" text under a command's help.
void set_examples(CLI::App& command, std::string_view examples);

}  // namespace mlctl::cli
