#pragma once

// Content hashes of pipeline step inputs, for step cache keys, with a stat
// cache in the project database: a file whose path, size, mtime and inode
// are unchanged is not read again.

#include <filesystem>
#include <cstdint>
#include <string>
#include <vector>

#include <mlctl/store/db.hpp>

namespace mlctl::pipeline {

class InputHasher {
 public:
  explicit InputHasher(store::Db& db) : m_db(db) {}

  // sha256 of a file; of a directory, sha256 over its files' relative
  // paths and hashes (sorted). Throws Error(not_found) for a missing path,
  // Error(io) for an unreadable one.
  std::string hash(const std::filesystem::path& path);

  std::size_t files_read() const { return m_files_read; }  // stat cache misses

 private:
  struct CacheEntry {
    std::string path, digest;
    std::int64_t size = 0, mtime_ns = 0, inode = 0;
  };
  std::string hash_file(const std::filesystem::path& path);
  // Stores the hashes computed since the last flush, in one transaction
  // (not one per file, and not while files are being read).
  void flush();

  store::Db& m_db;
  std::vector<CacheEntry> m_pending;
  std::size_t m_files_read = 0;
};

}  // namespace mlctl::pipeline
