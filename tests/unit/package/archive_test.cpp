#include "package/archive.hpp"

#include "unit/package/archive_writer.hpp"

#include <doctest/doctest.h>

#include <string>

using kfp::package::ArchiveFormat;
using kfp::package::extract_pipeline_member;
using kfp::package::sniff_archive;
using kfp::package::testing::ArchiveWriter;
using kfp::package::testing::make_archive;
using kfp::package::testing::WriteFormat;
using kfp::util::ErrorKind;

namespace {

constexpr std::size_t limit = std::size_t{32} << 20;

ArchiveFormat read_format(WriteFormat format) {
  return format == WriteFormat::zip ? ArchiveFormat::zip : ArchiveFormat::tar_gzip;
}

}  // namespace

TEST_CASE("sniff_archive recognises zip and gzip magic only") {
  CHECK(sniff_archive("PK\x03\x04rest") == ArchiveFormat::zip);
  CHECK(sniff_archive(std::string("\x1f\x8b\x08", 3)) == ArchiveFormat::tar_gzip);
  CHECK_FALSE(sniff_archive("# PIPELINE DEFINITION").has_value());
  CHECK_FALSE(sniff_archive("").has_value());
}

TEST_CASE("the member named pipeline.yaml wins, else the first member") {
  for (auto format : {WriteFormat::zip, WriteFormat::tar_gzip}) {
    CAPTURE(static_cast<int>(format));
    auto archive = make_archive(format, {{"other.yaml", "a: 1"}, {"pipeline.yaml", "b: 2"}});
    auto member = extract_pipeline_member(archive, read_format(format), "p", limit);
    REQUIRE(member.has_value());
    CHECK(member->name == "pipeline.yaml");
    CHECK(member->bytes == "b: 2");

    archive = make_archive(format, {{"first.yml", "c: 3"}, {"second.yaml", "d: 4"}});
    member = extract_pipeline_member(archive, read_format(format), "p", limit);
    REQUIRE(member.has_value());
    CHECK(member->name == "first.yml");
    CHECK(member->bytes == "c: 3");
  }
}

TEST_CASE("a first member that is not YAML, such as a ./ directory entry, fails like the server") {
  auto archive = make_archive(WriteFormat::tar_gzip, {{"./", "", true}, {"./pipeline.yaml", "a: 1"}});
  auto member = extract_pipeline_member(archive, ArchiveFormat::tar_gzip, "p.tgz", limit);
  REQUIRE_FALSE(member.has_value());
  CHECK(member.error().kind == ErrorKind::invalid_package);
  CHECK(member.error().message.find("Expecting a pipeline.yaml file inside the tarball") !=
        std::string::npos);
  CHECK(member.error().message.find("\"./\"") != std::string::npos);
  CHECK_FALSE(member.error().hint.empty());

  archive = make_archive(WriteFormat::zip, {{"README.md", "hi"}, {"x.yaml", "a: 1"}});
  member = extract_pipeline_member(archive, ArchiveFormat::zip, "p.zip", limit);
  REQUIRE_FALSE(member.has_value());
  CHECK(member.error().message.find("inside the zip") != std::string::npos);
}

TEST_CASE("an empty archive fails") {
  for (auto format : {WriteFormat::zip, WriteFormat::tar_gzip}) {
    auto archive = make_archive(format, {});
    auto member = extract_pipeline_member(archive, read_format(format), "empty", limit);
    REQUIRE_FALSE(member.has_value());
    CHECK(member.error().kind == ErrorKind::invalid_package);
    CHECK(member.error().message.find("empty") != std::string::npos);
  }
}

TEST_CASE("members that escape the archive are refused, even when not the chosen one") {
  for (std::string name : {"../evil.yaml", "/etc/evil.yaml", "a/../../evil.yaml"}) {
    CAPTURE(name);
    auto archive = make_archive(WriteFormat::zip, {{"pipeline.yaml", "a: 1"}, {name, "b: 2"}});
    auto member = extract_pipeline_member(archive, ArchiveFormat::zip, "pipeline.zip", limit);
    REQUIRE_FALSE(member.has_value());
    CHECK(member.error().message == "pipeline.zip: member \"" + name + "\" escapes the archive");
  }
  // libarchive reports a Windows-style "..\\evil.yaml" zip name with either separator.
  auto windows = make_archive(WriteFormat::zip, {{"..\\evil.yaml", "b: 2"}});
  auto refused = extract_pipeline_member(windows, ArchiveFormat::zip, "w.zip", limit);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message.find("escapes the archive") != std::string::npos);
  // ".." inside a name is not a climb.
  auto archive = make_archive(WriteFormat::tar_gzip, {{"pipeline..yaml", "a: 1"}});
  CHECK(extract_pipeline_member(archive, ArchiveFormat::tar_gzip, "p", limit).has_value());
}

TEST_CASE("thousands of members are refused after the scan limit") {
  ArchiveWriter writer(WriteFormat::tar_gzip);
  for (std::size_t i = 0; i <= kfp::package::max_archive_members; ++i) {
    writer.add({"m" + std::to_string(i) + ".yaml", ""});
  }
  auto archive = writer.finish();
  auto member = extract_pipeline_member(archive, ArchiveFormat::tar_gzip, "many.tgz", limit);
  REQUIRE_FALSE(member.has_value());
  CHECK(member.error().message.find("more than 10000 members") != std::string::npos);
}

TEST_CASE("a member that inflates past the limit stops at the limit") {
  for (auto format : {WriteFormat::zip, WriteFormat::tar_gzip}) {
    ArchiveWriter writer(format);
    writer.add_zeros("pipeline.yaml", limit + (std::size_t{1} << 20));
    auto archive = writer.finish();
    CHECK(archive.size() < std::size_t{1} << 20);  // a real bomb: small outside, big inside
    auto member = extract_pipeline_member(archive, read_format(format), "bomb", limit);
    REQUIRE_FALSE(member.has_value());
    CHECK(member.error().message.find("inflates past") != std::string::npos);
  }
  // Exactly at the limit is still accepted, as the server does.
  ArchiveWriter writer(WriteFormat::zip);
  writer.add_zeros("pipeline.yaml", limit);
  auto archive = writer.finish();
  auto member = extract_pipeline_member(archive, ArchiveFormat::zip, "full", limit);
  REQUIRE(member.has_value());
  CHECK(member->bytes.size() == limit);
}

TEST_CASE("corrupt archives fail cleanly") {
  auto archive = make_archive(WriteFormat::zip, {{"pipeline.yaml", std::string(4096, 'x')}});
  for (std::size_t cut : {std::size_t{4}, std::size_t{30}, archive.size() / 2, archive.size() - 10}) {
    CAPTURE(cut);
    auto member = extract_pipeline_member(archive.substr(0, cut), ArchiveFormat::zip, "cut.zip", limit);
    if (member) {
      CHECK(member->bytes.size() <= 4096);  // libarchive may stream a prefix; never more
    } else {
      CHECK(member.error().kind == ErrorKind::invalid_package);
    }
  }
  auto member = extract_pipeline_member("PK but not a zip at all", ArchiveFormat::zip, "bad.zip", limit);
  REQUIRE_FALSE(member.has_value());
  CHECK(member.error().message.find("bad.zip: not a valid zip archive") == 0);

  member =
      extract_pipeline_member(std::string("\x1f\x8bgarbage", 9), ArchiveFormat::tar_gzip, "bad.tgz", limit);
  REQUIRE_FALSE(member.has_value());
  CHECK(member.error().kind == ErrorKind::invalid_package);
}
