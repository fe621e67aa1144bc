#pragma once

// Model packages: a registered model version as a self-contained bundle
// that another project (on another machine) imports into its registry.
//
//   package.json   manifest: format mlctl.package, version 1, the model's
//                  name, version, format, schema, metrics, tags, lineage
//                  (as text: datasets are not carried), and every file
//                  with its sha256 and size
//   model/...      the model's files (model.json, preprocessor.json,
//                  weights.pt, model.yaml; or the TorchScript file)
//   README.md      what it is, how to import and score it, how to serve it
//   Dockerfile     an image that imports the package and serves it with
//                  `mlctl service deploy --foreground` on port 8080
//   bin/...        the mlctl binary and its torch backend the image runs
//                  (when the packaging mlctl passes its runtime folder)
//
// A package is a directory, or a tar file when the output ends in .tar.

#include <filesystem>
#include <optional>
#include <string>

#include <mlctl/registry/model_registry.hpp>

namespace mlctl::registry {

// Writes the package of `model` (its files verified on the way), with
// mlctl and libmlctl_torch.so from `runtime_dir` when given. Refuses to
// overwrite: Error(already_exists) when `output` exists. Returns the path
// written.
std::filesystem::path package_model(ModelRegistry& models, const ModelVersion& model,
                                    const std::filesystem::path& output,
                                    const std::optional<std::filesystem::path>& runtime_dir = std::nullopt);

// The Dockerfile of a package: Debian 12 with libtorch's runtime, the
// package imported into a project at /srv/mlctl, served on 0.0.0.0:8080.
std::string package_dockerfile(const ModelVersion& model);

// Imports a package as the next version of its model's name (or `name`),
// after checking every file against the manifest: Error(store) naming a
// file that is missing or altered, Error(parse) for a manifest that is not
// mlctl.package version 1 (a newer version is named). Importing the same
// package twice returns the existing version.
RegisterResult import_package(ModelRegistry& models, const std::filesystem::path& package,
                              const std::optional<std::string>& name);

}  // namespace mlctl::registry
