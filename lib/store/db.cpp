#include <mlctl/store/db.hpp>

#include <fmt/format.h>
#include <sqlite3.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <thread>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/file_lock.hpp>

namespace mlctl::store {
namespace {

[[noreturn]] void throw_sqlite(sqlite3* db, int code, std::string_view what) {
  const char* message = db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  throw Error(ErrorKind::store, fmt::format("database error while {}: {} (sqlite code {})", what,
                                            message, code));
}

}  // namespace

Statement::Statement(Statement&& other) noexcept : m_db(other.m_db), m_stmt(other.m_stmt) {
  other.m_stmt = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (m_stmt) sqlite3_finalize(m_stmt);
    m_db = other.m_db;
    m_stmt = other.m_stmt;
    other.m_stmt = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  if (m_stmt) sqlite3_finalize(m_stmt);
}

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(m_stmt, index, value);
  if (rc != SQLITE_OK) throw_sqlite(m_db, rc, "binding a value");
  return *this;
}

Statement& Statement::bind(int index, double value) {
  int rc = sqlite3_bind_double(m_stmt, index, value);
  if (rc != SQLITE_OK) throw_sqlite(m_db, rc, "binding a value");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  int rc = sqlite3_bind_text(m_stmt, index, value.data(), int(value.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) throw_sqlite(m_db, rc, "binding a value");
  return *this;
}

Statement& Statement::bind(int index, const SqlValue& value) {
  std::visit([&](const auto& v) { bind(index, v); }, value);
  return *this;
}

Statement& Statement::bind_null(int index) {
  int rc = sqlite3_bind_null(m_stmt, index);
  if (rc != SQLITE_OK) throw_sqlite(m_db, rc, "binding a value");
  return *this;
}

Statement& Statement::bind_all(const std::vector<SqlValue>& values, int start) {
  for (std::size_t i = 0; i < values.size(); ++i) bind(start + int(i), values[i]);
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string sql = sqlite3_sql(m_stmt) ? sqlite3_sql(m_stmt) : "";
  if (sql.size() > 60) sql = sql.substr(0, 57) + "...";
  throw_sqlite(m_db, rc, fmt::format("running '{}'", sql));
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() { sqlite3_reset(m_stmt); }

bool Statement::is_null(int column) const {
  return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}
std::int64_t Statement::get_int64(int column) const { return sqlite3_column_int64(m_stmt, column); }
double Statement::get_double(int column) const { return sqlite3_column_double(m_stmt, column); }
std::string_view Statement::get_text_view(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, column));
  if (!text) return {};
  return {text, std::size_t(sqlite3_column_bytes(m_stmt, column))};
}
std::string Statement::get_text(int column) const { return std::string(get_text_view(column)); }
std::optional<std::int64_t> Statement::get_optional_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return get_int64(column);
}
std::optional<double> Statement::get_optional_double(int column) const {
  if (is_null(column)) return std::nullopt;
  return get_double(column);
}
std::optional<std::string> Statement::get_optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return get_text(column);
}

Db::Db(sqlite3* handle, std::filesystem::path path) : m_handle(handle), m_path(std::move(path)) {}

Db::Db(Db&& other) noexcept
    : m_handle(other.m_handle),
      m_path(std::move(other.m_path)),
      m_writer_lock_fd(other.m_writer_lock_fd),
      m_busy_timeout_ms(other.m_busy_timeout_ms),
      m_transaction_depth(other.m_transaction_depth) {
  m_longest_wait = other.m_longest_wait;
  other.m_handle = nullptr;
  other.m_writer_lock_fd = -1;
  if (m_handle) {
    // The callbacks carry `this`: point them at the new object.
    sqlite3_busy_handler(m_handle, &Db::busy_handler, this);
    sqlite3_wal_hook(m_handle, &Db::on_wal_commit, this);
  }
}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    if (m_handle) sqlite3_close_v2(m_handle);
    if (m_writer_lock_fd >= 0) ::close(m_writer_lock_fd);
    m_handle = other.m_handle;
    m_writer_lock_fd = other.m_writer_lock_fd;
    other.m_writer_lock_fd = -1;
    m_longest_wait = other.m_longest_wait;
    m_path = std::move(other.m_path);
    m_busy_timeout_ms = other.m_busy_timeout_ms;
    m_transaction_depth = other.m_transaction_depth;
    other.m_handle = nullptr;
    if (m_handle) {
      sqlite3_busy_handler(m_handle, &Db::busy_handler, this);
      sqlite3_wal_hook(m_handle, &Db::on_wal_commit, this);
    }
  }
  return *this;
}

Db::~Db() {
  if (m_handle) sqlite3_close_v2(m_handle);
  if (m_writer_lock_fd >= 0) ::close(m_writer_lock_fd);
}

