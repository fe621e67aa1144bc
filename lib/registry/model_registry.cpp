#include <mlctl/registry/model_registry.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/sha256.hpp>
#include <mlctl/data/csv.hpp>
#include <mlctl/data/dataset_store.hpp>
#include <mlctl/core/names.hpp>
#include <mlctl/data/table_schema.hpp>
#include <mlctl/tracking/run_store.hpp>

namespace mlctl::registry {
namespace {

namespace fs = std::filesystem;

std::string current_user() {
  for (const char* variable : {"MLCTL_USER", "USER", "LOGNAME"}) {
    if (const char* value = std::getenv(variable); value && *value) return value;
  }
  return "unknown";
}

std::string content_digest(std::vector<ModelFile> files) {
  std::sort(files.begin(), files.end(), [](const ModelFile& a, const ModelFile& b) { return a.path < b.path; });
  std::string listing;
  for (const auto& file : files) listing += file.path + " " + file.digest + "\n";
  return sha256_hex(listing);
}

constexpr const char* k_columns =
    "v.id, v.name, v.version, v.format, v.content_digest, v.source_run_uid, v.source_path, v.description, "
    "v.metrics, v.schema, v.created_at, v.created_by, v.archived";

ModelVersion read_version(const store::Statement& stmt) {
  ModelVersion model;
  model.row_id = stmt.get_int64(0);
  model.name = stmt.get_text(1);
  model.version = int(stmt.get_int64(2));
  model.format = stmt.get_text(3);
  model.content_digest = stmt.get_text(4);
  model.source_run = stmt.get_optional_text(5);
  model.source_path = stmt.get_optional_text(6);
  model.description = stmt.get_text(7);
  model.metrics = Json::parse(stmt.get_text(8));
  model.schema = Json::parse(stmt.get_text(9));
  model.created_at = stmt.get_double(10);
  model.created_by = stmt.get_text(11);
  model.archived = stmt.get_int64(12) != 0;
  return model;
}

// The schema a built-in model carries in its model.json.
Json schema_of_model_json(const Json& model) {
  Json schema = Json::object();
  schema["inputs"] = model.value("input_schema", Json::array());
  Json outputs = Json::object();
  outputs["task"] = model.value("task", "");
  outputs["label"] = model.value("label", "");
  if (model.contains("class_names")) outputs["classes"] = model["class_names"];
  schema["outputs"] = outputs;
  return schema;
}

void check_schema(const Json& schema, std::string_view source) {
  if (!schema.is_object() || !schema.contains("inputs") || !schema["inputs"].is_array() || schema["inputs"].empty()) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("{}: a model schema needs \"inputs\": a non-empty list of {{\"name\", \"type\"}}", source));
  }
  for (std::size_t i = 0; i < schema["inputs"].size(); ++i) {
    const Json& input = schema["inputs"][i];
    if (!input.is_object() || !input.contains("name") || !input["name"].is_string()) {
      throw Error(ErrorKind::invalid_argument, fmt::format("{}: inputs[{}] needs a \"name\"", source, i));
    }
    std::string type = input.value("type", "numeric");
    if (type != "numeric" && type != "categorical" && type != "text") {
      throw Error(ErrorKind::invalid_argument,
                  fmt::format("{}: inputs[{}] ('{}'): type must be numeric, categorical or text, not '{}'", source, i,
                              input["name"].get<std::string>(), type));
    }
  }
}

}  // namespace

std::string ModelRef::to_string() const {
  if (alias) return name + "@" + *alias;
  if (version) return name + ":" + std::to_string(*version);
  return name;
}

ModelRef parse_model_ref(std::string_view text) {
  constexpr std::string_view prefix = "azureml:";
  if (text.substr(0, prefix.size()) == prefix) text.remove_prefix(prefix.size());
  ModelRef ref;
  auto at = text.find('@');
  auto colon = text.find(':');
  if (at != std::string_view::npos) {
    ref.name = std::string(text.substr(0, at));
    ref.alias = std::string(text.substr(at + 1));
    check_name(*ref.alias, "alias");
  } else if (colon != std::string_view::npos) {
    ref.name = std::string(text.substr(0, colon));
    std::string_view version = text.substr(colon + 1);
    if (version != "latest") {
      int number = 0;
      auto [end, ec] = std::from_chars(version.data(), version.data() + version.size(), number);
      if (ec != std::errc() || end != version.data() + version.size() || number < 1) {
        throw Error(ErrorKind::invalid_argument,
                    fmt::format("invalid model reference '{}': expected NAME, NAME:VERSION (a number from 1), "
                                "NAME:latest or NAME@ALIAS",
                                text));
      }
      ref.version = number;
    }
  } else {
    ref.name = std::string(text);
  }
  check_name(ref.name, "model name");
  return ref;
}

