#include <mlctl/core/backend.hpp>
#include <mlctl/core/version.hpp>
#include <mlctl/store/schema.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {

void register_version_command(CLI::App& app, CommandEnv& env) {
  app.set_version_flag("--version", mlctl_version());
  auto* command = app.add_subcommand("version", "Print the version of mlctl (and of its libtorch backend)");
  auto backend = std::make_shared<bool>(false);
  command->add_flag("--backend", *backend, "Also load the libtorch backend and report torch, CUDA and threads");
  set_examples(*command, "mlctl version\n  mlctl version --backend -o json");
  command->callback([&env, backend] {
    Json result = Json::object();
    result["mlctl"] = mlctl_version();
    result["schema_version"] = store::current_schema_version();
    if (*backend) {
      Backend& loaded = Backend::get();
      result["backend"] = loaded.describe();
      result["backend"]["path"] = loaded.path().string();
    }
    env.print(result);
  });
}

}  // namespace mlctl::cli
