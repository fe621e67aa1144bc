#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace mlctl {

// Calls fn(i) for every i in [0, count), on up to as many threads as the
// machine has cores (the calling thread is one of them); each i runs once,
// in no particular order. If calls throw, the exception of the smallest
// such i is rethrown once all have finished, so errors do not depend on
// scheduling. For independent work of similar size, such as one column of
// a table each.
template <class Fn>
void parallel_for_each_index(std::size_t count, Fn&& fn) {
  const std::size_t threads =
      std::min<std::size_t>(count, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::exception_ptr> errors(count);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      try {
        fn(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> helpers;
  for (std::size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  for (auto& helper : helpers) helper.join();
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

}  // namespace mlctl