Json to_json(const ModelVersion& model) {
  Json json = Json::object();
  json["name"] = model.name;
  json["version"] = model.version;
  json["ref"] = model.ref();
  json["format"] = model.format;
  json["aliases"] = model.aliases;
  json["archived"] = model.archived;
  json["description"] = model.description;
  json["source_run"] = model.source_run ? Json(*model.source_run) : Json(nullptr);
  json["source_path"] = model.source_path ? Json(*model.source_path) : Json(nullptr);
  Json datasets = Json::object();
  for (const auto& [input, ref] : model.datasets) datasets[input] = ref;
  json["datasets"] = datasets;
  json["metrics"] = model.metrics;
  Json tags = Json::object();
  for (const auto& [key, value] : model.tags) tags[key] = value;
  json["tags"] = tags;
  json["schema"] = model.schema;
  Json files = Json::array();
  for (const auto& file : model.files) files.push_back({{"path", file.path}, {"sha256", file.digest}, {"size", file.size}});
  json["files"] = files;
  json["content_digest"] = model.content_digest;
  json["created_at"] = format_iso8601(model.created_at);
  json["created_by"] = model.created_by;
  Json deployments = Json::array();
  for (const auto& deployment : model.deployments) {
    deployments.push_back({{"service", deployment.service},
                           {"environment", deployment.environment},
                           {"started_at", format_iso8601(deployment.started_at)},
                           {"ended_at", deployment.ended_at ? Json(format_iso8601(*deployment.ended_at)) : Json(nullptr)}});
  }
  json["deployments"] = deployments;
  return json;
}

