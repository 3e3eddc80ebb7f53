#pragma once
// Base64 and base64url (RFC 4648, unpadded url form as JWTs use), on OpenSSL's encoder.

#include "util/error.hpp"

#include <string>
#include <string_view>

namespace kfp::util {

[[nodiscard]] std::string base64_encode(std::string_view bytes);
// Fails with kind `kind` on characters outside the alphabet or a bad length.
[[nodiscard]] Result<std::string> base64_decode(std::string_view text, ErrorKind kind = ErrorKind::internal);

// URL-safe alphabet without padding (JWT segments).
[[nodiscard]] std::string base64url_encode(std::string_view bytes);
[[nodiscard]] Result<std::string> base64url_decode(std::string_view text,
                                                   ErrorKind kind = ErrorKind::internal);

}  // namespace kfp::util
