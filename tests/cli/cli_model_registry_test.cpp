// model register | list | show | download | delete | archive | alias |
// schema, and scoring a registered model: versions, lineage, aliases and
// their history, refusals, verification of every file on load.
#include <set>

#include <mlctl/core/files.hpp>

#include "cli/cli_fixture.hpp"

using namespace mlctl::testing;
using mlctl::Json;

namespace {

// A minimal model directory: registry logic needs only model.json.
void write_model_dir(const std::filesystem::path& dir, const std::string& marker) {
  std::filesystem::create_directories(dir);
  write_text(dir / "model.json",
             R"({"format": "mlctl.model", "task": "classification", "label": "y", "class_names": ["no", "yes"],)"
             R"( "input_schema": [{"name": "a", "type": "numeric"}, {"name": "b", "type": "categorical"}]})");
  write_text(dir / "weights.bin", marker);
}

std::string train_churn(const ProjectFixture& project, const std::string& learning_rate) {
  auto result = project.mlctl({"experiment", "submit", "-f",
                               (source_dir() / "examples" / "churn" / "train.yml").string(), "--set",
                               "num_epochs=5", "--set", "learning_rate=" + learning_rate, "--set", "device=cpu",
                               "-o", "json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  return Json::parse(result.out)["id"];
}

}  // namespace

TEST_CASE("cli model: versions number 1, 2, ... and the same content is not a new version", "[cli][model]") {
  ProjectFixture project;
  write_model_dir(project / "m1", "one");
  write_model_dir(project / "m2", "two");
  Json first = project.json({"model", "register", "--name", "churn", "--path", "m1", "--tag", "team=risk",
                             "--description", "first"});
  CHECK(first["ref"] == "churn:1");
  CHECK(first["format"] == "mlctl");
  CHECK(first["schema"]["inputs"][1] == Json::parse(R"({"name": "b", "type": "categorical"})"));
  CHECK(first["schema"]["outputs"]["classes"] == Json::parse(R"(["no", "yes"])"));
  CHECK(first["files"].size() == 2);
  CHECK(first["tags"]["team"] == "risk");
  auto again = project.mlctl({"model", "register", "--name", "churn", "--path", "m1", "-o", "json"});
  CHECK(again.exit_code == 0);
  CHECK(Json::parse(again.out)["ref"] == "churn:1");
  CHECK(again.err.find("the same files are registered already as churn:1") != std::string::npos);
  CHECK(project.json({"model", "register", "--name", "churn", "--path", "m2"})["ref"] == "churn:2");
  CHECK(project.json({"model", "show", "churn"})["version"] == 2);
  CHECK(project.json({"model", "show", "churn:latest"})["version"] == 2);
  CHECK(project.json({"model", "show", "churn:1"})["description"] == "first");
  CHECK(project.json({"model", "list", "--tag", "team=risk", "--query", "[].ref"}) == Json::parse(R"(["churn:1"])"));

  auto missing = project.mlctl({"model", "show", "churn:7"});
  CHECK(missing.exit_code == 3);
  CHECK(missing.err.find("model 'churn' has no version 7 (the latest is 2)") != std::string::npos);
  CHECK(project.mlctl({"model", "show", "nope"}).err.find("no model named 'nope'") != std::string::npos);
  CHECK(project.mlctl({"model", "show", "churn:x"}).exit_code == 2);
  auto both = project.mlctl({"model", "register", "--name", "churn"});
  CHECK(both.exit_code == 2);
  CHECK(both.err.find("--run RUN or --path DIR_OR_FILE") != std::string::npos);
}

TEST_CASE("cli model: 4 processes registering at once get distinct, consecutive versions", "[cli][model]") {
  ProjectFixture project;
  for (int i = 0; i < 20; ++i) { std::string index = std::to_string(i); write_model_dir(project / ("m" + index), "model " + index); }
  std::string script;
  for (int writer = 0; writer < 4; ++writer) {
    script += "(for i in " + std::to_string(writer * 5) + " " + std::to_string(writer * 5 + 1) + " " +
              std::to_string(writer * 5 + 2) + " " + std::to_string(writer * 5 + 3) + " " +
              std::to_string(writer * 5 + 4) + "; do \"" + mlctl_binary() +
              "\" model register --name churn --path m$i -o tsv --query version || echo FAILED; done) > out" +
              std::to_string(writer) + " 2> err" + std::to_string(writer) + " &\n";
  }
  script += "wait\ncat out0 out1 out2 out3\n";
  auto result = project.shell(script);
  REQUIRE(result.exit_code == 0);
  CHECK(result.out.find("FAILED") == std::string::npos);
  std::multiset<int> versions;
  std::size_t start = 0;
  while (start < result.out.size()) {
    auto end = result.out.find('\n', start);
    versions.insert(std::stoi(result.out.substr(start, end - start)));
    start = end + 1;
  }
  std::multiset<int> expected;
  for (int v = 1; v <= 20; ++v) expected.insert(v);
  CHECK(versions == expected);
}

TEST_CASE("cli model: aliases resolve everywhere and every move is in the history", "[cli][model]") {
  ProjectFixture project;
  write_model_dir(project / "m1", "one");
  write_model_dir(project / "m2", "two");
  project.json({"model", "register", "--name", "churn", "--path", "m1", "--alias", "staging"});
  project.json({"model", "register", "--name", "churn", "--path", "m2"});
  CHECK(project.json({"model", "show", "churn@staging"})["version"] == 1);
  project.json({"model", "alias", "set", "churn", "production", "1", "--reason", "first release"});
  project.json({"model", "alias", "set", "churn", "production", "2", "--reason", "passed the criteria"});
  CHECK(project.json({"model", "show", "churn@production"})["version"] == 2);
  CHECK(project.json({"model", "show", "churn:2"})["aliases"] == Json::parse(R"(["production"])"));
  CHECK(project.mlctl({"model", "alias", "delete", "churn", "production", "--reason", "rollback"}).exit_code == 0);
  Json history = project.json({"model", "alias", "history", "churn", "production"});
  REQUIRE(history.size() == 3);
  CHECK(history[0]["version"] == 1);
  CHECK(history[0]["previous_version"] == nullptr);
  CHECK(history[0]["reason"] == "first release");
  CHECK(history[1]["version"] == 2);
  CHECK(history[1]["previous_version"] == 1);
  CHECK(history[2]["version"] == nullptr);
  CHECK(history[2]["previous_version"] == 2);
  CHECK(history[2]["reason"] == "rollback");
  auto gone = project.mlctl({"model", "show", "churn@production"});
  CHECK(gone.exit_code == 3);
  CHECK(gone.err.find("model 'churn' has no alias 'production' (it has staging)") != std::string::npos);
  CHECK(project.mlctl({"model", "alias", "set", "churn", "latest", "1"}).exit_code == 2);
  CHECK(project.mlctl({"model", "alias", "set", "churn", "production", "9"}).exit_code == 3);
}

TEST_CASE("cli model: delete and archive are refused while aliased; archived versions hide", "[cli][model]") {
  ProjectFixture project;
  write_model_dir(project / "m1", "one");
  write_model_dir(project / "m2", "two");
  project.json({"model", "register", "--name", "churn", "--path", "m1", "--alias", "production"});
  project.json({"model", "register", "--name", "churn", "--path", "m2"});
  auto refused = project.mlctl({"model", "delete", "churn:1"});
  CHECK(refused.exit_code == 4);
  CHECK(refused.err.find("model churn:1 is aliased as production") != std::string::npos);
  CHECK(project.mlctl({"model", "archive", "churn:1"}).exit_code == 4);
  CHECK(project.mlctl({"model", "delete", "churn"}).exit_code == 2);  // an exact version is required
  project.json({"model", "archive", "churn:2"});
  CHECK(project.json({"model", "list", "--query", "[].ref"}) == Json::parse(R"(["churn:1"])"));
  CHECK(project.json({"model", "list", "--all", "--query", "[].ref"}) == Json::parse(R"(["churn:2", "churn:1"])"));
  CHECK(project.json({"model", "show", "churn:latest"})["version"] == 1);
  CHECK(project.mlctl({"model", "alias", "set", "churn", "staging", "2"}).exit_code == 2);
  project.json({"model", "archive", "churn:2", "--restore"});
  CHECK(project.mlctl({"model", "delete", "churn:2"}).exit_code == 0);
  CHECK(project.json({"model", "list", "--all", "--query", "[].ref"}) == Json::parse(R"(["churn:1"])"));
}

TEST_CASE("cli model: schema from a sample CSV", "[cli][model]") {
  ProjectFixture project;
  write_text(project / "sample.csv", "age,plan,note,churned\n31,basic,\"likes it, a lot\",no\n45,pro,angry,yes\n");
  Json schema = project.json({"model", "schema", "--from", "sample.csv", "--label", "churned", "--output", "schema.json"});
  CHECK(schema["inputs"][0] == Json::parse(R"({"name": "age", "type": "numeric"})"));
  CHECK(schema["inputs"].size() == 3);
  CHECK(schema["outputs"] == Json::parse(R"({"label": "churned", "classes": ["no", "yes"]})"));
  CHECK(Json::parse(mlctl::read_file(project / "schema.json")) == schema);
  CHECK(project.mlctl({"model", "schema", "--from", "sample.csv", "--label", "nope"}).exit_code == 2);
}

TEST_CASE("cli model: a registered run's model scores, keeps its lineage, and a tampered file is caught",
          "[cli][model][torch]") {
  ProjectFixture project;
  std::string run = train_churn(project, "0.01");
  Json model = project.json({"model", "register", "--name", "churn", "--run", run, "--alias", "production"});
  CHECK(model["source_run"] == run);
  CHECK(model["datasets"]["train"] == "breast_cancer:1");
  CHECK(model["metrics"]["test_accuracy"].get<double>() > 0.8);
  auto data_delete = project.mlctl({"data", "delete", "breast_cancer:1"});
  CHECK(data_delete.exit_code == 4);
  CHECK(data_delete.err.find("trained 1 registered model(s) (churn:1)") != std::string::npos);

  std::string input = (source_dir() / "examples" / "churn" / "data" / "breast_cancer.csv").string();
  Json by_model = project.json({"model", "predict", "--model", "churn@production", "--input", input});
  Json by_run = project.json({"model", "predict", "--run", run, "--input", input});
  CHECK(by_model == by_run);
  CHECK(by_model.size() == 569);

  project.json({"model", "download", "churn:1", "--dest", "dl"});
  CHECK(std::filesystem::exists(project / "dl" / "weights.pt"));

  // Corrupt the stored weights: loading the model names the file.
  std::string digest;
  for (const auto& file : model["files"]) {
    if (file["path"] == "weights.pt") digest = file["sha256"];
  }
  REQUIRE(!digest.empty());
  std::filesystem::path blob = project / ".mlctl" / "objects" / digest.substr(0, 2) / digest.substr(2);
  std::filesystem::permissions(blob, std::filesystem::perms::owner_write, std::filesystem::perm_options::add);
  write_text(blob, "not the weights");
  auto tampered = project.mlctl({"model", "predict", "--model", "churn:1", "--input", input});
  CHECK(tampered.exit_code != 0);
  CHECK(tampered.err.find("model churn:1: file weights.pt is missing or was modified") != std::string::npos);
}
