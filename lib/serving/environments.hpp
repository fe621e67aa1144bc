#pragma once

// Environments: where a project's services listen and how clients
// authenticate. `staging` (no key) and `production` (key) exist from
// `mlctl init` on; users add their own.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mlctl/core/json.hpp>
#include <mlctl/store/db.hpp>

namespace mlctl::serving {

enum class AuthMode { none, key };
const char* to_string(AuthMode mode) noexcept;
// Throws Error(invalid_argument) for anything but "key" or "none".
AuthMode parse_auth_mode(std::string_view text);

struct Environment {
  std::string name;
  std::string host = "127.0.0.1";
  int port_min = 8100;
  int port_max = 8199;
  AuthMode auth = AuthMode::none;
  std::string description;
  double created_at = 0;
};
Json to_json(const Environment& environment);

// "8100-8199" -> (8100, 8199). Throws Error(invalid_argument) naming the
// text unless 1 <= min <= max <= 65535.
std::pair<int, int> parse_port_range(std::string_view text);

class EnvironmentStore {
 public:
  explicit EnvironmentStore(store::Db& db) : m_db(db) {}

  // Throws Error(invalid_argument) for a bad name or host (an IPv4
  // address), Error(already_exists) when the name is taken.
  Environment create(const Environment& environment);
  std::optional<Environment> find(std::string_view name);
  // Throws Error(not_found) listing the environments there are.
  Environment get(std::string_view name);
  std::vector<Environment> list();
  // Throws Error(not_found), or Error(already_exists) while services use it.
  void remove(std::string_view name);

 private:
  store::Db& m_db;
};

}  // namespace mlctl::serving
