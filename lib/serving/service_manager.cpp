#include <mlctl/serving/service_manager.hpp>

#include <filesystem>

#include <fmt/format.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/names.hpp>
#include <mlctl/registry/model_registry.hpp>
#include <mlctl/serving/environments.hpp>
#include <mlctl/serving/service_control.hpp>
#include <mlctl/serving/service_runtime.hpp>

namespace mlctl::serving {
namespace {

void check_limits(int threads, int max_batch, double max_delay_ms, std::optional<int> port = std::nullopt) {
  if (threads < 1 || threads > 256) {
    throw Error(ErrorKind::invalid_argument, fmt::format("--threads {}: expected 1 to 256", threads));
  }
  if (max_batch < 1 || max_batch > 65536) {
    throw Error(ErrorKind::invalid_argument, fmt::format("--max-batch {}: expected 1 to 65536", max_batch));
  }
  if (!(max_delay_ms >= 0 && max_delay_ms <= 10000)) {
    throw Error(ErrorKind::invalid_argument, fmt::format("--max-delay-ms {}: expected 0 to 10000", max_delay_ms));
  }
  if (port && (*port < 0 || *port > 65535)) {
    throw Error(ErrorKind::invalid_argument, fmt::format("--port {}: expected 0 to 65535", *port));
  }
}

}  // namespace

Json ServiceManager::describe(const Service& service, bool with_keys) {
  ServiceHealth health = inspect_service(m_context.project(), service);
  Environment environment = EnvironmentStore(m_context.db()).get(service.environment);
  const int port = health.running() ? health.status.value("port", service.port) : service.port;
  const std::string url = service_url(environment.host, port);
  Json json = {{"name", service.name},
               {"environment", service.environment},
               {"model", service.model()},
               {"model_reference", service.model_reference},
               {"state", health.state},
               {"url", url},
               {"scoring_uri", url + "/score"},
               {"schema_uri", url + "/schema"},
               {"auth", to_string(environment.auth)},
               {"port", port},
               {"threads", service.threads},
               {"max_batch", service.max_batch},
               {"max_delay_ms", service.max_delay_ms},
               {"settings", to_json(service.settings)},
               {"created_at", format_iso8601(service.created_at)},
               {"updated_at", format_iso8601(service.updated_at)}};
  if (health.running()) {
    json["pid"] = health.status.value("pid", 0);
    json["serving"] = health.status.value("model", "");
    if (health.status.contains("ready_at")) json["ready_at"] = format_iso8601(health.status["ready_at"].get<double>());
    if (health.status.contains("error")) json["last_reload_error"] = health.status["error"];
  } else {
    json["pid"] = nullptr;
    if (health.state == "dead") {
      json["hint"] = fmt::format("its process is gone; bring it back with: mlctl service start {}", service.name);
    }
  }
  if (with_keys && environment.auth == AuthMode::key) {
    json["primary_key"] = service.primary_key;
    json["secondary_key"] = service.secondary_key;
  }
  return json;
}

Json ServiceManager::describe(std::string_view name, bool with_keys) {
  return describe(ServiceStore(m_context.db()).get(name), with_keys);
}

Json ServiceManager::start_and_record(const Service& service) {
  ServiceStore services(m_context.db());
  Json status = start_service(m_context.project(), service, m_executable);
  const int port = status.value("port", service.port);
  if (port != service.port) services.set_port(service.name, port);
  services.record_deployment(service.name);
  return describe(service.name, true);
}

Service ServiceManager::new_record(const CreateServiceRequest& request) {
  check_name(request.name, "service name");
  check_limits(request.threads, request.max_batch, request.max_delay_ms, request.port);
  store::Db& db = m_context.db();
  registry::ModelRegistry models(db, m_context.artifacts());
  registry::ModelVersion model = models.get(request.model);
  Environment environment = EnvironmentStore(db).get(request.environment);
  ServiceStore services(db);
  if (services.find(request.name)) {
    throw Error(ErrorKind::already_exists, fmt::format("service '{}' already exists", request.name),
                fmt::format("update it instead: mlctl service update {} --model {}", request.name, request.model));
  }
  Service service;
  service.name = request.name;
  service.environment = environment.name;
  service.model_version_id = model.row_id;
  service.model_reference = request.model;
  service.port = request.port ? *request.port : choose_port(environment, services.ports_in_use());
  service.threads = request.threads;
  service.max_batch = request.max_batch;
  service.max_delay_ms = request.max_delay_ms;
  service.settings = request.settings;
  if (environment.auth == AuthMode::key) {
    service.primary_key = generate_key();
    service.secondary_key = generate_key();
  }
  return service;
}

Json ServiceManager::create(const CreateServiceRequest& request) {
  ServiceStore services(m_context.db());
  Service service = services.create(new_record(request));
  try {
    return start_and_record(service);
  } catch (...) {
    // A service that never ran is not recorded (its log stays for a look);
    // a server still loading past the timeout is stopped, not orphaned.
    stop_service(m_context.project(), service);
    services.remove(service.name);
    throw;
  }
}

Json ServiceManager::update_model(std::string_view name, std::string_view reference) {
  store::Db& db = m_context.db();
  ServiceStore services(db);
  Service service = services.get(name);
  registry::ModelRegistry models(db, m_context.artifacts());
  registry::ModelVersion model = models.get(reference);
  const Service before = service;
  services.set_model(name, model.row_id, reference);
  if (!inspect_service(m_context.project(), service).running()) {
    // Takes effect at the next start.
    services.record_deployment(name);
    return describe(name, false);
  }
  Json status;
  try {
    status = reload_service(m_context.project(), services.get(name));
  } catch (...) {
    services.set_model(name, before.model_version_id, before.model_reference);
    throw;
  }
  if (status.contains("error")) {
    services.set_model(name, before.model_version_id, before.model_reference);
    throw Error(ErrorKind::failed,
                fmt::format("service '{}' keeps serving {}: model {} failed to load: {}", name, before.model(),
                            model.ref(), status["error"].get<std::string>()));
  }
  services.record_deployment(name);
  return describe(name, false);
}

Json ServiceManager::update_limits(std::string_view name, const Limits& limits) {
  ServiceStore services(m_context.db());
  Service service = services.get(name);
  if (limits.threads) service.threads = *limits.threads;
  if (limits.max_batch) service.max_batch = *limits.max_batch;
  if (limits.max_delay_ms) service.max_delay_ms = *limits.max_delay_ms;
  if (limits.max_body_bytes) service.settings.max_body_bytes = *limits.max_body_bytes;
  if (limits.max_request_rows) service.settings.max_request_rows = *limits.max_request_rows;
  if (limits.log_sample) service.settings.log_sample = *limits.log_sample;
  if (limits.log_max_bytes) service.settings.log_max_bytes = *limits.log_max_bytes;
  if (limits.log_files) service.settings.log_files = *limits.log_files;
  check_limits(service.threads, service.max_batch, service.max_delay_ms);
  settings_from_json(to_json(service.settings));  // the settings' own checks
  services.set_limits(service);
  if (inspect_service(m_context.project(), service).running()) return restart(name);
  return describe(name, false);
}

Json ServiceManager::deploy(const CreateServiceRequest& request) {
  ServiceStore services(m_context.db());
  if (!services.find(request.name)) return create(request);
  Service service = services.get(request.name);
  if (service.environment != request.environment) {
    throw Error(ErrorKind::already_exists,
                fmt::format("service '{}' exists in environment '{}', not '{}'", request.name, service.environment,
                            request.environment));
  }
  Json result = update_model(request.name, request.model);
  if (!inspect_service(m_context.project(), services.get(request.name)).running()) result = start(request.name);
  return result;
}

int ServiceManager::deploy_foreground(const CreateServiceRequest& request) {
  ServiceStore services(m_context.db());
  if (!services.find(request.name)) {
    services.create(new_record(request));
  } else {
    registry::ModelRegistry models(m_context.db(), m_context.artifacts());
    services.set_model(request.name, models.get(request.model).row_id, request.model);
    if (request.port) services.set_port(request.name, *request.port);
    services.set_stopped(request.name, false);
  }
  services.record_deployment(request.name);
  return run_service(m_context.project(), request.name);
}

Json ServiceManager::start(std::string_view name) {
  ServiceStore services(m_context.db());
  Service service = services.get(name);
  if (inspect_service(m_context.project(), service).running()) {
    throw Error(ErrorKind::already_exists, fmt::format("service '{}' is already running", name),
                fmt::format("restart it with: mlctl service restart {}", name));
  }
  services.set_stopped(name, false);
  return start_and_record(services.get(name));
}

Json ServiceManager::stop(std::string_view name) {
  ServiceStore services(m_context.db());
  Service service = services.get(name);
  stop_service(m_context.project(), service);
  services.set_stopped(name, true);
  return describe(name, false);
}

Json ServiceManager::restart(std::string_view name) {
  ServiceStore services(m_context.db());
  stop_service(m_context.project(), services.get(name));
  services.set_stopped(name, false);
  return start_and_record(services.get(name));
}

void ServiceManager::remove(std::string_view name) {
  ServiceStore services(m_context.db());
  Service service = services.get(name);
  stop_service(m_context.project(), service);
  services.remove(name);
  std::error_code ec;
  std::filesystem::remove_all(ServiceFiles::of(m_context.project(), name).directory, ec);
}

Json ServiceManager::regenerate_key(std::string_view name, std::string_view which) {
  ServiceStore services(m_context.db());
  Service service = services.get(name);
  Environment environment = EnvironmentStore(m_context.db()).get(service.environment);
  if (environment.auth != AuthMode::key) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("service '{}' is in environment '{}', which uses no keys", name, environment.name));
  }
  if (which == "primary") {
    service.primary_key = generate_key();
  } else if (which == "secondary") {
    service.secondary_key = generate_key();
  } else {
    throw Error(ErrorKind::invalid_argument, fmt::format("--regenerate '{}': expected primary or secondary", which));
  }
  services.set_keys(name, service.primary_key, service.secondary_key);
  if (inspect_service(m_context.project(), service).running()) reload_service(m_context.project(), service);
  return {{"name", service.name}, {"primary_key", service.primary_key}, {"secondary_key", service.secondary_key}};
}

}  // namespace mlctl::serving
