#include <mlctl/tracking/run_store.hpp>

#include <fmt/format.h>

#include <cmath>
#include <unistd.h>
#include <random>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/version.hpp>
#include <mlctl/tracking/experiment_store.hpp>
#include <mlctl/tracking/run_filter.hpp>

namespace mlctl::tracking {
namespace {

// The columns every run query selects, in the order read_run() expects.
constexpr std::string_view k_run_columns =
    "r.id, r.uid, e.name, p.uid, r.kind, r.display_name, r.description, r.status, r.status_reason, "
    "r.exit_code, r.created_at, r.start_time, r.end_time, r.host, r.working_dir, r.git_commit, "
    "r.mlctl_version, r.command, r.spec, r.supervisor_pid, r.supervisor_start, r.process_group, "
    "r.heartbeat_at";
constexpr std::string_view k_run_from =
    " FROM runs r JOIN experiments e ON e.id = r.experiment_id LEFT JOIN runs p ON p.id = r.parent_id";

Run read_run(const store::Statement& stmt) {
  Run run;
  run.row_id = stmt.get_int64(0);
  run.id = stmt.get_text(1);
  run.experiment = stmt.get_text(2);
  run.parent_id = stmt.get_optional_text(3);
  run.kind = stmt.get_text(4);
  run.display_name = stmt.get_text(5);
  run.description = stmt.get_text(6);
  run.status = parse_run_status(stmt.get_text_view(7));
  run.status_reason = stmt.get_optional_text(8);
  if (auto code = stmt.get_optional_int64(9)) run.exit_code = int(*code);
  run.created_at = stmt.get_double(10);
  run.start_time = stmt.get_optional_double(11);
  run.end_time = stmt.get_optional_double(12);
  run.host = stmt.get_text(13);
  run.working_dir = stmt.get_text(14);
  run.git_commit = stmt.get_optional_text(15);
  run.mlctl_version = stmt.get_text(16);
  run.command = Json::parse(stmt.get_text_view(17));
  run.spec = Json::parse(stmt.get_text_view(18));
  run.supervisor_pid = stmt.get_optional_int64(19);
  run.supervisor_start = stmt.get_optional_int64(20);
  run.process_group = stmt.get_optional_int64(21);
  run.heartbeat_at = stmt.get_optional_double(22);
  return run;
}

// Reads params, tags and latest metrics with statements prepared once per
// listing rather than once per run.
class DetailLoader {
 public:
  explicit DetailLoader(store::Db& db)
      : m_params(db.prepare("SELECT key, value FROM params WHERE run_id = ?")),
        m_tags(db.prepare("SELECT key, value FROM tags WHERE run_id = ?")),
        m_metrics(db.prepare("SELECT key, value, step, timestamp FROM latest_metrics WHERE run_id = ?")) {}

  void load(Run& run) {
    run.params.clear();
    run.tags.clear();
    run.metrics.clear();
    read_pairs(m_params, run.row_id, run.params);
    read_pairs(m_tags, run.row_id, run.tags);
    m_metrics.reset();
    m_metrics.bind(1, run.row_id);
    while (m_metrics.step()) {
      MetricPoint point;
      point.key = m_metrics.get_text(0);
      point.value = m_metrics.is_null(1) ? std::nan("") : m_metrics.get_double(1);
      point.step = m_metrics.get_int64(2);
      point.timestamp = m_metrics.get_double(3);
      run.metrics.emplace(point.key, std::move(point));
    }
  }

 private:
  static void read_pairs(store::Statement& stmt, std::int64_t row_id, std::map<std::string, std::string>& out) {
    stmt.reset();
    stmt.bind(1, row_id);
    while (stmt.step()) out.emplace(stmt.get_text(0), stmt.get_text(1));
  }

