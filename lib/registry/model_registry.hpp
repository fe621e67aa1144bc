#pragma once

// The model registry: named, versioned models (NAME:1, NAME:2, ...) with
// the files of each version (blobs of the artifact store, verified on every
// read), the run, datasets and metrics behind them, and aliases
// (NAME@production) whose every move is kept for audit and rollback.
//
// References, accepted everywhere a model is named:
//   NAME          the newest version that is not archived
//   NAME:latest   the same
//   NAME:V        version V
//   NAME@ALIAS    the version the alias points at

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <mlctl/core/json.hpp>
#include <mlctl/store/artifact_store.hpp>
#include <mlctl/store/db.hpp>

namespace mlctl::registry {

struct ModelRef {
  std::string name;
  std::optional<int> version;  // NAME:V
  std::optional<std::string> alias;  // NAME@ALIAS
  std::string to_string() const;
};
// Throws Error(invalid_argument) for a malformed reference or name.
ModelRef parse_model_ref(std::string_view text);

struct ModelFile {
  std::string path;    // relative, '/'-separated
  std::string digest;  // sha256
  std::uint64_t size = 0;
};

// A service that serves (or served) a model version.
struct ModelDeployment {
  std::string service;
  std::string environment;
  double started_at = 0;
  std::optional<double> ended_at;  // nullopt: serving now
};

struct ModelVersion {
  std::int64_t row_id = 0;
  std::string name;
  int version = 0;
  std::string format;          // "mlctl" (a model directory) or "torchscript"
  std::string content_digest;  // sha256 over the sorted "path digest" lines
  std::optional<std::string> source_run;  // run id
  std::optional<std::string> source_path;
  std::string description;
  Json metrics = Json::object();  // the source run's final metrics
  Json schema = nullptr;          // {"inputs": [{name, type}], "outputs": {...}}
  double created_at = 0;
  std::string created_by;
  bool archived = false;
  std::vector<ModelFile> files;
  std::vector<std::pair<std::string, std::string>> tags;
  std::vector<std::pair<std::string, std::string>> datasets;  // input name -> "NAME:V"
  std::vector<std::string> aliases;
  std::vector<ModelDeployment> deployments;  // newest first

  // "NAME:V"; for an unregistered model directory (version 0), its path.
  std::string ref() const {
    return version == 0 && source_path ? *source_path : name + ":" + std::to_string(version);
  }
};

Json to_json(const ModelVersion& model);

struct AliasChange {
  std::string alias;
  std::optional<int> version, previous_version;  // version null: deleted
  std::string reason;
  double changed_at = 0;
  std::string changed_by;
};

struct RegisterRequest {
  std::string name;
  // Exactly one source: a finished run's artifacts (under `artifact`,
  // default outputs/model) or a file or directory.
  std::optional<std::string> run;
  std::string artifact = "outputs/model";
  std::optional<std::filesystem::path> path;
  std::string format = "mlctl";  // or torchscript (then a schema is required)
  Json schema = nullptr;          // overrides the one read from the model
  std::string description;
  std::vector<std::pair<std::string, std::string>> tags;
  std::optional<std::string> alias;
  Json metrics = nullptr;  // for a path: metrics to record (an imported package's)
  std::optional<std::string> source_label;  // recorded as source_path instead of `path`
  // For a path: the run that produced it (a pipeline's train step), whose
  // datasets, metrics and id become the version's lineage.
  std::optional<std::string> lineage_run;
};

struct RegisterResult {
  ModelVersion model;
  bool created = false;  // false: the same content was registered already
};

// Records and looks up model versions. Every method is one transaction;
// several processes may register at once (version numbers never repeat or
// skip). Not thread-safe: one per Db.
class ModelRegistry {
 public:
  ModelRegistry(store::Db& db, store::ArtifactStore& artifacts) : m_db(db), m_artifacts(artifacts) {}

  // Registers a new version, or returns the version with the same content.
  // Throws Error(invalid_argument) for a bad name, both or neither source,
  // a run that has not completed or a torchscript model without schema;
  // Error(not_found) for an unknown run or an artifact path with no files.
  RegisterResult register_model(const RegisterRequest& request);

  std::optional<ModelVersion> find(const ModelRef& ref);
  // Throws Error(not_found) naming what is missing (with the versions or
  // aliases that exist).
  ModelVersion get(const ModelRef& ref);
  ModelVersion get(std::string_view reference) { return get(parse_model_ref(reference)); }

  // Versions, newest first; archived ones only with `include_archived`.
  std::vector<ModelVersion> list(std::optional<std::string_view> name,
                                 const std::vector<std::pair<std::string, std::string>>& tags,
                                 bool include_archived);

  // Points ALIAS of NAME at a version; records the move. Throws
  // Error(not_found) for an unknown version, Error(invalid_argument) for
  // an archived one or a bad alias ("latest" is reserved).
  void set_alias(std::string_view name, std::string_view alias, int version, std::string_view reason);
  // Throws Error(not_found) when the alias is not set.
  void delete_alias(std::string_view name, std::string_view alias, std::string_view reason);
  std::vector<AliasChange> alias_history(std::string_view name, std::string_view alias);

  // Deletes a version (its blobs stay in the store) and its ended
  // deployments. Throws Error(already_exists) while an alias points at it
  // or a service serves it.
  void remove(const ModelRef& ref);
  // Archives (or restores) a version; an archived version keeps its files
  // but is hidden from list and `latest`, and takes no new alias. Throws
  // Error(already_exists) while it is aliased or served.
  ModelVersion archive(const ModelRef& ref, bool archived = true);

  // Copies the version's files into `destination`, verifying every hash.
  // Throws Error(store) "model churn:2: file weights.pt ... does not match"
  // naming a tampered or missing file.
  void materialize(const ModelVersion& model, const std::filesystem::path& destination);

 private:
  void load_details(ModelVersion& model);

  store::Db& m_db;
  store::ArtifactStore& m_artifacts;
};

// A schema for a model's inputs from a sample CSV (the counterpart of
// az ml's service_schema.json): {"inputs": [{"name", "type"}...], "outputs":
// {"label": ..., "task": ...}} with types numeric, categorical, text.
Json schema_from_csv(std::string_view csv_text, std::string_view source_name, const std::optional<std::string>& label);

}  // namespace mlctl::registry
