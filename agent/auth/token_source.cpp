#include "auth/token_source.hpp"

#include "util/file.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace kfp::auth {

namespace {

constexpr std::string_view kHint =
    "check --token-file (KF_PIPELINES_SA_TOKEN_PATH) and the projected service-account token volume";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

}  // namespace

util::Result<std::optional<std::string>> read_token_file(const std::filesystem::path& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (status.type() == std::filesystem::file_type::not_found) return std::optional<std::string>{};
  auto content = util::read_file(path, kMaxTokenBytes, util::ErrorKind::unauthenticated);
  if (!content) {
    auto failure = content.error();
    failure.message = fmt::format("cannot read the token: {}", failure.message);
    failure.hint = std::string(kHint);
    return failure;
  }
  std::string_view text = *content;
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.empty()) {
    return util::fail(util::ErrorKind::unauthenticated,
                      fmt::format("the token file {} is empty", path.string()), std::string(kHint));
  }
  // The token goes into a header line: anything that could break the line is refused.
  const bool clean = std::all_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte != 0x7f;
  });
  if (!clean) {
    return util::fail(util::ErrorKind::unauthenticated,
                      fmt::format("the token in {} contains whitespace or control characters", path.string()),
                      std::string(kHint));
  }
  return std::optional<std::string>{std::string(text)};
}

util::Result<std::optional<std::string>> FileTokenSource::token() {
  auto token = read_token_file(path_);
  if (token && *token) secrets_.add(**token);
  return token;
}

}  // namespace kfp::auth
