#pragma once

// What a service counts while it runs, exported in Prometheus' text format
// at GET /metrics: requests by status code, request latency, queue and
// compute time, batch sizes, rows scored, and the model it serves. Updated
// from every I/O thread with relaxed atomics (counts, not a consistent
// snapshot).

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace mlctl::serving {

// A cumulative histogram with fixed upper bounds.
template <std::size_t N>
struct Histogram {
  std::array<double, N> bounds;
  std::array<std::atomic<std::uint64_t>, N + 1> counts{};  // last: +Inf
  std::atomic<std::uint64_t> total{0};
  std::atomic<std::uint64_t> sum_micros{0};  // sum in millionths of the unit

  void observe(double value) {
    std::size_t i = 0;
    while (i < N && value > bounds[i]) ++i;
    counts[i].fetch_add(1, std::memory_order_relaxed);
    total.fetch_add(1, std::memory_order_relaxed);
    sum_micros.fetch_add(std::uint64_t(value * 1e6), std::memory_order_relaxed);
  }
};

class ServiceMetrics {
 public:
  ServiceMetrics();

  void count_status(int status);
  // One answered scoring request.
  void observe_request(double latency_seconds, double queue_seconds, double compute_seconds);
  // One forward pass.
  void observe_batch(std::size_t rows);
  void set_model(const std::string& name, int version);
  void count_reload(bool succeeded);

  // The Prometheus exposition text; `log_dropped` is how many request-log
  // lines were dropped because the disk did not keep up.
  std::string render(const std::string& service, std::uint64_t log_dropped) const;

 private:
  // Status codes 100-599, counted by code.
  std::array<std::atomic<std::uint64_t>, 500> m_status{};
  Histogram<12> m_latency;
  Histogram<12> m_queue;
  Histogram<12> m_compute;
  Histogram<9> m_batch_rows;
  std::atomic<std::uint64_t> m_rows{0};
  std::atomic<std::uint64_t> m_reloads_ok{0}, m_reloads_failed{0};
  mutable std::mutex m_model_mutex;  // guards the two below, set on reload
  std::string m_model_name;
  int m_model_version = 0;
  double m_started_at;
};

}  // namespace mlctl::serving
