#include <mlctl/store/schema.hpp>

namespace mlctl::store {
namespace {

// Version 1: experiments, runs and what runs log. Metric values are
// nullable because SQLite stores NaN as NULL.
constexpr std::string_view k_v1_tracking = R"sql(
CREATE TABLE experiments (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  created_at REAL NOT NULL
);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  uid TEXT NOT NULL UNIQUE,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  parent_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  kind TEXT NOT NULL DEFAULT 'command',
  display_name TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  status_reason TEXT,
  exit_code INTEGER,
  created_at REAL NOT NULL,
  start_time REAL,
  end_time REAL,
  host TEXT NOT NULL DEFAULT '',
  working_dir TEXT NOT NULL DEFAULT '',
  git_commit TEXT,
  mlctl_version TEXT NOT NULL DEFAULT '',
  command TEXT NOT NULL DEFAULT '[]',
  spec TEXT NOT NULL DEFAULT '{}',
  supervisor_pid INTEGER,
  supervisor_start INTEGER,
  process_group INTEGER,
  heartbeat_at REAL
);
CREATE INDEX runs_experiment ON runs(experiment_id, created_at);
CREATE INDEX runs_parent ON runs(parent_id);
CREATE INDEX runs_status ON runs(status);
CREATE TABLE params (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE tags (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  timestamp REAL NOT NULL
);
CREATE INDEX metrics_run_key_step ON metrics(run_id, key, step);
CREATE TABLE artifacts (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  digest TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (run_id, path)
) WITHOUT ROWID;
)sql";

// Version 2: the last value of every metric, kept beside the series so
// that searching and listing runs never scans whole series; key/value
// indexes for --filter.
constexpr std::string_view k_v2_search = R"sql(
CREATE TABLE latest_metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value REAL,
  step INTEGER NOT NULL,
  timestamp REAL NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
INSERT INTO latest_metrics (run_id, key, value, step, timestamp)
  SELECT m.run_id, m.key, m.value, m.step, m.timestamp FROM metrics m
  WHERE m.rowid = (SELECT m2.rowid FROM metrics m2 WHERE m2.run_id = m.run_id AND m2.key = m.key
                   ORDER BY m2.step DESC, m2.timestamp DESC, m2.rowid DESC LIMIT 1);
CREATE INDEX latest_metrics_key_value ON latest_metrics(key, value);
CREATE INDEX params_key_value ON params(key, value);
CREATE INDEX tags_key_value ON tags(key, value);
)sql";

// Version 3: registered datasets (immutable, content-addressed versions
// with their schema and profile) and which datasets a run read.
constexpr std::string_view k_v3_datasets = R"sql(
CREATE TABLE datasets (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  digest TEXT NOT NULL,
  size INTEGER NOT NULL,
  file_name TEXT NOT NULL,
  format TEXT NOT NULL DEFAULT 'csv',
  row_count INTEGER NOT NULL,
  schema TEXT NOT NULL,
  profile TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '{}',
  source_path TEXT NOT NULL DEFAULT '',
  created_at REAL NOT NULL,
  UNIQUE (name, version),
  UNIQUE (name, digest)
);
CREATE TABLE run_inputs (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id),
  PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE INDEX run_inputs_dataset ON run_inputs(dataset_id);
)sql";

// Version 4: the model registry. A version's files are blobs of the
// artifact store (shared with the run that made them); aliases point at
// versions, and every move of an alias is kept in its history.
constexpr std::string_view k_v4_models = R"sql(
CREATE TABLE model_versions (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  format TEXT NOT NULL,
  content_digest TEXT NOT NULL,
  source_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  source_run_uid TEXT,
  source_path TEXT,
  description TEXT NOT NULL DEFAULT '',
  metrics TEXT NOT NULL DEFAULT '{}',
  schema TEXT NOT NULL DEFAULT 'null',
  created_at REAL NOT NULL,
  created_by TEXT NOT NULL DEFAULT '',
  archived INTEGER NOT NULL DEFAULT 0,
  UNIQUE (name, version)
);
CREATE INDEX model_versions_content ON model_versions(name, content_digest);
CREATE TABLE model_files (
  version_id INTEGER NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  digest TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (version_id, path)
) WITHOUT ROWID;
CREATE TABLE model_tags (
  version_id INTEGER NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (version_id, key)
) WITHOUT ROWID;
CREATE TABLE model_datasets (
  version_id INTEGER NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
  input TEXT NOT NULL,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id),
  PRIMARY KEY (version_id, input)
) WITHOUT ROWID;
CREATE INDEX model_datasets_dataset ON model_datasets(dataset_id);
CREATE TABLE model_aliases (
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  version_id INTEGER NOT NULL REFERENCES model_versions(id),
  set_at REAL NOT NULL,
  PRIMARY KEY (name, alias)
) WITHOUT ROWID;
CREATE TABLE model_alias_history (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER,
  previous_version INTEGER,
  reason TEXT NOT NULL DEFAULT '',
  changed_at REAL NOT NULL,
  changed_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX model_alias_history_alias ON model_alias_history(name, alias);
)sql";

