#pragma once
// Which token source a session uses and what its token must say (--token-source, --token-file,
// --token-audience, --token-issuer), and the one place that builds the source from them.

#include "auth/token_source.hpp"
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

// Wall-clock time, injectable: token lifetimes are wall-clock (exp, expires_in).
using WallClock = std::function<std::chrono::system_clock::time_point()>;

// What a token source may use: a transport for token endpoints, the environment (GitHub's and
// Azure's variables), the secret sink every token is registered with, the log and the wall clock.
struct TokenServices {
  TokenServices(http::Transport& token_transport, const util::Environment& environment,
                util::Secrets& secrets_sink, util::Log& log_to)
      : transport(token_transport), env(environment), secrets(secrets_sink), log(log_to) {}

  http::Transport& transport;
  const util::Environment& env;
  util::Secrets& secrets;
  util::Log& log;
  WallClock now = [] { return std::chrono::system_clock::now(); };
};

// The source the options name. Fails with kind usage or unauthenticated when its configuration
// cannot work (a variable missing), before any request.
[[nodiscard]] util::Result<std::unique_ptr<TokenSource>> make_token_source(const TokenOptions& options,
                                                                           const TokenServices& services);

}  // namespace kfp::auth
