#include "publish/limits.hpp"

#include <doctest/doctest.h>

using namespace kfp;
using publish::Count;

TEST_CASE("length counts bytes or UTF-8 characters") {
  CHECK(publish::length("abc", Count::bytes) == 3);
  CHECK(publish::length("é€😀", Count::bytes) == 2 + 3 + 4);
  CHECK(publish::length("é€😀", Count::characters) == 3);
}

TEST_CASE("fit cuts at a character boundary and marks the cut") {
  CHECK(publish::fit("short", 10) == "short");
  const std::string cut = publish::fit(std::string(300, 'x'), 255);
  CHECK(cut.size() == 255);
  CHECK(cut.ends_with("…"));
  // Never half a character: "€" is 3 bytes.
  std::string euros;
  for (int i = 0; i < 100; ++i) euros += "€";
  for (std::size_t max = 4; max < 20; ++max) {
    const std::string fitted = publish::fit(euros, max);
    CHECK(fitted.size() <= max);
    CHECK(publish::length(fitted, Count::characters) * 3 == fitted.size());
  }
}

TEST_CASE("check_name refuses empty and over-long values with kind usage, naming the limit's source") {
  CHECK(publish::check_name("the run name", "nightly", publish::limits::run_name).has_value());
  auto empty = publish::check_name("the run name", "", publish::limits::run_name);
  REQUIRE_FALSE(empty.has_value());
  CHECK(empty.error().kind == util::ErrorKind::usage);
  auto longer = publish::check_name("the run name", std::string(256, 'r'), publish::limits::run_name);
  REQUIRE_FALSE(longer.has_value());
  CHECK(longer.error().kind == util::ErrorKind::usage);
  CHECK(longer.error().message.find("256 characters") != std::string::npos);
  CHECK(longer.error().message.find("model/run.go:209") != std::string::npos);
  // MySQL counts characters: 255 of them fit even when they take more bytes.
  std::string wide;
  for (int i = 0; i < 255; ++i) wide += "é";
  CHECK(publish::check_name("the run name", wide, publish::limits::run_name).has_value());
}

TEST_CASE("names are limited per release: 2.15 checks bytes, older releases the VARCHAR(255) columns") {
  const auto old = publish::limits_for("2.3.0");
  const auto current = publish::limits_for("2.15.0");
  CHECK(old.version_name.max == 255);
  CHECK(current.version_name.max == 127);
  CHECK(current.pipeline_name.max == 128);
  CHECK(current.experiment_name.max == 128);
  CHECK(publish::limits_for("unknown").version_name.max == 127);
  CHECK(publish::limits_for("1.8.5").pipeline_name.max == 255);
  // Every release refuses what the loosest refuses.
  const auto every = publish::limits_of_every_release();
  CHECK(every.version_name.max >= current.version_name.max);
  std::string name(128, 'v');
  CHECK(publish::check_name("v", name, old.version_name).has_value());
  CHECK_FALSE(publish::check_name("v", name, current.version_name).has_value());
}
