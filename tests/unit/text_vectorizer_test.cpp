#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <mlctl/core/error.hpp>
#include <mlctl/train/text_vectorizer.hpp>

using mlctl::Error;
using mlctl::ErrorKind;
using mlctl::Json;
using mlctl::train::EncodedBatch;
using mlctl::train::TextVectorizer;
using mlctl::train::TextVectorizerOptions;
using mlctl::train::tokenize;
using Ids = std::vector<std::int32_t>;
using Terms = std::vector<std::string>;

namespace {

TextVectorizer fit(const std::vector<std::string>& documents, std::size_t vocab_size = 100,
                   int ngram_max = 1, std::int64_t min_count = 1) {
  TextVectorizerOptions options;
  options.vocab_size = vocab_size;
  options.ngram_max = ngram_max;
  options.min_count = min_count;
  return TextVectorizer::fit(documents, options);
}

std::vector<std::string> vocabulary(const TextVectorizer& vectorizer) {
  std::vector<std::string> terms;
  for (std::int32_t id = 1; id < vectorizer.num_ids(); ++id) {
    terms.emplace_back(vectorizer.term(id));
  }
  return terms;
}

}  // namespace

TEST_CASE("text vectorizer: tokens are lower-cased runs of letters and digits",
          "[text-vectorizer]") {
  CHECK(tokenize("Don't WIN $1,000!") == Terms{"don", "t", "win", "1", "000"});
  CHECK(tokenize("  FREE\tviagra\r\nclick_here...now") ==
        Terms{"free", "viagra", "click", "here", "now"});
  CHECK(tokenize("abc123 x9y") == Terms{"abc123", "x9y"});
  CHECK(tokenize("").empty());
  CHECK(tokenize(" ,.;!?-- ").empty());
}

TEST_CASE("text vectorizer: bytes from 0x80 stay inside tokens and are not lower-cased",
          "[text-vectorizer]") {
  // UTF-8 "Café CAFÉ": only ASCII letters are lowered, so É (c3 89) stays.
  CHECK(tokenize("Caf\xc3\xa9 CAF\xc3\x89") == Terms{"caf\xc3\xa9", "caf\xc3\x89"});
  // Latin-1 bytes too.
  CHECK(tokenize("r\xe9sum\xe9, ok") == Terms{"r\xe9sum\xe9", "ok"});
}

TEST_CASE("text vectorizer: n-grams join consecutive tokens with one space, after unigrams",
          "[text-vectorizer]") {
  CHECK(tokenize("A b, C", 2) == Terms{"a", "b", "c", "a b", "b c"});
  CHECK(tokenize("a b c", 3) == Terms{"a", "b", "c", "a b", "b c", "a b c"});
  CHECK(tokenize("one", 3) == Terms{"one"});
  CHECK_THROWS_WITH(tokenize("a", 0), "ngram_max must be between 1 and 5, got 0");
}

TEST_CASE("text vectorizer: ids follow count, then term, with 0 for unknown terms",
          "[text-vectorizer]") {
  const TextVectorizer vectorizer = fit({"b a a", "c B a", "d"});
  // a: 3, b: 2, then c and d tied at 1: c first.
  CHECK(vocabulary(vectorizer) == Terms{"a", "b", "c", "d"});
  CHECK(vectorizer.num_ids() == 5);
  CHECK(vectorizer.id_of("a") == 1);
  CHECK(vectorizer.id_of("zzz") == TextVectorizer::k_oov_id);
  CHECK(vectorizer.term_count(1) == 3);
  CHECK(vectorizer.encode("A, q! d b") == Ids{1, 0, 4, 2});
  CHECK(vectorizer.encode("").empty());
  CHECK_THROWS_WITH(vectorizer.term(0), "term id 0 is outside the vocabulary 1..4");
}

