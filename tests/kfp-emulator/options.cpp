#include "options.hpp"

#include <array>
#include <utility>

namespace kfp::emulator {

namespace {

constexpr std::array<std::pair<std::string_view, ServerVersion>, 6> versions = {{
    {"1.8.5", ServerVersion::v1_8_5},
    {"2.0.5", ServerVersion::v2_0_5},
    {"2.3.0", ServerVersion::v2_3_0},
    {"2.5.0", ServerVersion::v2_5_0},
    {"2.15.0", ServerVersion::v2_15_0},
    {"2.17.0", ServerVersion::v2_17_0},
}};

}  // namespace

std::optional<ServerVersion> parse_server_version(std::string_view text) {
  for (const auto& [name, version] : versions)
    if (name == text) return version;
  return std::nullopt;
}

std::string_view to_string(ServerVersion version) {
  for (const auto& [name, value] : versions)
    if (value == version) return name;
  return "2.17.0";
}

std::string server_version_list() {
  std::string out;
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    if (!out.empty()) out += ", ";
    out += it->first;
  }
  return out;
}

}  // namespace kfp::emulator
