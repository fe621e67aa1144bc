#include <mlctl/tracking/experiment_store.hpp>

#include <fmt/format.h>

#include <cctype>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/did_you_mean.hpp>
#include <mlctl/core/error.hpp>

namespace mlctl::tracking {

void validate_name(std::string_view name, std::string_view what) {
  auto valid_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  };
  bool ok = !name.empty() && name.size() <= 255 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name) ok = ok && valid_char(c);
  if (!ok) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("invalid {} name '{}': expected 1-255 letters, digits, '_', '-' or '.', "
                            "starting with a letter or digit",
                            what, name));
  }
}

Experiment ExperimentStore::create(std::string_view name, std::string_view description) {
  validate_name(name, "experiment");
  Experiment experiment;
  m_db.write_transaction([&] {
    if (find(name)) {
      throw Error(ErrorKind::already_exists, fmt::format("experiment '{}' already exists", name));
    }
    double now = unix_now();
    m_db.prepare("INSERT INTO experiments (name, description, created_at) VALUES (?, ?, ?)")
        .bind(1, name)
        .bind(2, description)
        .bind(3, now)
        .run();
    experiment = {m_db.last_insert_rowid(), std::string(name), std::string(description), now};
  });
  return experiment;
}

Experiment ExperimentStore::ensure(std::string_view name) {
  if (auto existing = find(name)) return *existing;
  validate_name(name, "experiment");
  Experiment experiment;
  m_db.write_transaction([&] {
    // Another process may have created it since the check above.
    m_db.prepare("INSERT OR IGNORE INTO experiments (name, description, created_at) VALUES (?, '', ?)")
        .bind(1, name)
        .bind(2, unix_now())
        .run();
    experiment = *find(name);
  });
  return experiment;
}

std::optional<Experiment> ExperimentStore::find(std::string_view name) {
  auto stmt = m_db.prepare("SELECT id, name, description, created_at FROM experiments WHERE name = ?");
  stmt.bind(1, name);
  if (!stmt.step()) return std::nullopt;
  return Experiment{stmt.get_int64(0), stmt.get_text(1), stmt.get_text(2), stmt.get_double(3)};
}

Experiment ExperimentStore::get(std::string_view name) {
  if (auto experiment = find(name)) return *experiment;
  std::vector<std::string> names;
  for (const auto& summary : list()) names.push_back(summary.experiment.name);
  throw Error(ErrorKind::not_found, fmt::format("no experiment named '{}'{}", name, did_you_mean_hint(name, names)));
}

ExperimentSummary ExperimentStore::summarize(const Experiment& experiment) {
  auto stmt = m_db.prepare("SELECT count(*), max(created_at) FROM runs WHERE experiment_id = ?");
  stmt.bind(1, experiment.row_id);
  stmt.step();
  return {experiment, stmt.get_int64(0), stmt.get_optional_double(1)};
}

std::vector<ExperimentSummary> ExperimentStore::list() {
  std::vector<ExperimentSummary> result;
  auto stmt = m_db.prepare(
      "SELECT e.id, e.name, e.description, e.created_at, count(r.id), max(r.created_at) "
      "FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id GROUP BY e.id ORDER BY e.name");
  while (stmt.step()) {
    result.push_back({{stmt.get_int64(0), stmt.get_text(1), stmt.get_text(2), stmt.get_double(3)},
                      stmt.get_int64(4),
                      stmt.get_optional_double(5)});
  }
  return result;
}

}  // namespace mlctl::tracking
