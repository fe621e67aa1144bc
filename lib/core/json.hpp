#pragma once

// The JSON value type used across libmlctl: results of commands, stored
// specs and HTTP bodies. Ordered so that output keeps insertion order.
#include <nlohmann/json.hpp>

namespace mlctl {
using Json = nlohmann::ordered_json;
}  // namespace mlctl
