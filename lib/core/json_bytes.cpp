#include <mlctl/core/json_bytes.hpp>

#include <fmt/format.h>

#include <mlctl/core/error.hpp>

namespace mlctl {
namespace {

int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

}  // namespace

bool is_valid_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      length = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      length = 3;
      if (b0 == 0xe0) low = 0xa0;
      if (b0 == 0xed) high = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      length = 4;
      if (b0 == 0xf0) low = 0x90;
      if (b0 == 0xf4) high = 0x8f;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if (b < (k == 1 ? low : 0x80) || b > (k == 1 ? high : 0xbf)) return false;
    }
    i += length;
  }
  return true;
}

Json bytes_to_json(std::string_view bytes) {
  if (is_valid_utf8(bytes)) return Json(std::string(bytes));
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    hex.push_back(k_digits[b >> 4]);
    hex.push_back(k_digits[b & 0xf]);
  }
  return Json{{"bytes_hex", hex}};
}

std::string bytes_from_json(const Json& json, std::string_view document, std::string_view where) {
  if (json.is_string()) return json.get<std::string>();
  if (!(json.is_object() && json.size() == 1 && json.contains("bytes_hex") && json["bytes_hex"].is_string())) {
    throw Error(ErrorKind::parse, fmt::format("{}: {} must be a string or {{\"bytes_hex\": ...}}", document, where));
  }
  const auto& hex = json["bytes_hex"].get_ref<const std::string&>();
  if (hex.size() % 2 != 0) {
    throw Error(ErrorKind::parse, fmt::format("{}: {}: bytes_hex has an odd number of digits", document, where));
  }
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = hex_value(hex[i]);
    const int low = hex_value(hex[i + 1]);
    if (high < 0 || low < 0) {
      throw Error(ErrorKind::parse, fmt::format("{}: {}: bytes_hex is not hexadecimal", document, where));
    }
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  return bytes;
}

}  // namespace mlctl
