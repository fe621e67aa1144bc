#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <mlctl/core/error.hpp>
#include <mlctl/train/data_split.hpp>

using mlctl::train::random_split;
using mlctl::train::SplitIndices;
using mlctl::train::stratified_split;
using Rows = std::vector<std::int64_t>;

namespace {

std::vector<int> labels_of(std::initializer_list<std::pair<int, int>> label_counts) {
  std::vector<int> labels;
  // Interleave the classes so that rows of a class are not contiguous.
  bool added = true;
  std::vector<std::pair<int, int>> remaining(label_counts);
  while (added) {
    added = false;
    for (auto& [label, count] : remaining) {
      if (count > 0) {
        labels.push_back(label);
        --count;
        added = true;
      }
    }
  }
  return labels;
}

std::size_t count_label(const Rows& rows, const std::vector<int>& labels, int label) {
  return static_cast<std::size_t>(std::count_if(rows.begin(), rows.end(), [&](std::int64_t row) {
    return labels[static_cast<std::size_t>(row)] == label;
  }));
}

void check_partition(const SplitIndices& split, std::size_t num_rows) {
  Rows all;
  for (const Rows* part : {&split.train, &split.validation, &split.test}) {
    CHECK(std::is_sorted(part->begin(), part->end()));
    all.insert(all.end(), part->begin(), part->end());
  }
  std::sort(all.begin(), all.end());
  Rows expected(num_rows);
  for (std::size_t i = 0; i < num_rows; ++i) expected[i] = static_cast<std::int64_t>(i);
  CHECK(all == expected);  // disjoint and covering
}

}  // namespace

TEST_CASE("data split: each class gives its rounded share to validation and test", "[data-split]") {
  const std::vector<int> labels = labels_of({{0, 100}, {1, 30}, {7, 5}});
  const SplitIndices split = stratified_split(labels, 0.2, 0.1, 42);
  check_partition(split, labels.size());
  // class 0: 20 / 10 / 70; class 1: 6 / 3 / 21;
  // class 7: round(1.0) = 1, round(0.5) = 1 (halves up), 3 train.
  CHECK(count_label(split.validation, labels, 0) == 20);
  CHECK(count_label(split.test, labels, 0) == 10);
  CHECK(count_label(split.train, labels, 0) == 70);
  CHECK(count_label(split.validation, labels, 1) == 6);
  CHECK(count_label(split.test, labels, 1) == 3);
  CHECK(count_label(split.validation, labels, 7) == 1);
  CHECK(count_label(split.test, labels, 7) == 1);
  CHECK(count_label(split.train, labels, 7) == 3);
}

TEST_CASE("data split: the same seed gives the same split, another seed another", "[data-split]") {
  const std::vector<int> labels = labels_of({{0, 600}, {1, 400}});
  const SplitIndices first = stratified_split(labels, 0.2, 0.1, 1234);
  const SplitIndices again = stratified_split(labels, 0.2, 0.1, 1234);
  const SplitIndices other = stratified_split(labels, 0.2, 0.1, 1235);
  CHECK(first.train == again.train);
  CHECK(first.validation == again.validation);
  CHECK(first.test == again.test);
  CHECK(first.validation != other.validation);
  CHECK(first.validation.size() == other.validation.size());
}

TEST_CASE("data split: the split of a seed is pinned across platforms", "[data-split]") {
  // The standard fixes mt19937_64: its 10000th output is 9981545732273789042.
  std::mt19937_64 engine;
  engine.discard(9999);
  REQUIRE(engine() == 9981545732273789042ULL);
  // With our own Fisher-Yates and rejection sampling on top, these rows
  // must never change: a recorded seed has to reproduce its split. (Checked
  // against an independent Python implementation of MT19937-64 and the
  // algorithm described in data_split.hpp.)
  const SplitIndices split = random_split(12, 0.25, 0.25, 2024);
  CHECK(split.validation == Rows{3, 5, 9});
  CHECK(split.test == Rows{2, 6, 8});
  CHECK(split.train == Rows{0, 1, 4, 7, 10, 11});
}

TEST_CASE("data split: small classes keep a training row and small splits are not empty",
          "[data-split]") {
  // Class 0: round(0.4) = 0 each; class 1 has one row, which trains. Then
  // validation and test each take a row from class 0, the largest.
  const std::vector<int> labels = {0, 0, 0, 1, 0};
  const SplitIndices split = stratified_split(labels, 0.1, 0.1, 3);
  check_partition(split, labels.size());
  CHECK(split.validation.size() == 1);
  CHECK(split.test.size() == 1);
  CHECK(count_label(split.train, labels, 0) == 2);
  CHECK(count_label(split.train, labels, 1) == 1);

  // Two rows of one class, 0.3 / 0.3: round(0.6) = 1 each would leave no
  // training row, so test gives its row back, and cannot take another.
  const SplitIndices tiny = stratified_split(std::vector<int>{5, 5}, 0.3, 0.3, 3);
  CHECK(tiny.validation.size() == 1);
  CHECK(tiny.test.empty());
  CHECK(tiny.train.size() == 1);

  // A single row always trains.
  const SplitIndices one = random_split(1, 0.5, 0.2, 3);
  CHECK(one.train == Rows{0});
  CHECK(one.validation.empty());
}

TEST_CASE("data split: a zero fraction gives an empty split", "[data-split]") {
  const SplitIndices split = random_split(10, 0.3, 0.0, 9);
  check_partition(split, 10);
  CHECK(split.validation.size() == 3);
  CHECK(split.test.empty());
  CHECK(split.train.size() == 7);
}

TEST_CASE("data split: random split takes rounded shares of all rows", "[data-split]") {
  const SplitIndices split = random_split(1001, 0.15, 0.05, 77);
  check_partition(split, 1001);
  CHECK(split.validation.size() == 150);  // 150.15
  CHECK(split.test.size() == 50);         // 50.05
  CHECK(split.train.size() == 801);
}

TEST_CASE("data split: bad fractions and empty data are invalid arguments", "[data-split]") {
  const std::vector<int> labels = {0, 1, 0, 1};
  CHECK_THROWS_WITH(stratified_split(labels, -0.1, 0.1, 1),
                    "validation fraction must be in [0, 1), got -0.1");
  CHECK_THROWS_WITH(stratified_split(labels, 0.1, 1.0, 1),
                    "test fraction must be in [0, 1), got 1");
  CHECK_THROWS_WITH(random_split(4, std::numeric_limits<double>::quiet_NaN(), 0.1, 1),
                    "validation fraction must be in [0, 1), got nan");
  CHECK_THROWS_WITH(stratified_split(labels, 0.5, 0.5, 1),
                    "validation fraction 0.5 and test fraction 0.5 leave no rows to train on");
  CHECK_THROWS_WITH(stratified_split(std::vector<int>{}, 0.2, 0.1, 1),
                    "cannot split a data set with no rows");
  try {
    random_split(0, 0.2, 0.1, 1);
    FAIL("expected an error");
  } catch (const mlctl::Error& e) {
    CHECK(e.kind() == mlctl::ErrorKind::invalid_argument);
  }
}
