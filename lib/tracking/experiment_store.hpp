#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include <mlctl/store/db.hpp>
#include <mlctl/tracking/run_types.hpp>

namespace mlctl::tracking {

// Experiments: named groups of runs. Not thread-safe (one per Db).
class ExperimentStore {
 public:
  explicit ExperimentStore(store::Db& db) : m_db(db) {}

  // Throws Error(already_exists) if the name is taken, Error(invalid_argument)
  // for an empty or over-long name.
  Experiment create(std::string_view name, std::string_view description);
  // The experiment, created on first use (as `experiment submit` does).
  Experiment ensure(std::string_view name);
  std::optional<Experiment> find(std::string_view name);
  // Throws Error(not_found) with a did-you-mean hint.
  Experiment get(std::string_view name);
  std::vector<ExperimentSummary> list();
  ExperimentSummary summarize(const Experiment& experiment);

 private:
  store::Db& m_db;
};

// Checks a user-chosen name (experiments, later datasets and models):
// 1-255 characters of letters, digits, '_', '-', '.' starting with a letter
// or digit. Throws Error(invalid_argument) naming `what`.
void validate_name(std::string_view name, std::string_view what);

}  // namespace mlctl::tracking
