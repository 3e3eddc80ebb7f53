#include "util/duration.hpp"

#include <doctest/doctest.h>

using namespace kfp::util;
using std::chrono::milliseconds;

TEST_CASE("durations parse as Go writes them") {
  CHECK(parse_duration("30s").value() == milliseconds(30'000));
  CHECK(parse_duration("500ms").value() == milliseconds(500));
  CHECK(parse_duration("2m").value() == milliseconds(120'000));
  CHECK(parse_duration("1h30m").value() == milliseconds(5'400'000));
  CHECK(parse_duration("1.5s").value() == milliseconds(1'500));
  CHECK(parse_duration("0").value() == milliseconds(0));
}

TEST_CASE("bad durations are usage errors") {
  for (const char* text : {"", "30", "s", "10x", "1h-", "abc", "1e999s"}) {
    auto result = parse_duration(text);
    CHECK_MESSAGE(!result.has_value(), text);
    if (!result) CHECK(result.error().kind == ErrorKind::usage);
  }
}

TEST_CASE("durations format compactly") {
  CHECK(format_duration(milliseconds(0)) == "0s");
  CHECK(format_duration(milliseconds(250)) == "250ms");
  CHECK(format_duration(milliseconds(90'000)) == "1m30s");
  CHECK(format_duration(milliseconds(3'600'000)) == "1h");
  CHECK(format_duration(milliseconds(1'500)) == "1.500s");
}
