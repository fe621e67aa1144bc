// run list / show / compare / artifacts / download / logs / delete and
// their error paths.
#include <sys/stat.h>

#include "cli/cli_fixture.hpp"

using namespace mlctl::testing;
using mlctl::Json;

namespace {

// Three runs with different params and metrics.
struct ThreeRuns {
  ProjectFixture project;
  std::string a, b, c;
  ThreeRuns() {
    a = project.submit("mlctl run log --metric accuracy=0.95 --metric loss=0.1", {"-e", "exp1", "--param", "lr=0.01", "--tag", "team=a"});
    b = project.submit("mlctl run log --metric accuracy=0.85", {"-e", "exp1", "--param", "lr=0.1", "--tag", "team=b"});
    c = project.submit("mlctl run log --metric accuracy=0.92; exit 1", {"-e", "exp2", "--param", "lr=0.01", "--tag", "team=c"});
  }
};

}  // namespace

TEST_CASE("cli run list: filters, order, top and query", "[cli][run]") {
  ThreeRuns runs;
  auto& project = runs.project;
  CHECK(project.json({"run", "list", "--query", "[].id"}) == Json::array({runs.c, runs.b, runs.a}));
  CHECK(project.json({"run", "list", "-e", "exp1", "--query", "length(@)"}) == 2);
  CHECK(project.json({"run", "list", "--status", "failed", "--query", "[].id"}) == Json::array({runs.c}));
  CHECK(project.json({"run", "list", "--tag", "team=b", "--query", "[].id"}) == Json::array({runs.b}));
  CHECK(project.json({"run", "list", "--filter",
                      "metrics.accuracy > 0.9 and (params.lr = '0.01' or tags.team in ('x', 'y'))", "--order-by",
                      "metrics.accuracy desc", "--query", "[].id"}) == Json::array({runs.a, runs.c}));
  CHECK(project.json({"run", "list", "--filter", "not status = 'completed' or metrics.loss is not null",
                      "--order-by", "created", "--query", "[].id"}) == Json::array({runs.a, runs.c}));
  CHECK(project.json({"run", "list", "--order-by", "metrics.accuracy", "--top", "1", "--query", "[0].id"}) == runs.b);
  CHECK(project.json({"run", "list", "--query", "[?status=='completed'] | length(@)"}) == 2);

  auto full = project.json({"run", "list", "--top", "1"});
  CHECK(full[0]["metrics"]["accuracy"] == 0.92);
  CHECK(full[0]["params"]["lr"] == "0.01");

  auto bad = project.mlctl({"run", "list", "--filter", "metrics.accuracy >"});
  CHECK(bad.exit_code == 2);
  CHECK(first_line(bad.err) == "error: --filter:1:19: expected a value after '>' (got end of input)");
  auto bad_status = project.mlctl({"run", "list", "--status", "done"});
  CHECK(bad_status.exit_code == 2);
  auto tsv = project.mlctl({"run", "list", "-o", "tsv", "--query", "[].[id, status]"});
  CHECK(tsv.out == runs.c + "\tfailed\n" + runs.b + "\tcompleted\n" + runs.a + "\tcompleted\n");
}

TEST_CASE("cli run show: unknown runs are not found (3), prefixes work", "[cli][run]") {
  ThreeRuns runs;
  auto unknown = runs.project.mlctl({"run", "show", "0000000000000000"});
  CHECK(unknown.exit_code == 3);
  CHECK(first_line(unknown.err) == "error: no run with id '0000000000000000'");
  CHECK(runs.project.json({"run", "show", runs.a.substr(0, 10)})["id"] == runs.a);
}

TEST_CASE("cli run compare: params and metrics side by side, differences marked", "[cli][run]") {
  ThreeRuns runs;
  auto rows = runs.project.json({"run", "compare", runs.a, runs.b});
  REQUIRE(rows.size() == 3);
  CHECK(rows[0]["key"] == "lr");
  CHECK(rows[0]["differs"] == true);
  CHECK(rows[0][runs.a] == "0.01");
  CHECK(rows[1]["key"] == "accuracy");
  CHECK(rows[2]["key"] == "loss");
  CHECK(rows[2][runs.b].is_null());
  auto markdown = runs.project.mlctl({"run", "compare", runs.a, runs.b, "-o", "markdown"});
  CHECK(markdown.out.find("| * | param | lr | 0.01 | 0.1 |") != std::string::npos);
  CHECK(runs.project.mlctl({"run", "compare", runs.a}).exit_code == 2);
  CHECK(runs.project.mlctl({"run", "compare", runs.a, "ffff"}).exit_code == 3);
}

