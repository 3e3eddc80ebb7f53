#include "api/kfp_api.hpp"

#include <doctest/doctest.h>

using namespace kfp;

TEST_CASE("RFC 3339 times are read as the server writes them, with fractions and offsets") {
  using std::chrono::sys_seconds;
  const auto base = api::parse_rfc3339("2025-05-01T10:00:00Z");
  REQUIRE(base.has_value());
  CHECK(base->time_since_epoch().count() == 1746093600);
  CHECK(api::parse_rfc3339("2025-05-01T10:00:00.123456Z") == base);
  CHECK(api::parse_rfc3339("2025-05-01T12:00:00+02:00") == base);
  CHECK(api::parse_rfc3339("2025-05-01T09:30:00-00:30") == base);
  CHECK(api::parse_rfc3339("1970-01-01T00:00:00Z") == sys_seconds{});
  for (const char* bad : {"", "2025-05-01", "2025-05-01T10:00:00", "2025-13-01T10:00:00Z",
                          "2025-02-30T10:00:00Z", "2025-05-01T25:00:00Z", "2025-05-01T10:00:00Zjunk",
                          "2025-05-01 10:00:00Z", "2025-05-01T10:00:00+0200", "2025-05-01T10:00:0xZ"}) {
    CAPTURE(bad);
    CHECK_FALSE(api::parse_rfc3339(bad).has_value());
  }
}

TEST_CASE("runs are ordered oldest first, ties by id, unreadable times last") {
  std::vector<api::Run> runs{{"r-z", "", "", "", ""},
                             {"r-b", "", "", "", "2025-05-01T10:00:01Z"},
                             {"r-a", "", "", "", "2025-05-01T12:00:01+02:00"},
                             {"r-c", "", "", "", "2025-05-01T09:59:59.9Z"}};
  api::order_oldest_first(runs);
  std::vector<std::string> ids;
  for (const auto& run : runs) ids.push_back(run.id);
  CHECK(ids == std::vector<std::string>{"r-c", "r-a", "r-b", "r-z"});
}
