#include <mlctl/serving/environments.hpp>

#include <arpa/inet.h>

#include <charconv>

#include <fmt/format.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/names.hpp>

namespace mlctl::serving {
namespace {

constexpr const char* k_columns = "name, host, port_min, port_max, auth, description, created_at";

Environment read(const store::Statement& stmt) {
  Environment environment;
  environment.name = stmt.get_text(0);
  environment.host = stmt.get_text(1);
  environment.port_min = int(stmt.get_int64(2));
  environment.port_max = int(stmt.get_int64(3));
  environment.auth = parse_auth_mode(stmt.get_text(4));
  environment.description = stmt.get_text(5);
  environment.created_at = stmt.get_double(6);
  return environment;
}

}  // namespace

const char* to_string(AuthMode mode) noexcept { return mode == AuthMode::key ? "key" : "none"; }

AuthMode parse_auth_mode(std::string_view text) {
  if (text == "key") return AuthMode::key;
  if (text == "none") return AuthMode::none;
  throw Error(ErrorKind::invalid_argument, fmt::format("invalid auth mode '{}': expected key or none", text));
}

Json to_json(const Environment& environment) {
  return {{"name", environment.name},
          {"host", environment.host},
          {"port_range", fmt::format("{}-{}", environment.port_min, environment.port_max)},
          {"auth", to_string(environment.auth)},
          {"description", environment.description},
          {"created_at", format_iso8601(environment.created_at)}};
}

std::pair<int, int> parse_port_range(std::string_view text) {
  const auto dash = text.find('-');
  int low = 0, high = 0;
  bool valid = dash != std::string_view::npos;
  if (valid) {
    auto first = std::from_chars(text.data(), text.data() + dash, low);
    auto second = std::from_chars(text.data() + dash + 1, text.data() + text.size(), high);
    valid = first.ec == std::errc() && first.ptr == text.data() + dash && second.ec == std::errc() &&
            second.ptr == text.data() + text.size() && low >= 1 && low <= high && high <= 65535;
  }
  if (!valid) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("invalid port range '{}': expected LOW-HIGH with 1 <= LOW <= HIGH <= 65535", text));
  }
  return {low, high};
}

Environment EnvironmentStore::create(const Environment& environment) {
  check_name(environment.name, "environment name");
  in_addr address{};
  if (::inet_pton(AF_INET, environment.host.c_str(), &address) != 1) {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("invalid host '{}': expected an IPv4 address such as 127.0.0.1 (0.0.0.0 for every interface)",
                            environment.host));
  }
  Environment created = environment;
  created.created_at = unix_now();
  m_db.write_transaction([&] {
    if (find(environment.name)) {
      throw Error(ErrorKind::already_exists, fmt::format("environment '{}' already exists", environment.name));
    }
    m_db.prepare(fmt::format("INSERT INTO environments ({}) VALUES (?, ?, ?, ?, ?, ?, ?)", k_columns))
        .bind(1, created.name)
        .bind(2, created.host)
        .bind(3, created.port_min)
        .bind(4, created.port_max)
        .bind(5, to_string(created.auth))
        .bind(6, created.description)
        .bind(7, created.created_at)
        .run();
  });
  return created;
}

std::optional<Environment> EnvironmentStore::find(std::string_view name) {
  auto stmt = m_db.prepare(fmt::format("SELECT {} FROM environments WHERE name = ?", k_columns));
  stmt.bind(1, name);
  if (!stmt.step()) return std::nullopt;
  return read(stmt);
}

Environment EnvironmentStore::get(std::string_view name) {
  if (auto environment = find(name)) return *environment;
  std::vector<std::string> names;
  for (const auto& environment : list()) names.push_back(environment.name);
  throw Error(ErrorKind::not_found, fmt::format("no environment '{}' (there are: {})", name, fmt::join(names, ", ")),
              "create it with: mlctl env create NAME");
}

std::vector<Environment> EnvironmentStore::list() {
  std::vector<Environment> result;
  auto stmt = m_db.prepare(fmt::format("SELECT {} FROM environments ORDER BY name", k_columns));
  while (stmt.step()) result.push_back(read(stmt));
  return result;
}

void EnvironmentStore::remove(std::string_view name) {
  m_db.write_transaction([&] {
    get(name);
    auto users = m_db.prepare("SELECT name FROM services WHERE environment = ? ORDER BY name");
    users.bind(1, name);
    std::vector<std::string> services;
    while (users.step()) services.push_back(users.get_text(0));
    if (!services.empty()) {
      throw Error(ErrorKind::already_exists,
                  fmt::format("environment '{}' has services: {}", name, fmt::join(services, ", ")),
                  "delete them first: mlctl service delete NAME");
    }
    m_db.prepare("DELETE FROM environments WHERE name = ?").bind(1, name).run();
  });
}

}  // namespace mlctl::serving
