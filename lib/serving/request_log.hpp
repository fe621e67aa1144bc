#pragma once

// The log of served requests that drift monitoring reads: for a sampled
// share of scoring requests, the inputs and the predictions, one JSON
// object per line in requests.jsonl under the service's directory. Bounded:
// when the file passes max_bytes it becomes requests.1.jsonl (older files
// shift up, the oldest beyond max_files is deleted). Lines are queued by
// the I/O threads and written by a thread of its own, so that a slow disk
// never holds up an answer; a full queue drops lines (counted) rather than
// grow without bound.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <mlctl/core/json.hpp>

namespace mlctl::serving {

class RequestLog {
 public:
  RequestLog(std::filesystem::path directory, double sample, std::size_t max_bytes, int max_files);
  // Writes what is queued, then stops the writer.
  ~RequestLog();
  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  // Whether to log the next request (a Bernoulli draw with the sample rate).
  bool sample();
  // Queues one line (without its newline). Thread-safe.
  void write(std::string line);
  std::uint64_t dropped() const;

  // Calls `visit` with every record of the request log in `directory`,
  // oldest first (the rotated files, then requests.jsonl). Lines that are
  // not a JSON object (one torn by a crash) are skipped.
  static void for_each_record(const std::filesystem::path& directory, const std::function<void(const Json&)>& visit);

 private:
  void run();
  void append(const std::string& text);
  void rotate();

  std::filesystem::path m_directory;
  double m_sample;
  std::size_t m_max_bytes;
  int m_max_files;
  std::size_t m_size = 0;
  int m_fd = -1;

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::string m_pending;
  bool m_stopping = false;
  std::uint64_t m_dropped = 0;
  std::thread m_writer;
};

}  // namespace mlctl::serving
