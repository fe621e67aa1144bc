#pragma once

// The life cycle of services, as the CLI and the pipeline `deploy` step
// drive it: create (record, start, wait until ready, record the
// deployment), update to another model without dropping a request, stop,
// start, restart, delete, rotate keys, and describe.

#include <optional>
#include <string>
#include <string_view>

#include <mlctl/core/json.hpp>
#include <mlctl/serving/service_store.hpp>
#include <mlctl/store/context.hpp>

namespace mlctl::serving {

struct CreateServiceRequest {
  std::string name;
  std::string model;  // NAME[:V|@ALIAS]
  std::string environment = "staging";
  std::optional<int> port;  // nullopt: a free port of the environment's range; 0: any free port
  int threads = 2;
  int max_batch = 32;
  double max_delay_ms = 0;
  ServiceSettings settings;
};

class ServiceManager {
 public:
  // `mlctl_executable` is what starts the server processes.
  ServiceManager(store::Context& context, std::string mlctl_executable)
      : m_context(context), m_executable(std::move(mlctl_executable)) {}

  // Records and starts a service; returns describe() with its keys. When
  // the server cannot start, the record is removed again and Error(failed)
  // says why. Throws Error(invalid_argument) for bad limits, Error(not_found)
  // for an unknown model or environment, Error(already_exists) for a taken
  // name or an environment without a free port.
  Json create(const CreateServiceRequest& request);
  // Points the service at another model version. A running service loads
  // and checks the new model while the old one answers, then swaps; when
  // that fails, the service keeps its model and Error(failed) says why.
  Json update_model(std::string_view name, std::string_view model);
  // Changes threads, batching and settings (fields left nullopt keep
  // theirs). A running service is restarted to take them: the server's
  // threads and listening socket are made at start.
  struct Limits {
    std::optional<int> threads, max_batch;
    std::optional<double> max_delay_ms, log_sample;
    std::optional<std::size_t> max_body_bytes, max_request_rows, log_max_bytes;
    std::optional<int> log_files;
    bool empty() const {
      return !threads && !max_batch && !max_delay_ms && !log_sample && !max_body_bytes && !max_request_rows &&
             !log_max_bytes && !log_files;
    }
  };
  Json update_limits(std::string_view name, const Limits& limits);
  // Creates the service, or updates it when it exists (the pipeline step).
  Json deploy(const CreateServiceRequest& request);
  // Records the service as deploy() would, then runs its server in this
  // process until SIGTERM (containers, systemd). Returns the exit code.
  int deploy_foreground(const CreateServiceRequest& request);
  Json start(std::string_view name);
  Json stop(std::string_view name);
  Json restart(std::string_view name);
  // Stops the service, ends its deployment and deletes its record and files.
  void remove(std::string_view name);
  // New primary or secondary key; a running service takes it at once.
  Json regenerate_key(std::string_view name, std::string_view which);

  // The record and the process's state: {"name", "environment", "model",
  // "state", "url", "scoring_uri", "pid", ...}; keys only when asked.
  Json describe(const Service& service, bool with_keys);
  Json describe(std::string_view name, bool with_keys);

 private:
  // The record create() stores: limits checked, model and environment
  // resolved, a port chosen, keys made.
  Service new_record(const CreateServiceRequest& request);
  Json start_and_record(const Service& service);
  store::Context& m_context;
  std::string m_executable;
};

}  // namespace mlctl::serving
