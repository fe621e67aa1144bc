#pragma once

// Published pipelines: immutable, versioned copies of pipeline files
// (NAME:1, NAME:2, ...; the same content twice is not a new version) that a
// scheduler, a Makefile or an Azure Pipelines step runs with new parameter
// values: `mlctl pipeline run --published retrain --set data=azureml:churn:3`.
// The copy holds the YAML text; code directories and component files it
// names are read from their paths (relative to the original file's
// directory) when a run starts.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mlctl/store/db.hpp>

namespace mlctl::pipeline {

struct PublishedPipeline {
  std::int64_t row_id = 0;
  std::string name;
  int version = 0;
  std::string digest;  // sha256 of the YAML text
  std::string yaml, source, base_dir;
  std::string description;
  bool enabled = true;
  double created_at = 0;
  std::string ref() const { return name + ":" + std::to_string(version); }
};

class PublishedPipelines {
 public:
  explicit PublishedPipelines(store::Db& db) : m_db(db) {}

  // Stores a new version (the caller validated the pipeline); returns the
  // existing version for the same text. `created` tells which.
  PublishedPipeline publish(std::string_view name, std::string_view yaml, std::string_view source,
                            std::string_view base_dir, std::string_view description, bool& created);
  // NAME (the newest enabled version) or NAME:V; nullopt if none.
  std::optional<PublishedPipeline> find(std::string_view reference);
  // Throws Error(not_found) naming the versions there are.
  PublishedPipeline get(std::string_view reference);
  std::vector<PublishedPipeline> list(std::optional<std::string_view> name);
  void set_enabled(std::string_view reference, bool enabled);

 private:
  store::Db& m_db;
};

}  // namespace mlctl::pipeline
