#include "util/log.hpp"

namespace kfp::util {

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  static constexpr std::string_view replacement = "[REDACTED]";
  for (const auto& secret : secrets) {
    // Short strings would redact ordinary words; tokens are long.
    if (secret.size() < 8) continue;
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
      text.replace(pos, secret.size(), replacement);
      pos += replacement.size();
    }
  }
  return text;
}

}  // namespace kfp::util
