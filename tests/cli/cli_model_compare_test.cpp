// model evaluate | compare: metrics as evaluation runs, champion/challenger
// criteria and exit codes, bring-your-own TorchScript models, and the churn
// example end to end.
#include <mlctl/core/files.hpp>

#include "cli/cli_fixture.hpp"

using namespace mlctl::testing;
using mlctl::Json;

namespace {

std::string churn_csv() { return (source_dir() / "examples" / "churn" / "data" / "breast_cancer.csv").string(); }

std::string train(const ProjectFixture& project, const std::vector<std::string>& sets) {
  std::vector<std::string> args = {"experiment", "submit", "-f",
                                   (source_dir() / "examples" / "churn" / "train.yml").string(), "--set",
                                   "device=cpu", "-o", "json"};
  for (const auto& set : sets) {
    args.push_back("--set");
    args.push_back(set);
  }
  auto result = project.mlctl(args);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  return Json::parse(result.out)["id"];
}

}  // namespace

TEST_CASE("cli model compare: the churn example keeps the better model and refuses the worse",
          "[cli][model][torch]") {
  ProjectFixture project;
  project.json({"data", "register", "--name", "churn", "--path", churn_csv(), "--label", "diagnosis"});
  // Two hyperparameter settings: a well-trained model and a starved one.
  std::string good = train(project, {"data.train=azureml:churn:1", "learning_rate=0.01", "num_epochs=60"});
  std::string poor = train(project, {"data.train=azureml:churn:1", "learning_rate=0.00005", "num_epochs=2",
                                     "early_stopping="});
  CHECK(project.json({"model", "register", "--name", "churn", "--run", good})["ref"] == "churn:1");
  CHECK(project.json({"model", "register", "--name", "churn", "--run", poor})["ref"] == "churn:2");

  Json good_eval = project.json({"model", "evaluate", "churn:1", "--data", "churn:1"});
  Json poor_eval = project.json({"model", "evaluate", "churn:2", "--data", "churn:1"});
  for (const char* metric : {"accuracy", "precision", "recall", "f1", "auc", "log_loss", "latency_ms_per_row"}) {
    INFO(metric);
    CHECK(good_eval["metrics"][metric].is_number());
  }
  CHECK(good_eval["metrics"]["rows"] == 569);
  REQUIRE(good_eval["metrics"]["accuracy"].get<double>() > poor_eval["metrics"]["accuracy"].get<double>());
  Json run = project.json({"run", "show", good_eval["run_id"].get<std::string>()});
  CHECK(run["kind"] == "evaluation");
  CHECK(run["params"]["model"] == "churn:1");
  CHECK(run["metrics"]["accuracy"] == good_eval["metrics"]["accuracy"]);
  CHECK(run["inputs"]["data"] == "churn:1");

  // First release: no champion yet, the thresholds alone decide.
  std::string criteria = (source_dir() / "examples" / "churn" / "criteria.yaml").string();
  auto first = project.mlctl({"model", "compare", "--candidate", "churn:1", "--baseline", "churn@production",
                              "--data", "churn:1", "--criteria", criteria, "-o", "json"});
  INFO(first.err);
  CHECK(first.exit_code == 0);
  CHECK(first.err.find("no model churn@production yet: the thresholds alone decide") != std::string::npos);
  CHECK(Json::parse(first.out)["baseline"] == nullptr);
  project.json({"model", "alias", "set", "churn", "production", "1", "--reason", "first release"});

  // The starved challenger is refused, naming the failing rule.
  auto refused = project.mlctl({"model", "compare", "--candidate", "churn:2", "--baseline", "churn@production",
                                "--data", "churn:1", "--criteria", criteria, "-o", "json"});
  CHECK(refused.exit_code == 1);
  Json verdict = Json::parse(refused.out);
  CHECK(verdict["passed"] == false);
  CHECK(verdict["baseline"] == "churn:1");
  CHECK(verdict["differing_predictions"].get<int>() > 0);
  CHECK(refused.err.find("criterion failed: accuracy: ") != std::string::npos);
  CHECK(verdict["failures"][0].get<std::string>().rfind("accuracy: ", 0) == 0);
  CHECK(project.json({"model", "show", "churn@production"})["version"] == 1);

  // The champion against itself: a tie passes the 0 change rule.
  auto markdown = project.mlctl({"model", "compare", "--candidate", "churn:1", "--baseline", "churn@production",
                                 "--data", "churn:1", "--criteria", criteria, "-o", "markdown"});
  CHECK(markdown.exit_code == 0);
  CHECK(markdown.out.rfind("**churn:1** vs **churn@production = churn:1** on `churn:1` (569 rows): **passed**", 0) == 0);
  CHECK(markdown.out.find("| Metric | Candidate | Baseline | Difference | Rule | Result |") != std::string::npos);
  CHECK(markdown.out.find("0 of 569 predictions differ.") != std::string::npos);

  auto bad_criteria = project.mlctl({"model", "compare", "--candidate", "churn:1", "--data", "churn:1", "--criteria",
                                     churn_csv()});
  CHECK(bad_criteria.exit_code == 2);
}

