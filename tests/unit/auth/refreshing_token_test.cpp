#include "auth/refreshing_token.hpp"

#include <doctest/doctest.h>

using namespace kfp;
using namespace std::chrono_literals;

TEST_CASE("the refresh margin is the last 20 % of the lifetime or 5 minutes, whichever is less") {
  CHECK(auth::refresh_margin(5min) == 1min);
  CHECK(auth::refresh_margin(1h) == 5min);
  CHECK(auth::refresh_margin(10min) == 2min);
  CHECK(auth::refresh_margin(0s) == 0s);
}

TEST_CASE("a token is kept until its refresh margin, then obtained again and registered as a secret") {
  auto now = std::chrono::system_clock::time_point{} + 1000h;
  int counter = 0;
  auth::TokenFetch fetch = [&]() -> util::Result<auth::ObtainedToken> {
    ++counter;
    return auth::ObtainedToken{"token-number-" + std::to_string(counter) + "-abcdefgh", now + 5min};
  };
  util::Secrets secrets;
  util::MemoryLog log;
  auth::RefreshingTokenSource source(
      fetch, secrets, [&] { return now; }, log, "the test token");

  CHECK(source.token().value() == std::optional<std::string>("token-number-1-abcdefgh"));
  CHECK(secrets.redact("token-number-1-abcdefgh") == "[REDACTED]");
  now += 3min + 59s;  // still outside the last minute
  CHECK(source.token().value() == std::optional<std::string>("token-number-1-abcdefgh"));
  CHECK(source.fetches() == 1);
  now += 1s;  // the last minute of a 5-minute token: a long wait gets a new one
  CHECK(source.token().value() == std::optional<std::string>("token-number-2-abcdefgh"));
  CHECK(source.fetches() == 2);
  CHECK(secrets.redact("token-number-2-abcdefgh") == "[REDACTED]");
}

TEST_CASE("a failed fetch is returned as is, and the next request asks again") {
  auto now = std::chrono::system_clock::time_point{} + 1000h;
  bool fail = true;
  auth::TokenFetch fetch = [&]() -> util::Result<auth::ObtainedToken> {
    if (fail) return util::fail(util::ErrorKind::unauthenticated, "refused");
    return auth::ObtainedToken{"a-token-that-came-later", std::nullopt};
  };
  util::Secrets secrets;
  util::NullLog log;
  auth::RefreshingTokenSource source(
      fetch, secrets, [&] { return now; }, log, "the test token");
  auto first = source.token();
  REQUIRE(first.has_error());
  CHECK(first.error().kind == util::ErrorKind::unauthenticated);
  fail = false;
  CHECK(source.token().value() == std::optional<std::string>("a-token-that-came-later"));
  // No expiry said: kept.
  now += 24h;
  CHECK(source.token().has_value());
  CHECK(source.fetches() == 1);
}
