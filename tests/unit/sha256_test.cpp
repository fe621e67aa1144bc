#include <catch2/catch.hpp>

#include <string>

#include <mlctl/core/sha256.hpp>

using mlctl::Sha256;
using mlctl::sha256_hex;

TEST_CASE("sha256: matches the FIPS 180-4 test vectors", "[sha256]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: feeding in pieces gives the same digest as at once", "[sha256]") {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += std::to_string(i * 7919);
  for (std::size_t piece : {1u, 3u, 63u, 64u, 65u, 1000u}) {
    Sha256 hasher;
    for (std::size_t offset = 0; offset < text.size(); offset += piece) {
      hasher.update(std::string_view(text).substr(offset, piece));
    }
    CHECK(hasher.hex_digest() == sha256_hex(text));
  }
}

TEST_CASE("sha256: the CPU's SHA instructions and the portable code agree", "[sha256]") {
  // On a CPU without the SHA extensions both hashers run the portable code
  // and this compares it with itself; the FIPS vectors above still hold.
  INFO("SHA instructions: " << mlctl::sha256_has_cpu_instructions());
  std::string text;
  std::uint32_t x = 12345;
  for (int i = 0; i < 5000; ++i) {
    x = x * 1103515245u + 12345u;
    text.push_back(char(x >> 24));
  }
  for (std::size_t length : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 127u, 128u, 129u, 1000u, 4096u, 5000u}) {
    INFO("length " << length);
    Sha256 fast, portable(Sha256::Engine::portable);
    fast.update(std::string_view(text).substr(0, length));
    portable.update(std::string_view(text).substr(0, length));
    CHECK(fast.hex_digest() == portable.hex_digest());
  }
}
