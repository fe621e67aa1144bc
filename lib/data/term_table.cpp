#include <mlctl/data/term_table.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include <mlctl/core/error.hpp>

namespace mlctl::data {
namespace {

std::uint64_t load64(const char* p) {
  std::uint64_t word;
  std::memcpy(&word, p, 8);
  return word;
}

std::uint64_t load32(const char* p) {
  std::uint32_t word;
  std::memcpy(&word, p, 4);
  return word;
}

// memcmp(a, b, n) == 0 without a library call for the usual short term.
bool same_bytes(const char* a, const char* b, std::size_t n) {
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8) {
      if (load64(a + i) != load64(b + i)) return false;
    }
    return load64(a + n - 8) == load64(b + n - 8);
  }
  if (n >= 4) return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace

// Only used in memory (never persisted), so byte order does not matter.
// Terms are short and hashed millions of times: whole words, with the tail
// read by overlapping fixed-size loads instead of a variable-length memcpy
// (a library call).
std::uint64_t hash_term(std::string_view term) {
  const char* p = term.data();
  const std::size_t n = term.size();
  std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);
  std::uint64_t last = 0;
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8) {
      h = (h ^ load64(p + i)) * 0xbf58476d1ce4e5b9ULL;
      h ^= h >> 31;
    }
    last = load64(p + n - 8);
  } else if (n >= 4) {
    last = load32(p) | (load32(p + n - 4) << 32);
  } else if (n > 0) {
    last = static_cast<std::uint64_t>(static_cast<unsigned char>(p[0])) |
           (static_cast<std::uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8) |
           (static_cast<std::uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16);
  }
  h = (h ^ last) * 0x94d049bb133111ebULL;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 32;
  return h;
}

std::size_t TermIndexView::probe(std::uint64_t hash, std::string_view term) const {
  const std::size_t mask = slots.size() - 1;
  const std::uint32_t tag = tag_of(hash);
  // The start slot comes from the tag, so that growing a table needs no
  // rehashing; tables never exceed 2^32 slots (terms are int32 ids).
  std::size_t i = tag & mask;
  for (;;) {
    const TermSlot slot = slots[i];
    if (slot.entry == 0) return i;
    if (slot.hash_tag == tag) {
      const auto index = static_cast<std::size_t>(slot.entry - 1);
      const std::size_t begin = offsets[index];
      if (offsets[index + 1] - begin == term.size() &&
          same_bytes(bytes.data() + begin, term.data(), term.size())) {
        return i;
      }
    }
    i = (i + 1) & mask;
  }
}

std::size_t table_capacity(std::size_t entries) {
  // Load factor at most 1/2 keeps probe sequences short.
  return std::bit_ceil(std::max<std::size_t>(16, entries * 2));
}

TermCounter::TermCounter() {
  m_offsets.push_back(0);
  m_slots.resize(std::size_t{1} << 16);
  m_bytes.reserve(std::size_t{1} << 20);
}

void TermCounter::add(std::string_view term) {
  const std::uint64_t hash = hash_term(term);
  const std::size_t slot = view().probe(hash, term);
  if (m_slots[slot].entry != 0) {
    ++m_counts[static_cast<std::size_t>(m_slots[slot].entry - 1)];
    return;
  }
  if (m_counts.size() >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max() - 1)) {
    throw Error(ErrorKind::invalid_argument, "too many distinct terms (more than 2^31 - 2)");
  }
  m_bytes.append(term);
  m_offsets.push_back(m_bytes.size());
  m_counts.push_back(1);
  m_slots[slot] = {tag_of(hash), static_cast<std::int32_t>(m_counts.size())};
  if (m_counts.size() * 2 > m_slots.size()) grow();
}

void TermCounter::grow() {
  std::vector<TermSlot> slots(m_slots.size() * 2);
  const std::size_t mask = slots.size() - 1;
  for (const TermSlot& slot : m_slots) {
    if (slot.entry == 0) continue;
    std::size_t j = slot.hash_tag & mask;
    while (slots[j].entry != 0) j = (j + 1) & mask;
    slots[j] = slot;
  }
  m_slots = std::move(slots);
}

}  // namespace mlctl::data
