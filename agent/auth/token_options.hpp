#pragma once
// Which token source a session uses and what its token must say (--token-source, --token-file,
// --token-audience, --token-issuer), and the one place that builds the source from them.

#include "auth/claims.hpp"
#include "auth/refreshing_token.hpp"
#include "auth/token_source.hpp"
#include "http/retry.hpp"
#include "http/transport.hpp"
#include "util/environment.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace kfp::auth {

enum class TokenSourceKind { file, github_oidc, entra };
[[nodiscard]] std::string_view to_string(TokenSourceKind kind);
// "file", "github-oidc", "entra"; nullopt for anything else.
[[nodiscard]] std::optional<TokenSourceKind> parse_token_source(std::string_view text);

// Whether a missing token file is an error (it was named by flag or variable) or means "send no
// Authorization header" (the default path, absent outside a pod).
enum class TokenRequirement { optional_file, required_file };

struct TokenOptions {
  TokenSourceKind source = TokenSourceKind::file;
  std::filesystem::path file;
  TokenRequirement requirement = TokenRequirement::optional_file;
  std::optional<std::string> audience;  // --token-audience; file: pipelines.kubeflow.org when unset
  std::optional<std::string> issuer;    // --token-issuer; file: not checked when unset
};

// What a token source may use: a transport for token endpoints and the clock its retries wait on,
// the environment (GitHub's and Azure's variables), the secret sink every token is registered with,
// the log and the wall clock (token lifetimes are wall-clock: exp, expires_in).
struct TokenServices {
  TokenServices(http::Transport& token_transport, http::Clock& retry_clock,
                const util::Environment& environment, util::Secrets& secrets_sink, util::Log& log_to)
      : transport(token_transport),
        clock(retry_clock),
        env(environment),
        secrets(secrets_sink),
        log(log_to) {}

  http::Transport& transport;
  http::Clock& clock;
  const util::Environment& env;
  util::Secrets& secrets;
  util::Log& log;
  WallClock now = [] { return std::chrono::system_clock::now(); };
};

// The source the options name: file reads the file per request; github-oidc and entra obtain a token
// when first asked and again near its expiry (RefreshingTokenSource). Fails before any request with
// kind unauthenticated when a variable the source needs is missing (naming it, and for GitHub
// `permissions: id-token: write`), usage when an endpoint is plain http to another host or entra
// has no --token-audience.
[[nodiscard]] util::Result<std::unique_ptr<TokenSource>> make_token_source(const TokenOptions& options,
                                                                           const TokenServices& services);

// Where the token comes from, for messages: the file's path, or the endpoint's variable.
[[nodiscard]] std::filesystem::path token_origin(const TokenOptions& options);

// What the first token must say under these options: file: --token-audience or
// pipelines.kubeflow.org, --token-issuer when given; github-oidc: --token-audience when given, the
// issuer https://token.actions.githubusercontent.com unless --token-issuer; entra: the audience of
// --token-audience, the tenant's v2 or v1 issuer unless --token-issuer. Each with its source's hints.
[[nodiscard]] util::Result<ClaimExpectations> claim_expectations(const TokenOptions& options,
                                                                 const util::Environment& env);

}  // namespace kfp::auth