  store::Statement m_params;
  store::Statement m_tags;
  store::Statement m_metrics;
};

std::string local_host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

}  // namespace

std::string new_run_id() {
  std::random_device source;
  std::uint64_t value = (std::uint64_t(source()) << 32) | source();
  return fmt::format("{:016x}", value);
}

Run RunStore::create(const NewRun& new_run) {
  ExperimentStore experiments(m_db);
  std::string uid;
  std::int64_t row_id = 0;
  m_db.write_transaction([&] {
    Experiment experiment = experiments.ensure(new_run.experiment);
    std::optional<std::int64_t> parent_row;
    if (new_run.parent_id) parent_row = get(*new_run.parent_id, false).row_id;
    uid = new_run.id ? *new_run.id : new_run_id();
    auto insert = m_db.prepare(
        "INSERT INTO runs (uid, experiment_id, parent_id, kind, display_name, description, status, "
        "created_at, host, working_dir, git_commit, mlctl_version, command, spec) "
        "VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, uid)
        .bind(2, experiment.row_id)
        .bind(3, parent_row)
        .bind(4, new_run.kind)
        .bind(5, new_run.display_name)
        .bind(6, new_run.description)
        .bind(7, unix_now())
        .bind(8, local_host_name())
        .bind(9, new_run.working_dir)
        .bind(10, new_run.git_commit)
        .bind(11, mlctl_version())
        .bind(12, new_run.command.dump())
        .bind(13, new_run.spec.dump())
        .run();
    row_id = m_db.last_insert_rowid();
    auto input = m_db.prepare("INSERT INTO run_inputs (run_id, name, dataset_id) VALUES (?, ?, ?)");
    for (const auto& [name, dataset_row_id] : new_run.dataset_inputs) {
      input.reset();
      input.bind(1, row_id).bind(2, name).bind(3, dataset_row_id).run();
    }
    log_params(row_id, new_run.params);
    set_tags(row_id, new_run.tags);
  });
  return get(uid);
}

std::optional<Run> RunStore::find(std::string_view id_or_prefix, bool with_details) {
  if (id_or_prefix.empty()) return std::nullopt;
  // A range scan on the unique index serves both exact ids and prefixes.
  std::string upper = std::string(id_or_prefix) + "\xff";
  auto stmt = m_db.prepare(fmt::format("SELECT {}{} WHERE r.uid >= ? AND r.uid < ? ORDER BY r.uid LIMIT 2",
                                       k_run_columns, k_run_from));
  stmt.bind(1, id_or_prefix).bind(2, upper);
  if (!stmt.step()) return std::nullopt;
  Run run = read_run(stmt);
  if (run.id != id_or_prefix && stmt.step()) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("run id prefix '{}' is ambiguous (it matches {} and {} at least)", id_or_prefix,
                            run.id, stmt.get_text(1)),
                "give more characters of the id");
  }
  if (with_details) load_details(run);
  return run;
}

Run RunStore::get(std::string_view id_or_prefix, bool with_details) {
  if (auto run = find(id_or_prefix, with_details)) return *run;
  throw Error(ErrorKind::not_found, fmt::format("no run with id '{}'", id_or_prefix),
              "'mlctl run list' shows the runs of this project");
}

void RunStore::load_details(Run& run) { DetailLoader(m_db).load(run); }