TEST_CASE("cli run artifacts: download copies verified files; a tampered blob is refused", "[cli][run]") {
  ProjectFixture project;
  std::string id = project.submit("echo one > $MLCTL_OUTPUTS/a.txt; mkdir $MLCTL_OUTPUTS/m; echo two > $MLCTL_OUTPUTS/m/b.txt");
  auto listed = project.json({"run", "artifacts", id});
  REQUIRE(listed.size() == 2);
  CHECK(listed[0]["path"] == "outputs/a.txt");
  CHECK(listed[0]["size"] == 4);
  auto written = project.json({"run", "download", id, "--artifact", "outputs/m", "--dest", (project / "dl").string()});
  CHECK(written == Json::array({(project / "dl" / "outputs" / "m" / "b.txt").string()}));
  CHECK(project.shell("cat dl/outputs/m/b.txt").out == "two\n");
  CHECK(project.mlctl({"run", "download", id, "--artifact", "nope", "--dest", "x"}).exit_code == 3);

  std::string digest = listed[0]["sha256"];
  auto blob = project / ".mlctl" / "objects" / digest.substr(0, 2) / digest.substr(2);
  ::chmod(blob.c_str(), 0644);
  write_text(blob, "tampered\n");
  auto refused = project.mlctl({"run", "download", id, "--dest", (project / "dl2").string()});
  CHECK(refused.exit_code == 5);
  CHECK(first_line(refused.err).find("is corrupted") != std::string::npos);
}

TEST_CASE("cli run delete: removes an ended run; a running one is a conflict", "[cli][run]") {
  ProjectFixture project;
  std::string done = project.submit("echo bye");
  CHECK(project.json({"run", "delete", done})["deleted"] == done);
  CHECK(project.mlctl({"run", "show", done}).exit_code == 3);
  CHECK_FALSE(std::filesystem::exists(project / ".mlctl" / "runs" / done));
  std::string running = project.submit("sleep 30", {"--detach"});
  auto refused = project.mlctl({"run", "delete", running});
  CHECK(refused.exit_code == 4);
  CHECK(project.json({"run", "show", running})["status"] == "running");
  project.mlctl({"run", "cancel", running});
}

TEST_CASE("cli run log: needs a run and values of the right shape", "[cli][run]") {
  ProjectFixture project;
  std::string id = project.submit("true");
  CHECK(project.mlctl({"run", "log", "--metric", "x=1"}).exit_code == 2);  // no MLCTL_RUN_ID
  auto bad_metric = project.mlctl({"run", "log", "--run", id, "--metric", "x=high"});
  CHECK(bad_metric.exit_code == 2);
  CHECK(first_line(bad_metric.err) == "error: --metric x=high: expected a number");
  CHECK(project.mlctl({"run", "log", "--run", id, "--param", "p=1"}).exit_code == 0);
  auto changed = project.mlctl({"run", "log", "--run", id, "--param", "p=2"});
  CHECK(changed.exit_code == 4);
  CHECK(project.mlctl({"run", "log", "--run", id, "--metric", "x=1", "--step", "7"}).exit_code == 0);
  CHECK(project.json({"run", "metrics", id, "--name", "x"})[0]["step"] == 7);
  write_text(project / "notes.txt", "n");
  CHECK(project.mlctl({"run", "log", "--run", id, "--artifact", "notes.txt", "--artifact-path", "docs"}).exit_code == 0);
  CHECK(project.json({"run", "artifacts", id})[0]["path"] == "docs/notes.txt");
}

TEST_CASE("cli run create/end: track work mlctl does not launch", "[cli][run]") {
  ProjectFixture project;
  auto created = project.json({"run", "create", "-e", "notebook", "--param", "lr=0.1", "--metric", "loss=0.5"});
  std::string id = created["id"];
  CHECK(created["status"] == "running");
  CHECK(created["kind"] == "external");
  CHECK(created["metrics"]["loss"] == 0.5);
  CHECK(project.mlctl({"run", "log", "--run", id, "--metric", "loss=0.25"}).exit_code == 0);
  auto ended = project.json({"run", "end", id, "--status", "failed"});
  CHECK(ended["status"] == "failed");
  CHECK(ended["metrics"]["loss"] == 0.25);
  CHECK(project.mlctl({"run", "end", id}).exit_code == 4);
  auto finished = project.json({"run", "create", "--status", "completed", "--metric", "acc=1"});
  CHECK(finished["status"] == "completed");
  CHECK(finished["duration"].is_number());
  CHECK(project.mlctl({"run", "create", "--status", "queued"}).exit_code == 2);
  std::string supervised = project.submit("sleep 5", {"--detach"});
  CHECK(project.mlctl({"run", "end", supervised}).exit_code == 2);
  project.mlctl({"run", "cancel", supervised});
}
