#include <mlctl/data/dataset_store.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/did_you_mean.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/sha256.hpp>
#include <mlctl/data/column_profile.hpp>
#include <mlctl/data/csv.hpp>
#include <mlctl/data/table_schema.hpp>
#include <mlctl/tracking/experiment_store.hpp>

namespace mlctl::data {
namespace {

constexpr std::string_view k_dataset_columns =
    "id, name, version, digest, size, file_name, format, row_count, schema, profile, description, tags, "
    "source_path, created_at";

// Reads the k_dataset_columns starting at column `first`.
DatasetVersion read_dataset(const store::Statement& stmt, int first = 0) {
  DatasetVersion dataset;
  dataset.row_id = stmt.get_int64(first + 0);
  dataset.name = stmt.get_text(first + 1);
  dataset.version = int(stmt.get_int64(first + 2));
  dataset.digest = stmt.get_text(first + 3);
  dataset.size = std::uint64_t(stmt.get_int64(first + 4));
  dataset.file_name = stmt.get_text(first + 5);
  dataset.format = stmt.get_text(first + 6);
  dataset.row_count = stmt.get_int64(first + 7);
  dataset.schema = Json::parse(stmt.get_text_view(first + 8));
  dataset.profile = Json::parse(stmt.get_text_view(first + 9));
  dataset.description = stmt.get_text(first + 10);
  dataset.tags = Json::parse(stmt.get_text_view(first + 11)).get<std::map<std::string, std::string>>();
  dataset.source_path = stmt.get_text(first + 12);
  dataset.created_at = stmt.get_double(first + 13);
  return dataset;
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::string DatasetRef::to_string() const {
  return version ? fmt::format("{}:{}", name, *version) : name + ":latest";
}

DatasetRef parse_dataset_ref(std::string_view text) {
  std::string_view rest = text;
  if (rest.starts_with("azureml:")) rest.remove_prefix(8);
  DatasetRef ref;
  auto at = rest.find('@');
  auto colon = rest.find(':');
  if (at != std::string_view::npos) {
    if (rest.substr(at + 1) != "latest") {
      throw Error(ErrorKind::invalid_argument,
                  fmt::format("dataset reference '{}': only the label @latest is known", text));
    }
    ref.name = std::string(rest.substr(0, at));
  } else if (colon != std::string_view::npos) {
    ref.name = std::string(rest.substr(0, colon));
    std::string_view version = rest.substr(colon + 1);
    if (version != "latest") {
      if (!all_digits(version) || version.size() > 9 || std::stoi(std::string(version)) < 1) {
        throw Error(ErrorKind::invalid_argument,
                    fmt::format("dataset reference '{}': expected NAME, NAME:VERSION (a number from 1) or NAME:latest",
                                text));
      }
      ref.version = std::stoi(std::string(version));
    }
  } else {
    ref.name = std::string(rest);
  }
  tracking::validate_name(ref.name, "dataset");
  return ref;
}

Json to_json(const DatasetVersion& dataset, bool with_profile) {
  Json json = Json::object();
  json["name"] = dataset.name;
  json["version"] = dataset.version;
  json["ref"] = dataset.ref();
  json["rows"] = dataset.row_count;
  json["columns"] = dataset.schema.contains("columns") ? dataset.schema["columns"].size() : 0;
  json["size"] = dataset.size;
  json["sha256"] = dataset.digest;
  json["file_name"] = dataset.file_name;
  json["format"] = dataset.format;
  json["description"] = dataset.description;
  json["tags"] = dataset.tags;
  json["source_path"] = dataset.source_path;
  json["created_at"] = format_iso8601(dataset.created_at);
  json["schema"] = dataset.schema;
  if (with_profile) json["profile"] = dataset.profile;
  return json;
}

RegisterResult DatasetStore::register_file(const RegisterRequest& request) {
  tracking::validate_name(request.name, "dataset");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(request.path, ec)) {
    throw Error(ErrorKind::not_found, fmt::format("'{}' is not a file", request.path.string()));
  }
  auto missing_label = [&](const std::vector<std::string>& names) {
    return Error(ErrorKind::invalid_argument,
                 fmt::format("{}: no column '{}' to use as the label{}", request.path.string(), *request.label,
                             did_you_mean_hint(*request.label, names)));
  };
  // One read. Content registered under this name before is recognised by
  // its digest and not parsed and profiled again (a train job that names a
  // file registers it at every submit).
  std::string content = read_file(request.path);
  std::string digest = sha256_hex(content);
  if (auto known = find_content(request.name, digest)) {
    if (request.label) {
      std::vector<std::string> names;
      for (const auto& column : TableSchema::from_json(known->schema).columns) names.push_back(column.name);
      if (std::find(names.begin(), names.end(), *request.label) == names.end()) throw missing_label(names);
    }
    return {*known, false};
  }
  // Parse first: a malformed file must fail before anything is stored.
  CsvTable table = parse_csv(content, request.path.string());
  if (request.label && !table.find_column(*request.label)) throw missing_label(table.column_names());
  TableSchema schema = infer_schema(table, request.label);
  Json profile = profile_table(table, schema);
  store::StoredBlob blob = m_artifacts.put_bytes(content, digest);

  RegisterResult result;
  m_db.write_transaction([&] {
    // Checked again under the write lock: another process may have
    // registered the same content meanwhile.
    if (auto known = find_content(request.name, blob.digest)) {
      result.dataset = *known;
      result.created = false;
      return;
    }
    auto next = m_db.prepare("SELECT coalesce(max(version), 0) + 1 FROM datasets WHERE name = ?");
    next.bind(1, request.name);
    next.step();
    int version = int(next.get_int64(0));
    Json tags = request.tags;
    m_db.prepare(
            "INSERT INTO datasets (name, version, digest, size, file_name, format, row_count, schema, profile, "
            "description, tags, source_path, created_at) VALUES (?, ?, ?, ?, ?, 'csv', ?, ?, ?, ?, ?, ?, ?)")
        .bind(1, request.name)
        .bind(2, version)
        .bind(3, blob.digest)
        .bind(4, std::int64_t(blob.size))
        .bind(5, request.path.filename().string())
        .bind(6, std::int64_t(table.row_count()))
        .bind(7, schema.to_json().dump())
        .bind(8, profile.dump())
        .bind(9, request.description)
        .bind(10, tags.dump())
        .bind(11, std::filesystem::absolute(request.path, ec).string())
        .bind(12, unix_now())
        .run();
    result.dataset = *find(DatasetRef{request.name, version});
    result.created = true;
  });
  return result;
}

std::optional<DatasetVersion> DatasetStore::find_content(std::string_view name, std::string_view digest) {
  auto stmt = m_db.prepare(fmt::format("SELECT {} FROM datasets WHERE name = ? AND digest = ?", k_dataset_columns));
  stmt.bind(1, name).bind(2, digest);
  if (!stmt.step()) return std::nullopt;
  return read_dataset(stmt);
}

std::optional<DatasetVersion> DatasetStore::find(const DatasetRef& ref) {
  auto stmt = ref.version ? m_db.prepare(fmt::format("SELECT {} FROM datasets WHERE name = ? AND version = ?",
                                                     k_dataset_columns))
                          : m_db.prepare(fmt::format(
                                "SELECT {} FROM datasets WHERE name = ? ORDER BY version DESC LIMIT 1",
                                k_dataset_columns));
  stmt.bind(1, ref.name);
  if (ref.version) stmt.bind(2, *ref.version);
  if (!stmt.step()) return std::nullopt;
  return read_dataset(stmt);
}

DatasetVersion DatasetStore::get(const DatasetRef& ref) {
  if (auto dataset = find(ref)) return *dataset;
  auto versions = list(ref.name);
  if (!versions.empty()) {
    throw Error(ErrorKind::not_found,
                fmt::format("dataset '{}' has no version {} (the newest is {})", ref.name, *ref.version,
                            versions.back().version));
  }
  std::vector<std::string> names;
  for (const auto& dataset : list()) names.push_back(dataset.name);
  throw Error(ErrorKind::not_found, fmt::format("no dataset named '{}'{}", ref.name, did_you_mean_hint(ref.name, names)),
              "'mlctl data list' shows the registered datasets");
}

std::vector<DatasetVersion> DatasetStore::list(std::optional<std::string_view> name) {
  std::vector<DatasetVersion> result;
  auto stmt = name ? m_db.prepare(fmt::format("SELECT {} FROM datasets WHERE name = ? ORDER BY version",
                                              k_dataset_columns))
                   : m_db.prepare(fmt::format("SELECT {} FROM datasets ORDER BY name, version", k_dataset_columns));
  if (name) stmt.bind(1, *name);
  while (stmt.step()) result.push_back(read_dataset(stmt));
  return result;
}

std::string DatasetStore::read_verified(const DatasetVersion& dataset) { return m_artifacts.read(dataset.digest); }

std::filesystem::path DatasetStore::verified_path(const DatasetVersion& dataset) {
  m_artifacts.verify(dataset.digest);
  return m_artifacts.path_of(dataset.digest);
}

std::filesystem::path DatasetStore::download(const DatasetVersion& dataset, const std::filesystem::path& destination) {
  std::error_code ec;
  std::filesystem::path target = destination;
  if (std::filesystem::is_directory(destination, ec) || destination.string().ends_with("/")) {
    target = destination / dataset.file_name;
  }
  m_artifacts.copy_out(dataset.digest, target);
  return target;
}

std::vector<std::string> DatasetStore::referencing_runs(const DatasetVersion& dataset) {
  std::vector<std::string> ids;
  auto stmt = m_db.prepare(
      "SELECT DISTINCT r.uid FROM run_inputs i JOIN runs r ON r.id = i.run_id WHERE i.dataset_id = ? ORDER BY r.uid");
  stmt.bind(1, dataset.row_id);
  while (stmt.step()) ids.push_back(stmt.get_text(0));
  return ids;
}

void DatasetStore::record_run_input(std::int64_t run_row_id, std::string_view input_name, const DatasetVersion& dataset) {
  m_db.prepare("INSERT OR REPLACE INTO run_inputs (run_id, name, dataset_id) VALUES (?, ?, ?)")
      .bind(1, run_row_id)
      .bind(2, input_name)
      .bind(3, dataset.row_id)
      .run();
}

std::vector<std::pair<std::string, DatasetVersion>> DatasetStore::run_inputs(std::int64_t run_row_id) {
  std::vector<std::pair<std::string, DatasetVersion>> result;
  auto stmt = m_db.prepare(
      "SELECT i.name, d.id, d.name, d.version, d.digest, d.size, d.file_name, d.format, d.row_count, d.schema, "
      "d.profile, d.description, d.tags, d.source_path, d.created_at "
      "FROM run_inputs i JOIN datasets d ON d.id = i.dataset_id WHERE i.run_id = ? ORDER BY i.name");
  stmt.bind(1, run_row_id);
  while (stmt.step()) result.emplace_back(stmt.get_text(0), read_dataset(stmt, 1));
  return result;
}

void DatasetStore::remove(const DatasetVersion& dataset, bool force) {
  m_db.write_transaction([&] {
    std::vector<std::string> models;
    auto model_stmt = m_db.prepare(
        "SELECT DISTINCT v.name || ':' || v.version FROM model_datasets m JOIN model_versions v ON v.id = m.version_id "
        "WHERE m.dataset_id = ? ORDER BY 1");
    model_stmt.bind(1, dataset.row_id);
    while (model_stmt.step()) models.push_back(model_stmt.get_text(0));
    if (!models.empty() && !force) {
      throw Error(ErrorKind::already_exists,
                  fmt::format("dataset {} trained {} registered model(s) ({}{})", dataset.ref(), models.size(),
                              models.front(), models.size() > 1 ? ", ..." : ""),
                  "pass --force to delete it anyway (those models lose their lineage to it)");
    }
    auto runs = referencing_runs(dataset);
    if (!runs.empty() && !force) {
      throw Error(ErrorKind::already_exists,
                  fmt::format("dataset {} is an input of {} run(s) ({}{})", dataset.ref(), runs.size(), runs.front(),
                              runs.size() > 1 ? ", ..." : ""),
                  "pass --force to delete it anyway (those runs lose their lineage to it)");
    }
    m_db.prepare("DELETE FROM model_datasets WHERE dataset_id = ?").bind(1, dataset.row_id).run();
    m_db.prepare("DELETE FROM run_inputs WHERE dataset_id = ?").bind(1, dataset.row_id).run();
    m_db.prepare("DELETE FROM datasets WHERE id = ?").bind(1, dataset.row_id).run();
  });
}

std::string dataset_name_for(const std::filesystem::path& path) {
  std::string name;
  for (char c : path.stem().string()) {
    name += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ? c : '-';
  }
  if (name.empty() || !std::isalnum(static_cast<unsigned char>(name[0]))) name = "data" + name;
  return name;
}

tracking::DatasetResolver dataset_resolver(store::Db& db, store::ArtifactStore& artifacts) {
  return [&db, &artifacts](std::string_view reference) {
    DatasetStore datasets(db, artifacts);
    DatasetVersion dataset = datasets.get(parse_dataset_ref(reference));
    return tracking::ResolvedDataset{dataset.row_id, dataset.ref(), datasets.verified_path(dataset), dataset.file_name};
  };
}

}  // namespace mlctl::data
