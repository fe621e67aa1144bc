// `mlctl data ...`: registered datasets, immutable and versioned.
#include <fmt/format.h>

#include <mlctl/data/dataset_store.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {
namespace {

const RenderOptions k_dataset_columns = {{{"Name", "name"},
                                          {"Version", "version"},
                                          {"Rows", "rows"},
                                          {"Columns", "columns"},
                                          {"Size", "size"},
                                          {"Created", "created_at"},
                                          {"Description", "description"}}};

struct RegisterOptions {
  std::string name;
  std::string path;
  std::string description;
  std::string label;
  std::vector<std::string> tags;
};

data::DatasetStore dataset_store(CommandEnv& env) {
  return data::DatasetStore(env.context().db(), env.context().artifacts());
}

void register_dataset(CommandEnv& env, const RegisterOptions& options) {
  data::RegisterRequest request;
  request.name = options.name;
  request.path = options.path;
  request.description = options.description;
  for (const auto& [key, value] : parse_key_values(options.tags, "--tag")) request.tags[key] = value;
  if (!options.label.empty()) request.label = options.label;
  auto store = dataset_store(env);
  data::RegisterResult result = store.register_file(request);
  if (!result.created) {
    env.note(fmt::format("the same content is already registered as {}; no new version", result.dataset.ref()));
  }
  Json json = data::to_json(result.dataset, false);
  json["created"] = result.created;
  env.print(json);
}

}  // namespace

void register_data_commands(CLI::App& app, CommandEnv& env) {
  auto* group = app.add_subcommand("data", "Register, list, show, download and delete versioned datasets");
  group->require_subcommand(1);

  auto options = std::make_shared<RegisterOptions>();
  auto* reg = group->add_subcommand("register", "Store a CSV file as a new immutable version NAME:N");
  reg->add_option("--name", options->name, "Dataset name")->required();
  reg->add_option("--path", options->path, "CSV file (RFC 4180, with a header row)")->required();
  reg->add_option("--description", options->description, "What the data is");
  reg->add_option("--label", options->label, "Mark this column as the label in the schema");
  add_repeatable(*reg, "--tag", options->tags, "Tag KEY=VALUE (repeatable)");
  set_examples(*reg, "mlctl data register --name churn --path data/churn.csv --label churned --tag source=crm");
  reg->callback([&env, options] { register_dataset(env, *options); });

  auto list_name = std::make_shared<std::string>();
  auto* list = group->add_subcommand("list", "List datasets and their versions");
  list->add_option("--name", *list_name, "Only the versions of this dataset");
  set_examples(*list, "mlctl data list\n  mlctl data list --name churn -o json");
  list->callback([&env, list_name] {
    auto store = dataset_store(env);
    std::optional<std::string_view> name;
    if (!list_name->empty()) name = *list_name;
    Json rows = Json::array();
    for (const auto& dataset : store.list(name)) rows.push_back(data::to_json(dataset, false));
    env.print(rows, k_dataset_columns);
  });

  auto show_ref = std::make_shared<std::string>();
  auto* show = group->add_subcommand("show", "Show a dataset version: schema, row count, hash, profile, runs that read it");
  show->add_option("dataset", *show_ref, "NAME, NAME:VERSION or NAME:latest")->required();
  set_examples(*show, "mlctl data show churn:2\n  mlctl data show churn --query profile.columns.age");
  show->callback([&env, show_ref] {
    auto store = dataset_store(env);
    auto dataset = store.get(data::parse_dataset_ref(*show_ref));
    Json json = data::to_json(dataset, true);
    json["runs"] = store.referencing_runs(dataset);
    env.print(json);
  });

  auto download_ref = std::make_shared<std::string>();
  auto dest = std::make_shared<std::string>();
  auto* download = group->add_subcommand("download", "Copy a dataset version's file out of the store (verified)");
  download->add_option("dataset", *download_ref, "NAME[:VERSION]")->required();
  download->add_option("--dest", *dest, "Destination file or directory")->required();
  set_examples(*download, "mlctl data download churn:1 --dest ./data/");
  download->callback([&env, download_ref, dest] {
    auto store = dataset_store(env);
    auto dataset = store.get(data::parse_dataset_ref(*download_ref));
    env.print(Json{{"dataset", dataset.ref()}, {"path", store.download(dataset, *dest).string()}});
  });

  auto delete_ref = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  auto* remove = group->add_subcommand("delete", "Delete a dataset version (refused while runs read it)");
  remove->add_option("dataset", *delete_ref, "NAME:VERSION")->required();
  remove->add_flag("--force", *force, "Delete even if runs refer to it (they lose that lineage)");
  set_examples(*remove, "mlctl data delete churn:1");
  remove->callback([&env, delete_ref, force] {
    auto store = dataset_store(env);
    auto dataset = store.get(data::parse_dataset_ref(*delete_ref));
    store.remove(dataset, *force);
    env.print(Json{{"deleted", dataset.ref()}});
  });
}

}  // namespace mlctl::cli
