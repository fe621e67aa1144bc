#pragma once

// Seeded train/validation/test splits of a data set's rows. The split of a
// run is recorded by its seed alone, so it must come out the same on every
// platform and standard library: the shuffle is a hand-written
// Fisher-Yates over std::mt19937_64 (whose output the standard fixes) with
// unbiased rejection sampling, never std::shuffle or
// std::uniform_int_distribution, whose algorithms are unspecified.
//
// Sizes: a group (a class, or all rows for random_split) of n rows gives
// round(validation_fraction * n) rows to validation and
// round(test_fraction * n) to test, rounding halves up (std::llround), and
// the rest to train. Two adjustments follow, in order:
//  1. each group keeps at least one training row: when the rounded counts
//     leave none, test and then validation give one back (a group of one
//     row goes to train);
//  2. a split with a positive fraction that came out empty takes one row
//     from the group with the most training rows (ties: the smaller label)
//     if that group can spare one, so validation and test are non-empty
//     whenever that is possible without emptying a group's training rows.
// A zero fraction always gives an empty split.
//
// Rows: within a group, the shuffled order gives validation its first
// rows, test the next and train the rest. Each output list is sorted by
// row index.
//
// Functions are pure and thread-safe. They throw Error(invalid_argument)
// for a fraction that is not finite or outside [0, 1), fractions summing
// to 1 or more, or no rows.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mlctl::train {

// Row indices (0-based, ascending) of each split; together they cover
// every row exactly once. int64 so that they can index a tensor directly.
struct SplitIndices {
  std::vector<std::int64_t> train;
  std::vector<std::int64_t> validation;
  std::vector<std::int64_t> test;  // empty when test_fraction is 0
};

// Splits rows so that each label keeps its share in every split. Labels
// are any integers; groups are processed in ascending label order, all
// drawing from one generator seeded with `seed`.
SplitIndices stratified_split(std::span<const int> labels, double validation_fraction,
                              double test_fraction, std::uint64_t seed);

// Splits `num_rows` rows without stratification (regression targets): the
// same as stratified_split with a single label.
SplitIndices random_split(std::size_t num_rows, double validation_fraction, double test_fraction,
                          std::uint64_t seed);

}  // namespace mlctl::train
