#pragma once

#include <vector>

#include <mlctl/core/json.hpp>
#include <mlctl/tracking/run_types.hpp>

namespace mlctl::tracking {

// Params and final metrics of several runs side by side: one row per key
// ({"kind": "param"|"metric", "key": ..., "<run id>": value, ...,
//   "differs": bool}), params first, then metrics, each sorted by key. A
// key a run lacks is null for it and counts as a difference.
Json compare_runs(const std::vector<Run>& runs);

}  // namespace mlctl::tracking
