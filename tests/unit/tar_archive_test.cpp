// The ustar writer and reader behind model packages.
#include <catch2/catch.hpp>

#include <cstdlib>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/tar_archive.hpp>

#include "support/temp_dir.hpp"

using namespace mlctl;

TEST_CASE("tar: what is written reads back, long names and binary content included", "[core][tar]") {
  testing::TempDir dir("mlctl-tar-");
  std::string binary(70000, '\0');
  for (std::size_t i = 0; i < binary.size(); ++i) binary[i] = char(i * 31 % 256);
  std::string long_name = std::string(120, 'd') + "/" + std::string(90, 'f') + ".bin";
  std::vector<TarEntry> entries = {{"package.json", "{}\n"}, {"model/weights.pt", binary}, {"empty", ""},
                                   {long_name, "x"}};
  write_tar(dir / "a.tar", entries);
  auto read = read_tar(dir / "a.tar");
  REQUIRE(read.size() == entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    CHECK(read[i].name == entries[i].name);
    CHECK(read[i].content == entries[i].content);
  }
  // The system's tar agrees.
  std::string command = "cd '" + dir.path().string() + "' && mkdir x && tar -xf a.tar -C x";
  REQUIRE(std::system(command.c_str()) == 0);
  CHECK(read_file(dir / "x" / "model" / "weights.pt") == binary);
  CHECK(read_file(dir / "x" / long_name) == "x");
}

TEST_CASE("tar: unsafe names and corrupt files are refused", "[core][tar]") {
  testing::TempDir dir("mlctl-tar-");
  CHECK_THROWS_AS(write_tar(dir / "a.tar", {{"../escape", "x"}}), Error);
  CHECK_THROWS_AS(write_tar(dir / "a.tar", {{"/etc/passwd", "x"}}), Error);
  write_tar(dir / "b.tar", {{"file", "content"}});
  std::string bytes = read_file(dir / "b.tar");
  bytes[10] = 'Z';  // inside the name: the checksum no longer matches
  write_file_atomic(dir / "c.tar", bytes);
  try {
    read_tar(dir / "c.tar");
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::parse);
    CHECK(std::string(error.what()).find("header checksum mismatch") != std::string::npos);
  }
  std::string command = "cd '" + dir.path().string() + "' && ln -s /etc/passwd link && tar -cf links.tar link";
  REQUIRE(std::system(command.c_str()) == 0);
  CHECK_THROWS_AS(read_tar(dir / "links.tar"), Error);
}