void RunStore::list(const RunListQuery& query, const std::function<void(const Run&)>& sink) {
  std::string sql = fmt::format("SELECT {}{} WHERE 1", k_run_columns, k_run_from);
  std::vector<store::SqlValue> params;
  if (query.experiment) {
    sql += " AND e.name = ?";
    params.emplace_back(*query.experiment);
  }
  if (query.status) {
    sql += " AND r.status = ?";
    params.emplace_back(std::string(to_string(*query.status)));
  }
  if (query.parent_id) {
    sql += " AND r.parent_id = ?";
    params.emplace_back(get(*query.parent_id, false).row_id);
  }
  for (const auto& [key, value] : query.tags) {
    sql += " AND EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.key = ? AND t.value = ?)";
    params.emplace_back(key);
    params.emplace_back(value);
  }
  if (!query.filter.empty()) {
    SqlFragment filter = compile_run_filter(query.filter);
    sql += " AND (" + filter.sql + ")";
    for (auto& value : filter.params) params.emplace_back(std::move(value));
  }
  if (!query.order_by.empty()) {
    SqlFragment order = compile_run_order(query.order_by);
    sql += " ORDER BY " + order.sql;
    for (auto& value : order.params) params.emplace_back(std::move(value));
  } else {
    sql += " ORDER BY r.created_at DESC, r.id DESC";
  }
  if (query.top) {
    sql += " LIMIT ?";
    params.emplace_back(*query.top);
  }
  m_db.read_transaction([&] {
    auto stmt = m_db.prepare(sql);
    stmt.bind_all(params);
    std::optional<DetailLoader> details;
    if (query.with_details) details.emplace(m_db);
    while (stmt.step()) {
      Run run = read_run(stmt);
      if (details) details->load(run);
      sink(run);
    }
  });
}

void RunStore::mark_running(std::int64_t row_id, const SupervisorInfo& supervisor) {
  double now = unix_now();
  m_db.prepare(
          "UPDATE runs SET status = 'running', start_time = ?, heartbeat_at = ?, supervisor_pid = ?, "
          "supervisor_start = ?, process_group = ?, host = ? WHERE id = ? AND status = 'queued'")
      .bind(1, now)
      .bind(2, now)
      .bind(3, supervisor.pid)
      .bind(4, supervisor.start_ticks)
      .bind(5, supervisor.process_group)
      .bind(6, supervisor.host)
      .bind(7, row_id)
      .run();
}

void RunStore::mark_running_unsupervised(std::int64_t row_id) {
  m_db.prepare("UPDATE runs SET status = 'running', start_time = ? WHERE id = ? AND status = 'queued'")
      .bind(1, unix_now())
      .bind(2, row_id)
      .run();
}

void RunStore::record_heartbeat(std::int64_t row_id) {
  m_db.prepare("UPDATE runs SET heartbeat_at = ? WHERE id = ?").bind(1, unix_now()).bind(2, row_id).run();
}

RunStatus RunStore::finish(std::int64_t row_id, RunStatus status, std::optional<int> exit_code,
                           std::optional<std::string> reason) {
  RunStatus stored = status;
  m_db.write_transaction([&] {
    auto current = m_db.prepare("SELECT status FROM runs WHERE id = ?");
    current.bind(1, row_id);
    if (!current.step()) throw Error(ErrorKind::not_found, "the run was deleted while it ran");
    RunStatus before = parse_run_status(current.get_text_view(0));
    double now = unix_now();
    if (before == RunStatus::canceled) {
      stored = RunStatus::canceled;
      m_db.prepare("UPDATE runs SET exit_code = coalesce(exit_code, ?), end_time = coalesce(end_time, ?) WHERE id = ?")
          .bind(1, exit_code)
          .bind(2, now)
          .bind(3, row_id)
          .run();
      return;
    }
    m_db.prepare(
            "UPDATE runs SET status = ?, exit_code = ?, status_reason = ?, end_time = ?, "
            "start_time = coalesce(start_time, ?) WHERE id = ?")
        .bind(1, to_string(status))
        .bind(2, exit_code)
        .bind(3, reason)
        .bind(4, now)
        .bind(5, now)
        .bind(6, row_id)
        .run();
  });
  return stored;
}

void RunStore::requeue(std::int64_t row_id) {
  m_db.prepare(
          "UPDATE runs SET status = 'queued', status_reason = NULL, exit_code = NULL, end_time = NULL, "
          "supervisor_pid = NULL, supervisor_start = NULL, process_group = NULL WHERE id = ? "
          "AND status IN ('failed', 'canceled')")
      .bind(1, row_id)
      .run();
  if (m_db.changes() == 0) {
    throw Error(ErrorKind::already_exists, "only a failed or canceled run can be resumed");
  }
}

