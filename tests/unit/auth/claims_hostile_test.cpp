// Claim values found by fuzzing (tests/fuzz/fuzz_claims): dates far outside any real token must
// not overflow when compared with now or printed (UBSan: signed overflow in chrono).

#include "auth/claims.hpp"
#include "util/base64.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace kfp;

namespace {

std::string token_with(const std::string& payload) {
  return util::base64url_encode(R"({"alg":"RS256"})") + "." + util::base64url_encode(payload) + ".c2ln";
}

}  // namespace

TEST_CASE("exp and nbf far beyond year 2262 are clamped, not overflowed") {
  const auto now = std::chrono::system_clock::now();
  auto late = auth::decode_claims(token_with(R"({"aud":"pipelines.kubeflow.org","exp":4102442444700,)"
                                             R"("nbf":18446744073709551615})"),
                                  "token");
  REQUIRE(late.has_value());
  auto checked = auth::check_claims(*late, now);
  REQUIRE(checked.has_error());
  CHECK(checked.error().kind == util::ErrorKind::unauthenticated);
  CHECK(checked.error().message.find("not valid before") != std::string::npos);

  auto early = auth::decode_claims(
      token_with(R"({"aud":"pipelines.kubeflow.org","exp":-9223372036854775807})"), "token");
  REQUIRE(early.has_value());
  auto expired = auth::check_claims(*early, now);
  REQUIRE(expired.has_error());
  CHECK(expired.error().kind == util::ErrorKind::token_expired);

  auto forever = auth::decode_claims(token_with(R"({"aud":"pipelines.kubeflow.org","exp":1e14})"), "token");
  REQUIRE(forever.has_value());
  CHECK(auth::check_claims(*forever, now).has_value());
}
