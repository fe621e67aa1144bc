#pragma once

// A minimal POSIX ustar reader and writer for mlctl's own bundles (model
// packages): regular files only, names up to 255 bytes, contents in
// memory. Enough for `tar -xf` to unpack what mlctl writes, and for mlctl
// to read back what it wrote or what `tar -cf` made of regular files.

#include <filesystem>
#include <string>
#include <vector>

namespace mlctl {

struct TarEntry {
  std::string name;     // relative, '/'-separated
  std::string content;  // the file's bytes
};

// Writes `entries` as a tar file, atomically (temp file and rename).
// Throws Error(invalid_argument) for a name that is empty, absolute, has
// ".." or is too long; Error(io) when the file cannot be written.
void write_tar(const std::filesystem::path& path, const std::vector<TarEntry>& entries);

// Reads the regular files of a tar file; directories are skipped. Throws
// Error(parse) "FILE: ..." for a corrupt header (bad checksum, truncated
// content), an unsafe name (absolute or with ".."), or a link; Error(io)
// when the file cannot be read.
std::vector<TarEntry> read_tar(const std::filesystem::path& path);

}  // namespace mlctl