RegisterResult ModelRegistry::register_model(const RegisterRequest& request) {
  check_name(request.name, "model name");
  if (request.run.has_value() == request.path.has_value()) {
    throw Error(ErrorKind::invalid_argument, "give the model's source: --run RUN or --path DIR_OR_FILE (one of them)");
  }
  if (request.format != "mlctl" && request.format != "torchscript") {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("unknown model format '{}' (expected mlctl or torchscript)", request.format));
  }
  ModelVersion model;
  model.name = request.name;
  model.format = request.format;
  model.description = request.description;
  model.tags = request.tags;
  model.created_by = current_user();
  std::optional<tracking::Run> run;
  if (request.run) {
    tracking::RunStore runs(m_db);
    run = runs.get(*request.run);
    if (run->status != tracking::RunStatus::completed) {
      throw Error(ErrorKind::invalid_argument,
                  fmt::format("run {} is {}; only a completed run's model can be registered", run->id,
                              tracking::to_string(run->status)));
    }
    std::string prefix = request.artifact;
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    for (const auto& artifact : runs.artifacts(run->row_id)) {
      if (artifact.path == prefix) {
        model.files.push_back({fs::path(artifact.path).filename().string(), artifact.digest, artifact.size});
      } else if (artifact.path.rfind(prefix + "/", 0) == 0) {
        model.files.push_back({artifact.path.substr(prefix.size() + 1), artifact.digest, artifact.size});
      }
    }
    if (model.files.empty()) {
      throw Error(ErrorKind::not_found, fmt::format("run {} has no artifacts under '{}'", run->id, prefix),
                  fmt::format("see them with: mlctl run artifacts {}", run->id));
    }
    model.source_run = run->id;
    for (const auto& [key, point] : run->metrics) model.metrics[key] = point.value;
  } else {
    std::error_code ec;
    fs::path source = fs::absolute(*request.path);
    if (!fs::exists(source, ec)) {
      throw Error(ErrorKind::not_found, fmt::format("model path '{}' does not exist", request.path->string()));
    }
    std::vector<fs::path> paths;
    if (fs::is_directory(source, ec)) {
      for (auto it = fs::recursive_directory_iterator(source, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (it->is_regular_file(ec)) paths.push_back(it->path());
      }
      if (paths.empty()) throw Error(ErrorKind::not_found, fmt::format("model directory '{}' has no files", source.string()));
    } else {
      paths.push_back(source);
    }
    for (const auto& path : paths) {
      store::StoredBlob blob = m_artifacts.put_file(path);
      std::string relative = fs::is_directory(source, ec) ? fs::relative(path, source).generic_string()
                                                          : path.filename().string();
      model.files.push_back({relative, blob.digest, blob.size});
    }
    model.source_path = request.source_label ? *request.source_label : source.lexically_normal().string();
    if (request.metrics.is_object()) model.metrics = request.metrics;
    if (request.lineage_run) {
      run = tracking::RunStore(m_db).get(*request.lineage_run);
      model.source_run = run->id;
      if (!request.metrics.is_object()) {
        for (const auto& [key, point] : run->metrics) model.metrics[key] = point.value;
      }
    }
  }
  std::sort(model.files.begin(), model.files.end(), [](const ModelFile& a, const ModelFile& b) { return a.path < b.path; });

  // The schema: given, or the built-in model's own.
  if (!request.schema.is_null()) {
    check_schema(request.schema, "--schema");
    model.schema = request.schema;
  } else if (model.format == "mlctl") {
    auto json_file = std::find_if(model.files.begin(), model.files.end(), [](const ModelFile& f) { return f.path == "model.json"; });
    if (json_file == model.files.end()) {
      throw Error(ErrorKind::invalid_argument,
                  "not an mlctl model directory (no model.json): pass --format torchscript --schema FILE for a "
                  "TorchScript model");
    }
    model.schema = schema_of_model_json(Json::parse(m_artifacts.read(json_file->digest)));
  } else {
    throw Error(ErrorKind::invalid_argument, "a torchscript model needs --schema FILE (make one with: mlctl model schema --from sample.csv)");
  }
  if (model.format == "torchscript" && model.files.size() != 1) {
    throw Error(ErrorKind::invalid_argument, "a torchscript model is one file (saved with torch.jit.save)");
  }
  model.content_digest = content_digest(model.files);

  RegisterResult result;
  m_db.write_transaction([&] {
    auto existing = m_db.prepare("SELECT version FROM model_versions WHERE name = ? AND content_digest = ? ORDER BY version LIMIT 1");
    existing.bind(1, model.name).bind(2, model.content_digest);
    if (existing.step()) {
      result.model = get(ModelRef{model.name, int(existing.get_int64(0)), std::nullopt});
      return;
    }
    auto next = m_db.prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE name = ?");
    next.bind(1, model.name);
    next.step();
    model.version = int(next.get_int64(0));
    model.created_at = unix_now();
    m_db.prepare(
            "INSERT INTO model_versions (name, version, format, content_digest, source_run_id, source_run_uid, "
            "source_path, description, metrics, schema, created_at, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(1, model.name)
        .bind(2, model.version)
        .bind(3, model.format)
        .bind(4, model.content_digest)
        .bind(5, run ? std::optional<std::int64_t>(run->row_id) : std::nullopt)
        .bind(6, model.source_run)
        .bind(7, model.source_path)
        .bind(8, model.description)
        .bind(9, model.metrics.dump())
        .bind(10, model.schema.dump())
        .bind(11, model.created_at)
        .bind(12, model.created_by)
        .run();
    model.row_id = m_db.last_insert_rowid();
    auto file_insert = m_db.prepare("INSERT INTO model_files (version_id, path, digest, size) VALUES (?, ?, ?, ?)");
    for (const auto& file : model.files) {
      file_insert.bind(1, model.row_id).bind(2, file.path).bind(3, file.digest).bind(4, std::int64_t(file.size)).run();
      file_insert.reset();
    }
    auto tag_insert = m_db.prepare("INSERT OR REPLACE INTO model_tags (version_id, key, value) VALUES (?, ?, ?)");
    for (const auto& [key, value] : model.tags) {
      tag_insert.bind(1, model.row_id).bind(2, key).bind(3, value).run();
      tag_insert.reset();
    }
    if (run) {
      // Lineage: the datasets the run read.
      m_db.prepare(
              "INSERT INTO model_datasets (version_id, input, dataset_id) "
              "SELECT ?, name, dataset_id FROM run_inputs WHERE run_id = ?")
          .bind(1, model.row_id)
          .bind(2, run->row_id)
          .run();
    }
    if (request.alias) set_alias(model.name, *request.alias, model.version, "registered");
    result.model = get(ModelRef{model.name, model.version, std::nullopt});
    result.created = true;
  });
  return result;
}

void ModelRegistry::load_details(ModelVersion& model) {
  auto files = m_db.prepare("SELECT path, digest, size FROM model_files WHERE version_id = ? ORDER BY path");
  files.bind(1, model.row_id);
  while (files.step()) model.files.push_back({files.get_text(0), files.get_text(1), std::uint64_t(files.get_int64(2))});
  auto tags = m_db.prepare("SELECT key, value FROM model_tags WHERE version_id = ? ORDER BY key");
  tags.bind(1, model.row_id);
  while (tags.step()) model.tags.emplace_back(tags.get_text(0), tags.get_text(1));
  auto datasets = m_db.prepare(
      "SELECT m.input, d.name || ':' || d.version FROM model_datasets m JOIN datasets d ON d.id = m.dataset_id "
      "WHERE m.version_id = ? ORDER BY m.input");
  datasets.bind(1, model.row_id);
  while (datasets.step()) model.datasets.emplace_back(datasets.get_text(0), datasets.get_text(1));
  auto aliases = m_db.prepare("SELECT alias FROM model_aliases WHERE version_id = ? ORDER BY alias");
  aliases.bind(1, model.row_id);
  while (aliases.step()) model.aliases.push_back(aliases.get_text(0));
  auto deployments = m_db.prepare(
      "SELECT service, environment, started_at, ended_at FROM deployments WHERE model_version_id = ? "
      "ORDER BY started_at DESC, id DESC");
  deployments.bind(1, model.row_id);
  while (deployments.step()) {
    model.deployments.push_back({deployments.get_text(0), deployments.get_text(1), deployments.get_double(2),
                                 deployments.get_optional_double(3)});
  }
}

namespace {

// Refuses to delete or archive a version a service is serving.
void check_not_served(const ModelVersion& model, std::string_view action) {
  for (const ModelDeployment& deployment : model.deployments) {
    if (deployment.ended_at) continue;
    throw Error(ErrorKind::already_exists,
                fmt::format("model {} is served by service '{}' ({})", model.ref(), deployment.service,
                            deployment.environment),
                fmt::format("update or delete the service before you {} it: mlctl service update {} --model NAME:V",
                            action, deployment.service));
  }
}

}  // namespace

std::optional<ModelVersion> ModelRegistry::find(const ModelRef& ref) {
  std::optional<ModelVersion> model;
  m_db.read_transaction([&] {
    std::string sql = fmt::format("SELECT {} FROM model_versions v ", k_columns);
    if (ref.alias) {
      sql += "JOIN model_aliases a ON a.version_id = v.id WHERE a.name = ? AND a.alias = ?";
    } else if (ref.version) {
      sql += "WHERE v.name = ? AND v.version = ?";
    } else {
      sql += "WHERE v.name = ? AND v.archived = 0 ORDER BY v.version DESC LIMIT 1";
    }
    auto stmt = m_db.prepare(sql);
    stmt.bind(1, ref.name);
    if (ref.alias) stmt.bind(2, *ref.alias);
    if (ref.version) stmt.bind(2, *ref.version);
    if (!stmt.step()) return;
    model = read_version(stmt);
    load_details(*model);
  });
  return model;
}

ModelVersion ModelRegistry::get(const ModelRef& ref) {
  if (auto model = find(ref)) return *model;
  auto versions = m_db.prepare("SELECT COUNT(*), COALESCE(MAX(version), 0) FROM model_versions WHERE name = ?");
  versions.bind(1, ref.name);
  versions.step();
  if (versions.get_int64(0) == 0) {
    throw Error(ErrorKind::not_found, fmt::format("no model named '{}'", ref.name), "see them with: mlctl model list");
  }
  if (ref.alias) {
    std::vector<std::string> aliases;
    auto stmt = m_db.prepare("SELECT alias FROM model_aliases WHERE name = ? ORDER BY alias");
    stmt.bind(1, ref.name);
    while (stmt.step()) aliases.push_back(stmt.get_text(0));
    throw Error(ErrorKind::not_found,
                fmt::format("model '{}' has no alias '{}' ({})", ref.name, *ref.alias,
                            aliases.empty() ? std::string("it has none") : "it has " + fmt::format("{}", fmt::join(aliases, ", "))));
  }
  if (ref.version) {
    throw Error(ErrorKind::not_found, fmt::format("model '{}' has no version {} (the latest is {})", ref.name,
                                                  *ref.version, versions.get_int64(1)));
  }
  throw Error(ErrorKind::not_found, fmt::format("every version of model '{}' is archived", ref.name));
}

std::vector<ModelVersion> ModelRegistry::list(std::optional<std::string_view> name,
                                              const std::vector<std::pair<std::string, std::string>>& tags,
                                              bool include_archived) {
  std::vector<ModelVersion> models;
  m_db.read_transaction([&] {
    std::string sql = fmt::format("SELECT {} FROM model_versions v WHERE 1 = 1", k_columns);
    if (name) sql += " AND v.name = ?";
    if (!include_archived) sql += " AND v.archived = 0";
    for (std::size_t i = 0; i < tags.size(); ++i) {
      sql += " AND v.id IN (SELECT version_id FROM model_tags WHERE key = ? AND value = ?)";
    }
    sql += " ORDER BY v.name, v.version DESC";
    auto stmt = m_db.prepare(sql);
    int index = 1;
    if (name) stmt.bind(index++, *name);
    for (const auto& [key, value] : tags) {
      stmt.bind(index++, key);
      stmt.bind(index++, value);
    }
    while (stmt.step()) models.push_back(read_version(stmt));
    for (auto& model : models) load_details(model);
  });
  return models;
}

void ModelRegistry::set_alias(std::string_view name, std::string_view alias, int version, std::string_view reason) {
  check_name(alias, "alias");
  if (alias == "latest") throw Error(ErrorKind::invalid_argument, "'latest' is reserved: NAME:latest always means the newest version");
  m_db.write_transaction([&] {
    ModelVersion model = get(ModelRef{std::string(name), version, std::nullopt});
    if (model.archived) {
      throw Error(ErrorKind::invalid_argument, fmt::format("model {} is archived; restore it before aliasing it", model.ref()));
    }
    std::optional<int> previous;
    auto current = m_db.prepare(
        "SELECT v.version FROM model_aliases a JOIN model_versions v ON v.id = a.version_id WHERE a.name = ? AND a.alias = ?");
    current.bind(1, name).bind(2, alias);
    if (current.step()) previous = int(current.get_int64(0));
    m_db.prepare("INSERT OR REPLACE INTO model_aliases (name, alias, version_id, set_at) VALUES (?, ?, ?, ?)")
        .bind(1, name)
        .bind(2, alias)
        .bind(3, model.row_id)
        .bind(4, unix_now())
        .run();
    m_db.prepare(
            "INSERT INTO model_alias_history (name, alias, version, previous_version, reason, changed_at, changed_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(1, name)
        .bind(2, alias)
        .bind(3, version)
        .bind(4, previous)
        .bind(5, reason)
        .bind(6, unix_now())
        .bind(7, current_user())
        .run();
  });
}

void ModelRegistry::delete_alias(std::string_view name, std::string_view alias, std::string_view reason) {
  m_db.write_transaction([&] {
    ModelVersion model = get(ModelRef{std::string(name), std::nullopt, std::string(alias)});
    m_db.prepare("DELETE FROM model_aliases WHERE name = ? AND alias = ?").bind(1, name).bind(2, alias).run();
    m_db.prepare(
            "INSERT INTO model_alias_history (name, alias, version, previous_version, reason, changed_at, changed_by) "
            "VALUES (?, ?, NULL, ?, ?, ?, ?)")
        .bind(1, name)
        .bind(2, alias)
        .bind(3, model.version)
        .bind(4, reason)
        .bind(5, unix_now())
        .bind(6, current_user())
        .run();
  });
}

std::vector<AliasChange> ModelRegistry::alias_history(std::string_view name, std::string_view alias) {
  std::vector<AliasChange> changes;
  auto stmt = m_db.prepare(
      "SELECT alias, version, previous_version, reason, changed_at, changed_by FROM model_alias_history "
      "WHERE name = ? AND alias = ? ORDER BY id");
  stmt.bind(1, name).bind(2, alias);
  while (stmt.step()) {
    AliasChange change;
    change.alias = stmt.get_text(0);
    if (auto v = stmt.get_optional_int64(1)) change.version = int(*v);
    if (auto v = stmt.get_optional_int64(2)) change.previous_version = int(*v);
    change.reason = stmt.get_text(3);
    change.changed_at = stmt.get_double(4);
    change.changed_by = stmt.get_text(5);
    changes.push_back(std::move(change));
  }
  if (changes.empty()) get(ModelRef{std::string(name), std::nullopt, std::nullopt});  // names an unknown model
  return changes;
}

void ModelRegistry::remove(const ModelRef& ref) {
  m_db.write_transaction([&] {
    ModelVersion model = get(ref);
    if (!model.aliases.empty()) {
      throw Error(ErrorKind::already_exists,
                  fmt::format("model {} is aliased as {}", model.ref(), fmt::join(model.aliases, ", ")),
                  fmt::format("move or delete the alias first: mlctl model alias delete {} {}", model.name,
                              model.aliases.front()));
    }
    check_not_served(model, "delete");
    m_db.prepare("DELETE FROM deployments WHERE model_version_id = ?").bind(1, model.row_id).run();
    m_db.prepare("DELETE FROM model_versions WHERE id = ?").bind(1, model.row_id).run();
  });
}

ModelVersion ModelRegistry::archive(const ModelRef& ref, bool archived) {
  ModelVersion model;
  m_db.write_transaction([&] {
    model = get(ref);
    if (archived && !model.aliases.empty()) {
      throw Error(ErrorKind::already_exists,
                  fmt::format("model {} is aliased as {}; move the alias before archiving it", model.ref(),
                              fmt::join(model.aliases, ", ")));
    }
    if (archived) check_not_served(model, "archive");
    m_db.prepare("UPDATE model_versions SET archived = ? WHERE id = ?").bind(1, archived ? 1 : 0).bind(2, model.row_id).run();
    model.archived = archived;
  });
  return model;
}

void ModelRegistry::materialize(const ModelVersion& model, const fs::path& destination) {
  std::error_code ec;
  fs::create_directories(destination, ec);
  for (const auto& file : model.files) {
    fs::path target = destination / fs::path(file.path);
    fs::create_directories(target.parent_path(), ec);
    try {
      m_artifacts.copy_out(file.digest, target);
    } catch (const Error& error) {
      throw Error(ErrorKind::store,
                  fmt::format("model {}: file {} is missing or was modified (sha256 {} expected): {}", model.ref(),
                              file.path, file.digest, error.what()));
    }
  }
}

Json schema_from_csv(std::string_view csv_text, std::string_view source_name, const std::optional<std::string>& label) {
  data::CsvTable table = data::parse_csv(csv_text, source_name);
  data::TableSchema schema = data::infer_schema(table, label ? std::optional<std::string_view>(*label) : std::nullopt);
  if (label && !schema.find_column(*label)) {
    throw Error(ErrorKind::invalid_argument, fmt::format("{}: label '{}' is not a column", source_name, *label));
  }
  Json inputs = Json::array();
  for (const auto& column : schema.columns) {
    if (label && column.name == *label) continue;
    inputs.push_back({{"name", column.name}, {"type", data::to_string(column.type)}});
  }
  Json result = Json::object();
  result["inputs"] = inputs;
  Json outputs = Json::object();
  if (label) {
    outputs["label"] = *label;
    auto index = table.find_column(*label);
    std::vector<std::string> classes;
    for (std::size_t row = 0; row < table.row_count(); ++row) {
      std::string cell(table.cell(row, *index));
      if (std::find(classes.begin(), classes.end(), cell) == classes.end()) classes.push_back(cell);
    }
    std::sort(classes.begin(), classes.end());
    outputs["classes"] = classes;
  }
  result["outputs"] = outputs;
  return result;
}

}  // namespace mlctl::registry
