#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace mlctl::store {

using SqlValue = std::variant<std::int64_t, double, std::string>;

// A prepared statement. Move-only; finalised on destruction. Bind indexes
// are 1-based, column indexes 0-based, as in SQLite.
class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : m_db(db), m_stmt(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, std::int64_t(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const SqlValue& value);
  Statement& bind_null(int index);
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }
  // Binds values to parameters start, start+1, ...
  Statement& bind_all(const std::vector<SqlValue>& values, int start = 1);

  // Advances; true while a row is available. Throws Error(store).
  bool step();
  // Steps to completion, for statements that return no rows.
  void run();
  // Makes the statement ready to run again; bindings are kept.
  void reset();

  bool is_null(int column) const;
  std::int64_t get_int64(int column) const;
  double get_double(int column) const;
  std::string get_text(int column) const;
  std::string_view get_text_view(int column) const;  // valid until next step
  std::optional<std::int64_t> get_optional_int64(int column) const;
  std::optional<double> get_optional_double(int column) const;
  std::optional<std::string> get_optional_text(int column) const;

 private:
  sqlite3* m_db = nullptr;
  sqlite3_stmt* m_stmt = nullptr;
};

// One ordered schema migration: the statements that take the database from
// version `version - 1` to `version`.
struct Migration {
  int version;
  std::string_view sql;
};

// An open SQLite database in WAL mode with foreign keys on and a busy
// handler that retries in sub-millisecond steps (SQLite's default one
// backs off to 100 ms sleeps, which shows up as stalls under contention).
// Not thread-safe: one Db per thread.
class Db {
 public:
  // Opens (creating if `create`) the database at `path` and applies the
  // pending migrations in one transaction. Throws Error(store) on failure and
  // when the file's schema is newer than `migrations` know.
  static Db open(const std::filesystem::path& path, const std::vector<Migration>& migrations,
                 bool create = false);
  // An in-memory database, for tests.
  static Db open_memory(const std::vector<Migration>& migrations);

  Db(Db&& other) noexcept;
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  Statement prepare(std::string_view sql) const;
  // Runs one or more statements that return no rows.
  void exec(std::string_view sql) const;

  // Runs `fn` inside BEGIN IMMEDIATE ... COMMIT, so the write lock is taken
  // up front (no deadlock-prone lock upgrades); rolls back if `fn` throws.
  // Nested calls join the outer transaction. Writers of one project first
  // queue on a kernel file lock, which wakes the next one the moment the
  // lock is free; SQLite's own lock is polled, and under contention a
  // waiter can lose the race again and again (stalls of 200+ ms).
  void write_transaction(const std::function<void()>& fn);
  // Runs `fn` inside a read transaction: one consistent snapshot.
  void read_transaction(const std::function<void()>& fn);

  std::int64_t last_insert_rowid() const;
  int changes() const;
  int schema_version() const;
  const std::filesystem::path& path() const { return m_path; }

  // How long a statement waits for another writer before failing.
  void set_busy_timeout_ms(int milliseconds) { m_busy_timeout_ms = milliseconds; }
  // The longest time one statement has waited for another process's lock
  // on this connection, in seconds (to within one retry interval).
  double longest_lock_wait() const { return m_longest_wait; }

 private:
  Db(sqlite3* handle, std::filesystem::path path);
  void configure();
  void migrate(const std::vector<Migration>& migrations);
  static int busy_handler(void* self, int attempt);
  static int on_wal_commit(void* self, sqlite3* handle, const char* schema, int frames);
  // WAL length (pages) at which a committing writer checkpoints it.
  static constexpr int k_wal_checkpoint_frames = 128;

  sqlite3* m_handle = nullptr;
  std::filesystem::path m_path;
  // <database>.writer-lock, flock'ed around write transactions (-1: none).
  int m_writer_lock_fd = -1;
  int m_busy_timeout_ms = 30000;
  double m_busy_since = 0;
  double m_longest_wait = 0;
  int m_transaction_depth = 0;
};

}  // namespace mlctl::store