TEST_CASE("text vectorizer: ties at the vocabulary cut are broken by term, whatever the order",
          "[text-vectorizer]") {
  const TextVectorizer forward = fit({"z y x w", "v u"}, 3);
  const TextVectorizer backward = fit({"u v", "w x y z"}, 3);
  CHECK(vocabulary(forward) == Terms{"u", "v", "w"});
  CHECK(vocabulary(backward) == Terms{"u", "v", "w"});
  CHECK(forward.encode("z w u") == Ids{0, 3, 1});
}

TEST_CASE("text vectorizer: min_count and n-grams shape the vocabulary", "[text-vectorizer]") {
  const TextVectorizer vectorizer = fit({"free money now", "free money", "money"}, 100, 2, 2);
  // money 3, free 2, "free money" 2; now and "money now" seen once.
  CHECK(vocabulary(vectorizer) == Terms{"money", "free", "free money"});
  CHECK(vectorizer.encode("Free money NOW") == Ids{2, 1, 0, 3, 0});
  CHECK_THROWS_WITH(fit({"a"}, 0), "vocab_size must be between 1 and 2147483646, got 0");
  CHECK_THROWS_WITH(fit({"a"}, 1, 1, 0), "min_count must be at least 1, got 0");
}

TEST_CASE("text vectorizer: batches use EmbeddingBag's ids and offsets", "[text-vectorizer]") {
  const TextVectorizer vectorizer = fit({"a b c"});
  const std::vector<std::string> documents = {"a b", "", "c x a"};
  const EncodedBatch batch = vectorizer.encode_batch(documents);
  CHECK(batch.ids == Ids{1, 2, 3, 0, 1});
  CHECK(batch.offsets == Ids{0, 2, 2});
  const std::vector<std::string_view> views = {"a b", "", "c x a"};
  CHECK(vectorizer.encode_batch(views).ids == batch.ids);

  Ids appended = {7};
  vectorizer.encode_into("b", appended);
  CHECK(appended == Ids{7, 2});
}

TEST_CASE("text vectorizer: coverage reports the share of unknown terms", "[text-vectorizer]") {
  const TextVectorizer vectorizer = fit({"a b"}, 100, 2);
  // Terms a, q, b, "a q", "q b": only a and b are known.
  const auto coverage = vectorizer.coverage("a q b");
  CHECK(coverage.terms == 5);
  CHECK(coverage.out_of_vocabulary == 3);
  CHECK(coverage.oov_share() == Approx(0.6));
  CHECK(vectorizer.coverage("...").oov_share() == 0.0);
}

TEST_CASE("text vectorizer: an empty vectorizer maps everything to the OOV id",
          "[text-vectorizer]") {
  const TextVectorizer empty;
  CHECK(empty.num_ids() == 1);
  CHECK(empty.encode("hello world") == Ids{0, 0});
}

TEST_CASE("text vectorizer: a JSON round trip reproduces the ids exactly", "[text-vectorizer]") {
  const std::vector<std::string> training = {"Win a FREE prize now",
                                             "Meeting at 10am, bring the report", "free free prize",
                                             "r\xe9sum\xe9 attached",  // Latin-1: not UTF-8
                                             "caf\xc3\xa9 at 10am"};
  const TextVectorizer fitted = fit(training, 12, 2);
  const Json json = fitted.to_json();
  CHECK(json["format"] == "mlctl.text_vectorizer");
  CHECK(json["version"] == 1);
  CHECK(json["oov_id"] == 0);
  CHECK(json["terms"][0] == "free");
  CHECK(json["counts"][0] == 3);

  // Through text, as it is saved with the model.
  const TextVectorizer loaded = TextVectorizer::from_json(Json::parse(json.dump()));
  CHECK(vocabulary(loaded) == vocabulary(fitted));
  CHECK(loaded.ngram_max() == 2);
  const std::vector<std::string> scoring = {"free prize for the r\xe9sum\xe9", "caf\xc3\xa9?",
                                            "nothing known here"};
  CHECK(loaded.encode_batch(scoring).ids == fitted.encode_batch(scoring).ids);
  CHECK(loaded.to_json() == json);
}

