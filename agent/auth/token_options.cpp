#include "auth/token_options.hpp"

#include "auth/entra.hpp"
#include "auth/github_oidc.hpp"

#include <fmt/format.h>

namespace kfp::auth {

std::string_view to_string(TokenSourceKind kind) {
  switch (kind) {
    case TokenSourceKind::file: return "file";
    case TokenSourceKind::github_oidc: return "github-oidc";
    case TokenSourceKind::entra: return "entra";
  }
  return "file";
}

std::optional<TokenSourceKind> parse_token_source(std::string_view text) {
  for (auto kind : {TokenSourceKind::file, TokenSourceKind::github_oidc, TokenSourceKind::entra}) {
    if (text == to_string(kind)) return kind;
  }
  return std::nullopt;
}

namespace {

util::Result<std::string> entra_audience(const TokenOptions& options) {
  if (!options.audience || options.audience->empty()) {
    return util::fail(util::ErrorKind::usage,
                      "--token-source entra needs --token-audience (KFP_TOKEN_AUDIENCE)",
                      "pass the application ID URI (api://...) or the application (client) ID of the API the "
                      "Kubeflow gateway trusts; the token is requested for its /.default scope");
  }
  return *options.audience;
}

}  // namespace

util::Result<std::unique_ptr<TokenSource>> make_token_source(const TokenOptions& options,
                                                             const TokenServices& services) {
  switch (options.source) {
    case TokenSourceKind::file: break;
    case TokenSourceKind::github_oidc: {
      auto github = GithubOidc::from_environment(services.env, services.secrets);
      if (!github) return github.error();
      TokenFetch fetch = [github = std::move(*github), &transport = services.transport,
                          &clock = services.clock,
                          audience = options.audience] { return github.request(transport, clock, audience); };
      return std::unique_ptr<TokenSource>(std::make_unique<RefreshingTokenSource>(
          std::move(fetch), services.secrets, services.now, services.log, "the GitHub OIDC token"));
    }
    case TokenSourceKind::entra: {
      auto audience = entra_audience(options);
      if (!audience) return audience.error();
      auto entra = Entra::from_environment(services.env, services.secrets);
      if (!entra) return entra.error();
      TokenFetch fetch = [entra = std::move(*entra), &transport = services.transport, &clock = services.clock,
                          &secrets = services.secrets, now = services.now, audience = *audience] {
        return entra.request(transport, clock, secrets, audience, now());
      };
      return std::unique_ptr<TokenSource>(std::make_unique<RefreshingTokenSource>(
          std::move(fetch), services.secrets, services.now, services.log, "the Entra ID token"));
    }
  }
  return std::unique_ptr<TokenSource>(std::make_unique<FileTokenSource>(options.file, services.secrets));
}

std::filesystem::path token_origin(const TokenOptions& options) {
  switch (options.source) {
    case TokenSourceKind::file: return options.file;
    case TokenSourceKind::github_oidc: return "the answer of ACTIONS_ID_TOKEN_REQUEST_URL";
    case TokenSourceKind::entra: return "the answer of the Entra ID token endpoint";
  }
  return options.file;
}

util::Result<ClaimExpectations> claim_expectations(const TokenOptions& options,
                                                   const util::Environment& env) {
  ClaimExpectations expected;
  switch (options.source) {
    case TokenSourceKind::file:
      expected = service_account_expectations(options.audience.value_or(std::string(kPipelinesAudience)));
      break;
    case TokenSourceKind::github_oidc:
      expected.audience = options.audience;
      expected.issuers = {std::string(kGithubIssuer)};
      expected.expired_hint =
          "GitHub's OIDC tokens live minutes and kfp-publish requests a new one before expiry: check this "
          "machine's clock";
      expected.audience_hint =
          "GitHub issues the token for the audience requested: check --token-audience (KFP_TOKEN_AUDIENCE) "
          "against the audiences of the gateway's RequestAuthentication";
      expected.issuer_hint =
          "GitHub's issuer is https://token.actions.githubusercontent.com (with a customized issuer, "
          "https://token.actions.githubusercontent.com/ENTERPRISE): fix --token-issuer (KFP_TOKEN_ISSUER)";
      break;
    case TokenSourceKind::entra: {
      auto audience = entra_audience(options);
      if (!audience) return audience.error();
      auto tenant = entra_tenant(env);
      if (!tenant) return tenant.error();
      expected.audience = entra_token_audience(*audience);
      expected.issuers = tenant->issuers();
      expected.expired_hint =
          "the access token was already expired when it arrived: check this machine's clock";
      expected.audience_hint =
          "Entra ID v2.0 access tokens carry the API's application (client) ID as aud, v1.0 tokens the "
          "scope's "
          "resource (the application ID URI): pass the form the gateway's RequestAuthentication lists as "
          "--token-audience";
      expected.issuer_hint =
          "the API's manifest decides the token version (accessTokenAcceptedVersion: 2 gives the v2.0 "
          "issuer): "
          "pass the issuer the gateway's RequestAuthentication trusts as --token-issuer (KFP_TOKEN_ISSUER)";
      break;
    }
  }
  if (options.issuer) expected.issuers = {*options.issuer};
  return expected;
}

}  // namespace kfp::auth
