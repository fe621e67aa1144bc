#include <mlctl/serving/service_metrics.hpp>

#include <iterator>

#include <fmt/format.h>

#include <mlctl/core/clock.hpp>

namespace mlctl::serving {
namespace {

constexpr std::array<double, 12> k_time_bounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                  0.01,   0.025,   0.05,   0.1,   0.5,    1.0};

template <std::size_t N>
void render_histogram(std::string& out, const char* name, const char* help, const std::string& labels,
                      const Histogram<N>& histogram) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < N; ++i) {
    cumulative += histogram.counts[i].load(std::memory_order_relaxed);
    fmt::format_to(std::back_inserter(out), "{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, histogram.bounds[i],
                   cumulative);
  }
  cumulative += histogram.counts[N].load(std::memory_order_relaxed);
  fmt::format_to(std::back_inserter(out), "{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, cumulative);
  fmt::format_to(std::back_inserter(out), "{}_sum{{{}}} {}\n", name, labels,
                 double(histogram.sum_micros.load(std::memory_order_relaxed)) / 1e6);
  fmt::format_to(std::back_inserter(out), "{}_count{{{}}} {}\n", name, labels, cumulative);
}

}  // namespace

ServiceMetrics::ServiceMetrics() : m_started_at(unix_now()) {
  m_latency.bounds = k_time_bounds;
  m_queue.bounds = k_time_bounds;
  m_compute.bounds = k_time_bounds;
  m_batch_rows.bounds = {1, 2, 4, 8, 16, 32, 64, 128, 256};
}

void ServiceMetrics::count_status(int status) {
  if (status >= 100 && status < 600) m_status[std::size_t(status - 100)].fetch_add(1, std::memory_order_relaxed);
}

void ServiceMetrics::observe_request(double latency_seconds, double queue_seconds, double compute_seconds) {
  m_latency.observe(latency_seconds);
  m_queue.observe(queue_seconds);
  m_compute.observe(compute_seconds);
}

void ServiceMetrics::observe_batch(std::size_t rows) {
  m_batch_rows.observe(double(rows));
  m_rows.fetch_add(rows, std::memory_order_relaxed);
}

void ServiceMetrics::set_model(const std::string& name, int version) {
  std::lock_guard lock(m_model_mutex);
  m_model_name = name;
  m_model_version = version;
}

void ServiceMetrics::count_reload(bool succeeded) {
  (succeeded ? m_reloads_ok : m_reloads_failed).fetch_add(1, std::memory_order_relaxed);
}

std::string ServiceMetrics::render(const std::string& service, std::uint64_t log_dropped) const {
  std::string out;
  const std::string labels = fmt::format("service=\"{}\"", service);
  out += "# HELP mlctl_requests_total HTTP requests answered, by status code.\n# TYPE mlctl_requests_total counter\n";
  for (std::size_t i = 0; i < m_status.size(); ++i) {
    const auto count = m_status[i].load(std::memory_order_relaxed);
    if (count) fmt::format_to(std::back_inserter(out), "mlctl_requests_total{{{},code=\"{}\"}} {}\n", labels, i + 100, count);
  }
  render_histogram(out, "mlctl_request_duration_seconds", "Time from a scoring request read to its answer.", labels,
                   m_latency);
  render_histogram(out, "mlctl_queue_duration_seconds", "Time a scoring request waited for its batch.", labels, m_queue);
  render_histogram(out, "mlctl_compute_duration_seconds", "Time of the forward pass that scored a request.", labels,
                   m_compute);
  render_histogram(out, "mlctl_batch_rows", "Rows scored together in one forward pass.", labels, m_batch_rows);
  fmt::format_to(std::back_inserter(out),
                 "# HELP mlctl_rows_scored_total Rows scored.\n# TYPE mlctl_rows_scored_total counter\n"
                 "mlctl_rows_scored_total{{{}}} {}\n",
                 labels, m_rows.load(std::memory_order_relaxed));
  fmt::format_to(std::back_inserter(out),
                 "# HELP mlctl_model_reloads_total Reloads (SIGHUP: service update, key changes), by outcome.\n"
                 "# TYPE mlctl_model_reloads_total counter\n"
                 "mlctl_model_reloads_total{{{},outcome=\"ok\"}} {}\nmlctl_model_reloads_total{{{},outcome=\"failed\"}} {}\n",
                 labels, m_reloads_ok.load(), labels, m_reloads_failed.load());
  fmt::format_to(std::back_inserter(out),
                 "# HELP mlctl_request_log_dropped_total Request-log lines dropped because the writer fell behind.\n"
                 "# TYPE mlctl_request_log_dropped_total counter\nmlctl_request_log_dropped_total{{{}}} {}\n",
                 labels, log_dropped);
  {
    std::lock_guard lock(m_model_mutex);
    fmt::format_to(std::back_inserter(out),
                   "# HELP mlctl_model_info The model version served.\n# TYPE mlctl_model_info gauge\n"
                   "mlctl_model_info{{{},model=\"{}\",version=\"{}\"}} 1\n",
                   labels, m_model_name, m_model_version);
  }
  fmt::format_to(std::back_inserter(out),
                 "# HELP mlctl_start_time_seconds When the service process started (unix time).\n"
                 "# TYPE mlctl_start_time_seconds gauge\nmlctl_start_time_seconds{{{}}} {:.3f}\n",
                 labels, m_started_at);
  return out;
}

}  // namespace mlctl::serving
