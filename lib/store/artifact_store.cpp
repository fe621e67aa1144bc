#include <mlctl/store/artifact_store.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/sha256.hpp>

namespace mlctl::store {
namespace {

bool is_hex_digest(std::string_view digest) {
  if (digest.size() != 64) return false;
  for (char c : digest) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Writes all of `size` bytes, retrying short writes.
void write_all(int fd, const char* data, std::size_t size, const std::string& what) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorKind::io, fmt::format("cannot write {}: {}", what, errno_text(errno)));
    }
    data += n;
    size -= std::size_t(n);
  }
}

class TempBlob {
 public:
  explicit TempBlob(const std::filesystem::path& dir) {
    m_path = (dir / "tmp-XXXXXX").string();
    m_fd = ::mkstemp(m_path.data());
    if (m_fd < 0) {
      throw Error(ErrorKind::io, fmt::format("cannot write to the artifact store '{}': {}",
                                             dir.string(), errno_text(errno)));
    }
  }
  ~TempBlob() {
    if (m_fd >= 0) ::close(m_fd);
    if (!m_committed) ::unlink(m_path.c_str());
  }
  int fd() const { return m_fd; }
  void commit(const std::filesystem::path& final_path) {
    ::fchmod(m_fd, 0444);
    if (::fsync(m_fd) != 0 || ::close(m_fd) != 0) {
      m_fd = -1;
      throw Error(ErrorKind::io, fmt::format("cannot write blob: {}", errno_text(errno)));
    }
    m_fd = -1;
    std::error_code ec;
    std::filesystem::create_directories(final_path.parent_path(), ec);
    if (::rename(m_path.c_str(), final_path.c_str()) != 0) {
      throw Error(ErrorKind::io, fmt::format("cannot store blob '{}': {}", final_path.string(),
                                             errno_text(errno)));
    }
    m_committed = true;
  }

 private:
  std::string m_path;
  int m_fd = -1;
  bool m_committed = false;
};

Error corrupted_blob(std::string_view digest, std::string_view actual) {
  return Error(ErrorKind::store,
               fmt::format("blob {} in the artifact store is corrupted (its content hashes to {})",
                           digest, actual),
               "restore the file from a backup or re-run the job that produced it");
}

}  // namespace

ArtifactStore::ArtifactStore(std::filesystem::path objects_dir) : m_dir(std::move(objects_dir)) {}

std::filesystem::path ArtifactStore::path_of(std::string_view digest) const {
  if (!is_hex_digest(digest)) {
    throw Error(ErrorKind::invalid_argument, fmt::format("'{}' is not a sha256 digest", digest));
  }
  return m_dir / std::string(digest.substr(0, 2)) / std::string(digest.substr(2));
}

bool ArtifactStore::contains(std::string_view digest) const {
  std::error_code ec;
  return is_hex_digest(digest) && std::filesystem::exists(path_of(digest), ec);
}

StoredBlob ArtifactStore::put_bytes(std::string_view content) { return put_bytes(content, sha256_hex(content)); }

StoredBlob ArtifactStore::put_bytes(std::string_view content, std::string digest) {
  if (contains(digest)) return {digest, content.size()};
  std::error_code ec;
  std::filesystem::create_directories(m_dir, ec);
  TempBlob temp(m_dir);
  write_all(temp.fd(), content.data(), content.size(), "blob");
  temp.commit(path_of(digest));
  return {digest, content.size()};
}

StoredBlob ArtifactStore::put_file(const std::filesystem::path& source) {
  int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    throw Error(ErrorKind::io, fmt::format("cannot read '{}': {}", source.string(), errno_text(errno)));
  }
  std::error_code ec;
  std::filesystem::create_directories(m_dir, ec);
  try {
    TempBlob temp(m_dir);
    Sha256 hasher;
    std::uint64_t size = 0;
    std::string buffer(1 << 20, '\0');
    while (true) {
      ssize_t n = ::read(in, buffer.data(), buffer.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw Error(ErrorKind::io, fmt::format("cannot read '{}': {}", source.string(), errno_text(errno)));
      }
      if (n == 0) break;
      hasher.update(buffer.data(), std::size_t(n));
      write_all(temp.fd(), buffer.data(), std::size_t(n), "blob");
      size += std::uint64_t(n);
    }
    ::close(in);
    in = -1;
    std::string digest = hasher.hex_digest();
    if (!contains(digest)) temp.commit(path_of(digest));
    return {digest, size};
  } catch (...) {
    if (in >= 0) ::close(in);
    throw;
  }
}

void ArtifactStore::verify(std::string_view digest) const {
  std::filesystem::path path = path_of(digest);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw Error(ErrorKind::not_found, fmt::format("blob {} is missing from the artifact store", digest));
  }
  std::string actual = sha256_file(path);
  if (actual != digest) {
    throw corrupted_blob(digest, actual);
  }
}

std::string ArtifactStore::read(std::string_view digest) const {
  std::filesystem::path path = path_of(digest);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw Error(ErrorKind::not_found, fmt::format("blob {} is missing from the artifact store", digest));
  }
  std::string content = read_file(path);
  std::string actual = sha256_hex(content);
  if (actual != digest) {
    throw corrupted_blob(digest, actual);
  }
  return content;
}

void ArtifactStore::copy_out(std::string_view digest, const std::filesystem::path& destination) const {
  std::filesystem::path source = path_of(digest);
  int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    throw Error(ErrorKind::not_found, fmt::format("blob {} is missing from the artifact store", digest));
  }
  std::error_code ec;
  if (destination.has_parent_path()) std::filesystem::create_directories(destination.parent_path(), ec);
  std::string temp_path = destination.string() + ".tmp-XXXXXX";
  int out = ::mkstemp(temp_path.data());
  if (out < 0) {
    ::close(in);
    throw Error(ErrorKind::io, fmt::format("cannot write '{}': {}", destination.string(), errno_text(errno)));
  }
  Sha256 hasher;
  std::string buffer(1 << 20, '\0');
  try {
    while (true) {
      ssize_t n = ::read(in, buffer.data(), buffer.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw Error(ErrorKind::io, fmt::format("cannot read blob {}: {}", digest, errno_text(errno)));
      }
      if (n == 0) break;
      hasher.update(buffer.data(), std::size_t(n));
      write_all(out, buffer.data(), std::size_t(n), fmt::format("'{}'", destination.string()));
    }
    std::string actual = hasher.hex_digest();
    if (actual != digest) {
      throw corrupted_blob(digest, actual);
    }
  } catch (...) {
    ::close(in);
    ::close(out);
    ::unlink(temp_path.c_str());
    throw;
  }
  ::close(in);
  ::fchmod(out, 0644);
  ::close(out);
  if (::rename(temp_path.c_str(), destination.c_str()) != 0) {
    int saved = errno;
    ::unlink(temp_path.c_str());
    throw Error(ErrorKind::io, fmt::format("cannot write '{}': {}", destination.string(), errno_text(saved)));
  }
}

}  // namespace mlctl::store
