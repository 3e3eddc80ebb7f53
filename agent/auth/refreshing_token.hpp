#pragma once
// A token obtained from an endpoint (GitHub's OIDC, Entra ID), kept until near its expiry and then
// obtained again, so that a long wait never sends an expired token and a short command asks once.

#include "auth/token_source.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace kfp::auth {

using WallClock = std::function<std::chrono::system_clock::time_point()>;

struct ObtainedToken {
  std::string value;
  // When it stops being valid: the JWT's exp, else the endpoint's expires_in; nullopt: never said.
  std::optional<std::chrono::system_clock::time_point> expires_at;
};

using TokenFetch = std::function<util::Result<ObtainedToken>()>;

// How long before expiry a token is replaced: the last 20 % of its lifetime or 5 minutes, whichever
// is less (a 5-minute token is renewed in its last minute, a 1-hour one in its last 5 minutes).
[[nodiscard]] std::chrono::seconds refresh_margin(std::chrono::seconds lifetime);

class RefreshingTokenSource final : public TokenSource {
 public:
  // `what` names the source in messages ("the GitHub OIDC token").
  RefreshingTokenSource(TokenFetch fetch, util::Secrets& secrets, WallClock now, util::Log& log,
                        std::string what);
  // The cached token while it is outside its refresh margin, else a new one from `fetch`, registered
  // with the secret sink before it is returned. A failed fetch is returned as is (never the token).
  [[nodiscard]] util::Result<std::optional<std::string>> token() override;
  [[nodiscard]] int fetches() const { return fetches_; }

 private:
  [[nodiscard]] bool fresh(std::chrono::system_clock::time_point now) const;

  TokenFetch fetch_;
  util::Secrets& secrets_;
  WallClock now_;
  util::Log& log_;
  std::string what_;
  std::optional<ObtainedToken> cached_;
  std::chrono::system_clock::time_point obtained_at_;
  int fetches_ = 0;
};

}  // namespace kfp::auth
