#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace mlctl {

// Below this many elementary items (table cells, say) in all, the work is
// done on the calling thread. Starting a thread waits for the dynamic
// loader while another thread loads the torch backend: in a training
// worker the schema of a 569-row table took ~190 ms instead of ~1 ms.
inline constexpr std::size_t k_items_worth_threads = 200'000;

// Calls fn(i) for every i in [0, count), on up to as many threads as the
// machine has cores (the calling thread is one of them) when `items`, the
// size of all the work, reaches k_items_worth_threads; each i runs once, in
// no particular order. If calls throw, the exception of the smallest such
// i is rethrown once all have finished, so errors do not depend on
// scheduling. For independent work of similar size, such as one column of
// a table each.
template <class Fn>
void parallel_for_each_index(std::size_t count, std::size_t items, Fn&& fn) {
  const std::size_t cores = items < k_items_worth_threads ? 1 : std::max(1u, std::thread::hardware_concurrency());
  const std::size_t threads = std::min<std::size_t>(count, cores);
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
