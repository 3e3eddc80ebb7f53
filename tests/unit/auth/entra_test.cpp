#include "auth/entra.hpp"

#include "auth/token_options.hpp"
#include "unit/api/fake_transport.hpp"
#include "unit/auth/test_jwt.hpp"
#include "unit/temp_dir.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <boost/url/parse_query.hpp>

#include <fstream>
#include <map>

using namespace kfp;

namespace {

constexpr const char* tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
constexpr const char* client = "0f7c6a3e-1111-2222-3333-444455556666";

std::string entra_jwt(const std::string& audience, std::chrono::seconds expires_in) {
  return test::unsigned_jwt(
      fmt::format(R"({{"iss":"https://login.microsoftonline.com/{}/v2.0","aud":"{}","exp":{},"sub":"{}"}})",
                  tenant, audience, test::epoch_in(expires_in), client));
}

// The form fields of a request body, decoded.
std::map<std::string, std::string> form_of(const http::Request& request) {
  std::map<std::string, std::string> fields;
  const auto& text = std::get<std::string>(request.body.pieces.at(0).content);
  auto params = boost::urls::parse_query(text);
  REQUIRE(params.has_value());
  for (auto param : *params) fields[param.key.decode()] = param.value.decode();
  return fields;
}

struct Fixture {
  test::TempDir dir{"kfp-entra"};
  util::MapEnvironment env;
  util::Secrets secrets;
  test::FakeTransport transport;
  test::FakeClock clock;
  Fixture() {
    env.set("AZURE_TENANT_ID", tenant);
    env.set("AZURE_CLIENT_ID", client);
    env.set("AZURE_FEDERATED_TOKEN_FILE", (dir.path / "azure-identity-token").string());
    std::ofstream(dir.path / "azure-identity-token")
        << "federated.assertion-from-the-kubelet.signature-part\n";
  }
};

}  // namespace

