#include "util/file.hpp"

#include <doctest/doctest.h>

#include <unistd.h>
#include <filesystem>

namespace fs = std::filesystem;
using namespace kfp::util;

namespace {
fs::path temp_dir() {
  auto dir = fs::temp_directory_path() / ("kfp-file-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}
}  // namespace

TEST_CASE("write_file replace then append, read back") {
  auto dir = temp_dir();
  auto path = dir / "out.txt";
  REQUIRE(write_file(path, "one\n", WriteMode::replace).has_value());
  REQUIRE(write_file(path, "two\n", WriteMode::append).has_value());
  CHECK(read_file(path, 1024, ErrorKind::usage).value() == "one\ntwo\n");
  REQUIRE(write_file(path, "three\n", WriteMode::replace).has_value());
  CHECK(read_file(path, 1024, ErrorKind::usage).value() == "three\n");
  fs::remove_all(dir);
}

TEST_CASE("read_file refuses files over the limit, directories and missing files") {
  auto dir = temp_dir();
  auto path = dir / "big.txt";
  REQUIRE(write_file(path, std::string(100, 'x'), WriteMode::replace).has_value());
  auto big = read_file(path, 99, ErrorKind::invalid_package);
  REQUIRE_FALSE(big.has_value());
  CHECK(big.error().kind == ErrorKind::invalid_package);
  CHECK(big.error().message.find("over the limit") != std::string::npos);
  CHECK_FALSE(read_file(dir, 1024, ErrorKind::usage).has_value());
  CHECK_FALSE(read_file(dir / "missing", 1024, ErrorKind::usage).has_value());
  fs::remove_all(dir);
}

TEST_CASE("write_file into a missing directory fails with the path in the message") {
  auto result = write_file("/nonexistent-dir/x/report.json", "{}", WriteMode::replace);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().message.find("/nonexistent-dir/x/report.json") != std::string::npos);
}
