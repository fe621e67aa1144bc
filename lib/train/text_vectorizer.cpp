#include <mlctl/train/text_vectorizer.hpp>

#include <mlctl/core/error.hpp>
#include <mlctl/core/json_bytes.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>

namespace mlctl::train {

using data::hash_term;
using data::table_capacity;
using data::tag_of;
using data::TermCounter;
using data::TermIndexView;
using data::TermSlot;

namespace {

constexpr const char* k_format_name = "mlctl.text_vectorizer";
constexpr const char* k_tokenizer_name = "ascii_lower_alnum";

// Byte -> the byte it becomes inside a token, or 0 for a separator.
constexpr std::array<unsigned char, 256> make_token_table() {
  std::array<unsigned char, 256> table{};
  for (int b = 0; b < 256; ++b) {
    if ((b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || b >= 0x80) {
      table[static_cast<std::size_t>(b)] = static_cast<unsigned char>(b);
    } else if (b >= 'A' && b <= 'Z') {
      table[static_cast<std::size_t>(b)] = static_cast<unsigned char>(b - 'A' + 'a');
    }
  }
  return table;
}
constexpr std::array<unsigned char, 256> k_token_table = make_token_table();

[[noreturn]] void invalid(const std::string& message) {
  throw Error(ErrorKind::invalid_argument, message);
}

[[noreturn]] void parse_error(const std::string& message) {
  throw Error(ErrorKind::parse, "text vectorizer: " + message);
}

void check_ngram_max(int ngram_max) {
  if (ngram_max < 1 || ngram_max > TextVectorizer::k_max_ngram) {
    invalid(fmt::format("ngram_max must be between 1 and {}, got {}", TextVectorizer::k_max_ngram,
                        ngram_max));
  }
}

// Splits documents into terms without allocating per token: the tokens of
// a document are written lower-cased into one buffer, separated by single
// spaces, so that an n-gram is a contiguous slice of it. Reused across
// documents to keep its capacity.
class TermScanner {
 public:
  template <typename OnTerm>
  void for_each_term(std::string_view text, int ngram_max, OnTerm&& on_term) {
    // Bounds that hold for any text: the joined tokens are no longer than
    // the text (each space stands for at least one separator), and tokens
    // are at most every other byte. Sized once, written through pointers.
    if (m_text.size() < text.size()) m_text.resize(text.size());
    if (m_bounds.size() < text.size() + 1) m_bounds.resize(text.size() + 1);
    char* const out_begin = m_text.data();
    char* out = out_begin;
    std::size_t* bounds = m_bounds.data();  // start, end, start, end...
    std::size_t count = 0;
    bool in_token = false;
    for (const char ch : text) {
      const unsigned char mapped = k_token_table[static_cast<unsigned char>(ch)];
      if (mapped != 0) {
        if (!in_token) {
          if (count != 0) *out++ = ' ';
          bounds[2 * count] = static_cast<std::size_t>(out - out_begin);
          in_token = true;
        }
        *out++ = static_cast<char>(mapped);
      } else if (in_token) {
        bounds[2 * count + 1] = static_cast<std::size_t>(out - out_begin);
        ++count;
        in_token = false;
      }
    }
    if (in_token) {
      bounds[2 * count + 1] = static_cast<std::size_t>(out - out_begin);
      ++count;
    }

    for (std::size_t n = 1; n <= static_cast<std::size_t>(ngram_max) && n <= count; ++n) {
      for (std::size_t i = 0; i + n <= count; ++i) {
        const std::size_t start = bounds[2 * i];
        on_term(std::string_view(out_begin + start, bounds[2 * (i + n - 1) + 1] - start));
      }
    }
  }

 private:
  std::vector<char> m_text;
  std::vector<std::size_t> m_bounds;
};

std::string_view as_view(const std::string& text) { return text; }
std::string_view as_view(std::string_view text) { return text; }

}  // namespace

std::vector<std::string> tokenize(std::string_view text, int ngram_max) {
  check_ngram_max(ngram_max);
  std::vector<std::string> terms;
  TermScanner scanner;
  scanner.for_each_term(text, ngram_max, [&](std::string_view term) { terms.emplace_back(term); });
  return terms;
}

TextVectorizer::TextVectorizer() : m_offsets{0} {}

template <typename Document>
TextVectorizer TextVectorizer::fit_impl(std::span<const Document> documents,
                                        const TextVectorizerOptions& options) {
  check_ngram_max(options.ngram_max);
  if (options.vocab_size < 1 ||
      options.vocab_size > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max() - 1)) {
    invalid(fmt::format("vocab_size must be between 1 and {}, got {}",
                        std::numeric_limits<std::int32_t>::max() - 1, options.vocab_size));
  }
  if (options.min_count < 1) {
    invalid(fmt::format("min_count must be at least 1, got {}", options.min_count));
  }

