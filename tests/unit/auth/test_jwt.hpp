#pragma once
// Unsigned JWTs for tests: the client decodes claims, the server (or gateway) verifies signatures.

#include "util/base64.hpp"

#include <fmt/format.h>

#include <chrono>
#include <string>

namespace kfp::test {

// header.payload.signature with this JSON payload; the signature is long enough to be redacted alone.
inline std::string unsigned_jwt(const std::string& payload_json) {
  return fmt::format("{}.{}.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg", util::base64url_encode(R"({"alg":"RS256"})"),
                     util::base64url_encode(payload_json));
}

// Seconds since the epoch, `from_now` away.
inline long long epoch_in(std::chrono::seconds from_now) {
  return std::chrono::duration_cast<std::chrono::seconds>(
             (std::chrono::system_clock::now() + from_now).time_since_epoch())
      .count();
}

// A service-account token of team-a's default-editor with this audience, expiring `expires_in` from now.
inline std::string service_account_jwt(const std::string& audience, std::chrono::seconds expires_in) {
  return unsigned_jwt(
      fmt::format(R"({{"aud":["{}"],"exp":{},"sub":"system:serviceaccount:team-a:default-editor"}})",
                  audience, epoch_in(expires_in)));
}

}  // namespace kfp::test
