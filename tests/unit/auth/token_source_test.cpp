#include "auth/token_source.hpp"

#include <doctest/doctest.h>

#include "unit/temp_dir.hpp"

#include <unistd.h>
#include <cstdlib>
#include <fstream>

using namespace kfp;

namespace {

void write(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

}  // namespace

TEST_CASE("an absent token file means no token") {
  test::TempDir dir("kfp-auth");
  auto token = auth::read_token_file(dir.path / "token");
  REQUIRE(token.has_value());
  CHECK_FALSE(token->has_value());
}

TEST_CASE("the token is trimmed and re-read after the kubelet swaps the file") {
  test::TempDir dir("kfp-auth");
  // The kubelet's atomic writer: data in a timestamped directory, the file a symlink through ..data.
  const auto first = dir.path / "..2026_11_28_10_00_00.1";
  const auto second = dir.path / "..2026_11_28_10_50_00.2";
  std::filesystem::create_directory(first);
  std::filesystem::create_directory(second);
  write(first / "token", "  aaa.bbb.ccc\n");
  write(second / "token", "ddd.eee.fff");
  std::filesystem::create_directory_symlink(first.filename(), dir.path / "..data");
  std::filesystem::create_symlink("..data/token", dir.path / "token");

  util::Secrets secrets;
  auth::FileTokenSource source(dir.path / "token", secrets);
  auto before = source.token();
  REQUIRE(before.has_value());
  CHECK(*before == std::optional<std::string>("aaa.bbb.ccc"));
  CHECK(secrets.redact("sent aaa.bbb.ccc") == "sent [REDACTED]");

  std::filesystem::create_directory_symlink(second.filename(), dir.path / "..data_tmp");
  std::filesystem::rename(dir.path / "..data_tmp", dir.path / "..data");
  auto after = source.token();
  REQUIRE(after.has_value());
  CHECK(*after == std::optional<std::string>("ddd.eee.fff"));
  // Each token read is registered with the sink the moment it is read, the rotated one too.
  CHECK(secrets.redact("ddd.eee.fff") == "[REDACTED]");
}

TEST_CASE("empty, directory, oversized, multi-line and unreadable token files fail as unauthenticated") {
  test::TempDir dir("kfp-auth");
  auto check_fails = [&](const std::filesystem::path& path, std::string_view secret = {}) {
    auto token = auth::read_token_file(path);
    REQUIRE(token.has_error());
    CHECK(token.error().kind == util::ErrorKind::unauthenticated);
    CHECK(token.error().message.find(path.string()) != std::string::npos);
    if (!secret.empty()) CHECK(token.error().message.find(secret) == std::string::npos);
  };
  write(dir.path / "empty", " \n\t ");
  check_fails(dir.path / "empty");
  std::filesystem::create_directory(dir.path / "directory");
  check_fails(dir.path / "directory");
  write(dir.path / "huge", std::string(auth::kMaxTokenBytes + 1, 'a'));
  check_fails(dir.path / "huge");
  write(dir.path / "two-lines", "secretpart1\nInjected: header");
  check_fails(dir.path / "two-lines", "secretpart1");
  if (::geteuid() != 0) {
    write(dir.path / "private", "a.b.c");
    std::filesystem::permissions(dir.path / "private", std::filesystem::perms::none);
    check_fails(dir.path / "private");
  } else {
    MESSAGE("skipped the unreadable-file case: running as root");
  }
}
