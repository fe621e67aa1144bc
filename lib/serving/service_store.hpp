#pragma once

// The services of a project as the database records them: which model
// version each serves, in which environment, on which port, with which
// keys and settings, and whether it should be running. Every change of a
// service's model ends one deployment and starts the next, so a model
// version knows where it has been served.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mlctl/core/json.hpp>
#include <mlctl/store/db.hpp>

namespace mlctl::serving {

// Limits and request logging of a service (kept as JSON, so that new ones
// need no migration).
struct ServiceSettings {
  std::size_t max_body_bytes = 8u << 20;  // larger bodies: 413
  std::size_t max_request_rows = 10000;   // larger batches: 400
  double log_sample = 1.0;                // share of scored requests logged
  std::size_t log_max_bytes = 64u << 20;  // per request-log file
  int log_files = 4;                      // rotated files kept besides the current one
};
Json to_json(const ServiceSettings& settings);
// Fields left out keep their defaults; throws Error(invalid_argument)
// naming a bad field.
ServiceSettings settings_from_json(const Json& json);

struct Service {
  std::string name;
  std::string environment;
  std::int64_t model_version_id = 0;
  std::string model_name;  // filled on read
  int model_version = 0;   // filled on read
  std::string model_reference;  // as given: churn@production
  int port = 0;
  int threads = 2;
  int max_batch = 32;
  double max_delay_ms = 0;
  std::string primary_key, secondary_key;  // empty without key auth
  ServiceSettings settings;
  bool stopped = false;  // stopped on purpose (service stop), not died
  double created_at = 0;
  double updated_at = 0;

  std::string model() const { return model_name + ":" + std::to_string(model_version); }
};

// A fresh random key: 32 bytes from the kernel's generator, hex.
std::string generate_key();

class ServiceStore {
 public:
  explicit ServiceStore(store::Db& db) : m_db(db) {}

  // Records a new service (its deployment is recorded once it runs). Throws
  // Error(invalid_argument) for a bad name, Error(already_exists) when the
  // name is taken.
  Service create(const Service& service);
  std::optional<Service> find(std::string_view name);
  // Throws Error(not_found) naming the services there are.
  Service get(std::string_view name);
  std::vector<Service> list(std::optional<std::string_view> environment = std::nullopt);
  // The ports recorded for services other than `except`.
  std::vector<int> ports_in_use(std::string_view except = {});

  // Records the model the service should serve (the server reads it on
  // start and on reload). Deployments are recorded separately, once the
  // server has taken the model.
  void set_model(std::string_view name, std::int64_t model_version_id, std::string_view reference);
  // Records that the service now serves its recorded model: ends the open
  // deployment if it is of another version and opens one for this one.
  void record_deployment(std::string_view name);
  void set_port(std::string_view name, int port);
  // Threads, batching and settings (the model and port stay).
  void set_limits(const Service& service);
  void set_keys(std::string_view name, std::string_view primary, std::string_view secondary);
  void set_stopped(std::string_view name, bool stopped);
  // Deletes the record and ends its deployment.
  void remove(std::string_view name);

 private:
  void touch(std::string_view name, std::string_view column, const store::SqlValue& value);
  store::Db& m_db;
};

}  // namespace mlctl::serving