// Version 5: the stat cache of pipeline step inputs: a file whose path,
// size, mtime and inode are unchanged keeps its hash, so unchanged inputs
// are not read again to compute a step's cache key.
constexpr std::string_view k_v5_file_hashes = R"sql(
CREATE TABLE file_hashes (
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  inode INTEGER NOT NULL,
  digest TEXT NOT NULL
) WITHOUT ROWID;
)sql";

// Version 6: published pipelines, immutable versioned copies of pipeline
// files (NAME:1, NAME:2...) that can be run with new parameters.
constexpr std::string_view k_v6_published_pipelines = R"sql(
CREATE TABLE published_pipelines (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  digest TEXT NOT NULL,
  yaml TEXT NOT NULL,
  source TEXT NOT NULL,
  base_dir TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at REAL NOT NULL,
  UNIQUE (name, version),
  UNIQUE (name, digest)
);
-- A published version never changes: only its enabled flag may.
CREATE TRIGGER published_pipelines_immutable BEFORE UPDATE OF name, version, digest, yaml, source, base_dir
ON published_pipelines BEGIN SELECT RAISE(ABORT, 'a published pipeline version cannot be changed'); END;
)sql";

// Version 7: environments (where services listen and how they
// authenticate), scoring services, and deployments: which model version
// each service has served, and when, for `model show` and delete refusals.
constexpr std::string_view k_v7_services = R"sql(
CREATE TABLE environments (
  name TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  port_min INTEGER NOT NULL,
  port_max INTEGER NOT NULL,
  auth TEXT NOT NULL CHECK (auth IN ('key', 'none')),
  description TEXT NOT NULL DEFAULT '',
  created_at REAL NOT NULL
) WITHOUT ROWID;
INSERT INTO environments VALUES
  ('staging', '127.0.0.1', 8100, 8149, 'none', 'pre-production checks', (julianday('now') - 2440587.5) * 86400.0),
  ('production', '127.0.0.1', 8150, 8199, 'key', 'live traffic', (julianday('now') - 2440587.5) * 86400.0);
CREATE TABLE services (
  name TEXT PRIMARY KEY,
  environment TEXT NOT NULL REFERENCES environments(name),
  model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
  model_reference TEXT NOT NULL,
  port INTEGER NOT NULL,
  threads INTEGER NOT NULL,
  max_batch INTEGER NOT NULL,
  max_delay_ms REAL NOT NULL,
  primary_key TEXT NOT NULL DEFAULT '',
  secondary_key TEXT NOT NULL DEFAULT '',
  settings TEXT NOT NULL DEFAULT '{}',
  desired_state TEXT NOT NULL DEFAULT 'running' CHECK (desired_state IN ('running', 'stopped')),
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE deployments (
  id INTEGER PRIMARY KEY,
  service TEXT NOT NULL,
  environment TEXT NOT NULL,
  model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
  started_at REAL NOT NULL,
  ended_at REAL
);
CREATE INDEX deployments_model ON deployments(model_version_id);
CREATE INDEX deployments_service ON deployments(service);
)sql";

// Version 8: drift monitors of services and what each check found and did
// (the retraining pipeline run it started, if any).
constexpr std::string_view k_v8_monitors = R"sql(
CREATE TABLE monitors (
  name TEXT PRIMARY KEY,
  service TEXT NOT NULL,
  pipeline TEXT NOT NULL,
  overrides TEXT NOT NULL DEFAULT '[]',
  thresholds TEXT NOT NULL DEFAULT '{}',
  data TEXT NOT NULL DEFAULT '',
  created_at REAL NOT NULL,
  checked_until REAL
) WITHOUT ROWID;
CREATE TABLE monitor_checks (
  id INTEGER PRIMARY KEY,
  monitor TEXT NOT NULL REFERENCES monitors(name) ON DELETE CASCADE,
  checked_at REAL NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('no_drift', 'drift', 'not_enough_data')),
  rows INTEGER NOT NULL,
  drifted_columns TEXT NOT NULL DEFAULT '[]',
  drift_run_id TEXT NOT NULL,
  pipeline_run_id TEXT,
  pipeline_status TEXT,
  action TEXT NOT NULL DEFAULT ''
);
CREATE INDEX monitor_checks_monitor ON monitor_checks(monitor, id);
)sql";

}  // namespace

const std::vector<Migration>& project_migrations() {
  static const std::vector<Migration> migrations = {
      {1, k_v1_tracking},
      {2, k_v2_search},
      {3, k_v3_datasets},
      {4, k_v4_models},
      {5, k_v5_file_hashes},
      {6, k_v6_published_pipelines},
      {7, k_v7_services},
      {8, k_v8_monitors},
  };
  return migrations;
}

int current_schema_version() { return project_migrations().back().version; }

}  // namespace mlctl::store
