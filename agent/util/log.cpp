#include "util/log.hpp"

#include <algorithm>

namespace kfp::util {

namespace {

constexpr std::string_view replacement = "[REDACTED]";
constexpr std::string_view truncation_mark = "…";

// Replaces every occurrence of `secret`, and a head of it cut short where the text ends or says "…".
void redact_one(std::string& text, const std::string& secret) {
  const std::size_t head = std::min(secret.size(), min_redacted_head_chars);
  const std::string_view start(secret.data(), head);
  for (auto pos = text.find(start); pos != std::string::npos; pos = text.find(start, pos)) {
    std::size_t matched = head;
    while (matched < secret.size() && pos + matched < text.size() && text[pos + matched] == secret[matched])
      ++matched;
    const std::string_view rest = std::string_view(text).substr(pos + matched);
    const bool whole = matched == secret.size();
    const bool cut_short = rest.empty() || rest.substr(0, truncation_mark.size()) == truncation_mark;
    if (whole || cut_short) {
      text.replace(pos, matched, replacement);
      pos += replacement.size();
    } else {
      ++pos;
    }
  }
}

}  // namespace

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.size() >= min_secret_chars) redact_one(text, secret);
  }
  return text;
}

void Secrets::add(const std::string& secret, Kind kind) {
  std::lock_guard lock(mutex_);
  auto& list = kind == Kind::token ? tokens_ : credentials_;
  if (secret.empty() || std::find(list.begin(), list.end(), secret) != list.end()) return;
  list.push_back(secret);
  // A JWT's signature is what makes it a credential: redacted on its own too.
  if (kind == Kind::token && std::count(secret.begin(), secret.end(), '.') == 2) {
    std::string signature = secret.substr(secret.rfind('.') + 1);
    if (signature.size() >= min_redacted_head_chars &&
        std::find(list.begin(), list.end(), signature) == list.end()) {
      list.push_back(std::move(signature));
    }
  }
  // Longest first, so that a secret containing another is replaced whole.
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

std::string Secrets::redact(std::string text) const {
  std::lock_guard lock(mutex_);
  text = util::redact(std::move(text), tokens_);
  for (const auto& credentials : credentials_) {
    for (auto pos = text.find(credentials); pos != std::string::npos; pos = text.find(credentials, pos)) {
      text.replace(pos, credentials.size(), replacement);
      pos += replacement.size();
    }
  }
  return text;
}

}  // namespace kfp::util
