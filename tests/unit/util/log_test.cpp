#include "util/log.hpp"

#include <doctest/doctest.h>

TEST_CASE("redact replaces every occurrence of each secret") {
  const std::string token = "eyJhbGciOiJSUzI1NiJ9.payload.signature";
  CHECK(kfp::util::redact("Bearer " + token + " and " + token, {token}) ==
        "Bearer [REDACTED] and [REDACTED]");
  CHECK(kfp::util::redact("nothing here", {token}) == "nothing here");
}
