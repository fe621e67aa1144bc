// Several mlctl processes writing to one project at once must all succeed
// with every point stored (no "database is locked").
#include "cli/cli_fixture.hpp"

using namespace mlctl::testing;
using mlctl::Json;

TEST_CASE("cli concurrency: 4 jobs x 10,000 metric points through the metrics file", "[cli][concurrency]") {
  ProjectFixture project;
  // Each job writes its points in 20 bursts so that the four supervisors
  // ingest (and take the write lock) at the same time.
  write_text(project / "job.sh",
             "for burst in $(seq 0 19); do\n"
             "  seq $((burst * 500)) $((burst * 500 + 499)) |\n"
             "    awk '{printf \"{\\\"name\\\":\\\"m\\\",\\\"value\\\":%d,\\\"step\\\":%d}\\n\", $1, $1}' "
             ">> \"$MLCTL_METRICS_FILE\"\n"
             "  sleep 0.02\n"
             "done\n");
  std::string script;
  for (int i = 0; i < 4; ++i) {
    script += "mlctl experiment submit -e conc -o tsv --query id -- /bin/sh job.sh > id" + std::to_string(i) +
              " 2> err" + std::to_string(i) + " & ";
  }
  script += "wait; cat err0 err1 err2 err3";
  auto result = project.shell(script);
  INFO(result.err << result.out);
  CHECK(result.out.find("locked") == std::string::npos);
  auto runs = project.json({"run", "list", "-e", "conc"});
  REQUIRE(runs.size() == 4);
  for (const auto& run : runs) {
    CHECK(run["status"] == "completed");
    auto count = project.json({"run", "metrics", run["id"], "--name", "m", "--query", "length(@)"});
    CHECK(count == 10000);
    CHECK(run["metrics"]["m"] == 9999);
  }
}

TEST_CASE("cli concurrency: 4 processes logging with run log into one run lose nothing", "[cli][concurrency]") {
  ProjectFixture project;
  std::string id = project.submit("true");
  std::string script;
  for (int writer = 0; writer < 4; ++writer) {
    // 20 calls of 500 metrics each: 10,000 points per writer.
    script += "(for call in $(seq 1 20); do args=''; for k in $(seq 1 500); do args=\"$args --metric w" +
              std::to_string(writer) + "_$k=$call\"; done; mlctl run log --run " + id +
              " $args || echo FAILED; done) & ";
  }
  script += "wait";
  auto result = project.shell(script);
  CHECK(result.out.find("FAILED") == std::string::npos);
  CHECK(result.err.find("locked") == std::string::npos);
  CHECK(project.json({"run", "metrics", id, "--query", "length(@)"}) == 40000);
  auto run = project.json({"run", "show", id});
  CHECK(run["metrics"].size() == 2000);
  CHECK(run["metrics"]["w3_500"] == 20);
}
