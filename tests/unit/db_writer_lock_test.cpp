// The project's writer lock: waiting writers get it when it is freed, and
// a holder that never frees it makes them fail after the busy timeout
// instead of hanging.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/store/db.hpp>
#include <mlctl/store/project.hpp>
#include <mlctl/store/schema.hpp>

#include "support/temp_dir.hpp"

using mlctl::store::Db;
using mlctl::testing::TempDir;

namespace {

// Holds the writer lock of `db_path` through a file description of its own
// (flock locks belong to open file descriptions, so this conflicts with
// the Db's even in the same process).
struct HeldLock {
  explicit HeldLock(const std::filesystem::path& db_path)
      : fd(::open((db_path.string() + ".writer-lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX) == 0);
  }
  ~HeldLock() { ::close(fd); }
  void release() const { ::flock(fd, LOCK_UN); }
  int fd;
};

}  // namespace

TEST_CASE("db writer lock: a writer waits for the holder and then commits", "[store]") {
  TempDir dir;
  auto path = dir / "project.db";
  Db db = Db::open(path, mlctl::store::project_migrations(), true);
  HeldLock held(path);
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    held.release();
  });
  double started = mlctl::monotonic_seconds();
  db.write_transaction([&] { db.exec("INSERT INTO experiments (name, created_at) VALUES ('waited', 0)"); });
  double waited = mlctl::monotonic_seconds() - started;
  releaser.join();
  CHECK(waited >= 0.1);
  CHECK(db.longest_lock_wait() >= 0.1);
  auto stmt = db.prepare("SELECT count(*) FROM experiments WHERE name = 'waited'");
  REQUIRE(stmt.step());
  CHECK(stmt.get_int64(0) == 1);
}

TEST_CASE("db writer lock: a holder that never lets go fails the writer after the busy timeout", "[store]") {
  TempDir dir;
  auto path = dir / "project.db";
  Db db = Db::open(path, mlctl::store::project_migrations(), true);
  db.set_busy_timeout_ms(400);
  HeldLock held(path);
  double started = mlctl::monotonic_seconds();
  try {
    db.write_transaction([&] { db.exec("INSERT INTO experiments (name, created_at) VALUES ('never', 0)"); });
    FAIL("the write went through while another description held the lock");
  } catch (const mlctl::Error& error) {
    CHECK(error.kind() == mlctl::ErrorKind::store);
    CHECK(std::string(error.what()).find("is busy: another process has held its write lock for over 0.4 s") !=
          std::string::npos);
  }
  double waited = mlctl::monotonic_seconds() - started;
  CHECK(waited >= 0.4);
  CHECK(waited < 2.0);
  held.release();
  // Nothing was written, and the lock works again.
  db.write_transaction([&] { db.exec("INSERT INTO experiments (name, created_at) VALUES ('after', 0)"); });
  auto stmt = db.prepare("SELECT group_concat(name) FROM experiments");
  REQUIRE(stmt.step());
  CHECK(stmt.get_text(0) == "after");
}
