#include "auth/github_oidc.hpp"

#include "api/query.hpp"
#include "auth/claims.hpp"
#include "auth/token_endpoint.hpp"

#include <fmt/format.h>

namespace kfp::auth {

namespace {

constexpr std::string_view kPermissionHint =
    "the job needs `permissions: id-token: write` (at the workflow or the job level) for GitHub to set "
    "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN; outside GitHub Actions use another "
    "--token-source";

}  // namespace

std::optional<std::chrono::system_clock::time_point> jwt_expiry(std::string_view token) {
  auto claims = decode_claims(token, "the token obtained");
  if (!claims || !claims->exp) return std::nullopt;
  return std::chrono::system_clock::time_point{*claims->exp};
}

util::Result<GithubOidc> GithubOidc::from_environment(const util::Environment& env, util::Secrets& secrets) {
  auto url = env.get(kGithubRequestUrlVariable);
  auto request_token = env.get(kGithubRequestTokenVariable);
  if (!url || !request_token) {
    std::string missing = !url && !request_token ? fmt::format("{} and {} are", kGithubRequestUrlVariable,
                                                               kGithubRequestTokenVariable)
                          : !url                 ? fmt::format("{} is", kGithubRequestUrlVariable)
                                                 : fmt::format("{} is", kGithubRequestTokenVariable);
    return util::fail(util::ErrorKind::unauthenticated,
                      fmt::format("no GitHub OIDC token can be requested: {} not set", missing),
                      std::string(kPermissionHint));
  }
  secrets.add(*request_token);
  if (auto checked = check_token_endpoint(*url, kGithubRequestUrlVariable); !checked) return checked.error();
  return GithubOidc(std::move(*url), std::move(*request_token));
}

util::Result<ObtainedToken> GithubOidc::request(http::Transport& transport, http::Clock& clock,
                                                const std::optional<std::string>& audience) const {
  http::Request request;
  request.method = http::Method::get;
  // As oidc-utils.ts: the audience is appended with '&' (GitHub's URL already has a query).
  request.url = audience ? fmt::format("{}&audience={}", url_, api::percent_encode(*audience)) : url_;
  request.headers.set("Authorization", "Bearer " + request_token_);
  request.headers.set("Accept", "application/json");
  request.max_response_bytes = kMaxTokenAnswerBytes;
  const std::string what = fmt::format("the GitHub OIDC token request{}",
                                       audience ? fmt::format(" (audience {})", *audience) : "");
  auto response = send_token_request(transport, clock, request);
  if (!response) {
    auto failure = response.error();
    failure.message = fmt::format("{}: {}", what, failure.message);
    return failure;
  }
  auto body = json_object_of(*response);
  if (response->status < 200 || response->status > 299) {
    const std::string said = body ? string_field(*body, "message") : std::string();
    auto failure = util::fail(
        util::ErrorKind::unauthenticated,
        fmt::format("{} was refused: HTTP {}{}", what, response->status, said.empty() ? "" : ": " + said),
        response->status == 401 || response->status == 403
            ? std::string(kPermissionHint)
            : "GitHub's token service refused the request; re-run the job, and check that the job still "
              "runs");
    failure.http_status = response->status;
    return failure;
  }
  const std::string value = body ? string_field(*body, "value") : std::string();
  if (value.empty()) {
    return util::fail(util::ErrorKind::unauthenticated,
                      fmt::format("{}: the answer (HTTP {}) has no \"value\" field", what, response->status),
                      "check ACTIONS_ID_TOKEN_REQUEST_URL: it must be the URL GitHub set for this job");
  }
  return ObtainedToken{value, jwt_expiry(value)};
}

}  // namespace kfp::auth
