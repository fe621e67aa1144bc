#include <mlctl/core/names.hpp>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include <mlctl/core/error.hpp>

namespace mlctl {

bool is_valid_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 128 || !std::isalnum(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

void check_name(std::string_view name, std::string_view what) {
  if (!is_valid_name(name)) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("invalid {} '{}': expected 1 to 128 letters, digits, '_', '-' or '.', starting with a "
                            "letter or digit",
                            what, name));
  }
}

}  // namespace mlctl
