#pragma once
// The GitHub Actions OIDC token, requested as actions/toolkit does (packages/core/src/oidc-utils.ts):
// GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD with `Authorization: Bearer
// $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answered with JSON {"value": "<JWT>"}. GitHub sets both variables
// only in a job with `permissions: id-token: write`.

#include "auth/refreshing_token.hpp"
#include "http/retry.hpp"
#include "http/transport.hpp"
#include "util/environment.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <optional>
#include <string>

namespace kfp::auth {

inline constexpr std::string_view kGithubIssuer = "https://token.actions.githubusercontent.com";
inline constexpr const char* kGithubRequestUrlVariable = "ACTIONS_ID_TOKEN_REQUEST_URL";
inline constexpr const char* kGithubRequestTokenVariable = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";

class GithubOidc {
 public:
  // Reads the two variables (the request token is registered with `secrets`: it is a credential).
  // Fails with kind unauthenticated naming `permissions: id-token: write` when either is missing, and
  // with kind usage when the URL is plain http to another host.
  [[nodiscard]] static util::Result<GithubOidc> from_environment(const util::Environment& env,
                                                                 util::Secrets& secrets);

  // Requests a token for `audience` (nullopt: GitHub's default, the repository owner's URL).
  // Fails with kind unauthenticated on a refusal or an answer without "value" (naming the status and
  // GitHub's message, never a token), network when GitHub cannot be reached.
  [[nodiscard]] util::Result<ObtainedToken> request(http::Transport& transport, http::Clock& clock,
                                                    const std::optional<std::string>& audience) const;

 private:
  GithubOidc(std::string url, std::string request_token)
      : url_(std::move(url)), request_token_(std::move(request_token)) {}
  std::string url_;
  std::string request_token_;
};

// The expiry a JWT states (exp), for tokens whose endpoint does not say; nullopt when it is not a JWT
// or has no exp.
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> jwt_expiry(std::string_view token);

}  // namespace kfp::auth
