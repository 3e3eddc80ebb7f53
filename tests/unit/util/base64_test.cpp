#include "util/base64.hpp"

#include <doctest/doctest.h>

using namespace kfp::util;

TEST_CASE("base64 round-trips with the RFC 4648 vectors") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_decode("Zg==").value() == "f");
  CHECK(base64_decode("Zm8=").value() == "fo");
  CHECK(base64_decode("Zm9vYmFy").value() == "foobar");
}

TEST_CASE("base64url uses - and _ and no padding") {
  const std::string bytes("\xfb\xff\xfe", 3);
  CHECK(base64url_encode(bytes) == "-__-");
  CHECK(base64url_decode("-__-").value() == bytes);
  CHECK(base64url_decode("Zm8").value() == "fo");
}

TEST_CASE("invalid base64 is a failure, not garbage") {
  CHECK_FALSE(base64_decode("Zm9").has_value());
  CHECK_FALSE(base64_decode("Zm9!").has_value());
  CHECK_FALSE(base64url_decode("Zm9v+").has_value());
  CHECK_FALSE(base64url_decode("a").has_value());
}
