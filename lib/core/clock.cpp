#include <mlctl/core/clock.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <ctime>

namespace mlctl {

double unix_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

double monotonic_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string format_iso8601(double unix_seconds) {
  std::time_t whole = static_cast<std::time_t>(std::floor(unix_seconds));
  int millis = static_cast<int>(std::lround((unix_seconds - double(whole)) * 1000.0));
  if (millis >= 1000) {
    whole += 1;
    millis -= 1000;
  }
  std::tm tm{};
  gmtime_r(&whole, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

std::string format_duration(double seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 1.0) return fmt::format("{}ms", std::lround(seconds * 1000.0));
  if (seconds < 60.0) return fmt::format("{:.1f}s", seconds);
  long total = std::lround(seconds);
  long hours = total / 3600, minutes = (total % 3600) / 60, secs = total % 60;
  if (hours > 0) return fmt::format("{}h {}m {}s", hours, minutes, secs);
  return fmt::format("{}m {}s", minutes, secs);
}

}  // namespace mlctl
