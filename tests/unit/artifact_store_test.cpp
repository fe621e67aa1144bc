#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/sha256.hpp>
#include <mlctl/store/artifact_store.hpp>

#include "support/temp_dir.hpp"

using mlctl::Error;
using mlctl::ErrorKind;
using mlctl::store::ArtifactStore;
using mlctl::testing::TempDir;
using mlctl::testing::write_text;

TEST_CASE("artifact store: a file is stored under its sha256 and read back", "[artifacts]") {
  TempDir dir;
  ArtifactStore store(dir / "objects");
  write_text(dir / "model.bin", "weights v1");
  auto blob = store.put_file(dir / "model.bin");
  CHECK(blob.digest == mlctl::sha256_hex("weights v1"));
  CHECK(blob.size == 10);
  CHECK(store.path_of(blob.digest) == dir / "objects" / blob.digest.substr(0, 2) / blob.digest.substr(2));
  CHECK(store.read(blob.digest) == "weights v1");
  store.copy_out(blob.digest, dir / "out" / "copy.bin");
  CHECK(mlctl::read_file(dir / "out" / "copy.bin") == "weights v1");
}

TEST_CASE("artifact store: the same content is stored once", "[artifacts]") {
  TempDir dir;
  ArtifactStore store(dir / "objects");
  auto first = store.put_bytes("same");
  write_text(dir / "a.txt", "same");
  auto second = store.put_file(dir / "a.txt");
  CHECK(first.digest == second.digest);
  std::size_t files = 0;
  for (auto& entry : std::filesystem::recursive_directory_iterator(dir / "objects")) files += entry.is_regular_file();
  CHECK(files == 1);
}

TEST_CASE("artifact store: a tampered blob is detected on read, verify and copy", "[artifacts]") {
  TempDir dir;
  ArtifactStore store(dir / "objects");
  auto blob = store.put_bytes("the real content");
  auto path = store.path_of(blob.digest);
  ::chmod(path.c_str(), 0644);
  write_text(path, "the fake content");

  auto expect_corrupt = [&](auto&& action) {
    try {
      action();
      FAIL("tampering was not detected");
    } catch (const Error& error) {
      CHECK(error.kind() == ErrorKind::store);
      CHECK(std::string(error.what()) ==
            "blob " + blob.digest + " in the artifact store is corrupted (its content hashes to " +
                mlctl::sha256_hex("the fake content") + ")");
    }
  };
  expect_corrupt([&] { store.read(blob.digest); });
  expect_corrupt([&] { store.verify(blob.digest); });
  expect_corrupt([&] { store.copy_out(blob.digest, dir / "copy.txt"); });
  CHECK_FALSE(std::filesystem::exists(dir / "copy.txt"));
}

TEST_CASE("artifact store: a missing blob is not_found and a bad digest invalid", "[artifacts]") {
  TempDir dir;
  ArtifactStore store(dir / "objects");
  std::string absent(64, 'a');
  CHECK_FALSE(store.contains(absent));
  try {
    store.read(absent);
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::not_found);
  }
  CHECK_THROWS_AS(store.path_of("../../etc/passwd"), Error);
}
