#include <mlctl/pipeline/published_pipelines.hpp>

#include <charconv>

#include <fmt/format.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/names.hpp>
#include <mlctl/core/sha256.hpp>

namespace mlctl::pipeline {
namespace {

constexpr const char* k_columns = "id, name, version, digest, yaml, source, base_dir, description, enabled, created_at";

PublishedPipeline read(const store::Statement& stmt) {
  PublishedPipeline p;
  p.row_id = stmt.get_int64(0);
  p.name = stmt.get_text(1);
  p.version = int(stmt.get_int64(2));
  p.digest = stmt.get_text(3);
  p.yaml = stmt.get_text(4);
  p.source = stmt.get_text(5);
  p.base_dir = stmt.get_text(6);
  p.description = stmt.get_text(7);
  p.enabled = stmt.get_int64(8) != 0;
  p.created_at = stmt.get_double(9);
  return p;
}

std::pair<std::string, std::optional<int>> split(std::string_view reference) {
  auto colon = reference.find(':');
  if (colon == std::string_view::npos) return {std::string(reference), std::nullopt};
  std::string_view version = reference.substr(colon + 1);
  if (version == "latest") return {std::string(reference.substr(0, colon)), std::nullopt};
  int number = 0;
  auto [end, ec] = std::from_chars(version.data(), version.data() + version.size(), number);
  if (ec != std::errc() || end != version.data() + version.size() || number < 1) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("invalid published pipeline '{}': expected NAME, NAME:VERSION or NAME:latest", reference));
  }
  return {std::string(reference.substr(0, colon)), number};
}

}  // namespace

PublishedPipeline PublishedPipelines::publish(std::string_view name, std::string_view yaml, std::string_view source,
                                              std::string_view base_dir, std::string_view description, bool& created) {
  check_name(name, "pipeline name");
  std::string digest = sha256_hex(yaml);
  PublishedPipeline result;
  m_db.write_transaction([&] {
    auto existing = m_db.prepare(fmt::format("SELECT {} FROM published_pipelines WHERE name = ? AND digest = ?", k_columns));
    existing.bind(1, name).bind(2, digest);
    if (existing.step()) {
      result = read(existing);
      created = false;
      return;
    }
    auto next = m_db.prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM published_pipelines WHERE name = ?");
    next.bind(1, name);
    next.step();
    int version = int(next.get_int64(0));
    m_db.prepare(
            "INSERT INTO published_pipelines (name, version, digest, yaml, source, base_dir, description, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(1, name)
        .bind(2, version)
        .bind(3, digest)
        .bind(4, yaml)
        .bind(5, source)
        .bind(6, base_dir)
        .bind(7, description)
        .bind(8, unix_now())
        .run();
    result = get(fmt::format("{}:{}", name, version));
    created = true;
  });
  return result;
}

std::optional<PublishedPipeline> PublishedPipelines::find(std::string_view reference) {
  auto [name, version] = split(reference);
  std::string sql = fmt::format("SELECT {} FROM published_pipelines WHERE name = ?", k_columns);
  sql += version ? " AND version = ?" : " AND enabled = 1 ORDER BY version DESC LIMIT 1";
  auto stmt = m_db.prepare(sql);
  stmt.bind(1, name);
  if (version) stmt.bind(2, *version);
  if (!stmt.step()) return std::nullopt;
  return read(stmt);
}

PublishedPipeline PublishedPipelines::get(std::string_view reference) {
  if (auto found = find(reference)) return *found;
  auto [name, version] = split(reference);
  std::vector<std::string> versions;
  auto stmt = m_db.prepare("SELECT version, enabled FROM published_pipelines WHERE name = ? ORDER BY version");
  stmt.bind(1, name);
  while (stmt.step()) versions.push_back(fmt::format("{}{}", stmt.get_int64(0), stmt.get_int64(1) ? "" : " (disabled)"));
  if (versions.empty()) {
    throw Error(ErrorKind::not_found, fmt::format("no published pipeline named '{}'", name),
                "see them with: mlctl pipeline list");
  }
  throw Error(ErrorKind::not_found, fmt::format("published pipeline '{}' has no {} (versions: {})", name,
                                                version ? fmt::format("version {}", *version) : "enabled version",
                                                fmt::join(versions, ", ")));
}

std::vector<PublishedPipeline> PublishedPipelines::list(std::optional<std::string_view> name) {
  std::vector<PublishedPipeline> result;
  std::string sql = fmt::format("SELECT {} FROM published_pipelines", k_columns);
  if (name) sql += " WHERE name = ?";
  sql += " ORDER BY name, version DESC";
  auto stmt = m_db.prepare(sql);
  if (name) stmt.bind(1, *name);
  while (stmt.step()) result.push_back(read(stmt));
  return result;
}

void PublishedPipelines::set_enabled(std::string_view reference, bool enabled) {
  auto [name, version] = split(reference);
  if (!version) throw Error(ErrorKind::invalid_argument, "give the exact version: NAME:VERSION");
  PublishedPipeline pipeline = get(reference);
  m_db.write_transaction([&] {
    m_db.prepare("UPDATE published_pipelines SET enabled = ? WHERE id = ?").bind(1, enabled ? 1 : 0).bind(2, pipeline.row_id).run();
  });
}

}  // namespace mlctl::pipeline