Db Db::open(const std::filesystem::path& path, const std::vector<Migration>& migrations, bool create) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (create) flags |= SQLITE_OPEN_CREATE;
  sqlite3* handle = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc);
    if (handle) sqlite3_close_v2(handle);
    throw Error(ErrorKind::store, fmt::format("cannot open database '{}': {}", path.string(), message));
  }
  Db db(handle, path);
  db.m_writer_lock_fd = ::open((path.string() + ".writer-lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  db.configure();
  db.migrate(migrations);
  return db;
}

Db Db::open_memory(const std::vector<Migration>& migrations) {
  sqlite3* handle = nullptr;
  int rc = sqlite3_open_v2(":memory:", &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) throw_sqlite(handle, rc, "opening an in-memory database");
  Db db(handle, ":memory:");
  db.configure();
  db.migrate(migrations);
  return db;
}

void Db::configure() {
  sqlite3_busy_handler(m_handle, &Db::busy_handler, this);
  sqlite3_extended_result_codes(m_handle, 1);
  // An mlctl process lives for milliseconds (one per `mlctl run log`). By
  // default the last connection to close checkpoints the WAL and deletes
  // it, which costs a few ms per process. Instead the WAL is kept, and the
  // writer that finds it long checkpoints and truncates it (wal_hook): a
  // new process must re-read the WAL it finds, so it stays short.
  sqlite3_db_config(m_handle, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  int persist_wal = 1;
  sqlite3_file_control(m_handle, "main", SQLITE_FCNTL_PERSIST_WAL, &persist_wal);
  sqlite3_wal_hook(m_handle, &Db::on_wal_commit, this);
  // WAL lets readers run beside the one writer; NORMAL sync is still
  // consistent after a crash (the last commits may be lost on power loss).
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
       " PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16000;");
}

int Db::on_wal_commit(void* self, sqlite3* handle, const char* schema, int frames) {
  if (frames >= k_wal_checkpoint_frames) {
    // TRUNCATE empties the WAL, but it waits for every reader and holds
    // the writer lock meanwhile, so other writers would queue behind it.
    // Try it without waiting (no busy handler): if anyone is busy it
    // returns SQLITE_BUSY at once and a later commit tries again.
    sqlite3_busy_handler(handle, nullptr, nullptr);
    sqlite3_wal_checkpoint_v2(handle, schema, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    sqlite3_busy_handler(handle, &Db::busy_handler, self);
  }
  return SQLITE_OK;
}

int Db::busy_handler(void* self, int attempt) {
  auto* db = static_cast<Db*>(self);
  double now = monotonic_seconds();
  if (attempt == 0) db->m_busy_since = now;
  db->m_longest_wait = std::max(db->m_longest_wait, now - db->m_busy_since);
  if ((now - db->m_busy_since) * 1000.0 > db->m_busy_timeout_ms) return 0;
  // Short, jittered sleeps: the lock holder's transactions are a few ms at
  // most, and waiters must not oversleep the moment it frees the lock.
  thread_local std::minstd_rand jitter(std::random_device{}());
  int base_us = attempt < 10 ? 50 : (attempt < 100 ? 200 : 1000);
  std::this_thread::sleep_for(std::chrono::microseconds(base_us + int(jitter() % unsigned(base_us))));
  return 1;
}

Statement Db::prepare(std::string_view sql) const {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(m_handle, sql.data(), int(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    throw_sqlite(m_handle, rc, fmt::format("preparing '{}'", sql.substr(0, 60)));
  }
  return Statement(m_handle, stmt);
}

void Db::exec(std::string_view sql) const {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(m_handle, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string detail = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw Error(ErrorKind::store, fmt::format("database error: {} (sqlite code {})", detail, rc));
  }
}

namespace {

// Holds the project's writer lock (flock) for one write transaction.
// Waits at most the busy timeout: a holder stopped mid-transaction (SIGSTOP,
// a debugger) must not hang every other writer for ever.
class WriterLock {
 public:
  WriterLock(int fd, double& longest_wait, int timeout_ms, const std::filesystem::path& db_path) : m_fd(fd) {
    if (m_fd < 0) return;
    double started = monotonic_seconds();
    bool locked = lock_exclusive(m_fd, timeout_ms / 1000.0);
    longest_wait = std::max(longest_wait, monotonic_seconds() - started);
    if (!locked) {
      m_fd = -1;
      throw Error(ErrorKind::store,
                  fmt::format("the project database {} is busy: another process has held its write lock for over "
                              "{} s",
                              db_path.string(), timeout_ms / 1000.0),
                  fmt::format("a stopped or hung mlctl process? 'fuser {}.writer-lock' names it", db_path.string()));
    }
  }
  ~WriterLock() {
    if (m_fd >= 0) ::flock(m_fd, LOCK_UN);
  }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  int m_fd;
};

}  // namespace

void Db::write_transaction(const std::function<void()>& fn) {
  if (m_transaction_depth > 0) {
    fn();
    return;
  }
  WriterLock writer(m_writer_lock_fd, m_longest_wait, m_busy_timeout_ms, m_path);
  exec("BEGIN IMMEDIATE");
  m_transaction_depth = 1;
  try {
    fn();
    exec("COMMIT");
    m_transaction_depth = 0;
  } catch (...) {
    m_transaction_depth = 0;
    sqlite3_exec(m_handle, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void Db::read_transaction(const std::function<void()>& fn) {
  if (m_transaction_depth > 0) {
    fn();
    return;
  }
  exec("BEGIN");
  m_transaction_depth = 1;
  try {
    fn();
    exec("COMMIT");
    m_transaction_depth = 0;
  } catch (...) {
    m_transaction_depth = 0;
    sqlite3_exec(m_handle, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::int64_t Db::last_insert_rowid() const { return sqlite3_last_insert_rowid(m_handle); }
int Db::changes() const { return sqlite3_changes(m_handle); }

int Db::schema_version() const {
  Statement stmt = prepare("PRAGMA user_version");
  stmt.step();
  return int(stmt.get_int64(0));
}

void Db::migrate(const std::vector<Migration>& migrations) {
  int latest = migrations.empty() ? 0 : migrations.back().version;
  int current = schema_version();
  if (current > latest) {
    throw Error(ErrorKind::store,
                fmt::format("database '{}' has schema version {}, newer than this mlctl supports ({})",
                            m_path.string(), current, latest),
                "upgrade mlctl to open this project");
  }
  if (current == latest) return;
  write_transaction([&] {
    // Re-read inside the write lock: another process may have migrated.
    int version = schema_version();
    for (const Migration& migration : migrations) {
      if (migration.version <= version) continue;
      exec(migration.sql);
      exec(fmt::format("PRAGMA user_version = {}", migration.version));
    }
  });
}

}  // namespace mlctl::store