bool RunStore::mark_canceled(std::int64_t row_id, std::string_view reason) {
  m_db.prepare(
          "UPDATE runs SET status = 'canceled', status_reason = ?, end_time = coalesce(end_time, ?) "
          "WHERE id = ? AND status IN ('queued', 'running')")
      .bind(1, reason)
      .bind(2, unix_now())
      .bind(3, row_id)
      .run();
  return m_db.changes() > 0;
}

void RunStore::log_params(std::int64_t row_id, const std::vector<std::pair<std::string, std::string>>& params) {
  if (params.empty()) return;
  m_db.write_transaction([&] {
    auto existing = m_db.prepare("SELECT value FROM params WHERE run_id = ? AND key = ?");
    auto insert = m_db.prepare("INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)");
    for (const auto& [key, value] : params) {
      if (key.empty()) throw Error(ErrorKind::invalid_argument, "a param needs a non-empty name");
      existing.reset();
      existing.bind(1, row_id).bind(2, key);
      if (existing.step()) {
        if (existing.get_text_view(0) == value) continue;
        throw Error(ErrorKind::already_exists,
                    fmt::format("param '{}' is already logged as '{}' and params cannot change (got '{}')", key,
                                existing.get_text(0), value),
                    "log a tag or a metric for values that change");
      }
      insert.reset();
      insert.bind(1, row_id).bind(2, key).bind(3, value).run();
    }
  });
}

void RunStore::set_tags(std::int64_t row_id, const std::vector<std::pair<std::string, std::string>>& tags) {
  if (tags.empty()) return;
  m_db.write_transaction([&] {
    auto upsert = m_db.prepare(
        "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) "
        "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value");
    for (const auto& [key, value] : tags) {
      if (key.empty()) throw Error(ErrorKind::invalid_argument, "a tag needs a non-empty name");
      upsert.reset();
      upsert.bind(1, row_id).bind(2, key).bind(3, value).run();
    }
  });
}

void RunStore::add_artifacts(std::int64_t row_id, const std::vector<ArtifactRecord>& artifacts) {
  if (artifacts.empty()) return;
  m_db.write_transaction([&] {
    auto upsert = m_db.prepare(
        "INSERT INTO artifacts (run_id, path, digest, size) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (run_id, path) DO UPDATE SET digest = excluded.digest, size = excluded.size");
    for (const auto& artifact : artifacts) {
      upsert.reset();
      upsert.bind(1, row_id).bind(2, artifact.path).bind(3, artifact.digest).bind(4, std::int64_t(artifact.size)).run();
    }
  });
}

std::vector<ArtifactRecord> RunStore::artifacts(std::int64_t row_id) {
  std::vector<ArtifactRecord> result;
  auto stmt = m_db.prepare("SELECT path, digest, size FROM artifacts WHERE run_id = ? ORDER BY path");
  stmt.bind(1, row_id);
  while (stmt.step()) result.push_back({stmt.get_text(0), stmt.get_text(1), std::uint64_t(stmt.get_int64(2))});
  return result;
}

std::vector<Run> RunStore::active_runs() {
  std::vector<Run> result;
  auto stmt = m_db.prepare(fmt::format("SELECT {}{} WHERE r.status IN ('queued', 'running')", k_run_columns, k_run_from));
  while (stmt.step()) result.push_back(read_run(stmt));
  return result;
}

std::vector<std::string> RunStore::child_ids(std::int64_t row_id) {
  std::vector<std::string> result;
  auto stmt = m_db.prepare("SELECT uid FROM runs WHERE parent_id = ? ORDER BY created_at");
  stmt.bind(1, row_id);
  while (stmt.step()) result.push_back(stmt.get_text(0));
  return result;
}

void RunStore::remove(std::int64_t row_id) {
  m_db.write_transaction([&] { m_db.prepare("DELETE FROM runs WHERE id = ?").bind(1, row_id).run(); });
}

}  // namespace mlctl::tracking
