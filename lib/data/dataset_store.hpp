#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mlctl/core/json.hpp>
#include <mlctl/store/artifact_store.hpp>
#include <mlctl/store/db.hpp>
#include <mlctl/tracking/job_submission.hpp>

namespace mlctl::data {

// "churn", "churn:3", "churn:latest", "azureml:churn:3", "azureml:churn@latest".
struct DatasetRef {
  std::string name;
  std::optional<int> version;  // nullopt: the newest
  std::string to_string() const;
};
// Throws Error(invalid_argument) for a malformed reference.
DatasetRef parse_dataset_ref(std::string_view text);

// One immutable version of a registered dataset.
struct DatasetVersion {
  std::int64_t row_id = 0;
  std::string name;
  int version = 0;
  std::string digest;  // sha256 of the file; its blob in the artifact store
  std::uint64_t size = 0;
  std::string file_name;
  std::string format = "csv";
  std::int64_t row_count = 0;
  Json schema;   // TableSchema::to_json()
  Json profile;  // profile_table(): the drift baseline
  std::string description;
  std::map<std::string, std::string> tags;
  std::string source_path;
  double created_at = 0;

  std::string ref() const { return name + ":" + std::to_string(version); }
};

Json to_json(const DatasetVersion& dataset, bool with_profile);

struct RegisterRequest {
  std::string name;
  std::filesystem::path path;
  std::string description;
  std::map<std::string, std::string> tags;
  std::optional<std::string> label;  // marks the label column in the schema
};

struct RegisterResult {
  DatasetVersion dataset;
  bool created = false;  // false: the same content was already registered
};

// A file name as a dataset name: "data/Churn 2024.csv" -> "Churn-2024"
// (characters a name may not hold become '-'; "data" is put in front of a
// name that would not start with a letter or digit).
std::string dataset_name_for(const std::filesystem::path& path);

// The resolver a job submission uses for dataset inputs: the verified file
// of NAME:VERSION. The store and the database must outlive it.
tracking::DatasetResolver dataset_resolver(store::Db& db, store::ArtifactStore& artifacts);

// Registered datasets. Not thread-safe (one per Db).
class DatasetStore {
 public:
  DatasetStore(store::Db& db, store::ArtifactStore& artifacts) : m_db(db), m_artifacts(artifacts) {}

  // Reads and checks the CSV (Error(parse) with the line on a malformed
  // file), infers its schema, profiles it and stores it as version N+1 of
  // `name`, or returns the version that already holds this content.
  RegisterResult register_file(const RegisterRequest& request);

  std::optional<DatasetVersion> find(const DatasetRef& ref);
  // The version of `name` whose file has this sha256, if any.
  std::optional<DatasetVersion> find_content(std::string_view name, std::string_view digest);
  // Throws Error(not_found) naming the dataset (and the versions it has).
  DatasetVersion get(const DatasetRef& ref);
  // Every version of every dataset (or of `name`), by name then version.
  std::vector<DatasetVersion> list(std::optional<std::string_view> name = {});

  // The verified blob of a dataset version, for reading in place.
  std::filesystem::path verified_path(const DatasetVersion& dataset);
  // The file's bytes, read once and checked against the digest. Throws
  // Error(store) when the stored blob does not match.
  std::string read_verified(const DatasetVersion& dataset);
  // Copies the file out (verified) to `destination` (a file or a directory).
  std::filesystem::path download(const DatasetVersion& dataset, const std::filesystem::path& destination);

  // Ids of the runs that read this version.
  std::vector<std::string> referencing_runs(const DatasetVersion& dataset);
  // Records that `run_row_id` read `dataset` as input `input_name`.
  void record_run_input(std::int64_t run_row_id, std::string_view input_name, const DatasetVersion& dataset);
  // Datasets a run read: input name -> version.
  std::vector<std::pair<std::string, DatasetVersion>> run_inputs(std::int64_t run_row_id);

  // Deletes one version. Refused with Error(already_exists) while runs refer
  // to it, unless `force` (their lineage to it is then dropped). The blob
  // stays in the store (other records may share it).
  void remove(const DatasetVersion& dataset, bool force);

 private:
  store::Db& m_db;
  store::ArtifactStore& m_artifacts;
};

}  // namespace mlctl::data
