#pragma once

// The server process of a service (`mlctl service serve NAME`, started in
// the background by start_service): loads the model, warms it up, listens,
// and answers until SIGTERM; SIGHUP makes it re-read its record and swap
// in a new model without dropping a request.

#include <mlctl/store/project.hpp>

#include <string_view>

namespace mlctl::serving {

// Runs the service until it is stopped. Returns the process exit code: 0
// after a clean stop; throws Error with the reason it could not start (also
// written to status.json as state "failed").
int run_service(const store::ProjectPaths& project, std::string_view name);

}  // namespace mlctl::serving
