#include "util/log.hpp"

#include <doctest/doctest.h>

using kfp::util::Secrets;

TEST_CASE("redact replaces every occurrence of each secret") {
  const std::string token = "eyJhbGciOiJSUzI1NiJ9.payload.signature";
  CHECK(kfp::util::redact("Bearer " + token + " and " + token, {token}) ==
        "Bearer [REDACTED] and [REDACTED]");
  CHECK(kfp::util::redact("nothing here", {token}) == "nothing here");
}

TEST_CASE("redact removes a token's head where the text was cut short after it") {
  const std::string token =
      "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6dGVhbS1h.c2lnbmF0dXJl";
  const std::string head = token.substr(0, 40);
  // A server message truncated in the middle of an echoed Authorization header.
  CHECK(kfp::util::redact("authorization: Bearer " + head + "…", {token}) ==
        "authorization: Bearer [REDACTED]…");
  CHECK(kfp::util::redact("authorization: Bearer " + head, {token}) == "authorization: Bearer [REDACTED]");
  // The same head followed by something else is not the token.
  CHECK(kfp::util::redact(head + ".other", {token}) == head + ".other");
  // Too short a head to say anything.
  CHECK(kfp::util::redact("eyJhbGci…", {token}) == "eyJhbGci…");
}

TEST_CASE("Secrets redacts tokens, a JWT's signature on its own, and URL credentials of any length") {
  Secrets secrets;
  const std::string token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.SIGNATURE-abcdefghijklmnop";
  secrets.add(token);
  secrets.add("short");  // too short to be a token: ordinary words stay
  secrets.add("u:p@", Secrets::Kind::credentials);
  CHECK(secrets.redact("a " + token + " b") == "a [REDACTED] b");
  CHECK(secrets.redact("sig SIGNATURE-abcdefghijklmnop only") == "sig [REDACTED] only");
  CHECK(secrets.redact("a short word") == "a short word");
  CHECK(secrets.redact("http://u:p@host/x") == "http://[REDACTED]host/x");
}
