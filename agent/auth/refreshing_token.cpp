#include "auth/refreshing_token.hpp"

#include <algorithm>

namespace kfp::auth {

namespace {

constexpr std::chrono::seconds kMaxRefreshMargin{300};

}  // namespace

std::chrono::seconds refresh_margin(std::chrono::seconds lifetime) {
  return std::min(lifetime / 5, kMaxRefreshMargin);
}

RefreshingTokenSource::RefreshingTokenSource(TokenFetch fetch, util::Secrets& secrets, WallClock now,
                                             util::Log& log, std::string what)
    : fetch_(std::move(fetch)), secrets_(secrets), now_(std::move(now)), log_(log), what_(std::move(what)) {}

bool RefreshingTokenSource::fresh(std::chrono::system_clock::time_point now) const {
  if (!cached_) return false;
  if (!cached_->expires_at) return true;
  const auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(*cached_->expires_at - obtained_at_);
  return now < *cached_->expires_at - refresh_margin(std::max(lifetime, std::chrono::seconds{0}));
}

util::Result<std::optional<std::string>> RefreshingTokenSource::token() {
  const auto now = now_();
  if (fresh(now)) return std::optional<std::string>(cached_->value);
  if (cached_) log_.debug("{} is near its expiry: obtaining a new one", what_);
  auto obtained = fetch_();
  if (!obtained) return obtained.error();
  ++fetches_;
  secrets_.add(obtained->value);
  cached_ = std::move(*obtained);
  obtained_at_ = now;
  return std::optional<std::string>(cached_->value);
}

}  // namespace kfp::auth
