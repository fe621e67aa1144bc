#include <mlctl/serving/service_store.hpp>

#include <random>

#include <fmt/format.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/names.hpp>

namespace mlctl::serving {
namespace {

constexpr const char* k_columns =
    "s.name, s.environment, s.model_version_id, v.name, v.version, s.model_reference, s.port, s.threads, "
    "s.max_batch, s.max_delay_ms, s.primary_key, s.secondary_key, s.settings, s.desired_state, s.created_at, "
    "s.updated_at";
constexpr const char* k_from = "FROM services s JOIN model_versions v ON v.id = s.model_version_id";

Service read(const store::Statement& stmt) {
  Service service;
  service.name = stmt.get_text(0);
  service.environment = stmt.get_text(1);
  service.model_version_id = stmt.get_int64(2);
  service.model_name = stmt.get_text(3);
  service.model_version = int(stmt.get_int64(4));
  service.model_reference = stmt.get_text(5);
  service.port = int(stmt.get_int64(6));
  service.threads = int(stmt.get_int64(7));
  service.max_batch = int(stmt.get_int64(8));
  service.max_delay_ms = stmt.get_double(9);
  service.primary_key = stmt.get_text(10);
  service.secondary_key = stmt.get_text(11);
  service.settings = settings_from_json(Json::parse(stmt.get_text(12)));
  service.stopped = stmt.get_text(13) == "stopped";
  service.created_at = stmt.get_double(14);
  service.updated_at = stmt.get_double(15);
  return service;
}

}  // namespace

Json to_json(const ServiceSettings& settings) {
  return {{"max_body_bytes", settings.max_body_bytes},
          {"max_request_rows", settings.max_request_rows},
          {"log_sample", settings.log_sample},
          {"log_max_bytes", settings.log_max_bytes},
          {"log_files", settings.log_files}};
}

ServiceSettings settings_from_json(const Json& json) {
  ServiceSettings settings;
  if (!json.is_object()) throw Error(ErrorKind::invalid_argument, "service settings: expected a JSON object");
  auto positive = [&](const char* field, auto& target) {
    if (!json.contains(field)) return;
    const Json& value = json.at(field);
    if (!value.is_number_integer() || value.get<long long>() < 1) {
      throw Error(ErrorKind::invalid_argument, fmt::format("service setting '{}': expected a positive integer", field));
    }
    target = value.get<std::remove_reference_t<decltype(target)>>();
  };
  positive("max_body_bytes", settings.max_body_bytes);
  positive("max_request_rows", settings.max_request_rows);
  positive("log_max_bytes", settings.log_max_bytes);
  positive("log_files", settings.log_files);
  if (json.contains("log_sample")) {
    const Json& value = json.at("log_sample");
    if (!value.is_number() || value.get<double>() < 0 || value.get<double>() > 1) {
      throw Error(ErrorKind::invalid_argument, "service setting 'log_sample': expected a number from 0 to 1");
    }
    settings.log_sample = value.get<double>();
  }
  return settings;
}

std::string generate_key() {
  std::random_device device;  // getrandom(2) on Linux
  std::string key;
  for (int i = 0; i < 8; ++i) key += fmt::format("{:08x}", device());
  return key;
}

Service ServiceStore::create(const Service& service) {
  check_name(service.name, "service name");
  Service created = service;
  created.created_at = created.updated_at = unix_now();
  m_db.write_transaction([&] {
    if (find(service.name)) {
      throw Error(ErrorKind::already_exists, fmt::format("service '{}' already exists", service.name),
                  fmt::format("update it instead: mlctl service update {} --model NAME:V", service.name));
    }
    m_db.prepare(
            "INSERT INTO services (name, environment, model_version_id, model_reference, port, threads, max_batch, "
            "max_delay_ms, primary_key, secondary_key, settings, desired_state, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)")
        .bind(1, created.name)
        .bind(2, created.environment)
        .bind(3, created.model_version_id)
        .bind(4, created.model_reference)
        .bind(5, created.port)
        .bind(6, created.threads)
        .bind(7, created.max_batch)
        .bind(8, created.max_delay_ms)
        .bind(9, created.primary_key)
        .bind(10, created.secondary_key)
        .bind(11, to_json(created.settings).dump())
        .bind(12, created.created_at)
        .bind(13, created.updated_at)
        .run();
    created = get(created.name);
  });
  return created;
}

std::optional<Service> ServiceStore::find(std::string_view name) {
  auto stmt = m_db.prepare(fmt::format("SELECT {} {} WHERE s.name = ?", k_columns, k_from));
  stmt.bind(1, name);
  if (!stmt.step()) return std::nullopt;
  return read(stmt);
}

Service ServiceStore::get(std::string_view name) {
  if (auto service = find(name)) return *service;
  std::vector<std::string> names;
  for (const auto& service : list()) names.push_back(service.name);
  throw Error(ErrorKind::not_found,
              names.empty() ? fmt::format("no service '{}' (there are none)", name)
                            : fmt::format("no service '{}' (there are: {})", name, fmt::join(names, ", ")),
              "create one with: mlctl service create --name NAME --model MODEL");
}

std::vector<Service> ServiceStore::list(std::optional<std::string_view> environment) {
  std::vector<Service> result;
  auto stmt = m_db.prepare(fmt::format("SELECT {} {} {} ORDER BY s.name", k_columns, k_from,
                                       environment ? "WHERE s.environment = ?" : ""));
  if (environment) stmt.bind(1, *environment);
  while (stmt.step()) result.push_back(read(stmt));
  return result;
}

std::vector<int> ServiceStore::ports_in_use(std::string_view except) {
  std::vector<int> ports;
  auto stmt = m_db.prepare("SELECT port FROM services WHERE name <> ? AND port > 0");
  stmt.bind(1, except);
  while (stmt.step()) ports.push_back(int(stmt.get_int64(0)));
  return ports;
}

void ServiceStore::touch(std::string_view name, std::string_view column, const store::SqlValue& value) {
  auto stmt = m_db.prepare(fmt::format("UPDATE services SET {} = ?, updated_at = ? WHERE name = ?", column));
  stmt.bind(1, value).bind(2, unix_now()).bind(3, name).run();
  if (m_db.changes() == 0) get(name);  // throws not_found
}

void ServiceStore::set_model(std::string_view name, std::int64_t model_version_id, std::string_view reference) {
  m_db.write_transaction([&] {
    get(name);
    m_db.prepare("UPDATE services SET model_version_id = ?, model_reference = ?, updated_at = ? WHERE name = ?")
        .bind(1, model_version_id)
        .bind(2, reference)
        .bind(3, unix_now())
        .bind(4, name)
        .run();
  });
}

void ServiceStore::record_deployment(std::string_view name) {
  m_db.write_transaction([&] {
    Service service = get(name);
    auto open = m_db.prepare("SELECT model_version_id FROM deployments WHERE service = ? AND ended_at IS NULL");
    open.bind(1, name);
    if (open.step() && open.get_int64(0) == service.model_version_id) return;
    const double now = unix_now();
    m_db.prepare("UPDATE deployments SET ended_at = ? WHERE service = ? AND ended_at IS NULL").bind(1, now).bind(2, name).run();
    m_db.prepare("INSERT INTO deployments (service, environment, model_version_id, started_at) VALUES (?, ?, ?, ?)")
        .bind(1, name)
        .bind(2, service.environment)
        .bind(3, service.model_version_id)
        .bind(4, now)
        .run();
  });
}

void ServiceStore::set_port(std::string_view name, int port) { touch(name, "port", std::int64_t(port)); }

void ServiceStore::set_limits(const Service& service) {
  m_db.write_transaction([&] {
    get(service.name);
    m_db.prepare("UPDATE services SET threads = ?, max_batch = ?, max_delay_ms = ?, settings = ?, updated_at = ? WHERE name = ?")
        .bind(1, service.threads)
        .bind(2, service.max_batch)
        .bind(3, service.max_delay_ms)
        .bind(4, to_json(service.settings).dump())
        .bind(5, unix_now())
        .bind(6, service.name)
        .run();
  });
}

void ServiceStore::set_keys(std::string_view name, std::string_view primary, std::string_view secondary) {
  m_db.write_transaction([&] {
    touch(name, "primary_key", std::string(primary));
    touch(name, "secondary_key", std::string(secondary));
  });
}

void ServiceStore::set_stopped(std::string_view name, bool stopped) {
  touch(name, "desired_state", std::string(stopped ? "stopped" : "running"));
}

void ServiceStore::remove(std::string_view name) {
  m_db.write_transaction([&] {
    get(name);
    m_db.prepare("UPDATE deployments SET ended_at = ? WHERE service = ? AND ended_at IS NULL")
        .bind(1, unix_now())
        .bind(2, name)
        .run();
    m_db.prepare("DELETE FROM services WHERE name = ?").bind(1, name).run();
  });
}

}  // namespace mlctl::serving
