#include "util/file.hpp"

#include "unit/temp_dir.hpp"
#include "util/interrupt.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <filesystem>
#include <future>
#include <set>

namespace fs = std::filesystem;
using namespace kfp::util;
using kfp::test::TempDir;

namespace {

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

std::string read_back(const fs::path& path) {
  return read_file(path, 1 << 20, ErrorKind::usage).value();
}

}  // namespace

TEST_CASE("write_file replace then append, read back") {
  TempDir dir("kfp-file");
  auto path = dir.path / "out.txt";
  REQUIRE(write_file(path, "one\n", WriteMode::replace).has_value());
  REQUIRE(write_file(path, "two\n", WriteMode::append).has_value());
  CHECK(read_back(path) == "one\ntwo\n");
  REQUIRE(write_file(path, "three\n", WriteMode::replace).has_value());
  CHECK(read_back(path) == "three\n");
  REQUIRE(write_file(path, "four\n", WriteMode::in_place).has_value());
  CHECK(read_back(path) == "four\n");
  CHECK(names_in(dir.path) == std::set<std::string>{"out.txt"});  // no temporary file left behind
}

TEST_CASE("replace keeps the replaced file's permissions") {
  TempDir dir("kfp-file");
  auto path = dir.path / "report.json";
  REQUIRE(write_file(path, "{}", WriteMode::replace).has_value());
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  REQUIRE(write_file(path, "{\"a\":1}", WriteMode::replace).has_value());
  CHECK(fs::status(path).permissions() ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
}

TEST_CASE("replace through a symlink replaces the target and keeps the link") {
  TempDir dir("kfp-file");
  fs::create_directories(dir.path / "real");
  auto target = dir.path / "real" / "report.json";
  REQUIRE(write_file(target, "old", WriteMode::replace).has_value());
  fs::create_symlink(target, dir.path / "link.json");
  REQUIRE(write_file(dir.path / "link.json", "new", WriteMode::replace).has_value());
  CHECK(fs::is_symlink(fs::symlink_status(dir.path / "link.json")));
  CHECK(read_back(target) == "new");

  // A dangling link gets its target created.
  fs::create_symlink(dir.path / "real" / "later.json", dir.path / "dangling.json");
  REQUIRE(write_file(dir.path / "dangling.json", "made", WriteMode::replace).has_value());
  CHECK(fs::is_symlink(fs::symlink_status(dir.path / "dangling.json")));
  CHECK(read_back(dir.path / "real" / "later.json") == "made");
}

TEST_CASE("a FIFO is written in place, never replaced, and one without a reader fails at once") {
  TempDir dir("kfp-file");
  auto fifo = dir.path / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);

  auto no_reader = write_file(fifo, "x", WriteMode::replace);
  REQUIRE_FALSE(no_reader.has_value());
  CHECK(no_reader.error().message.find("no process reads") != std::string::npos);

  auto reader = std::async(std::launch::async, [&] {
    // Opening for reading blocks until the writer comes.
    std::string got;
    const int fd = ::open(fifo.c_str(), O_RDONLY);
    char buffer[256];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;)
      got.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    return got;
  });
  // The writer may come before the reader has opened its end: retry until it has.
  Result<void> written = no_reader;
  for (int attempt = 0; attempt < 1000 && !written; ++attempt) {
    written = write_file(fifo, "{\"report\":1}", WriteMode::replace);
    if (!written) ::usleep(2000);
  }
  REQUIRE(written.has_value());
  CHECK(reader.get() == "{\"report\":1}");
  struct stat st {};
  REQUIRE(::lstat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
}

