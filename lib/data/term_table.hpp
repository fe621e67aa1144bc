#pragma once

// An open-addressing index of short byte strings (terms, tokens) stored in
// one byte arena, and a counter built on it. Shared by the text
// vectorizer's vocabulary and the text profile of datasets: both look up
// millions of tokens, where std::unordered_map<std::string, ...> pays a
// node allocation per term and a cache miss per lookup.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::data {

// A slot of the index: entry is 1 + the term's index (0: empty slot);
// hash_tag, the high half of the term's hash, lets a probe skip most byte
// comparisons. Both in one 8-byte slot, so that a probe touches one cache
// line.
struct TermSlot {
  std::uint32_t hash_tag = 0;
  std::int32_t entry = 0;
};

// A fast hash of a short byte string. Only used in memory (never
// persisted), so byte order does not matter.
std::uint64_t hash_term(std::string_view term);

inline std::uint32_t tag_of(std::uint64_t hash) { return static_cast<std::uint32_t>(hash >> 32); }

// Slots for `entries` terms: a power of two, load factor at most 1/2.
std::size_t table_capacity(std::size_t entries);

// Linear probing over terms stored in one arena: term i is
// bytes[offsets[i], offsets[i + 1]).
struct TermIndexView {
  const std::string& bytes;
  const std::vector<std::size_t>& offsets;
  const std::vector<TermSlot>& slots;

  // The slot holding `term`, or the empty slot where it belongs.
  std::size_t probe(std::uint64_t hash, std::string_view term) const;
};

// Counts occurrences of terms, in order of first appearance.
class TermCounter {
 public:
  TermCounter();
  // Throws Error(invalid_argument) past 2^31 - 2 distinct terms.
  void add(std::string_view term);
  std::size_t size() const { return m_counts.size(); }
  std::int64_t count(std::size_t index) const { return m_counts[index]; }
  std::string_view term(std::size_t index) const {
    return std::string_view(m_bytes).substr(m_offsets[index], m_offsets[index + 1] - m_offsets[index]);
  }

 private:
  TermIndexView view() const { return {m_bytes, m_offsets, m_slots}; }
  void grow();

  std::string m_bytes;
  std::vector<std::size_t> m_offsets;
  std::vector<std::int64_t> m_counts;
  std::vector<TermSlot> m_slots;
};

}  // namespace mlctl::data
