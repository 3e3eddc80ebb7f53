#include "auth/github_oidc.hpp"

#include "auth/token_options.hpp"
#include "unit/api/fake_transport.hpp"
#include "unit/auth/test_jwt.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace kfp;

namespace {

constexpr const char* request_token = "ghs_request-token-of-the-runner-0123456789";

util::MapEnvironment github_env() {
  return util::MapEnvironment(
      {{"ACTIONS_ID_TOKEN_REQUEST_URL", "https://pipelines.actions.example/idtoken?api-version=2.0"},
       {"ACTIONS_ID_TOKEN_REQUEST_TOKEN", request_token}});
}

std::string github_jwt(const std::string& audience, std::chrono::seconds expires_in) {
  return test::unsigned_jwt(fmt::format(
      R"({{"iss":"https://token.actions.githubusercontent.com","aud":"{}","exp":{},"sub":"repo:acme/pipelines:ref:refs/heads/main"}})",
      audience, test::epoch_in(expires_in)));
}

}  // namespace

TEST_CASE("github-oidc asks as actions/toolkit does: the URL with &audience=, the request token as bearer") {
  util::Secrets secrets;
  auto env = github_env();
  auto github = auth::GithubOidc::from_environment(env, secrets);
  REQUIRE(github.has_value());
  // The runner's request token is a credential: redacted from every output from the start.
  CHECK(secrets.redact(request_token) == "[REDACTED]");

  test::FakeTransport transport;
  test::FakeClock clock;
  const std::string token = github_jwt("api://kubeflow gateway", std::chrono::minutes(5));
  transport.answer(200, fmt::format(R"({{"count":1,"value":"{}"}})", token));
  auto obtained = github->request(transport, clock, std::string("api://kubeflow gateway"));
  REQUIRE(obtained.has_value());
  CHECK(obtained->value == token);
  REQUIRE(obtained->expires_at.has_value());
  REQUIRE(transport.sent.size() == 1);
  const auto& sent = transport.sent[0];
  CHECK(sent.method == http::Method::get);
  CHECK(sent.url ==
        "https://pipelines.actions.example/idtoken?api-version=2.0&audience=api%3A%2F%2Fkubeflow%20gateway");
  CHECK(sent.headers.get("Authorization") == fmt::format("Bearer {}", request_token));
  CHECK(sent.headers.get("Accept") == "application/json");

  // Without --token-audience: GitHub's default audience, the URL as given.
  transport.answer(200, fmt::format(R"({{"value":"{}"}})", token));
  REQUIRE(github->request(transport, clock, std::nullopt).has_value());
  CHECK(transport.sent[1].url == "https://pipelines.actions.example/idtoken?api-version=2.0");
}

TEST_CASE("github-oidc without the variables fails with exit 4 naming permissions: id-token: write") {
  for (const auto& missing : {"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"}) {
    auto env = github_env();
    env.set(missing, "");
    util::Secrets secrets;
    auto github = auth::GithubOidc::from_environment(env, secrets);
    REQUIRE(github.has_error());
    CHECK(github.error().kind == util::ErrorKind::unauthenticated);
    CHECK(github.error().message.find(missing) != std::string::npos);
    CHECK(github.error().hint.find("permissions: id-token: write") != std::string::npos);
  }
  // Through the factory, before any request.
  util::MapEnvironment empty;
  util::Secrets secrets;
  util::NullLog log;
  test::FakeTransport transport;
  test::FakeClock clock;
  auth::TokenOptions options;
  options.source = auth::TokenSourceKind::github_oidc;
  auto source = auth::make_token_source(options, auth::TokenServices(transport, clock, empty, secrets, log));
  REQUIRE(source.has_error());
  CHECK(source.error().hint.find("id-token: write") != std::string::npos);
  CHECK(transport.sent.empty());
}

TEST_CASE("github-oidc refuses a plain-http request URL except on loopback") {
  util::Secrets secrets;
  auto env = github_env();
  env.set("ACTIONS_ID_TOKEN_REQUEST_URL", "http://pipelines.actions.example/idtoken?api-version=2.0");
  auto remote = auth::GithubOidc::from_environment(env, secrets);
  REQUIRE(remote.has_error());
  CHECK(remote.error().kind == util::ErrorKind::usage);
  CHECK(remote.error().message.find("ACTIONS_ID_TOKEN_REQUEST_URL") != std::string::npos);
  for (const char* loopback :
       {"http://127.0.0.1:8099/idtoken?x=1", "http://[::1]:8099/t?x=1", "http://localhost:1/t?x"}) {
    env.set("ACTIONS_ID_TOKEN_REQUEST_URL", loopback);
    CHECK(auth::GithubOidc::from_environment(env, secrets).has_value());
  }
}

TEST_CASE("github-oidc: a refusal or an answer without value is exit 4 and never shows a token") {
  util::Secrets secrets;
  auto env = github_env();
  auto github = auth::GithubOidc::from_environment(env, secrets).value();
  test::FakeTransport transport;
  test::FakeClock clock;
  transport.answer(403, R"({"message":"Requested audience not allowed"})");
  auto refused = github.request(transport, clock, std::string("aud"));
  REQUIRE(refused.has_error());
  CHECK(refused.error().kind == util::ErrorKind::unauthenticated);
  CHECK(refused.error().message.find("HTTP 403: Requested audience not allowed") != std::string::npos);
  CHECK(refused.error().message.find(request_token) == std::string::npos);

  transport.answer(200, R"({"count":0})");
  auto empty = github.request(transport, clock, std::string("aud"));
  REQUIRE(empty.has_error());
  CHECK(empty.error().message.find("no \"value\"") != std::string::npos);

  // A 503 is retried within the budget, then answered.
  transport.answer(503, "busy", "text/plain");
  transport.answer(200, fmt::format(R"({{"value":"{}"}})", github_jwt("aud", std::chrono::minutes(5))));
  CHECK(github.request(transport, clock, std::string("aud")).has_value());
  CHECK(clock.slept.size() == 1);
}
