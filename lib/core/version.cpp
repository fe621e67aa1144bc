#include <mlctl/core/version.hpp>

#ifndef MLCTL_VERSION
#error "MLCTL_VERSION must be defined by the build"
#endif

namespace mlctl {
const char* mlctl_version() noexcept { return MLCTL_VERSION; }
}  // namespace mlctl
