#include <catch2/catch.hpp>

#include <mlctl/core/error.hpp>
#include <mlctl/store/db.hpp>
#include <mlctl/store/project.hpp>
#include <mlctl/store/schema.hpp>

#include "support/temp_dir.hpp"

using mlctl::Error;
using mlctl::store::Db;
using mlctl::store::Migration;
using mlctl::testing::TempDir;

TEST_CASE("db: a version-1 database is migrated forward and keeps its data", "[store]") {
  TempDir dir;
  auto path = dir / "old.db";
  const auto& all = mlctl::store::project_migrations();
  REQUIRE(all.size() >= 2);
  {
    // A project written by the first release: version 1 only.
    Db old = Db::open(path, {all.front()}, true);
    REQUIRE(old.schema_version() == 1);
    old.exec(
        "INSERT INTO experiments (id, name, created_at) VALUES (1, 'churn', 0);"
        "INSERT INTO runs (id, uid, experiment_id, status, created_at) VALUES (1, 'r1', 1, 'completed', 0);"
        "INSERT INTO metrics (run_id, key, step, value, timestamp) VALUES"
        " (1, 'loss', 0, 0.9, 10), (1, 'loss', 2, 0.5, 12), (1, 'loss', 1, 0.7, 11), (1, 'acc', 0, 0.8, 10);");
  }
  Db current = Db::open(path, all);
  CHECK(current.schema_version() == mlctl::store::current_schema_version());
  auto stmt = current.prepare("SELECT key, value, step FROM latest_metrics WHERE run_id = 1 ORDER BY key");
  REQUIRE(stmt.step());
  CHECK(stmt.get_text(0) == "acc");
  CHECK(stmt.get_double(1) == 0.8);
  REQUIRE(stmt.step());
  CHECK(stmt.get_text(0) == "loss");
  CHECK(stmt.get_double(1) == 0.5);  // the greatest step, not the last inserted
  CHECK(stmt.get_int64(2) == 2);
  CHECK_FALSE(stmt.step());
  auto runs = current.prepare("SELECT uid FROM runs");
  REQUIRE(runs.step());
  CHECK(runs.get_text(0) == "r1");
}

TEST_CASE("db: a database newer than this build is refused by name", "[store]") {
  TempDir dir;
  auto path = dir / "new.db";
  {
    Db db = Db::open(path, mlctl::store::project_migrations(), true);
    db.exec("PRAGMA user_version = 99");
  }
  try {
    Db::open(path, mlctl::store::project_migrations());
    FAIL("opened a newer database");
  } catch (const Error& error) {
    CHECK(error.kind() == mlctl::ErrorKind::store);
    CHECK(std::string(error.what()) ==
          "database '" + path.string() + "' has schema version 99, newer than this mlctl supports (" +
              std::to_string(mlctl::store::current_schema_version()) + ")");
  }
}

TEST_CASE("db: a project is created in WAL mode with foreign keys at the current version", "[store]") {
  TempDir dir;
  auto paths = mlctl::store::init_project(dir / "proj");
  CHECK(std::filesystem::is_directory(paths.objects));
  Db db = Db::open(paths.database, mlctl::store::project_migrations());
  auto mode = db.prepare("PRAGMA journal_mode");
  REQUIRE(mode.step());
  CHECK(mode.get_text(0) == "wal");
  auto keys = db.prepare("PRAGMA foreign_keys");
  REQUIRE(keys.step());
  CHECK(keys.get_int64(0) == 1);
  CHECK(db.schema_version() == mlctl::store::current_schema_version());
  CHECK_THROWS_AS(mlctl::store::init_project(dir / "proj"), Error);
}

TEST_CASE("db: a failed write transaction leaves nothing behind", "[store]") {
  Db db = Db::open_memory(mlctl::store::project_migrations());
  CHECK_THROWS(db.write_transaction([&] {
    db.exec("INSERT INTO experiments (name, created_at) VALUES ('x', 0)");
    throw mlctl::Error(mlctl::ErrorKind::internal, "boom");
  }));
  auto count = db.prepare("SELECT count(*) FROM experiments");
  count.step();
  CHECK(count.get_int64(0) == 0);
}

TEST_CASE("published pipelines: a stored version cannot be changed, only enabled or disabled", "[store]") {
  auto db = mlctl::store::Db::open_memory(mlctl::store::project_migrations());
  db.exec("INSERT INTO published_pipelines (name, version, digest, yaml, source, base_dir, created_at) "
          "VALUES ('p', 1, 'd', 'type: pipeline', 'p.yml', '/x', 0)");
  CHECK_THROWS_AS(db.exec("UPDATE published_pipelines SET yaml = 'changed' WHERE name = 'p'"), mlctl::Error);
  CHECK_NOTHROW(db.exec("UPDATE published_pipelines SET enabled = 0 WHERE name = 'p'"));
  auto stmt = db.prepare("SELECT yaml, enabled FROM published_pipelines");
  REQUIRE(stmt.step());
  CHECK(stmt.get_text(0) == "type: pipeline");
  CHECK(stmt.get_int64(1) == 0);
}
