#include "publish/limits.hpp"

#include "api/kfp_api.hpp"

#include <fmt/format.h>

namespace kfp::publish {

namespace {

bool continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0U) == 0x80U;
}

std::string_view unit(Count count) {
  return count == Count::bytes ? "bytes" : "characters";
}

}  // namespace

ServerLimits limits_of_every_release() {
  return {limits::pipeline_name_v1_gorm, limits::version_name_v1_gorm, limits::experiment_name_v1_gorm};
}

ServerLimits limits_for(const std::string& server_version) {
  if (api::version_at_least(server_version, 2, 15))
    return {limits::pipeline_name_2_15, limits::version_name_2_15, limits::experiment_name_2_15};
  return limits_of_every_release();
}

std::size_t length(std::string_view text, Count count) {
  if (count == Count::bytes) return text.size();
  std::size_t characters = 0;
  for (char c : text) {
    if (!continuation_byte(c)) ++characters;
  }
  return characters;
}

util::Result<void> check_length(std::string_view what, std::string_view value, const Limit& limit) {
  const std::size_t size = length(value, limit.count);
  if (size <= limit.max) return {};
  return util::fail(util::ErrorKind::usage,
                    fmt::format("{} is {} {} long; the KFP server stores at most {} ({})", what, size,
                                unit(limit.count), limit.max, limit.source),
                    "shorten it: the server would refuse it, or fail the create half-way with HTTP 500");
}

util::Result<void> check_name(std::string_view what, std::string_view value, const Limit& limit) {
  if (value.empty()) return util::fail(util::ErrorKind::usage, fmt::format("{} is empty", what));
  return check_length(what, value, limit);
}

std::string fit(std::string text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  static constexpr std::string_view ellipsis = "…";
  std::size_t cut = max_bytes >= ellipsis.size() ? max_bytes - ellipsis.size() : 0;
  while (cut > 0 && continuation_byte(text[cut])) --cut;
  text.resize(cut);
  if (max_bytes >= ellipsis.size()) text += ellipsis;
  return text;
}

}  // namespace kfp::publish
