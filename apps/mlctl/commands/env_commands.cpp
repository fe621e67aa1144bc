// `mlctl env ...`: the environments services run in (staging and
// production from `init` on, and the user's own).
#include <fmt/format.h>

#include <mlctl/core/error.hpp>
#include <mlctl/serving/environments.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {

void register_env_commands(CLI::App& app, CommandEnv& env) {
  auto* group = app.add_subcommand("env", "Environments services run in: host, port range and authentication");
  group->require_subcommand(1);

  struct CreateOptions {
    std::string name, host = "127.0.0.1", port_range = "8200-8299", auth = "key", description;
  };
  auto create_options = std::make_shared<CreateOptions>();
  auto* create = group->add_subcommand("create", "Create an environment");
  create->add_option("name", create_options->name, "Environment name")->required();
  create->add_option("--host", create_options->host, "Address services listen on (default 127.0.0.1)");
  create->add_option("--port-range", create_options->port_range, "Ports services get, LOW-HIGH (default 8200-8299)");
  create->add_option("--auth", create_options->auth, "key (clients send a key) or none (default key)")
      ->check(CLI::IsMember({"key", "none"}));
  create->add_option("--description", create_options->description, "Description");
  set_examples(*create, "mlctl env create canary --port-range 8300-8309 --auth key");
  create->callback([&env, create_options] {
    serving::Environment environment;
    environment.name = create_options->name;
    environment.host = create_options->host;
    std::tie(environment.port_min, environment.port_max) = serving::parse_port_range(create_options->port_range);
    environment.auth = serving::parse_auth_mode(create_options->auth);
    environment.description = create_options->description;
    env.print(serving::to_json(serving::EnvironmentStore(env.context().db()).create(environment)));
  });

  auto* list = group->add_subcommand("list", "List environments");
  list->callback([&env] {
    Json rows = Json::array();
    for (const auto& environment : serving::EnvironmentStore(env.context().db()).list()) {
      rows.push_back(serving::to_json(environment));
    }
    env.print(rows, {{{"Name", "name"}, {"Host", "host"}, {"Ports", "port_range"}, {"Auth", "auth"},
                      {"Description", "description"}}});
  });

  auto name = std::make_shared<std::string>();
  auto* show = group->add_subcommand("show", "Show an environment");
  show->add_option("name", *name, "Environment name")->required();
  show->callback([&env, name] {
    env.print(serving::to_json(serving::EnvironmentStore(env.context().db()).get(*name)));
  });

  auto* remove = group->add_subcommand("delete", "Delete an environment (refused while services use it)");
  remove->add_option("name", *name, "Environment name")->required();
  remove->callback([&env, name] {
    serving::EnvironmentStore(env.context().db()).remove(*name);
    env.note(fmt::format("environment '{}' deleted", *name));
  });
}

}  // namespace mlctl::cli
