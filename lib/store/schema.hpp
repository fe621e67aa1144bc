#pragma once

#include <vector>

#include <mlctl/store/db.hpp>

namespace mlctl::store {

// The ordered migrations of a project database (docs/store.md describes the
// tables). A new version appends a migration; old ones never change.
const std::vector<Migration>& project_migrations();

// The schema version this build writes.
int current_schema_version();

}  // namespace mlctl::store
