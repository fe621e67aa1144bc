#include <catch2/catch.hpp>

#include <mlctl/core/error.hpp>
#include <mlctl/store/db.hpp>
#include <mlctl/store/schema.hpp>
#include <mlctl/tracking/experiment_store.hpp>
#include <mlctl/tracking/metric_log.hpp>
#include <mlctl/tracking/run_compare.hpp>
#include <mlctl/tracking/run_store.hpp>

using namespace mlctl::tracking;
using mlctl::Error;
using mlctl::ErrorKind;
using mlctl::store::Db;

namespace {
Db fresh_db() { return Db::open_memory(mlctl::store::project_migrations()); }

Run make_run(RunStore& runs, const std::string& experiment, std::vector<std::pair<std::string, std::string>> params = {},
             std::optional<std::string> parent = {}) {
  NewRun new_run;
  new_run.experiment = experiment;
  new_run.params = std::move(params);
  new_run.parent_id = std::move(parent);
  return runs.create(new_run);
}
}  // namespace

TEST_CASE("run store: a new run is queued in its experiment, created on first use", "[runs]") {
  Db db = fresh_db();
  RunStore runs(db);
  Run run = make_run(runs, "churn", {{"lr", "0.01"}});
  CHECK(run.status == RunStatus::queued);
  CHECK(run.experiment == "churn");
  CHECK(run.id.size() == 16);
  CHECK(run.params.at("lr") == "0.01");
  CHECK(ExperimentStore(db).get("churn").name == "churn");
}

TEST_CASE("run store: runs are found by a unique id prefix; an ambiguous one is an error", "[runs]") {
  Db db = fresh_db();
  RunStore runs(db);
  Run run = make_run(runs, "e");
  CHECK(runs.get(run.id.substr(0, 6)).id == run.id);
  CHECK_FALSE(runs.find("zz").has_value());
  try {
    runs.get("nope");
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::not_found);
    CHECK(std::string(error.what()) == "no run with id 'nope'");
  }
  // Force two ids sharing a prefix.
  db.exec("UPDATE runs SET uid = 'abc1000000000000'");
  make_run(runs, "e");
  db.exec("UPDATE runs SET uid = 'abc2000000000000' WHERE uid != 'abc1000000000000'");
  try {
    runs.get("abc");
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::invalid_argument);
    CHECK(std::string(error.what()) ==
          "run id prefix 'abc' is ambiguous (it matches abc1000000000000 and abc2000000000000 at least)");
  }
}

TEST_CASE("run store: params cannot change, tags can", "[runs]") {
  Db db = fresh_db();
  RunStore runs(db);
  Run run = make_run(runs, "e", {{"lr", "0.1"}});
  runs.log_params(run.row_id, {{"lr", "0.1"}});  // same value again is fine
  try {
    runs.log_params(run.row_id, {{"lr", "0.2"}});
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::already_exists);
    CHECK(std::string(error.what()) == "param 'lr' is already logged as '0.1' and params cannot change (got '0.2')");
  }
  runs.set_tags(run.row_id, {{"stage", "a"}});
  runs.set_tags(run.row_id, {{"stage", "b"}});
  CHECK(runs.get(run.id).tags.at("stage") == "b");
}

TEST_CASE("run store: a canceled run stays canceled when its process ends", "[runs]") {
  Db db = fresh_db();
  RunStore runs(db);
  Run run = make_run(runs, "e");
  runs.mark_running(run.row_id, {1, 1, 1, "host"});
  CHECK(runs.mark_canceled(run.row_id, "canceled by the user"));
  CHECK(runs.finish(run.row_id, RunStatus::failed, 143, "killed by signal 15 (SIGTERM)") == RunStatus::canceled);
  Run after = runs.get(run.id);
  CHECK(after.status == RunStatus::canceled);
  CHECK(after.status_reason == "canceled by the user");
  CHECK(after.exit_code == 143);
  CHECK_FALSE(runs.mark_canceled(run.row_id, "again"));
}

TEST_CASE("run store: list filters by experiment, parent, tag and filter expression", "[runs]") {
  Db db = fresh_db();
  RunStore runs(db);
  MetricLog metrics(db);
  Run parent = make_run(runs, "a", {{"lr", "0.01"}});
  Run child = make_run(runs, "a", {{"lr", "0.1"}}, parent.id);
  Run other = make_run(runs, "b", {{"lr", "0.01"}});
  runs.set_tags(other.row_id, {{"team", "x"}});
  std::vector<MetricPoint> good = {{"acc", 0.95, 0, 0}}, bad = {{"acc", 0.5, 0, 0}};
  metrics.append(parent.row_id, good);
  metrics.append(child.row_id, bad);
  metrics.append(other.row_id, good);

  auto ids = [&](RunListQuery query) {
    std::vector<std::string> found;
    runs.list(query, [&](const Run& run) { found.push_back(run.id); });
    return found;
  };
  RunListQuery by_experiment;
  by_experiment.experiment = "a";
  by_experiment.order_by = "created";
  CHECK(ids(by_experiment) == std::vector<std::string>{parent.id, child.id});
  RunListQuery by_parent;
  by_parent.parent_id = parent.id;
  CHECK(ids(by_parent) == std::vector<std::string>{child.id});
  RunListQuery by_tag;
  by_tag.tags = {{"team", "x"}};
  CHECK(ids(by_tag) == std::vector<std::string>{other.id});
  RunListQuery by_filter;
  by_filter.filter = "metrics.acc > 0.9 and (params.lr = '0.01' and experiment = 'b' or tags.team in ('x'))";
  CHECK(ids(by_filter) == std::vector<std::string>{other.id});
  RunListQuery top;
  top.order_by = "metrics.acc asc";
  top.top = 1;
  CHECK(ids(top) == std::vector<std::string>{child.id});
}

TEST_CASE("run compare: rows per param and metric with differences marked", "[runs]") {
  Run a, b;
  a.id = "a";
  b.id = "b";
  a.params = {{"lr", "0.1"}, {"epochs", "5"}};
  b.params = {{"lr", "0.2"}, {"epochs", "5"}};
  a.metrics["acc"] = {"acc", 0.9, 1, 0};
  auto rows = compare_runs({a, b});
  REQUIRE(rows.size() == 3);
  CHECK(rows[0]["key"] == "epochs");
  CHECK(rows[0]["differs"] == false);
  CHECK(rows[1]["key"] == "lr");
  CHECK(rows[1]["differs"] == true);
  CHECK(rows[1]["b"] == "0.2");
  CHECK(rows[2]["kind"] == "metric");
  CHECK(rows[2]["a"] == 0.9);
  CHECK(rows[2]["b"].is_null());
  CHECK(rows[2]["differs"] == true);
}
