// The naming of a training run's checkpoint files: one per epoch, the
// newest found on resume, the older ones removed.
#include <catch2/catch.hpp>

#include <mlctl/train/checkpoint_files.hpp>

#include "support/temp_dir.hpp"

using mlctl::testing::TempDir;
using mlctl::testing::write_text;
namespace train = mlctl::train;

namespace {

std::size_t file_count(const std::filesystem::path& directory) {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(directory)) ++count;
  return count;
}

}  // namespace

TEST_CASE("checkpoint files: epochs sort by number and the newest is found", "[train][checkpoint]") {
  TempDir dir;
  CHECK_FALSE(train::latest_checkpoint(dir.path()).has_value());
  CHECK_FALSE(train::latest_checkpoint(dir / "missing").has_value());

  CHECK(train::checkpoint_file(dir.path(), 7).filename() == "checkpoint-000007.bin");
  write_text(train::checkpoint_file(dir.path(), 9), "nine");
  write_text(train::checkpoint_file(dir.path(), 10), "ten");
  write_text(dir / "checkpoint-0000xx.bin", "not an epoch");
  write_text(dir / "checkpoint.bin.tmp-abc", "a temporary file");
  CHECK(train::latest_checkpoint(dir.path()) == train::checkpoint_file(dir.path(), 10));

  // A kill between the new file and the removal leaves both: the newest wins.
  train::remove_checkpoints_before(dir.path(), 10);
  CHECK_FALSE(std::filesystem::exists(train::checkpoint_file(dir.path(), 9)));
  CHECK(std::filesystem::exists(train::checkpoint_file(dir.path(), 10)));
  CHECK(file_count(dir.path()) == 3);  // epoch 10 and the two files that are not checkpoints
}

TEST_CASE("checkpoint files: an earlier build's checkpoint.bin resumes until a newer one exists",
          "[train][checkpoint]") {
  TempDir dir;
  write_text(dir / "checkpoint.bin", "from an earlier build");
  CHECK(train::latest_checkpoint(dir.path()) == dir / "checkpoint.bin");
  write_text(train::checkpoint_file(dir.path(), 4), "four");
  CHECK(train::latest_checkpoint(dir.path()) == train::checkpoint_file(dir.path(), 4));
  train::remove_checkpoints_before(dir.path(), 4);
  CHECK_FALSE(std::filesystem::exists(dir / "checkpoint.bin"));
  CHECK(train::latest_checkpoint(dir.path()) == train::checkpoint_file(dir.path(), 4));
}
