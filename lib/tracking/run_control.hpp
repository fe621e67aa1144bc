#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>

#include <mlctl/store/artifact_store.hpp>
#include <mlctl/store/project.hpp>
#include <mlctl/tracking/run_store.hpp>

namespace mlctl::tracking {

// Cancels a queued or running run: records it as canceled, then sends
// SIGTERM to the job's process group and SIGKILL after `grace_seconds`.
// Throws Error(already_exists) if the run has already ended.
Run cancel_run(RunStore& runs, std::string_view run_id, double grace_seconds = 10.0);

// Polls until the run ends (reaping runs whose supervisor died) or the
// timeout passes; returns the run as last seen. `on_poll` runs each round.
Run wait_for_run(RunStore& runs, std::string_view run_id, std::optional<double> timeout_seconds,
                 const std::function<void()>& on_poll = {});

// Deletes a run that is not active: its rows, its run directory. Throws
// Error(already_exists) if it is still queued or running.
void delete_run(RunStore& runs, const store::ProjectPaths& project, std::string_view run_id);

// Copies a run's artifacts (all, or those at or under `artifact_path`) into
// `destination`, keeping their relative paths and verifying every blob.
// Returns the files written. Throws Error(not_found) if nothing matches.
std::vector<std::filesystem::path> download_artifacts(RunStore& runs, const store::ArtifactStore& artifacts,
                                                      std::string_view run_id,
                                                      std::optional<std::string_view> artifact_path,
                                                      const std::filesystem::path& destination);

}  // namespace mlctl::tracking
