#pragma once

// Bag-of-words encoding for the text model: documents become term ids that
// feed an EmbeddingBag. The fitted vocabulary is saved with the model, and
// scoring must reproduce the training ids exactly, so tokenisation is fully
// specified here and does not depend on the locale.
//
// Tokens: the text is lower-cased (ASCII A-Z only) and split into maximal
// runs of [a-z0-9] and bytes >= 0x80 (so UTF-8 letters stay inside tokens,
// unnormalised). Everything else separates: "Don't WIN $1,000!" gives
// "don", "t", "win", "1", "000".
// Terms: with ngram_max = N, the unigrams of a document, then its bigrams,
// ..., then its N-grams, each n-gram being n consecutive tokens joined by a
// single space ("win 1"). N-grams run across punctuation, as sklearn's
// CountVectorizer.
// Ids: 0 is the out-of-vocabulary bucket, shared by every unknown term;
// the vocabulary terms have ids 1..vocab_size in decreasing order of their
// total count in the training documents, ties broken by the term's bytes
// in ascending order. An embedding table therefore needs num_ids() =
// vocab_size + 1 rows.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mlctl/core/json.hpp>
#include <mlctl/data/term_table.hpp>

namespace mlctl::train {


struct TextVectorizerOptions {
  // At most this many terms get their own id (>= 1).
  std::size_t vocab_size = 20000;
  // Terms are the 1-grams .. ngram_max-grams (1..k_max_ngram).
  int ngram_max = 1;
  // Terms seen fewer times than this in training are left out (>= 1).
  std::int64_t min_count = 1;
};

// A batch in EmbeddingBag's format: the ids of document i are
// ids[offsets[i] .. offsets[i + 1]) (the last one runs to ids.size()).
// Offsets have the ids' type because EmbeddingBag wants both the same. A
// document without tokens is an empty bag.
struct EncodedBatch {
  std::vector<std::int32_t> ids;
  std::vector<std::int32_t> offsets;  // one per document
};

// How much of a document the vocabulary covers, for drift monitoring.
// Counts are of terms as encode() emits them (n-grams included), so
// documents can be aggregated by summing.
struct VocabularyCoverage {
  std::int64_t terms = 0;
  std::int64_t out_of_vocabulary = 0;
  // out_of_vocabulary / terms; 0 for a document without terms.
  double oov_share() const {
    return terms == 0 ? 0.0 : static_cast<double>(out_of_vocabulary) / static_cast<double>(terms);
  }
};

// The terms of `text` (see the top of this file), in emission order.
// Throws Error(invalid_argument) unless 1 <= ngram_max <= k_max_ngram.
std::vector<std::string> tokenize(std::string_view text, int ngram_max = 1);

// A fitted vocabulary. Immutable once built: const members are thread-safe.
// A default-constructed vectorizer has an empty vocabulary and maps every
// term to the OOV id.
class TextVectorizer {
 public:
  static constexpr std::int32_t k_oov_id = 0;
  static constexpr int k_max_ngram = 5;
  // The format written by to_json; from_json rejects newer versions.
  static constexpr int k_format_version = 1;

  TextVectorizer();

  // Builds the vocabulary from the training documents.
  // Throws Error(invalid_argument) for bad options.
  static TextVectorizer fit(std::span<const std::string> documents,
                            const TextVectorizerOptions& options);
  static TextVectorizer fit(std::span<const std::string_view> documents,
                            const TextVectorizerOptions& options);

  // Number of vocabulary terms, excluding the OOV bucket.
  std::size_t vocab_size() const { return m_offsets.size() - 1; }
  // Rows an embedding table needs: vocab_size() + 1.
  std::int32_t num_ids() const { return static_cast<std::int32_t>(vocab_size() + 1); }
  int ngram_max() const { return m_ngram_max; }

  // The id of `term` (a single already-normalised term, such as "win 1"),
  // or k_oov_id when it is not in the vocabulary.
  std::int32_t id_of(std::string_view term) const;
  // The term with `id` and its count in the training documents.
  // Throw Error(invalid_argument) unless 1 <= id <= vocab_size().
  std::string_view term(std::int32_t id) const;
  std::int64_t term_count(std::int32_t id) const;

  // The ids of the terms of `document`, OOV terms as k_oov_id.
  std::vector<std::int32_t> encode(std::string_view document) const;
  // Appends the ids of `document` to `ids` (no allocation when reserved).
  void encode_into(std::string_view document, std::vector<std::int32_t>& ids) const;
  EncodedBatch encode_batch(std::span<const std::string> documents) const;
  EncodedBatch encode_batch(std::span<const std::string_view> documents) const;

  VocabularyCoverage coverage(std::string_view document) const;

  // {"format": "mlctl.text_vectorizer", "version": 1,
  //  "tokenizer": "ascii_lower_alnum", "ngram_max": N, "oov_id": 0,
  //  "min_count": M, "terms": [id 1, id 2, ...], "counts": [...]}
  // counts[i] is the training count of terms[i]. A term that is not valid
  // UTF-8 (Latin-1 mail, say) cannot be a JSON string and is written as
  // {"bytes_hex": "e9..."}; every other term as a string.
  Json to_json() const;
  // Throws Error(parse) for a malformed object, an unknown format or
  // tokenizer, a newer version, or duplicate or empty terms. "counts" and
  // "min_count" are optional (0 and 1).
  static TextVectorizer from_json(const Json& json);

 private:
  template <typename Document>
  static TextVectorizer fit_impl(std::span<const Document> documents,
                                 const TextVectorizerOptions& options);
  template <typename Document>
  EncodedBatch encode_batch_impl(std::span<const Document> documents) const;

  // Adds a term with the next id; the caller guarantees it is new.
  void add_term(std::string_view term, std::int64_t count);
  void rebuild_index();
  std::string_view term_bytes(std::size_t index) const {
    return std::string_view(m_bytes).substr(m_offsets[index],
                                            m_offsets[index + 1] - m_offsets[index]);
  }

  int m_ngram_max = 1;
  std::int64_t m_min_count = 1;
  // Terms by id - 1: bytes of term i are m_bytes[m_offsets[i], m_offsets[i + 1]).
  std::string m_bytes;
  std::vector<std::size_t> m_offsets;
  std::vector<std::int64_t> m_counts;
  // Hash index over the terms; a slot's entry is the term's id.
  std::vector<data::TermSlot> m_slots;
};

}  // namespace mlctl::train
