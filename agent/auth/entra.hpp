#pragma once
// A Microsoft Entra ID access token by the client-credentials grant with a federated assertion, as
// the Microsoft identity platform documents it ("Third case: Access token request with a federated
// credential", https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow)
// and azure-identity's WorkloadIdentityCredential reads it from the variables Azure workload identity
// sets: POST {AZURE_AUTHORITY_HOST}{AZURE_TENANT_ID}/oauth2/v2.0/token with the form grant_type=
// client_credentials, client_id, scope, client_assertion_type=urn:ietf:params:oauth:client-assertion-
// type:jwt-bearer and client_assertion (the file AZURE_FEDERATED_TOKEN_FILE, read afresh each time,
// or a GitHub OIDC token for api://AzureADTokenExchange); the answer {"access_token","token_type",
// "expires_in"}, or {"error","error_description"} with an AADSTS code.

#include "auth/github_oidc.hpp"
#include "auth/refreshing_token.hpp"
#include "http/retry.hpp"
#include "http/transport.hpp"
#include "util/environment.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <optional>
#include <string>
#include <vector>

namespace kfp::auth {

inline constexpr std::string_view kEntraDefaultAuthority = "https://login.microsoftonline.com/";
// The audience Entra ID expects of a federated assertion (GitHub's docs and azure/login use it).
inline constexpr std::string_view kEntraExchangeAudience = "api://AzureADTokenExchange";

// Where the tenant's tokens come from and what they say.
struct EntraTenant {
  std::string authority;  // AZURE_AUTHORITY_HOST with a trailing '/', default kEntraDefaultAuthority
  std::string tenant_id;  // AZURE_TENANT_ID
  [[nodiscard]] std::string token_url() const { return authority + tenant_id + "/oauth2/v2.0/token"; }
  // The issuers of its access tokens: v2 "{authority}{tenant}/v2.0" and v1
  // "https://sts.windows.net/{tenant}/".
  [[nodiscard]] std::vector<std::string> issuers() const;
};

// "AUD/.default", or AUD as is when it already ends in "/.default".
[[nodiscard]] std::string entra_scope(std::string_view audience);
// The audience an access token for `audience` carries: AUD without a trailing "/.default".
[[nodiscard]] std::string entra_token_audience(std::string_view audience);

// The tenant from the environment, without asking anything. Fails with kind unauthenticated naming
// the missing variable, usage for a plain-http authority to another host.
[[nodiscard]] util::Result<EntraTenant> entra_tenant(const util::Environment& env);

class Entra {
 public:
  // Reads AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_AUTHORITY_HOST and the assertion's origin
  // (AZURE_FEDERATED_TOKEN_FILE, else GitHub's OIDC variables). Fails with kind unauthenticated
  // naming what is missing.
  [[nodiscard]] static util::Result<Entra> from_environment(const util::Environment& env,
                                                            util::Secrets& secrets);

  // Requests an access token for `audience` (scope entra_scope(audience)). Fails with kind
  // unauthenticated with Entra's error_description (AADSTS…) and a hint for the common codes.
  [[nodiscard]] util::Result<ObtainedToken> request(http::Transport& transport, http::Clock& clock,
                                                    util::Secrets& secrets, const std::string& audience,
                                                    std::chrono::system_clock::time_point now) const;

  [[nodiscard]] const EntraTenant& tenant() const { return tenant_; }

 private:
  Entra(EntraTenant tenant, std::string client_id, std::optional<std::string> assertion_file,
        std::optional<GithubOidc> github)
      : tenant_(std::move(tenant)),
        client_id_(std::move(client_id)),
        assertion_file_(std::move(assertion_file)),
        github_(std::move(github)) {}
  [[nodiscard]] util::Result<std::string> assertion(http::Transport& transport, http::Clock& clock,
                                                    util::Secrets& secrets) const;

  EntraTenant tenant_;
  std::string client_id_;
  std::optional<std::string> assertion_file_;
  std::optional<GithubOidc> github_;
};

// How to fix an Entra ID refusal, by its AADSTS code; empty for codes without a known fix.
[[nodiscard]] std::string entra_error_hint(std::string_view description);

}  // namespace kfp::auth
