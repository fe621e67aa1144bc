#include <mlctl/pipeline/input_hashes.hpp>

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <sys/stat.h>

#include <mlctl/core/error.hpp>
#include <mlctl/core/sha256.hpp>

namespace mlctl::pipeline {

namespace fs = std::filesystem;

std::string InputHasher::hash_file(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) throw Error(ErrorKind::not_found, fmt::format("input '{}' does not exist", path.string()));
  std::int64_t mtime_ns = std::int64_t(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
  std::string key = fs::absolute(path).lexically_normal().string();
  auto cached = m_db.prepare("SELECT digest FROM file_hashes WHERE path = ? AND size = ? AND mtime_ns = ? AND inode = ?");
  cached.bind(1, key).bind(2, std::int64_t(info.st_size)).bind(3, mtime_ns).bind(4, std::int64_t(info.st_ino));
  if (cached.step()) return cached.get_text(0);
  std::string digest = sha256_file(path);
  ++m_files_read;
  m_pending.push_back({key, digest, std::int64_t(info.st_size), mtime_ns, std::int64_t(info.st_ino)});
  return digest;
}

void InputHasher::flush() {
  if (m_pending.empty()) return;
  m_db.write_transaction([&] {
    auto insert =
        m_db.prepare("INSERT OR REPLACE INTO file_hashes (path, size, mtime_ns, inode, digest) VALUES (?, ?, ?, ?, ?)");
    for (const auto& entry : m_pending) {
      insert.bind(1, entry.path).bind(2, entry.size).bind(3, entry.mtime_ns).bind(4, entry.inode).bind(5, entry.digest);
      insert.run();
      insert.reset();
    }
  });
  m_pending.clear();
}

std::string InputHasher::hash(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    std::string digest = hash_file(path);
    flush();
    return digest;
  }
  std::vector<std::pair<std::string, std::string>> files;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) files.emplace_back(fs::relative(it->path(), path).generic_string(), hash_file(it->path()));
  }
  flush();
  std::sort(files.begin(), files.end());
  std::string listing;
  for (const auto& [name, digest] : files) listing += name + " " + digest + "\n";
  return sha256_hex(listing);
}

}  // namespace mlctl::pipeline
