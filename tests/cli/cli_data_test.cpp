// mlctl data: register (versions, dedup, schema, profile), list, show,
// download, delete refusals, and datasets as job inputs with lineage.
#include "cli/cli_fixture.hpp"

using namespace mlctl::testing;
using mlctl::Json;

namespace {
const char* k_csv =
    "age,plan,comment,churned\n"
    "34,basic,\"never had a problem, the service is good\",0\n"
    "51,premium,\"support took three days to answer my question about billing\",1\n"
    "28,basic,,0\n"
    "45,\"pro, annual\",\"fine\",1\n";
}

TEST_CASE("cli data: register makes immutable versions; the same content is not a new one", "[cli][data]") {
  ProjectFixture project;
  write_text(project / "churn.csv", k_csv);
  auto first = project.json({"data", "register", "--name", "churn", "--path", "churn.csv", "--label", "churned",
                             "--description", "crm export", "--tag", "source=crm"});
  CHECK(first["ref"] == "churn:1");
  CHECK(first["created"] == true);
  CHECK(first["rows"] == 4);
  CHECK(first["schema"]["label"] == "churned");
  CHECK(first["schema"]["columns"][0] == Json::parse(R"({"name": "age", "type": "numeric"})"));
  CHECK(first["schema"]["columns"][1]["type"] == "categorical");
  CHECK(first["tags"]["source"] == "crm");

  auto again = project.mlctl({"data", "register", "--name", "churn", "--path", "churn.csv", "-o", "json"});
  CHECK(again.exit_code == 0);
  CHECK(Json::parse(again.out)["ref"] == "churn:1");
  CHECK(Json::parse(again.out)["created"] == false);

  write_text(project / "churn.csv", std::string(k_csv) + "60,premium,ok,0\n");
  CHECK(project.json({"data", "register", "--name", "churn", "--path", "churn.csv"})["ref"] == "churn:2");
  CHECK(project.json({"data", "list", "--query", "[].ref"}) == Json::parse(R"(["churn:1", "churn:2"])"));
  CHECK(project.json({"data", "show", "churn"})["version"] == 2);
  CHECK(project.json({"data", "show", "churn:latest"})["version"] == 2);
  CHECK(project.json({"data", "show", "azureml:churn:1"})["rows"] == 4);

  auto profile = project.json({"data", "show", "churn:1", "--query", "profile.columns.age"});
  CHECK(profile["count"] == 4);
  CHECK(profile["min"] == 28);
  CHECK(profile["max"] == 51);
  CHECK(profile["mean"] == 39.5);  // (34 + 51 + 28 + 45) / 4
}

TEST_CASE("cli data: malformed files and unknown names fail with their position or a hint", "[cli][data]") {
  ProjectFixture project;
  write_text(project / "ragged.csv", "a,b\n1,2\n3\n");
  auto ragged = project.mlctl({"data", "register", "--name", "r", "--path", "ragged.csv"});
  CHECK(ragged.exit_code == 2);
  CHECK(first_line(ragged.err) == "error: ragged.csv:3: row has 1 field, the header has 2");
  CHECK(project.json({"data", "list"}).empty());  // nothing stored

  write_text(project / "ok.csv", "a,b\n1,2\n");
  auto label = project.mlctl({"data", "register", "--name", "ok", "--path", "ok.csv", "--label", "c"});
  CHECK(label.exit_code == 2);
  CHECK(first_line(label.err) == "error: ok.csv: no column 'c' to use as the label");
  CHECK(project.mlctl({"data", "register", "--name", "ok", "--path", "missing.csv"}).exit_code == 3);
  CHECK(project.mlctl({"data", "register", "--name", "bad name", "--path", "ok.csv"}).exit_code == 2);

  project.mlctl({"data", "register", "--name", "churn", "--path", "ok.csv"});
  auto unknown = project.mlctl({"data", "show", "chrun"});
  CHECK(unknown.exit_code == 3);
  CHECK(first_line(unknown.err) == "error: no dataset named 'chrun' (did you mean 'churn'?)");
  auto version = project.mlctl({"data", "show", "churn:7"});
  CHECK(version.exit_code == 3);
  CHECK(first_line(version.err) == "error: dataset 'churn' has no version 7 (the newest is 1)");
  CHECK(project.mlctl({"data", "show", "churn:x"}).exit_code == 2);
}

TEST_CASE("cli data: a job reads a dataset input; lineage is kept and guards deletion", "[cli][data]") {
  ProjectFixture project;
  write_text(project / "churn.csv", k_csv);
  project.mlctl({"data", "register", "--name", "churn", "--path", "churn.csv"});
  write_text(project / "job.yml",
             "command: wc -l < ${{inputs.data}} && basename ${{inputs.data}}\n"
             "inputs:\n"
             "  data:\n"
             "    type: uri_file\n"
             "    path: azureml:churn:1\n");
  auto submitted = project.mlctl({"experiment", "submit", "-f", "job.yml", "-o", "json"});
  INFO(submitted.err);
  REQUIRE(submitted.exit_code == 0);
  std::string id = Json::parse(submitted.out)["id"];
  CHECK(project.mlctl({"run", "logs", id}).out == "5\nchurn.csv\n");
  CHECK(project.json({"run", "show", id})["inputs"] == Json::parse(R"({"data": "churn:1"})"));
  CHECK(project.json({"data", "show", "churn:1"})["runs"] == Json::array({id}));

  auto refused = project.mlctl({"data", "delete", "churn:1"});
  CHECK(refused.exit_code == 4);
  CHECK(first_line(refused.err) == "error: dataset churn:1 is an input of 1 run(s) (" + id + ")");
  CHECK(project.json({"data", "delete", "churn:1", "--force"})["deleted"] == "churn:1");
  CHECK(project.json({"run", "show", id})["inputs"].empty());

  write_text(project / "missing.yml", "command: cat ${{inputs.data}}\ninputs:\n  data: azureml:nope:1\n");
  auto missing = project.mlctl({"experiment", "submit", "-f", "missing.yml"});
  CHECK(missing.exit_code == 3);
  CHECK(first_line(missing.err) == "error: missing.yml:3:3: input 'data': no dataset named 'nope'");
}

TEST_CASE("cli data: download copies the verified file", "[cli][data]") {
  ProjectFixture project;
  write_text(project / "churn.csv", k_csv);
  project.mlctl({"data", "register", "--name", "churn", "--path", "churn.csv"});
  std::filesystem::create_directories(project / "out");
  auto result = project.json({"data", "download", "churn", "--dest", (project / "out").string()});
  CHECK(result["path"] == (project / "out" / "churn.csv").string());
  CHECK(project.shell("cmp churn.csv out/churn.csv").exit_code == 0);
}
