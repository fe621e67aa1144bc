#pragma once

#include <string>

namespace mlctl {

// Wall-clock time as unix seconds with sub-second precision; what the store
// records for every timestamp.
double unix_now();

// ISO 8601 UTC ("2026-11-22T06:30:00.123Z") for display and JSON output.
std::string format_iso8601(double unix_seconds);

// Seconds since an arbitrary fixed point, for measuring durations.
double monotonic_seconds();

// "1h 2m 3s", "2.5s", "120ms" for display.
std::string format_duration(double seconds);

}  // namespace mlctl