TEST_CASE("text vectorizer: terms that are not UTF-8 are saved as hex bytes", "[text-vectorizer]") {
  const TextVectorizer fitted = fit({"r\xe9sum\xe9"});
  const Json json = fitted.to_json();
  CHECK(json["terms"][0] == Json{{"bytes_hex", "72e973756de9"}});
  CHECK(TextVectorizer::from_json(json).id_of("r\xe9sum\xe9") == 1);
}

TEST_CASE("text vectorizer: malformed saved vocabularies are parse errors", "[text-vectorizer]") {
  const Json good = fit({"a b"}).to_json();

  Json newer = good;
  newer["version"] = 2;
  CHECK_THROWS_WITH(TextVectorizer::from_json(newer),
                    "text vectorizer: format version 2 is newer than this mlctl supports (1); "
                    "upgrade mlctl");

  Json duplicate = good;
  duplicate["terms"] = {"a", "a"};
  CHECK_THROWS_WITH(TextVectorizer::from_json(duplicate), "text vectorizer: duplicate term 'a'");

  Json tokenizer = good;
  tokenizer["tokenizer"] = "bert";
  CHECK_THROWS_WITH(TextVectorizer::from_json(tokenizer),
                    "text vectorizer: unknown tokenizer \"bert\"; this mlctl knows "
                    "\"ascii_lower_alnum\"");

  Json missing = good;
  missing.erase("terms");
  CHECK_THROWS_WITH(TextVectorizer::from_json(missing), "text vectorizer: missing field 'terms'");

  Json empty_term = good;
  empty_term["terms"] = {"a", ""};
  empty_term.erase("counts");
  CHECK_THROWS_WITH(TextVectorizer::from_json(empty_term), "text vectorizer: terms[1] is empty");

  try {
    TextVectorizer::from_json(Json::array());
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::parse);
  }
}

// Run with: train_pure_test "[.benchmark]" -d yes
TEST_CASE("text vectorizer: fits and encodes a spam-sized corpus quickly", "[.benchmark]") {
  // ~6000 mails of ~600 bytes drawn from a Zipf-like vocabulary.
  std::mt19937_64 engine(7);
  std::vector<std::string> words;
  for (int i = 0; i < 30000; ++i) words.push_back("w" + std::to_string(i * 7919 % 100003));
  std::vector<std::string> documents(6000);
  std::size_t bytes = 0;
  for (auto& document : documents) {
    while (document.size() < 600) {
      const double u = std::uniform_real_distribution<double>(0.0, 1.0)(engine);
      document += words[static_cast<std::size_t>(std::pow(30000.0, u)) - 1];
      document += (engine() % 10 == 0) ? ", " : " ";
    }
    bytes += document.size();
  }
  const auto start = std::chrono::steady_clock::now();
  TextVectorizerOptions options;
  options.vocab_size = 20000;
  options.ngram_max = 1;
  const TextVectorizer vectorizer = TextVectorizer::fit(documents, options);
  const auto fitted = std::chrono::steady_clock::now();
  const EncodedBatch batch = vectorizer.encode_batch(documents);
  const auto encoded = std::chrono::steady_clock::now();
  options.ngram_max = 2;
  const TextVectorizer bigrams = TextVectorizer::fit(documents, options);
  const EncodedBatch batch2 = bigrams.encode_batch(documents);
  const auto done = std::chrono::steady_clock::now();
  const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  WARN("corpus " << bytes << " bytes, " << batch.ids.size() << " ids; fit " << ms(fitted - start)
                 << " ms, encode " << ms(encoded - fitted) << " ms; bigrams fit+encode "
                 << ms(done - encoded) << " ms, " << batch2.ids.size() << " ids");
  CHECK(vectorizer.vocab_size() == 20000);
}
