#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl {

// The candidate closest to `word` by Levenshtein distance (insertions,
// deletions and substitutions each cost 1), or nullopt when none is within
// `max_distance`. A candidate must also keep part of the word: a distance
// equal to or above the word's length (every character replaced) is no
// suggestion, so "lr" never suggests "x". Ties go to the earlier candidate.
// Case-sensitive. Pure, thread-safe, throws nothing but std::bad_alloc.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates,
                                         std::size_t max_distance = 2);

// " (did you mean 'x'?)" for the closest match, or "" when there is none; meant
// to be appended to a diagnostic: "unknown key 'comand' (did you mean
// 'command'?)".
std::string did_you_mean_hint(std::string_view word, const std::vector<std::string>& candidates,
                              std::size_t max_distance = 2);

}  // namespace mlctl
