// libFuzzer target: arbitrary bytes as the content of a token file, through the JWT claim decoding
// (auth::decode_claims) and the claim checks.

#include "auth/claims.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  auto claims = kfp::auth::decode_claims(token, "fuzz-token");
  if (claims) {
    (void)kfp::auth::check_claims(*claims, std::chrono::system_clock::now());
    (void)kfp::auth::parse_service_account_subject(claims->subject);
  }
  return 0;
}
