#include "auth/entra.hpp"

#include "api/query.hpp"
#include "auth/token_endpoint.hpp"
#include "auth/token_source.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>

namespace kfp::auth {

namespace {

constexpr std::string_view kDefaultSuffix = "/.default";

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// expires_in is a number in v2 answers and was a string in v1's: both are read.
std::optional<std::chrono::seconds> expires_in(const boost::json::object& body) {
  const auto* value = body.if_contains("expires_in");
  if (value == nullptr) return std::nullopt;
  if (value->is_int64() && value->get_int64() > 0) return std::chrono::seconds{value->get_int64()};
  if (value->is_string()) {
    const std::string_view text = value->get_string();
    std::int64_t seconds = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (error == std::errc() && end == text.data() + text.size() && seconds > 0)
      return std::chrono::seconds{seconds};
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string> EntraTenant::issuers() const {
  return {fmt::format("{}{}/v2.0", authority, tenant_id),
          fmt::format("https://sts.windows.net/{}/", tenant_id)};
}

std::string entra_scope(std::string_view audience) {
  if (ends_with(audience, kDefaultSuffix)) return std::string(audience);
  return fmt::format("{}{}", audience, kDefaultSuffix);
}

std::string entra_token_audience(std::string_view audience) {
  if (ends_with(audience, kDefaultSuffix)) audience.remove_suffix(kDefaultSuffix.size());
  return std::string(audience);
}

util::Result<EntraTenant> entra_tenant(const util::Environment& env) {
  auto tenant_id = env.get("AZURE_TENANT_ID");
  if (!tenant_id) {
    return util::fail(util::ErrorKind::unauthenticated, "--token-source entra: AZURE_TENANT_ID is not set",
                      "set AZURE_TENANT_ID (and AZURE_CLIENT_ID) to the tenant and application of the "
                      "federated credential; Azure workload identity sets them in the pod");
  }
  EntraTenant tenant{env.get("AZURE_AUTHORITY_HOST").value_or(std::string(kEntraDefaultAuthority)),
                     *tenant_id};
  if (tenant.authority.empty() || tenant.authority.back() != '/') tenant.authority += '/';
  if (auto checked = check_token_endpoint(tenant.token_url(), "AZURE_AUTHORITY_HOST"); !checked)
    return checked.error();
  return tenant;
}

util::Result<Entra> Entra::from_environment(const util::Environment& env, util::Secrets& secrets) {
  auto tenant = entra_tenant(env);
  if (!tenant) return tenant.error();
  auto client_id = env.get("AZURE_CLIENT_ID");
  if (!client_id) {
    return util::fail(
        util::ErrorKind::unauthenticated, "--token-source entra: AZURE_CLIENT_ID is not set",
        "set AZURE_CLIENT_ID to the application (client) ID that holds the federated credential");
  }
  if (auto file = env.get("AZURE_FEDERATED_TOKEN_FILE")) {
    return Entra(std::move(*tenant), std::move(*client_id), std::move(*file), std::nullopt);
  }
  auto github = GithubOidc::from_environment(env, secrets);
  if (!github) {
    auto failure = github.error();
    if (failure.kind == util::ErrorKind::unauthenticated) {
      failure.message =
          "--token-source entra: no federated assertion: AZURE_FEDERATED_TOKEN_FILE is not set, and neither "
          "are GitHub's ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN";
      failure.hint =
          "in a pod, enable Azure workload identity (it sets AZURE_FEDERATED_TOKEN_FILE); in GitHub Actions, "
          "give the job `permissions: id-token: write`";
    }
    return failure;
  }
  return Entra(std::move(*tenant), std::move(*client_id), std::nullopt, std::move(*github));
}

util::Result<std::string> Entra::assertion(http::Transport& transport, http::Clock& clock,
                                           util::Secrets& secrets) const {
  if (assertion_file_) {
    // Read afresh each time: the kubelet rotates the projected file in place.
    auto content = read_token_file(*assertion_file_);
    if (!content) return content.error();
    if (!*content) {
      return util::fail(util::ErrorKind::unauthenticated,
                        fmt::format("AZURE_FEDERATED_TOKEN_FILE {} does not exist", *assertion_file_),
                        "check the azure-identity-token volume that Azure workload identity projects");
    }
    secrets.add(**content);
    return std::move(**content);
  }
  auto github_token = github_->request(transport, clock, std::string(kEntraExchangeAudience));
  if (!github_token) return github_token.error();
  secrets.add(github_token->value);
  return std::move(github_token->value);
}

util::Result<ObtainedToken> Entra::request(http::Transport& transport, http::Clock& clock,
                                           util::Secrets& secrets, const std::string& audience,
                                           std::chrono::system_clock::time_point now) const {
  auto client_assertion = assertion(transport, clock, secrets);
  if (!client_assertion) return client_assertion.error();
  http::Request request;
  request.method = http::Method::post;
  request.url = tenant_.token_url();
  request.headers.set("Content-Type", "application/x-www-form-urlencoded");
  request.headers.set("Accept", "application/json");
  request.body = http::Body::text(api::encode_params({
      {"grant_type", "client_credentials"},
      {"client_id", client_id_},
      {"scope", entra_scope(audience)},
      {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
      {"client_assertion", *client_assertion},
  }));
  request.max_response_bytes = kMaxTokenAnswerBytes;
  const std::string what = fmt::format("the Entra ID token request (tenant {}, client {}, scope {})",
                                       tenant_.tenant_id, client_id_, entra_scope(audience));
  // A POST of client credentials creates nothing: repeating it after a lost answer is safe.
  auto response = send_token_request(transport, clock, request);
  if (!response) {
    auto failure = response.error();
    failure.message = fmt::format("{}: {}", what, failure.message);
    return failure;
  }
  auto body = json_object_of(*response);
  if (response->status < 200 || response->status > 299) {
    const std::string error = body ? string_field(*body, "error") : std::string();
    const std::string description = body ? string_field(*body, "error_description") : std::string();
    std::string said = error.empty() ? std::string("no error in the answer") : error;
    if (!description.empty()) said += ": " + description;
    std::string hint = entra_error_hint(description);
    if (hint.empty())
      hint =
          "see the AADSTS code at https://learn.microsoft.com/entra/identity-platform/reference-error-codes";
    auto failure = util::fail(util::ErrorKind::unauthenticated,
                              fmt::format("{} was refused: HTTP {}: {}", what, response->status, said), hint);
    failure.http_status = response->status;
    return failure;
  }
  const std::string token = body ? string_field(*body, "access_token") : std::string();
  if (token.empty()) {
    return util::fail(util::ErrorKind::unauthenticated,
                      fmt::format("{}: the answer (HTTP {}) has no access_token", what, response->status),
                      "check AZURE_AUTHORITY_HOST: it must be the Microsoft identity platform's host");
  }
  ObtainedToken obtained{token, jwt_expiry(token)};
  if (auto seconds = expires_in(*body); seconds && !obtained.expires_at) obtained.expires_at = now + *seconds;
  return obtained;
}

std::string entra_error_hint(std::string_view description) {
  // The codes a federated client-credentials request meets most
  // (https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
  struct Known {
    std::string_view code;
    std::string_view hint;
  };
  static constexpr std::array<Known, 8> known{{
      {"AADSTS70021",
       "no federated credential of the application matches the assertion's issuer, subject and audience: add "
       "one "
       "(for GitHub: issuer https://token.actions.githubusercontent.com, subject "
       "repo:ORG/REPO:ref:refs/heads/"
       "BRANCH or :environment:NAME, audience api://AzureADTokenExchange)"},
      {"AADSTS700016", "the application AZURE_CLIENT_ID is not in the tenant AZURE_TENANT_ID: check both"},
      {"AADSTS90002", "the tenant AZURE_TENANT_ID does not exist: check it"},
      {"AADSTS500011",
       "no application with the --token-audience resource exists in the tenant: use the API's application ID "
       "URI "
       "(api://...) or its application (client) ID"},
      {"AADSTS700024",
       "the federated assertion is expired or not yet valid: check the clock and the token file"},
      {"AADSTS700211",
       "no federated credential of the application trusts the assertion's issuer: add one for it"},
      {"AADSTS700212",
       "no federated credential accepts the assertion's audience: it must be api://AzureADTokenExchange"},
      {"AADSTS700213", "no federated credential matches the assertion's subject: add one for that subject"},
  }};
  for (const auto& entry : known) {
    if (description.find(entry.code) != std::string_view::npos) return std::string(entry.hint);
  }
  return {};
}

}  // namespace kfp::auth