TEST_CASE(
    "entra sends the client-credentials form with the federated assertion to the tenant's v2.0 endpoint") {
  Fixture f;
  auto entra = auth::Entra::from_environment(f.env, f.secrets);
  REQUIRE(entra.has_value());
  const std::string token = entra_jwt("api://kubeflow", std::chrono::hours(1));
  f.transport.answer(
      200, fmt::format(R"({{"token_type":"Bearer","expires_in":3599,"access_token":"{}"}})", token));
  const auto now = std::chrono::system_clock::now();
  auto obtained = entra->request(f.transport, f.clock, f.secrets, "api://kubeflow", now);
  REQUIRE(obtained.has_value());
  CHECK(obtained->value == token);
  REQUIRE(f.transport.sent.size() == 1);
  const auto& sent = f.transport.sent[0];
  CHECK(sent.method == http::Method::post);
  CHECK(sent.url == fmt::format("https://login.microsoftonline.com/{}/oauth2/v2.0/token", tenant));
  CHECK(sent.headers.get("Content-Type") == "application/x-www-form-urlencoded");
  CHECK_FALSE(sent.headers.get("Authorization").has_value());
  auto form = form_of(sent);
  CHECK(form["grant_type"] == "client_credentials");
  CHECK(form["client_id"] == client);
  CHECK(form["scope"] == "api://kubeflow/.default");
  CHECK(form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  CHECK(form["client_assertion"] == "federated.assertion-from-the-kubelet.signature-part");
  // The assertion is a credential too.
  CHECK(f.secrets.redact("federated.assertion-from-the-kubelet.signature-part") == "[REDACTED]");
}

TEST_CASE(
    "entra: the scope is AUD/.default unless it already ends so; AZURE_AUTHORITY_HOST moves the endpoint") {
  CHECK(auth::entra_scope("api://kubeflow") == "api://kubeflow/.default");
  CHECK(auth::entra_scope("api://kubeflow/.default") == "api://kubeflow/.default");
  CHECK(auth::entra_token_audience("api://kubeflow/.default") == "api://kubeflow");
  Fixture f;
  f.env.set("AZURE_AUTHORITY_HOST", "http://127.0.0.1:8123");
  auto tenant_of = auth::entra_tenant(f.env);
  REQUIRE(tenant_of.has_value());
  CHECK(tenant_of->token_url() == fmt::format("http://127.0.0.1:8123/{}/oauth2/v2.0/token", tenant));
  CHECK(tenant_of->issuers() == std::vector<std::string>{fmt::format("http://127.0.0.1:8123/{}/v2.0", tenant),
                                                         fmt::format("https://sts.windows.net/{}/", tenant)});
  f.env.set("AZURE_AUTHORITY_HOST", "http://login.example.com/");
  auto plain = auth::entra_tenant(f.env);
  REQUIRE(plain.has_error());
  CHECK(plain.error().kind == util::ErrorKind::usage);
}

TEST_CASE(
    "entra without AZURE_FEDERATED_TOKEN_FILE uses a GitHub OIDC token for api://AzureADTokenExchange") {
  Fixture f;
  f.env.set("AZURE_FEDERATED_TOKEN_FILE", "");
  f.env.set("ACTIONS_ID_TOKEN_REQUEST_URL", "https://pipelines.actions.example/idtoken?api-version=2.0");
  f.env.set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runner-request-token-0123456789");
  auto entra = auth::Entra::from_environment(f.env, f.secrets);
  REQUIRE(entra.has_value());
  const std::string assertion = test::unsigned_jwt(R"({"aud":"api://AzureADTokenExchange"})");
  f.transport.answer(200, fmt::format(R"({{"value":"{}"}})", assertion));
  f.transport.answer(
      200, R"({"token_type":"Bearer","expires_in":"3599","access_token":"opaque-access-token-value"})");
  const auto now = std::chrono::system_clock::now();
  auto obtained = entra->request(f.transport, f.clock, f.secrets, "api://kubeflow", now);
  REQUIRE(obtained.has_value());
  REQUIRE(f.transport.sent.size() == 2);
  CHECK(
      f.transport.sent[0].url ==
      "https://pipelines.actions.example/idtoken?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange");
  CHECK(form_of(f.transport.sent[1])["client_assertion"] == assertion);
  // Not a JWT: the expiry comes from expires_in (a string in v1 answers).
  REQUIRE(obtained->expires_at.has_value());
  CHECK(*obtained->expires_at == now + std::chrono::seconds(3599));
  CHECK(f.secrets.redact(assertion) == "[REDACTED]");
}

TEST_CASE("entra's AADSTS refusals are exit 4 with Entra's description and the fix") {
  Fixture f;
  auto entra = auth::Entra::from_environment(f.env, f.secrets).value();
  f.transport.answer(
      400,
      R"({"error":"invalid_client","error_description":"AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://token.actions.githubusercontent.com'.","error_codes":[70021]})");
  auto refused =
      entra.request(f.transport, f.clock, f.secrets, "api://kubeflow", std::chrono::system_clock::now());
  REQUIRE(refused.has_error());
  CHECK(refused.error().kind == util::ErrorKind::unauthenticated);
  CHECK(refused.error().message.find("invalid_client: AADSTS70021: No matching federated identity record") !=
        std::string::npos);
  CHECK(refused.error().hint.find("federated credential") != std::string::npos);
  CHECK(refused.error().message.find("federated.assertion") == std::string::npos);
}

TEST_CASE("entra without its variables or --token-audience fails before any request") {
  util::MapEnvironment env;
  env.set("AZURE_CLIENT_ID", client);
  util::Secrets secrets;
  util::NullLog log;
  test::FakeTransport transport;
  test::FakeClock clock;
  auth::TokenOptions options;
  options.source = auth::TokenSourceKind::entra;
  auto no_audience =
      auth::make_token_source(options, auth::TokenServices(transport, clock, env, secrets, log));
  REQUIRE(no_audience.has_error());
  CHECK(no_audience.error().kind == util::ErrorKind::usage);
  options.audience = "api://kubeflow";
  auto no_tenant = auth::make_token_source(options, auth::TokenServices(transport, clock, env, secrets, log));
  REQUIRE(no_tenant.has_error());
  CHECK(no_tenant.error().kind == util::ErrorKind::unauthenticated);
  CHECK(no_tenant.error().message.find("AZURE_TENANT_ID") != std::string::npos);
  env.set("AZURE_TENANT_ID", tenant);
  auto no_assertion =
      auth::make_token_source(options, auth::TokenServices(transport, clock, env, secrets, log));
  REQUIRE(no_assertion.has_error());
  CHECK(no_assertion.error().message.find("AZURE_FEDERATED_TOKEN_FILE") != std::string::npos);
  CHECK(no_assertion.error().hint.find("id-token: write") != std::string::npos);
  CHECK(transport.sent.empty());
}

TEST_CASE("claim expectations per source: defaults, the v1 issuer only without --token-issuer") {
  util::MapEnvironment env;
  env.set("AZURE_TENANT_ID", tenant);
  auth::TokenOptions options;
  auto file = auth::claim_expectations(options, env).value();
  CHECK(file.audience == std::optional<std::string>("pipelines.kubeflow.org"));
  CHECK(file.issuers.empty());
  options.source = auth::TokenSourceKind::github_oidc;
  auto github = auth::claim_expectations(options, env).value();
  CHECK_FALSE(github.audience.has_value());
  CHECK(github.issuers == std::vector<std::string>{"https://token.actions.githubusercontent.com"});
  options.source = auth::TokenSourceKind::entra;
  options.audience = "api://kubeflow/.default";
  auto entra = auth::claim_expectations(options, env).value();
  CHECK(entra.audience == std::optional<std::string>("api://kubeflow"));
  CHECK(entra.issuers.size() == 2);
  options.issuer = "https://login.microsoftonline.com/other/v2.0";
  CHECK(auth::claim_expectations(options, env).value().issuers ==
        std::vector<std::string>{"https://login.microsoftonline.com/other/v2.0"});
}
