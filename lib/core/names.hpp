#pragma once

#include <string_view>

namespace mlctl {

// Whether `name` may name a registered thing (a model, a published
// pipeline, a service, an environment): 1 to 128 letters, digits, '_', '-'
// or '.', starting with a letter or digit, so that it is safe in a file
// name, a URL path and a NAME:VERSION reference.
bool is_valid_name(std::string_view name) noexcept;

// Throws Error(invalid_argument) "invalid WHAT 'NAME': expected ..." unless
// is_valid_name(name).
void check_name(std::string_view name, std::string_view what);

}  // namespace mlctl
