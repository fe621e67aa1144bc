#include <filesystem>

#include <mlctl/store/project.hpp>
#include <mlctl/store/schema.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {

void register_init_command(CLI::App& app, CommandEnv& env) {
  auto* command = app.add_subcommand("init", "Create a project: .mlctl/ with the database and artifact store");
  auto directory = std::make_shared<std::string>(".");
  command->add_option("directory", *directory, "Project directory (created if missing)");
  set_examples(*command, "mlctl init\n  mlctl init ~/projects/churn");
  command->callback([&env, directory] {
    store::ProjectPaths paths = store::init_project(*directory);
    Json result = Json::object();
    result["project"] = paths.root.string();
    result["database"] = paths.database.string();
    result["artifacts"] = paths.objects.string();
    result["schema_version"] = store::current_schema_version();
    env.print(result);
  });
}

}  // namespace mlctl::cli
