#include "auth/claims.hpp"

#include "util/base64.hpp"

#include <doctest/doctest.h>

using namespace kfp;
using namespace std::chrono_literals;
using std::chrono::sys_seconds;

namespace {

std::string jwt(std::string_view payload) {
  return util::base64url_encode(R"({"alg":"RS256","kid":"k1"})") + "." + util::base64url_encode(payload) +
         ".c2lnbmF0dXJl";
}

const std::filesystem::path kSource = "/var/run/secrets/kubeflow/pipelines/token";
// 2026-11-28T10:00:00Z
constexpr sys_seconds kExp{std::chrono::seconds{1795860000}};

auth::Claims decode(std::string_view payload) {
  auto claims = auth::decode_claims(jwt(payload), kSource);
  REQUIRE(claims.has_value());
  return *claims;
}

}  // namespace

TEST_CASE("a projected Kubernetes token decodes, flat claims first") {
  const auto claims = decode(R"({"aud":["pipelines.kubeflow.org"],"exp":1795860000,"iat":1795856400,
    "nbf":1795856400,"iss":"https://kubernetes.default.svc","sub":"system:serviceaccount:team-a:default-editor",
    "kubernetes.io.namespace":"team-a","kubernetes.io.serviceaccount.name":"default-editor"})");
  CHECK(claims.audiences == std::vector<std::string>{"pipelines.kubeflow.org"});
  CHECK(claims.exp == kExp);
  CHECK(claims.iat == kExp - 1h);
  CHECK(claims.nbf == kExp - 1h);
  CHECK(claims.issuer == "https://kubernetes.default.svc");
  CHECK(claims.subject == "system:serviceaccount:team-a:default-editor");
  CHECK(claims.namespace_name == "team-a");
  CHECK(claims.service_account == "default-editor");
  CHECK(auth::check_claims(claims, kExp - 10min).has_value());
}

TEST_CASE("the nested kubernetes.io claim gives namespace and service account") {
  const auto claims = decode(R"({"aud":"pipelines.kubeflow.org","sub":"system:serviceaccount:other:x",
    "kubernetes.io":{"namespace":"team-b","serviceaccount":{"name":"runner","uid":"1"}}})");
  CHECK(claims.namespace_name == "team-b");
  CHECK(claims.service_account == "runner");
  CHECK(claims.audiences == std::vector<std::string>{"pipelines.kubeflow.org"});
}

TEST_CASE("the subject alone gives namespace and service account") {
  const auto claims =
      decode(R"({"aud":["a","pipelines.kubeflow.org"],"sub":"system:serviceaccount:ns1:sa1"})");
  CHECK(claims.namespace_name == "ns1");
  CHECK(claims.service_account == "sa1");
  CHECK(claims.audiences.size() == 2);
  CHECK(auth::check_claims(claims, std::chrono::system_clock::now()).has_value());

  const auto user = decode(R"({"aud":"pipelines.kubeflow.org","sub":"alice@example.com"})");
  CHECK_FALSE(user.namespace_name);
  CHECK_FALSE(user.service_account);
}

TEST_CASE("parse_service_account_subject") {
  CHECK(auth::parse_service_account_subject("system:serviceaccount:ns:sa") ==
        std::pair<std::string, std::string>{"ns", "sa"});
  CHECK_FALSE(auth::parse_service_account_subject("system:serviceaccount:ns"));
  CHECK_FALSE(auth::parse_service_account_subject("system:serviceaccount::sa"));
  CHECK_FALSE(auth::parse_service_account_subject("system:serviceaccount:ns:"));
  CHECK_FALSE(auth::parse_service_account_subject("system:serviceaccount:ns:sa:extra"));
  CHECK_FALSE(auth::parse_service_account_subject("system:node:worker-1"));
}

