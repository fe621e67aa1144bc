#include <mlctl/core/files.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mlctl/core/error.hpp>

namespace mlctl {

std::string errno_text(int error_number) { return std::strerror(error_number); }

std::string read_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw Error(ErrorKind::io, fmt::format("cannot read '{}': {}", path.string(), errno_text(errno)));
  }
  std::string content;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      throw Error(ErrorKind::io, fmt::format("cannot read '{}': {}", path.string(), errno_text(saved)));
    }
    if (n == 0) break;
    content.append(buffer, std::size_t(n));
  }
  ::close(fd);
  return content;
}

void write_file_atomic(const std::filesystem::path& path, std::string_view content, bool sync) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  std::string temp = path.string() + ".tmp-XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    throw Error(ErrorKind::io, fmt::format("cannot write '{}': {}", path.string(), errno_text(errno)));
  }
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      throw Error(ErrorKind::io, fmt::format("cannot write '{}': {}", path.string(), errno_text(saved)));
    }
    data += n;
    left -= std::size_t(n);
  }
  ::fchmod(fd, 0644);
  if ((sync && ::fsync(fd) != 0) || ::close(fd) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    throw Error(ErrorKind::io, fmt::format("cannot write '{}': {}", path.string(), errno_text(saved)));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    throw Error(ErrorKind::io, fmt::format("cannot write '{}': {}", path.string(), errno_text(saved)));
  }
}

std::filesystem::path make_temp_directory(std::string_view prefix, const std::filesystem::path& parent) {
  std::filesystem::path base = parent.empty() ? std::filesystem::temp_directory_path() : parent;
  std::string pattern = (base / (std::string(prefix) + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw Error(ErrorKind::io, fmt::format("cannot create a temporary directory in '{}': {}",
                                           base.string(), errno_text(errno)));
  }
  return pattern;
}

}  // namespace mlctl
