#include <mlctl/registry/model_package.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/sha256.hpp>
#include <mlctl/core/tar_archive.hpp>
#include <mlctl/core/version.hpp>

namespace mlctl::registry {
namespace {

namespace fs = std::filesystem;

constexpr int k_package_version = 1;

bool is_tar(const fs::path& path) { return path.extension() == ".tar"; }

std::string readme(const ModelVersion& model, const Json& manifest) {
  std::string text = fmt::format(
      "# {} (mlctl model package)\n\n"
      "{}\n\n"
      "A {} model registered as {} on {} by {}, packaged with mlctl {}.\n"
      "Every file is listed with its sha256 in package.json; `mlctl model import` checks them all.\n\n"
      "## Import and score\n\n"
      "```sh\n"
      "mlctl init my-project && cd my-project\n"
      "mlctl model import PATH/TO/THIS/PACKAGE          # registers {}:N in this project\n"
      "mlctl model predict --model {} --input rows.csv --output predictions.csv\n"
      "```\n\n"
      "## Inputs\n\n",
      model.ref(), model.description.empty() ? std::string("No description.") : model.description, model.format,
      model.ref(), format_iso8601(model.created_at), model.created_by, mlctl_version(), model.name, model.name);
  if (model.schema.is_object() && model.schema.contains("inputs")) {
    text += "| column | type |\n| --- | --- |\n";
    for (const auto& input : model.schema["inputs"]) {
      text += fmt::format("| {} | {} |\n", input.value("name", ""), input.value("type", "numeric"));
    }
  }
  if (model.schema.is_object() && model.schema.contains("outputs")) {
    text += "\n## Outputs\n\n```json\n" + model.schema["outputs"].dump(2) + "\n```\n";
  }
  if (!model.metrics.empty()) text += "\n## Metrics at registration\n\n```json\n" + model.metrics.dump(2) + "\n```\n";
  text += fmt::format(
      "\n## Serve it\n\n"
      "On a machine with mlctl, after `mlctl model import`:\n\n"
      "```sh\n"
      "mlctl service create --name {0} --model {0} --env staging\n"
      "mlctl service run --name {0} --input-file rows.csv\n"
      "```\n\n"
      "In a container (the Dockerfile beside this README{1}):\n\n"
      "```sh\n"
      "docker build -t {0}-service .\n"
      "docker run -p 8080:8080 {0}-service\n"
      "curl -s localhost:8080/score -d '{{\"data\": [[...]]}}'\n"
      "```\n\n"
      "The image serves the model with `mlctl service deploy --foreground` on port 8080 without keys; build with\n"
      "`--build-arg AUTH=key` for key authentication (`docker exec CONTAINER mlctl service keys {0}` prints them).\n",
      model.name, manifest.contains("runtime") ? " runs the mlctl in bin/" : "; copy mlctl and libmlctl_torch.so into bin/ first");
  return text;
}

}  // namespace

std::string package_dockerfile(const ModelVersion& model) {
  return fmt::format(
      "# Serves model {0} with mlctl on port 8080. Build from the package folder:\n"
      "#   docker build -t {1}-service .   (--build-arg AUTH=key for key authentication)\n"
      "FROM debian:bookworm-slim\n"
      "ARG AUTH=none\n"
      "# libtorch's runtime (mlctl loads it only to score), with the BLAS that makes it fast.\n"
      "RUN apt-get update \\\n"
      " && apt-get install -y --no-install-recommends libtorch1.13 libopenblas0-pthread libyaml-cpp0.7 libsqlite3-0 \\\n"
      " && rm -rf /var/lib/apt/lists/*\n"
      "COPY bin/ /opt/mlctl/bin/\n"
      "COPY package.json README.md /opt/package/\n"
      "COPY model/ /opt/package/model/\n"
      "RUN chmod 755 /opt/mlctl/bin/mlctl \\\n"
      " && ln -s /opt/mlctl/bin/mlctl /usr/local/bin/mlctl \\\n"
      " && mlctl init /srv/mlctl \\\n"
      " && mlctl --project /srv/mlctl model import /opt/package --name {1} \\\n"
      " && mlctl --project /srv/mlctl env create container --host 0.0.0.0 --port-range 8080-8080 --auth \"$AUTH\"\n"
      "ENV MLCTL_PROJECT=/srv/mlctl\n"
      "EXPOSE 8080\n"
      "STOPSIGNAL SIGTERM\n"
      "CMD [\"mlctl\", \"service\", \"deploy\", \"--name\", \"{1}\", \"--model\", \"{1}\", \"--env\", \"container\", "
      "\"--port\", \"8080\", \"--foreground\"]\n",
      model.ref(), model.name);
}

fs::path package_model(ModelRegistry& models, const ModelVersion& model, const fs::path& output,
                       const std::optional<fs::path>& runtime_dir) {
  std::error_code ec;
  if (fs::exists(output, ec)) {
    throw Error(ErrorKind::already_exists, fmt::format("'{}' exists; give a new path for the package", output.string()));
  }
  ScratchDirectory scratch("mlctl-package-");
  models.materialize(model, scratch.path() / "model");
  Json manifest = Json::object();
  manifest["format"] = "mlctl.package";
  manifest["version"] = k_package_version;
  manifest["mlctl_version"] = mlctl_version();
  manifest["created_at"] = format_iso8601(unix_now());
  Json described = to_json(model);
  for (const char* key : {"name", "version", "format", "description", "metrics", "schema", "tags", "datasets",
                          "source_run", "created_at", "created_by", "content_digest"}) {
    manifest["model"][key] = described[key];
  }
  manifest["files"] = described["files"];
  std::vector<TarEntry> entries;
  if (runtime_dir) {
    // The image runs the very mlctl that made the package.
    Json runtime = Json::array();
    auto add_runtime_file = [&](const std::string& path, const fs::path& file) {
      entries.push_back({path, read_file(file)});
      runtime.push_back({{"path", path}, {"sha256", sha256_hex(entries.back().content)}});
    };
    fs::path backend_dir;
    for (const char* name : {"mlctl", "libmlctl_torch.so"}) {
      // The backend sits beside mlctl in a build, in ../lib/mlctl installed.
      fs::path file = *runtime_dir / name;
      if (!fs::is_regular_file(file, ec)) file = *runtime_dir / ".." / "lib" / "mlctl" / name;
      if (!fs::is_regular_file(file, ec)) {
        throw Error(ErrorKind::not_found, fmt::format("cannot package the runtime: {} is missing", file.string()));
      }
      add_runtime_file(std::string("bin/") + name, file);
      if (std::string_view(name) == "libmlctl_torch.so") backend_dir = file.parent_path();
    }
    // The backend's empty stand-ins for libraries libtorch never calls
    // (cmake/MlctlTorchStubs.cmake), found through its RUNPATH beside it.
    std::vector<fs::path> stubs;
    for (const auto& entry : fs::directory_iterator(backend_dir / "torch-stubs", ec)) {
      if (entry.is_regular_file(ec)) stubs.push_back(entry.path());
    }
    std::sort(stubs.begin(), stubs.end());
    for (const auto& stub : stubs) add_runtime_file("bin/torch-stubs/" + stub.filename().string(), stub);
    manifest["runtime"] = runtime;
  }
  entries.push_back({"package.json", manifest.dump(2) + "\n"});
  entries.push_back({"README.md", readme(model, manifest)});
  entries.push_back({"Dockerfile", package_dockerfile(model)});
  for (const auto& file : model.files) entries.push_back({"model/" + file.path, read_file(scratch.path() / "model" / file.path)});
  if (is_tar(output)) {
    write_tar(output, entries);
  } else {
    fs::create_directories(output);
    for (const auto& entry : entries) {
      fs::create_directories((output / entry.name).parent_path());
      write_file_atomic(output / entry.name, entry.content);
    }
  }
  return output;
}

RegisterResult import_package(ModelRegistry& models, const fs::path& package, const std::optional<std::string>& name) {
  std::error_code ec;
  if (!fs::exists(package, ec)) throw Error(ErrorKind::not_found, fmt::format("package '{}' does not exist", package.string()));
  ScratchDirectory scratch("mlctl-package-");
  fs::path root = package;
  if (!fs::is_directory(package, ec)) {
    for (const auto& entry : read_tar(package)) {
      fs::create_directories((scratch.path() / entry.name).parent_path());
      write_file_atomic(scratch.path() / entry.name, entry.content);
    }
    root = scratch.path();
  }
  if (!fs::is_regular_file(root / "package.json", ec)) {
    throw Error(ErrorKind::parse, fmt::format("{}: not an mlctl model package (no package.json)", package.string()));
  }
  Json manifest;
  try {
    manifest = Json::parse(read_file(root / "package.json"));
  } catch (const Json::parse_error& error) {
    throw Error(ErrorKind::parse, fmt::format("{}: package.json is not valid JSON: {}", package.string(), error.what()));
  }
  if (manifest.value("format", "") != "mlctl.package") {
    throw Error(ErrorKind::parse, fmt::format("{}: package.json is not an mlctl.package manifest", package.string()));
  }
  if (manifest.value("version", 0) > k_package_version) {
    throw Error(ErrorKind::parse, fmt::format("{}: package version {} is newer than this mlctl reads ({}); upgrade mlctl",
                                              package.string(), manifest.value("version", 0), k_package_version));
  }
  const Json& model = manifest.at("model");
  for (const auto& file : manifest.at("files")) {
    std::string path = file.at("path").get<std::string>();
    fs::path on_disk = root / "model" / path;
    if (!fs::is_regular_file(on_disk, ec)) {
      throw Error(ErrorKind::store, fmt::format("{}: file model/{} is missing", package.string(), path));
    }
    if (sha256_file(on_disk) != file.at("sha256").get<std::string>()) {
      throw Error(ErrorKind::store,
                  fmt::format("{}: file model/{} does not match its sha256 in package.json", package.string(), path));
    }
  }
  RegisterRequest request;
  request.name = name ? *name : model.at("name").get<std::string>();
  request.format = model.at("format").get<std::string>();
  request.schema = model.at("schema");
  request.metrics = model.value("metrics", Json::object());
  request.description = model.value("description", "");
  // Only the files the manifest lists (and checked above) are registered.
  ScratchDirectory listed("mlctl-package-");
  for (const auto& file : manifest.at("files")) {
    std::string path = file.at("path").get<std::string>();
    fs::create_directories((listed.path() / path).parent_path());
    fs::copy_file(root / "model" / path, listed.path() / path, fs::copy_options::overwrite_existing);
  }
  if (request.format == "torchscript") {
    request.path = listed.path() / manifest.at("files").at(0).at("path").get<std::string>();
  } else {
    request.path = listed.path();
  }
  const Json tags = model.value("tags", Json::object());
  for (const auto& [key, value] : tags.items()) request.tags.emplace_back(key, value.get<std::string>());
  request.tags.emplace_back("mlctl.imported_from", fmt::format("{}:{}", model.at("name").get<std::string>(),
                                                                model.at("version").get<int>()));
  if (!model.value("datasets", Json::object()).empty()) {
    request.tags.emplace_back("mlctl.imported_datasets", model["datasets"].dump());
  }
  if (model.contains("source_run") && model["source_run"].is_string()) {
    request.tags.emplace_back("mlctl.imported_source_run", model["source_run"].get<std::string>());
  }
  request.source_label = fs::absolute(package).lexically_normal().string();
  RegisterResult result = models.register_model(request);
  return result;
}

}  // namespace mlctl::registry
