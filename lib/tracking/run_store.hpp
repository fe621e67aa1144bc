#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <mlctl/store/db.hpp>
#include <mlctl/tracking/run_types.hpp>

namespace mlctl::tracking {

// What a new run starts with.
struct NewRun {
  std::optional<std::string> id;         // chosen up front (new_run_id()) or generated
  std::string experiment;                // created if missing
  std::optional<std::string> parent_id;  // run id (or unique prefix) of the parent
  std::string kind = "command";
  std::string display_name;
  std::string description;
  std::string working_dir;
  std::optional<std::string> git_commit;
  Json command = Json::array();
  Json spec = Json::object();
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::pair<std::string, std::string>> tags;
  // Registered datasets the run reads: input name -> dataset row id
  // (lineage, kept in run_inputs).
  std::vector<std::pair<std::string, std::int64_t>> dataset_inputs;
};

// Which runs `list` returns, in what order. Empty fields do not filter.
struct RunListQuery {
  std::optional<std::string> experiment;
  std::optional<RunStatus> status;
  std::optional<std::string> parent_id;
  std::vector<std::pair<std::string, std::string>> tags;  // all must match
  std::string filter;    // the --filter grammar (run_filter.hpp)
  std::string order_by;  // the --order-by grammar; default newest first
  std::optional<std::int64_t> top;
  bool with_details = true;  // fill params, tags and latest metrics
};

// Runs and what they log, except metric series (MetricLog). Every method
// is one transaction; several processes may use one project at once.
// Not thread-safe (one per Db).
class RunStore {
 public:
  explicit RunStore(store::Db& db) : m_db(db) {}

  // Creates a queued run with a fresh id. Throws Error(not_found) for an
  // unknown parent, Error(invalid_argument) for a bad experiment name.
  Run create(const NewRun& new_run);

  // Looks a run up by id or unique id prefix (like git). nullopt if none;
  // Error(invalid_argument) if the prefix is ambiguous.
  std::optional<Run> find(std::string_view id_or_prefix, bool with_details = true);
  // As find(), Error(not_found) if none.
  Run get(std::string_view id_or_prefix, bool with_details = true);

  // Streams the matching runs to `sink` without holding them all.
  // Throws Error(parse) for a bad filter or order.
  void list(const RunListQuery& query, const std::function<void(const Run&)>& sink);

  void mark_running(std::int64_t row_id, const SupervisorInfo& supervisor);
  // Marks a queued run running without a supervisor: a run recorded from
  // outside (`mlctl run create`), ended later by `finish()`.
  void mark_running_unsupervised(std::int64_t row_id);
  void record_heartbeat(std::int64_t row_id);
  // Sets a terminal status. A run already canceled stays canceled (cancel
  // wins the race with the process ending). Returns the stored status.
  RunStatus finish(std::int64_t row_id, RunStatus status, std::optional<int> exit_code,
                   std::optional<std::string> reason);
  // Puts a failed or canceled run back in the queue to run again (resume).
  // Throws Error(already_exists) for a run in any other state.
  void requeue(std::int64_t row_id);
  // Marks a run canceled if it has not ended; returns false if it had.
  bool mark_canceled(std::int64_t row_id, std::string_view reason);

  // Params are immutable: logging a different value for a logged key throws
  // Error(already_exists); the same value again is accepted.
  void log_params(std::int64_t row_id, const std::vector<std::pair<std::string, std::string>>& params);
  // Tags are mutable: a key logged again takes the new value.
  void set_tags(std::int64_t row_id, const std::vector<std::pair<std::string, std::string>>& tags);

  void add_artifacts(std::int64_t row_id, const std::vector<ArtifactRecord>& artifacts);
  std::vector<ArtifactRecord> artifacts(std::int64_t row_id);

  // Runs whose status is queued or running (for liveness checks).
  std::vector<Run> active_runs();
  std::vector<std::string> child_ids(std::int64_t row_id);

  // Deletes the run and everything it logged (children keep existing, with
  // no parent). Artifact blobs stay in the store.
  void remove(std::int64_t row_id);

  void load_details(Run& run);

 private:
  store::Db& m_db;
};

// A fresh run id: 16 lower-case hex digits from the system's random source.
std::string new_run_id();

}  // namespace mlctl::tracking
