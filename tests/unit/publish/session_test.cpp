#include "publish/session.hpp"

#include "unit/api/fake_transport.hpp"
#include "unit/auth/test_jwt.hpp"
#include "unit/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fstream>

using namespace kfp;

namespace {

using test::service_account_jwt;

constexpr const char* healthz_2_15 =
    R"({"commit_sha":"x","tag_name":"2.15.0","multi_user":true,"pipeline_store":"database"})";

// A session over fakes: the factory's transports all send through `transport`.
struct Fixture {
  test::TempDir dir{"kfp-session"};
  test::FakeTransport transport;
  test::ForwardingFactory factory{transport};
  util::MemoryLog log;
  util::Secrets secrets;
  util::MapEnvironment env;
  publish::SessionOptions options;
  report::Report report;

  Fixture() {
    options.host = "https://kubeflow.example.com/pipeline";
    options.token.file = dir.path / "token";
    options.token.requirement = auth::TokenRequirement::required_file;
    options.transport.ca_file = dir.path / "ca.pem";
    options.transport.user_agent = "kfp-publish/test";
    options.retries = 0;
  }
  void write_token(const std::string& token) const { std::ofstream(options.token.file) << token; }
  [[nodiscard]] publish::SessionServices services() {
    publish::SessionServices services(log, secrets, env);
    services.make_transport = factory.factory();
    services.make_clock = [] { return std::make_unique<test::FakeClock>(); };
    return services;
  }
};

}  // namespace

TEST_CASE(
    "the session is built from one place: the factory's transports, the token source, the secret sink") {
  Fixture f;
  const std::string token = service_account_jwt("pipelines.kubeflow.org", std::chrono::hours(1));
  f.write_token(token);
  f.transport.answer(200, healthz_2_15);
  publish::Session session(f.options, f.services(), f.report);

  // One transport to KFP with the session's options, one to token endpoints with the system trust store.
  REQUIRE(f.factory.made.size() == 2);
  CHECK(f.factory.made[0].ca_file == f.options.transport.ca_file);
  CHECK(f.factory.made[0].user_agent == "kfp-publish/test");
  CHECK_FALSE(f.factory.made[1].ca_file.has_value());
  CHECK(f.factory.made[1].user_agent == "kfp-publish/test");

  REQUIRE(f.transport.sent.size() == 1);
  CHECK(f.transport.sent[0].url == "https://kubeflow.example.com/pipeline/apis/v2beta1/healthz");
  CHECK(f.transport.sent[0].headers.get("Authorization") == "Bearer " + token);
  CHECK(session.namespace_name() == "team-a");
  REQUIRE(f.report.server.has_value());
  CHECK(f.report.server->version == "2.15.0");
  // The token was registered with the sink every output channel redacts through.
  CHECK(f.secrets.redact("Authorization: Bearer " + token) == "Authorization: Bearer [REDACTED]");
}

TEST_CASE("an expired token or a wrong audience stops the session before any request") {
  Fixture f;
  f.write_token(service_account_jwt("pipelines.kubeflow.org", std::chrono::hours(-1)));
  try {
    publish::Session session(f.options, f.services(), f.report);
    FAIL("an expired token opened a session");
  } catch (const util::Error& e) {
    CHECK(e.failure().kind == util::ErrorKind::token_expired);
  }
  f.write_token(service_account_jwt("https://kubernetes.default.svc", std::chrono::hours(1)));
  f.options.token.audience = "https://kubernetes.default.svc";
  f.transport.answer(200, healthz_2_15);
  CHECK_NOTHROW(publish::Session(f.options, f.services(), f.report));
  f.options.token.audience = "api://kubeflow";
  try {
    publish::Session session(f.options, f.services(), f.report);
    FAIL("a token without the asked-for audience opened a session");
  } catch (const util::Error& e) {
    CHECK(e.failure().kind == util::ErrorKind::wrong_audience);
    CHECK(e.failure().message.find("api://kubeflow") != std::string::npos);
  }
  CHECK(f.transport.sent.size() == 1);
}

TEST_CASE(
    "github-oidc: the token is requested once, its issuer and audience checked before the first KFP "
    "request") {
  Fixture f;
  f.options.token.source = auth::TokenSourceKind::github_oidc;
  f.options.token.audience = "kubeflow-gateway";
  f.env.set("ACTIONS_ID_TOKEN_REQUEST_URL", "http://127.0.0.1:9/idtoken?api-version=2.0");
  f.env.set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runner-request-token-0123456789");
  auto github_token = [](const std::string& issuer, const std::string& audience) {
    return test::unsigned_jwt(
        fmt::format(R"({{"iss":"{}","aud":"{}","exp":{},"sub":"repo:acme/pipelines:ref:refs/heads/main"}})",
                    issuer, audience, test::epoch_in(std::chrono::minutes(5))));
  };
  const std::string untrusted = github_token("https://evil.example", "kubeflow-gateway");
  f.transport.answer(200, fmt::format(R"({{"value":"{}"}})", untrusted));
  try {
    publish::Session session(f.options, f.services(), f.report);
    FAIL("a token from another issuer opened a session");
  } catch (const util::Error& e) {
    CHECK(e.failure().kind == util::ErrorKind::unauthenticated);
    CHECK(e.failure().message.find("expected \"https://token.actions.githubusercontent.com\"") !=
          std::string::npos);
    CHECK(e.failure().message.find(untrusted) == std::string::npos);
  }
  REQUIRE(f.transport.sent.size() == 1);  // the token request only: nothing reached KFP
  CHECK(f.secrets.redact(untrusted) == "[REDACTED]");

  const std::string good = github_token("https://token.actions.githubusercontent.com", "kubeflow-gateway");
  f.transport.answer(200, fmt::format(R"({{"value":"{}"}})", good));
  f.transport.answer(200, healthz_2_15);
  f.options.namespace_name = "team-a";
  publish::Session session(f.options, f.services(), f.report);
  REQUIRE(f.transport.sent.size() == 3);
  CHECK(f.transport.sent[1].url == "http://127.0.0.1:9/idtoken?api-version=2.0&audience=kubeflow-gateway");
  CHECK(f.transport.sent[2].headers.get("Authorization") == "Bearer " + good);
}