TEST_CASE("an expired token fails with the time it expired and how long ago") {
  const auto claims = decode(R"({"aud":"pipelines.kubeflow.org","exp":1795860000})");
  auto result = auth::check_claims(claims, std::chrono::system_clock::time_point{kExp + 5min + 20s});
  REQUIRE(result.has_error());
  CHECK(result.error().kind == util::ErrorKind::token_expired);
  CHECK(result.error().message == "the token expired at 2026-11-28T10:00:00Z, 5 minutes ago");
  CHECK(result.error().hint.find("expirationSeconds") != std::string::npos);
  CHECK(auth::check_claims(claims, std::chrono::system_clock::time_point{kExp}).has_error());
  CHECK(auth::check_claims(claims, std::chrono::system_clock::time_point{kExp - 1s}).has_value());
}

TEST_CASE("a token not valid yet fails beyond the clock skew only") {
  const auto claims = decode(R"({"aud":"pipelines.kubeflow.org","nbf":1795860000})");
  CHECK(auth::check_claims(claims, std::chrono::system_clock::time_point{kExp - 20s}).has_value());
  auto early = auth::check_claims(claims, std::chrono::system_clock::time_point{kExp - 10min});
  REQUIRE(early.has_error());
  CHECK(early.error().kind == util::ErrorKind::unauthenticated);
}

TEST_CASE("a wrong or missing audience fails with wrong_audience") {
  const auto now = std::chrono::system_clock::time_point{kExp - 1h};
  auto wrong = auth::check_claims(decode(R"({"aud":["https://kubernetes.default.svc","api"]})"), now);
  REQUIRE(wrong.has_error());
  CHECK(wrong.error().kind == util::ErrorKind::wrong_audience);
  CHECK(wrong.error().message ==
        "the token's audience is [https://kubernetes.default.svc, api], expected pipelines.kubeflow.org");
  CHECK(wrong.error().hint.find("audience: pipelines.kubeflow.org") != std::string::npos);
  CHECK(wrong.error().hint.find("kubectl create token") != std::string::npos);

  auto none = auth::check_claims(decode(R"({"sub":"x"})"), now);
  REQUIRE(none.has_error());
  CHECK(none.error().kind == util::ErrorKind::wrong_audience);

  CHECK(auth::check_claims(decode(R"({"aud":"custom"})"), now, "custom").has_value());
}

TEST_CASE("what is not a JWT is refused without echoing it") {
  const std::string secret = "s3cr3t-password-value";
  for (const std::string& token :
       {secret, secret + "." + secret, std::string("a.b.c.d"), util::base64url_encode("{}") + ".!!!." + "sig",
        util::base64url_encode("{}") + "." + util::base64url_encode("[1,2]") + ".sig",
        util::base64url_encode("{}") + "." + util::base64url_encode("not json") + ".sig"}) {
    auto claims = auth::decode_claims(token, kSource);
    REQUIRE(claims.has_error());
    CHECK(claims.error().kind == util::ErrorKind::unauthenticated);
    CHECK(claims.error().message.find(
              "the token in /var/run/secrets/kubeflow/pipelines/token is not a JWT") == 0);
    CHECK(claims.error().message.find(secret) == std::string::npos);
  }
}

TEST_CASE("the issuer is checked against the expected ones, saying what was expected and what was found") {
  const auto now = std::chrono::system_clock::time_point{kExp - 1h};
  auth::ClaimExpectations expected;
  expected.issuers = {"https://token.actions.githubusercontent.com"};
  expected.issuer_hint = "fix --token-issuer";
  auto wrong = auth::check_claims(decode(R"({"iss":"https://evil.example"})"), now, expected);
  REQUIRE(wrong.has_error());
  CHECK(wrong.error().kind == util::ErrorKind::unauthenticated);
  CHECK(wrong.error().message ==
        "the token's issuer is \"https://evil.example\", expected "
        "\"https://token.actions.githubusercontent.com\"");
  CHECK(wrong.error().hint == "fix --token-issuer");
  expected.issuers.push_back("https://evil.example");
  CHECK(auth::check_claims(decode(R"({"iss":"https://evil.example"})"), now, expected).has_value());
  // No expected audience: not checked.
  CHECK(auth::check_claims(decode(R"({"aud":"anything"})"), now, auth::ClaimExpectations{}).has_value());
}
