#include "auth/token_options.hpp"

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

util::Result<std::unique_ptr<TokenSource>> make_token_source(const TokenOptions& options,
                                                             const TokenServices& services) {
  switch (options.source) {
    case TokenSourceKind::file: break;
    case TokenSourceKind::github_oidc:
    case TokenSourceKind::entra:
      return util::fail(util::ErrorKind::usage,
                        fmt::format("--token-source {} is not supported yet", to_string(options.source)));
  }
  return std::unique_ptr<TokenSource>(std::make_unique<FileTokenSource>(options.file, services.secrets));
}

}  // namespace kfp::auth
