#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace mlctl::store {

struct StoredBlob {
  std::string digest;  // sha256, 64 hex digits
  std::uint64_t size = 0;
};

// A content-addressed store of immutable blobs: each file lives at
// objects/<first two hex digits>/<remaining 62> of its sha256. Writes go to
// a temporary file in the store and are renamed into place, so a blob is
// either whole or absent; reads verify the hash. Safe to use from several
// processes at once (same content renames onto the same name).
class ArtifactStore {
 public:
  explicit ArtifactStore(std::filesystem::path objects_dir);

  // Copies a file into the store, hashing while copying. Throws Error(io).
  StoredBlob put_file(const std::filesystem::path& source);
  // Stores bytes. Throws Error(io).
  StoredBlob put_bytes(std::string_view content);
  // The same, for bytes whose sha256 the caller has just computed (a
  // dataset's content is hashed to be recognised before it is parsed).
  StoredBlob put_bytes(std::string_view content, std::string digest);

  bool contains(std::string_view digest) const;
  // Where the blob lives; it must not be modified.
  std::filesystem::path path_of(std::string_view digest) const;

  // Re-hashes the blob. Throws Error(not_found) if absent, Error(store)
  // naming the blob if its content no longer matches its digest.
  void verify(std::string_view digest) const;
  // Copies the blob to `destination` (atomically), verifying it on the way.
  // Throws as verify(), or Error(io).
  void copy_out(std::string_view digest, const std::filesystem::path& destination) const;
  // The verified content of a blob.
  std::string read(std::string_view digest) const;

 private:
  std::filesystem::path m_dir;
};

}  // namespace mlctl::store