  TermCounter counter;
  TermScanner scanner;
  for (const Document& document : documents) {
    scanner.for_each_term(as_view(document), options.ngram_max,
                          [&](std::string_view term) { counter.add(term); });
  }

  std::vector<std::int32_t> kept;
  kept.reserve(counter.size());
  for (std::size_t i = 0; i < counter.size(); ++i) {
    if (counter.count(i) >= options.min_count) kept.push_back(static_cast<std::int32_t>(i));
  }
  // Count descending, then bytes ascending: a total order, so the
  // vocabulary does not depend on hash-table or sort internals.
  const auto ranks_before = [&](std::int32_t a, std::int32_t b) {
    const auto ia = static_cast<std::size_t>(a);
    const auto ib = static_cast<std::size_t>(b);
    if (counter.count(ia) != counter.count(ib)) return counter.count(ia) > counter.count(ib);
    return counter.term(ia) < counter.term(ib);
  };
  if (kept.size() > options.vocab_size) {
    const auto cut = kept.begin() + static_cast<std::ptrdiff_t>(options.vocab_size);
    std::nth_element(kept.begin(), cut, kept.end(), ranks_before);
    kept.erase(cut, kept.end());
  }
  std::sort(kept.begin(), kept.end(), ranks_before);

  TextVectorizer vectorizer;
  vectorizer.m_ngram_max = options.ngram_max;
  vectorizer.m_min_count = options.min_count;
  for (const std::int32_t index : kept) {
    const auto i = static_cast<std::size_t>(index);
    vectorizer.add_term(counter.term(i), counter.count(i));
  }
  vectorizer.rebuild_index();
  return vectorizer;
}

TextVectorizer TextVectorizer::fit(std::span<const std::string> documents,
                                   const TextVectorizerOptions& options) {
  return fit_impl(documents, options);
}

TextVectorizer TextVectorizer::fit(std::span<const std::string_view> documents,
                                   const TextVectorizerOptions& options) {
  return fit_impl(documents, options);
}

void TextVectorizer::add_term(std::string_view term, std::int64_t count) {
  m_bytes.append(term);
  m_offsets.push_back(m_bytes.size());
  m_counts.push_back(count);
}

void TextVectorizer::rebuild_index() {
  m_slots.assign(table_capacity(vocab_size()), TermSlot{});
  const TermIndexView view{m_bytes, m_offsets, m_slots};
  for (std::size_t i = 0; i < vocab_size(); ++i) {
    const std::string_view term = term_bytes(i);
    const std::uint64_t hash = hash_term(term);
    const std::size_t slot = view.probe(hash, term);
    if (m_slots[slot].entry != 0) parse_error(fmt::format("duplicate term '{}'", term));
    m_slots[slot] = {tag_of(hash), static_cast<std::int32_t>(i + 1)};
  }
}

std::int32_t TextVectorizer::id_of(std::string_view term) const {
  if (m_slots.empty()) return k_oov_id;
  const TermIndexView view{m_bytes, m_offsets, m_slots};
  // A slot's entry is index + 1, which is exactly the id; an empty slot's
  // is 0, the OOV id.
  return m_slots[view.probe(hash_term(term), term)].entry;
}

std::string_view TextVectorizer::term(std::int32_t id) const {
  if (id < 1 || static_cast<std::size_t>(id) > vocab_size()) {
    invalid(fmt::format("term id {} is outside the vocabulary 1..{}", id, vocab_size()));
  }
  return term_bytes(static_cast<std::size_t>(id - 1));
}

std::int64_t TextVectorizer::term_count(std::int32_t id) const {
  if (id < 1 || static_cast<std::size_t>(id) > vocab_size()) {
    invalid(fmt::format("term id {} is outside the vocabulary 1..{}", id, vocab_size()));
  }
  return m_counts[static_cast<std::size_t>(id - 1)];
}

std::vector<std::int32_t> TextVectorizer::encode(std::string_view document) const {
  std::vector<std::int32_t> ids;
  encode_into(document, ids);
  return ids;
}

void TextVectorizer::encode_into(std::string_view document, std::vector<std::int32_t>& ids) const {
  TermScanner scanner;
  scanner.for_each_term(document, m_ngram_max,
                        [&](std::string_view term) { ids.push_back(id_of(term)); });
}

template <typename Document>
EncodedBatch TextVectorizer::encode_batch_impl(std::span<const Document> documents) const {
  EncodedBatch batch;
  batch.offsets.reserve(documents.size());
  std::size_t bytes = 0;
  for (const Document& document : documents) bytes += as_view(document).size();
  // About one term per five bytes of text per n-gram order; a guess that
  // saves most reallocations.
  batch.ids.reserve(bytes / 5 * static_cast<std::size_t>(m_ngram_max) + 16);
  TermScanner scanner;
  for (const Document& document : documents) {
    if (batch.ids.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
      invalid("batch too large: more than 2^31 term ids; encode it in smaller batches");
    }
    batch.offsets.push_back(static_cast<std::int32_t>(batch.ids.size()));
    scanner.for_each_term(as_view(document), m_ngram_max,
                          [&](std::string_view term) { batch.ids.push_back(id_of(term)); });
  }
  return batch;
}

EncodedBatch TextVectorizer::encode_batch(std::span<const std::string> documents) const {
  return encode_batch_impl(documents);
}

EncodedBatch TextVectorizer::encode_batch(std::span<const std::string_view> documents) const {
  return encode_batch_impl(documents);
}

VocabularyCoverage TextVectorizer::coverage(std::string_view document) const {
  VocabularyCoverage coverage;
  TermScanner scanner;
  scanner.for_each_term(document, m_ngram_max, [&](std::string_view term) {
    ++coverage.terms;
    if (id_of(term) == k_oov_id) ++coverage.out_of_vocabulary;
  });
  return coverage;
}

Json TextVectorizer::to_json() const {
  Json terms = Json::array();
  for (std::size_t i = 0; i < vocab_size(); ++i) {
    const std::string_view term = term_bytes(i);
    // Text that is not UTF-8 (Latin-1 mail, say) cannot be a JSON string.
    terms.push_back(bytes_to_json(term));
  }
  return {{"format", k_format_name},
          {"version", k_format_version},
          {"tokenizer", k_tokenizer_name},
          {"ngram_max", m_ngram_max},
          {"oov_id", k_oov_id},
          {"min_count", m_min_count},
          {"terms", std::move(terms)},
          {"counts", m_counts}};
}

TextVectorizer TextVectorizer::from_json(const Json& json) {
  if (!json.is_object()) parse_error("expected an object");
  const auto field = [&](const char* name) -> const Json& {
    const auto it = json.find(name);
    if (it == json.end()) parse_error(fmt::format("missing field '{}'", name));
    return *it;
  };
  const auto integer = [&](const char* name) -> std::int64_t {
    const Json& value = field(name);
    if (!value.is_number_integer()) parse_error(fmt::format("'{}' must be an integer", name));
    return value.get<std::int64_t>();
  };

  const Json& format = field("format");
  if (!format.is_string() || format.get<std::string>() != k_format_name) {
    parse_error(fmt::format("'format' must be \"{}\"", k_format_name));
  }
  const std::int64_t version = integer("version");
  if (version > k_format_version) {
    parse_error(
        fmt::format("format version {} is newer than this mlctl supports ({}); upgrade mlctl",
                    version, k_format_version));
  }
  if (version < 1) parse_error(fmt::format("invalid format version {}", version));
  const Json& tokenizer = field("tokenizer");
  if (!tokenizer.is_string() || tokenizer.get<std::string>() != k_tokenizer_name) {
    parse_error(fmt::format("unknown tokenizer {}; this mlctl knows \"{}\"", tokenizer.dump(),
                            k_tokenizer_name));
  }
  const std::int64_t ngram_max = integer("ngram_max");
  if (ngram_max < 1 || ngram_max > k_max_ngram) {
    parse_error(
        fmt::format("'ngram_max' must be between 1 and {}, got {}", k_max_ngram, ngram_max));
  }
  if (integer("oov_id") != k_oov_id) {
    parse_error(fmt::format("'oov_id' must be {}", k_oov_id));
  }

  const Json& terms = field("terms");
  if (!terms.is_array()) parse_error("'terms' must be an array");
  if (terms.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max() - 1)) {
    parse_error("too many terms");
  }
  const Json* counts = nullptr;
  if (const auto it = json.find("counts"); it != json.end()) {
    if (!it->is_array() || it->size() != terms.size()) {
      parse_error("'counts' must be an array as long as 'terms'");
    }
    counts = &*it;
  }

  TextVectorizer vectorizer;
  vectorizer.m_ngram_max = static_cast<int>(ngram_max);
  if (const auto it = json.find("min_count"); it != json.end()) {
    if (!it->is_number_integer()) parse_error("'min_count' must be an integer");
    vectorizer.m_min_count = it->get<std::int64_t>();
  }
  for (std::size_t i = 0; i < terms.size(); ++i) {
    const Json& entry = terms[i];
    std::string term = bytes_from_json(entry, "text vectorizer", fmt::format("terms[{}]", i));
    if (term.empty()) parse_error(fmt::format("terms[{}] is empty", i));
    std::int64_t count = 0;
    if (counts != nullptr) {
      const Json& value = (*counts)[i];
      if (!value.is_number_integer()) parse_error(fmt::format("counts[{}] must be an integer", i));
      count = value.get<std::int64_t>();
    }
    vectorizer.add_term(term, count);
  }
  vectorizer.rebuild_index();
  return vectorizer;
}

}  // namespace mlctl::train
