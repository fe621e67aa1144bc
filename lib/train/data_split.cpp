#include <mlctl/train/data_split.hpp>

#include <mlctl/core/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

namespace mlctl::train {

namespace {

[[noreturn]] void invalid(const std::string& message) {
  throw Error(ErrorKind::invalid_argument, message);
}

void check_fractions(double validation_fraction, double test_fraction) {
  const auto check = [](double fraction, const char* name) {
    if (!std::isfinite(fraction) || fraction < 0.0 || fraction >= 1.0) {
      invalid(fmt::format("{} must be in [0, 1), got {}", name, fraction));
    }
  };
  check(validation_fraction, "validation fraction");
  check(test_fraction, "test fraction");
  if (validation_fraction + test_fraction >= 1.0) {
    invalid(fmt::format("validation fraction {} and test fraction {} leave no rows to train on",
                        validation_fraction, test_fraction));
  }
}

// Uniform in [0, bound) by rejection: x % bound is unbiased once x is at or
// above 2^64 mod bound.
std::uint64_t uniform_below(std::mt19937_64& engine, std::uint64_t bound) {
  const std::uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const std::uint64_t x = engine();
    if (x >= threshold) return x % bound;
  }
}

void fisher_yates(std::vector<std::int64_t>& rows, std::mt19937_64& engine) {
  for (std::size_t i = rows.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(uniform_below(engine, i));
    std::swap(rows[i - 1], rows[j]);
  }
}

struct Group {
  std::vector<std::int64_t> rows;  // ascending, then shuffled
  std::size_t validation = 0;
  std::size_t test = 0;
  std::size_t train() const { return rows.size() - validation - test; }
};

std::size_t rounded_share(double fraction, std::size_t size) {
  return static_cast<std::size_t>(std::llround(fraction * static_cast<double>(size)));
}

// Groups are in ascending label order, so "the first group" breaks ties by
// the smaller label.
SplitIndices split_groups(std::vector<Group>& groups, double validation_fraction,
                          double test_fraction, std::uint64_t seed) {
  for (Group& group : groups) {
    const std::size_t n = group.rows.size();
    group.validation = std::min(rounded_share(validation_fraction, n), n);
    group.test = std::min(rounded_share(test_fraction, n), n);
    while (group.validation + group.test >= n && group.validation + group.test > 0) {
      if (group.test > 0) {
        --group.test;
      } else {
        --group.validation;
      }
    }
  }

  const auto ensure_non_empty = [&](double fraction, std::size_t Group::*share) {
    if (fraction <= 0.0) return;
    for (const Group& group : groups) {
      if (group.*share > 0) return;
    }
    Group* donor = nullptr;
    for (Group& group : groups) {
      if (donor == nullptr || group.train() > donor->train()) donor = &group;
    }
    if (donor != nullptr && donor->train() >= 2) ++(donor->*share);
  };
  ensure_non_empty(validation_fraction, &Group::validation);
  ensure_non_empty(test_fraction, &Group::test);

  std::mt19937_64 engine(seed);
  SplitIndices split;
  for (Group& group : groups) {
    fisher_yates(group.rows, engine);
    const auto begin = group.rows.begin();
    const auto validation_end = begin + static_cast<std::ptrdiff_t>(group.validation);
    const auto test_end = validation_end + static_cast<std::ptrdiff_t>(group.test);
    split.validation.insert(split.validation.end(), begin, validation_end);
    split.test.insert(split.test.end(), validation_end, test_end);
    split.train.insert(split.train.end(), test_end, group.rows.end());
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.validation.begin(), split.validation.end());
  std::sort(split.test.begin(), split.test.end());
  return split;
}

}  // namespace

SplitIndices stratified_split(std::span<const int> labels, double validation_fraction,
                              double test_fraction, std::uint64_t seed) {
  check_fractions(validation_fraction, test_fraction);
  if (labels.empty()) invalid("cannot split a data set with no rows");
  std::map<int, std::size_t> group_of_label;
  for (const int label : labels) group_of_label.emplace(label, 0);
  std::size_t next = 0;
  for (auto& [label, group] : group_of_label) group = next++;
  std::vector<Group> groups(group_of_label.size());
  for (std::size_t row = 0; row < labels.size(); ++row) {
    groups[group_of_label[labels[row]]].rows.push_back(static_cast<std::int64_t>(row));
  }
  return split_groups(groups, validation_fraction, test_fraction, seed);
}

SplitIndices random_split(std::size_t num_rows, double validation_fraction, double test_fraction,
                          std::uint64_t seed) {
  check_fractions(validation_fraction, test_fraction);
  if (num_rows == 0) invalid("cannot split a data set with no rows");
  std::vector<Group> groups(1);
  groups[0].rows.resize(num_rows);
  for (std::size_t row = 0; row < num_rows; ++row) {
    groups[0].rows[row] = static_cast<std::int64_t>(row);
  }
  return split_groups(groups, validation_fraction, test_fraction, seed);
}

}  // namespace mlctl::train