TEST_CASE("a device is written in place, never replaced by a regular file") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: creating a device node needs root (CI runs as root)");
    return;
  }
  TempDir dir("kfp-file");
  auto device = dir.path / "null";
  REQUIRE(::mknod(device.c_str(), S_IFCHR | 0666, ::makedev(1, 3)) == 0);  // like /dev/null
  for (auto mode : {WriteMode::replace, WriteMode::in_place, WriteMode::append}) {
    REQUIRE(write_file(device, "report", mode).has_value());
    struct stat st {};
    REQUIRE(::lstat(device.c_str(), &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
  }
  CHECK(names_in(dir.path) == std::set<std::string>{"null"});
  CHECK(check_writable(device, WriteMode::replace).has_value());
}

TEST_CASE("read_file refuses files over the limit, directories and missing files") {
  TempDir dir("kfp-file");
  auto path = dir.path / "big.txt";
  REQUIRE(write_file(path, std::string(100, 'x'), WriteMode::replace).has_value());
  auto big = read_file(path, 99, ErrorKind::invalid_package);
  REQUIRE_FALSE(big.has_value());
  CHECK(big.error().kind == ErrorKind::invalid_package);
  CHECK(big.error().message.find("over the limit") != std::string::npos);
  CHECK_FALSE(read_file(dir.path, 1024, ErrorKind::usage).has_value());
  CHECK_FALSE(read_file(dir.path / "missing", 1024, ErrorKind::usage).has_value());
}

TEST_CASE("read_file refuses a FIFO at once, without waiting for a writer") {
  TempDir dir("kfp-file");
  auto fifo = dir.path / "package.yaml";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Before: open() blocked here until a writer came, for ever in CI.
  auto result = read_file(fifo, 1024, ErrorKind::invalid_package);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().kind == ErrorKind::invalid_package);
  CHECK(result.error().message.find("is a FIFO, not a regular file") != std::string::npos);
  CHECK_FALSE(result.error().hint.empty());
}

TEST_CASE("read_file refuses a character device") {
  auto result = read_file("/dev/zero", 1024, ErrorKind::invalid_parameters);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().message.find("character device") != std::string::npos);
}

TEST_CASE("write_file into a missing directory fails with the path in the message") {
  auto result = write_file("/nonexistent-dir/x/report.json", "{}", WriteMode::replace);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().message.find("/nonexistent-dir/x/report.json") != std::string::npos);
}

TEST_CASE("check_writable says what is wrong and changes nothing") {
  TempDir dir("kfp-file");
  auto existing = dir.path / "existing.json";
  REQUIRE(write_file(existing, "keep", WriteMode::replace).has_value());
  for (auto mode : {WriteMode::replace, WriteMode::append, WriteMode::in_place}) {
    CHECK(check_writable(existing, mode).has_value());
    CHECK(check_writable(dir.path / "new.json", mode).has_value());
  }
  CHECK(read_back(existing) == "keep");
  CHECK(names_in(dir.path) == std::set<std::string>{"existing.json"});

  auto missing_dir = check_writable(dir.path / "missing" / "report.json", WriteMode::replace);
  REQUIRE_FALSE(missing_dir.has_value());
  CHECK(missing_dir.error().kind == ErrorKind::usage);
  CHECK(missing_dir.error().message.find("does not exist") != std::string::npos);
  CHECK(missing_dir.error().message.find((dir.path / "missing").string()) != std::string::npos);

  auto directory = check_writable(dir.path, WriteMode::replace);
  REQUIRE_FALSE(directory.has_value());
  CHECK(directory.error().message.find("directory") != std::string::npos);

  auto under_file = check_writable(existing / "report.json", WriteMode::append);
  REQUIRE_FALSE(under_file.has_value());
}

TEST_CASE("a FIFO passes the check: its reader may come later") {
  TempDir dir("kfp-file");
  auto fifo = dir.path / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(check_writable(fifo, WriteMode::replace).has_value());
}

TEST_CASE("writable_descriptor tells a read-only descriptor from a writable one") {
  TempDir dir("kfp-file");
  auto path = dir.path / "f";
  REQUIRE(write_file(path, "x", WriteMode::replace).has_value());
  const int read_only = ::open(path.c_str(), O_RDONLY);
  const int write_only = ::open(path.c_str(), O_WRONLY);
  CHECK_FALSE(writable_descriptor(read_only));
  CHECK(writable_descriptor(write_only));
  ::close(read_only);
  ::close(write_only);
  CHECK_FALSE(writable_descriptor(read_only));  // closed now
}
