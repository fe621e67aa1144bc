#pragma once

#include <string>
#include <string_view>

#include <mlctl/core/json.hpp>

namespace mlctl {

// Strict UTF-8 (RFC 3629: no overlong forms, surrogates or code points
// above U+10FFFF), which nlohmann::json insists on when dumping.
bool is_valid_utf8(std::string_view text) noexcept;

// Text read from files in any encoding (Latin-1 exports are common) as a
// JSON value: a string when it is UTF-8, else {"bytes_hex": "..."}.
Json bytes_to_json(std::string_view bytes);

// The inverse of bytes_to_json. Throws Error(parse) "DOCUMENT: WHERE ..."
// for a value of another shape or bad hex digits.
std::string bytes_from_json(const Json& json, std::string_view document, std::string_view where);

}  // namespace mlctl
