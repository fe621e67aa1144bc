#include <mlctl/serving/request_log.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>

#include <fmt/format.h>

namespace mlctl::serving {
namespace {

namespace fs = std::filesystem;

// Lines beyond this many queued bytes are dropped.
constexpr std::size_t k_max_pending_bytes = 4u << 20;
// How often the writer wakes. Short: each write is small, so it never holds
// a core long enough to delay an answer, and the buffers stay small.
constexpr auto k_flush_interval = std::chrono::milliseconds(50);

fs::path numbered(const fs::path& directory, int index) {
  return index == 0 ? directory / "requests.jsonl" : directory / fmt::format("requests.{}.jsonl", index);
}

}  // namespace

RequestLog::RequestLog(fs::path directory, double sample, std::size_t max_bytes, int max_files)
    : m_directory(std::move(directory)), m_sample(sample), m_max_bytes(max_bytes), m_max_files(max_files) {
  std::error_code ec;
  fs::create_directories(m_directory, ec);
  m_fd = ::open(numbered(m_directory, 0).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  struct stat info {};
  if (m_fd >= 0 && ::fstat(m_fd, &info) == 0) m_size = std::size_t(info.st_size);
  m_writer = std::thread([this] { run(); });
}

RequestLog::~RequestLog() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_one();
  m_writer.join();
  if (m_fd >= 0) ::close(m_fd);
}

bool RequestLog::sample() {
  if (m_sample >= 1.0) return true;
  if (m_sample <= 0.0) return false;
  thread_local std::minstd_rand generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator) < m_sample;
}

void RequestLog::write(std::string line) {
  std::lock_guard lock(m_mutex);
  if (m_pending.size() + line.size() > k_max_pending_bytes) {
    ++m_dropped;
    return;
  }
  m_pending += line;
  m_pending += '\n';
}

std::uint64_t RequestLog::dropped() const {
  std::lock_guard lock(m_mutex);
  return m_dropped;
}

void RequestLog::for_each_record(const fs::path& directory, const std::function<void(const Json&)>& visit) {
  // requests.N.jsonl is older than requests.(N-1).jsonl; requests.jsonl is the newest.
  std::vector<fs::path> files;
  std::error_code ec;
  for (int index = 1; fs::exists(numbered(directory, index), ec); ++index) files.push_back(numbered(directory, index));
  std::reverse(files.begin(), files.end());
  files.push_back(numbered(directory, 0));
  for (const fs::path& file : files) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      Json record = Json::parse(line, nullptr, false);
      if (record.is_object()) visit(record);
    }
  }
}

void RequestLog::run() {
  std::string batch;
  for (;;) {
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait_for(lock, k_flush_interval, [&] { return m_stopping; });
      batch.swap(m_pending);
      if (batch.empty() && m_stopping) return;
    }
    if (!batch.empty()) append(batch);
    batch.clear();
    // A burst must not keep its buffer: memory stays flat under load.
    if (batch.capacity() > (1u << 20)) batch.shrink_to_fit();
  }
}

void RequestLog::append(const std::string& text) {
  if (m_fd < 0) return;
  if (m_size > 0 && m_size + text.size() > m_max_bytes) rotate();
  std::size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(m_fd, text.data() + written, text.size() - written);
    if (n <= 0) break;
    written += std::size_t(n);
  }
  m_size += written;
}

void RequestLog::rotate() {
  ::close(m_fd);
  std::error_code ec;
  fs::remove(numbered(m_directory, m_max_files), ec);
  for (int index = m_max_files - 1; index >= 0; --index) {
    fs::rename(numbered(m_directory, index), numbered(m_directory, index + 1), ec);
  }
  m_fd = ::open(numbered(m_directory, 0).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  m_size = 0;
}

}  // namespace mlctl::serving
