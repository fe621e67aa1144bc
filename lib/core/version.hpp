#pragma once

namespace mlctl {
// The version of this build ("0.1.0"), recorded on every run.
const char* mlctl_version() noexcept;
}  // namespace mlctl
