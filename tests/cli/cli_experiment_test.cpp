#include "cli/cli_fixture.hpp"

using namespace mlctl::testing;
using mlctl::Json;

TEST_CASE("cli experiment: create, list and show with run counts", "[cli][experiment]") {
  ProjectFixture project;
  auto created = project.json({"experiment", "create", "churn", "--description", "churn model"});
  CHECK(created["name"] == "churn");
  CHECK(created["runs"] == 0);
  project.submit("exit 0", {"--experiment", "churn"});
  project.submit("exit 1", {"--experiment", "churn"});
  auto shown = project.json({"experiment", "show", "churn"});
  CHECK(shown["runs"] == 2);
  CHECK(shown["runs_by_status"]["completed"] == 1);
  CHECK(shown["runs_by_status"]["failed"] == 1);
  CHECK(project.json({"experiment", "list"}).size() == 1);
}

TEST_CASE("cli experiment: duplicates conflict (4), unknown names are not found (3)", "[cli][experiment]") {
  ProjectFixture project;
  project.mlctl({"experiment", "create", "churn"});
  auto duplicate = project.mlctl({"experiment", "create", "churn"});
  CHECK(duplicate.exit_code == 4);
  CHECK(first_line(duplicate.err) == "error: experiment 'churn' already exists");
  auto unknown = project.mlctl({"experiment", "show", "chrun"});
  CHECK(unknown.exit_code == 3);
  CHECK(first_line(unknown.err) == "error: no experiment named 'chrun' (did you mean 'churn'?)");
  auto invalid = project.mlctl({"experiment", "create", "bad name"});
  CHECK(invalid.exit_code == 2);
}
