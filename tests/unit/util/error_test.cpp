#include "util/error.hpp"

#include <doctest/doctest.h>

using namespace kfp::util;

TEST_CASE("error kinds have their report spelling") {
  CHECK(to_string(ErrorKind::invalid_package) == "invalid_package");
  CHECK(to_string(ErrorKind::istio_denied) == "istio_denied");
  CHECK(to_string(ErrorKind::token_expired) == "token_expired");
}

TEST_CASE("Result::value() on a failure throws Error carrying the failure") {
  Result<int> result =
      fail(ErrorKind::conflict, "version v1 exists with other content", "use a new --version");
  REQUIRE_FALSE(result.has_value());
  try {
    (void)result.value();
    FAIL("value() did not throw");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::conflict);
    CHECK(std::string(e.what()) == "version v1 exists with other content");
    CHECK(e.hint() == "use a new --version");
  }
}