TEST_CASE("cli model: a TorchScript model made with python3-torch is registered, evaluated and compared",
          "[cli][model][torch]") {
  ProjectFixture project;
  std::filesystem::path fixture = source_dir() / "tests" / "fixtures" / "torchscript";
  auto missing_schema = project.mlctl({"model", "register", "--name", "byo", "--path",
                                       (fixture / "churn_linear.pt").string(), "--format", "torchscript"});
  CHECK(missing_schema.exit_code == 2);
  CHECK(missing_schema.err.find("a torchscript model needs --schema FILE") != std::string::npos);
  Json model = project.json({"model", "register", "--name", "byo", "--path", (fixture / "churn_linear.pt").string(),
                             "--format", "torchscript", "--schema", (fixture / "schema.json").string()});
  CHECK(model["format"] == "torchscript");
  CHECK(model["schema"]["inputs"].size() == 30);
  Json evaluated = project.json({"model", "evaluate", "byo:1", "--data", churn_csv()});
  // make_churn_torchscript.py printed a training accuracy of 0.9895 on these rows.
  CHECK(evaluated["metrics"]["accuracy"].get<double>() == Approx(0.98946).margin(1e-4));
  CHECK(evaluated["data"] == "breast_cancer:1");

  write_text(project / "criteria.yaml", "metrics:\n  accuracy: {threshold: 0.99}\n");
  auto below = project.mlctl({"model", "compare", "--candidate", "byo:1", "--data", "breast_cancer:1", "--criteria",
                              "criteria.yaml"});
  CHECK(below.exit_code == 1);
  CHECK(below.err.find("criterion failed: accuracy: 0.989455 is below the threshold 0.99") != std::string::npos);
  write_text(project / "criteria.yaml", "metrics:\n  accuracy: {threshold: 0.98}\n");
  CHECK(project.mlctl({"model", "compare", "--candidate", "byo:1", "--data", "breast_cancer:1", "--criteria",
                       "criteria.yaml"})
            .exit_code == 0);

  // Columns missing from the data are named.
  write_text(project / "short.csv", "mean_radius,diagnosis\n12,benign\n");
  auto short_data = project.mlctl({"model", "evaluate", "byo:1", "--data", "short.csv"});
  CHECK(short_data.exit_code == 2);
  CHECK(short_data.err.find("the model's input column 'mean_texture' is missing") != std::string::npos);
}

TEST_CASE("cli model package: import into a second project gives identical predictions", "[cli][model][torch]") {
  ProjectFixture first, second;
  std::string run = train(first, {"learning_rate=0.01", "num_epochs=20"});
  first.json({"model", "register", "--name", "churn", "--run", run, "--alias", "production", "--description",
              "logistic regression"});
  std::filesystem::path fixture = source_dir() / "tests" / "fixtures" / "torchscript";
  first.json({"model", "register", "--name", "byo", "--path", (fixture / "churn_linear.pt").string(), "--format",
              "torchscript", "--schema", (fixture / "schema.json").string()});
  Json packaged = first.json({"model", "package", "churn@production", "--output", (first / "churn.tar").string()});
  CHECK(packaged["model"] == "churn:1");
  first.json({"model", "package", "byo:1", "--output", (first / "byo").string()});
  CHECK(std::filesystem::exists(first / "byo" / "README.md"));
  CHECK(first.mlctl({"model", "package", "byo:1", "--output", (first / "byo").string()}).exit_code == 4);
  // A plain tar reads it: the runtime (mlctl, its backend and the
  // backend's torch-stubs/, in name order), then the package's own files.
  std::string listed = first.shell("tar -tf churn.tar | grep -v '^bin/torch-stubs/'").out;
  CHECK(listed ==
        "bin/mlctl\nbin/libmlctl_torch.so\npackage.json\nREADME.md\nDockerfile\nmodel/model.json\nmodel/model.yaml\n"
        "model/preprocessor.json\nmodel/weights.pt\n");
  CHECK(first.shell("tar -tf churn.tar | grep '^bin/torch-stubs/' | sort -c").exit_code == 0);

  Json imported = second.json({"model", "import", (first / "churn.tar").string()});
  CHECK(imported["ref"] == "churn:1");
  CHECK(imported["description"] == "logistic regression");
  CHECK(imported["tags"]["mlctl.imported_from"] == "churn:1");
  CHECK(imported["tags"]["mlctl.imported_source_run"] == run);
  CHECK(imported["metrics"]["test_accuracy"] == first.json({"run", "show", run})["metrics"]["test_accuracy"]);
  CHECK(second.json({"model", "import", (first / "byo").string(), "--name", "byo-imported"})["ref"] == "byo-imported:1");
  CHECK(second.json({"model", "import", (first / "churn.tar").string()})["ref"] == "churn:1");  // same content

  for (const auto& [here, there] : std::vector<std::pair<std::string, std::string>>{{"churn@production", "churn:1"},
                                                                                   {"byo:1", "byo-imported:1"}}) {
    first.mlctl({"model", "predict", "--model", here, "--input", churn_csv(), "--output", (first / "a.csv").string()});
    second.mlctl({"model", "predict", "--model", there, "--input", churn_csv(), "--output", (second / "b.csv").string()});
    std::string a = mlctl::read_file(first / "a.csv");
    CHECK(a.size() > 1000);
    CHECK(a == mlctl::read_file(second / "b.csv"));
  }

  // A package whose weights were altered is refused, naming the file.
  first.shell("cp -r byo altered && printf x >> altered/model/churn_linear.pt");
  auto altered = second.mlctl({"model", "import", (first / "altered").string()});
  CHECK(altered.exit_code == 5);
  CHECK(altered.err.find("file model/churn_linear.pt does not match its sha256 in package.json") != std::string::npos);
  write_text(first / "junk.tar", std::string(1024, 'x'));
  CHECK(second.mlctl({"model", "import", (first / "junk.tar").string()}).exit_code == 2);
}
