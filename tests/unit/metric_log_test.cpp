#include <catch2/catch.hpp>

#include <cmath>

#include <mlctl/core/error.hpp>
#include <mlctl/store/db.hpp>
#include <mlctl/store/schema.hpp>
#include <mlctl/tracking/metric_log.hpp>
#include <mlctl/tracking/run_store.hpp>

using namespace mlctl::tracking;
using mlctl::store::Db;

namespace {
Db fresh_db() { return Db::open_memory(mlctl::store::project_migrations()); }
Run make_run(Db& db) {
  RunStore runs(db);
  NewRun new_run;
  new_run.experiment = "exp";
  return runs.create(new_run);
}
}  // namespace

TEST_CASE("metric log: points without a step continue their own series", "[metrics]") {
  Db db = fresh_db();
  Run run = make_run(db);
  MetricLog log(db);
  std::vector<MetricPoint> first = {{"loss", 0.9, std::nullopt, 1}, {"acc", 0.1, std::nullopt, 1},
                                    {"loss", 0.8, std::nullopt, 2}};
  log.append(run.row_id, first);
  std::vector<MetricPoint> second = {{"loss", 0.7, std::nullopt, 3}};
  log.append(run.row_id, second);
  auto loss = log.history(run.row_id, "loss");
  REQUIRE(loss.size() == 3);
  CHECK(loss[0].step == 0);
  CHECK(loss[1].step == 1);
  CHECK(loss[2].step == 2);
  CHECK(loss[2].value == 0.7);
  auto acc = log.history(run.row_id, "acc");
  REQUIRE(acc.size() == 1);
  CHECK(acc[0].step == 0);
}

TEST_CASE("metric log: the latest value is the one with the greatest step", "[metrics]") {
  Db db = fresh_db();
  Run run = make_run(db);
  MetricLog log(db);
  std::vector<MetricPoint> points = {{"loss", 0.5, 10, 1}, {"loss", 0.9, 3, 2}, {"loss", std::nan(""), 10, 3}};
  log.append(run.row_id, points);
  Run loaded = RunStore(db).get(run.id);
  REQUIRE(loaded.metrics.count("loss") == 1);
  CHECK(loaded.metrics["loss"].step == 10);
  CHECK(std::isnan(loaded.metrics["loss"].value));  // same step, later timestamp wins
}

TEST_CASE("metric log: any number of points in one call is stored in full", "[metrics]") {
  Db db = fresh_db();
  Run run = make_run(db);
  MetricLog log(db);
  std::vector<MetricPoint> points;
  for (int i = 0; i < 5 * int(MetricLog::k_batch_size) + 17; ++i) {
    points.push_back({"m" + std::to_string(i % 7), double(i), i, double(i)});
  }
  log.append(run.row_id, points);
  CHECK(log.history(run.row_id).size() == points.size());
  Run loaded = RunStore(db).get(run.id);
  CHECK(loaded.metrics.size() == 7);
  CHECK(loaded.metrics["m0"].value == double(points.size() - 1 - (points.size() - 1) % 7));
}

TEST_CASE("metric log: an empty metric name is rejected before anything is stored", "[metrics]") {
  Db db = fresh_db();
  Run run = make_run(db);
  MetricLog log(db);
  std::vector<MetricPoint> points = {{"ok", 1, 0, 0}, {"", 2, 0, 0}};
  CHECK_THROWS_AS(log.append(run.row_id, points), mlctl::Error);
  CHECK(log.history(run.row_id).empty());
}
