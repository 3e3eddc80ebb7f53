#include "options.hpp"

namespace kfp::emulator {

std::optional<ServerVersion> parse_server_version(std::string_view text) {
  if (text == "1.8.5") return ServerVersion::v1_8_5;
  if (text == "2.5.0") return ServerVersion::v2_5_0;
  if (text == "2.17.0") return ServerVersion::v2_17_0;
  return std::nullopt;
}

std::string_view to_string(ServerVersion version) {
  switch (version) {
    case ServerVersion::v1_8_5: return "1.8.5";
    case ServerVersion::v2_5_0: return "2.5.0";
    case ServerVersion::v2_17_0: return "2.17.0";
  }
  return "2.17.0";
}

}  // namespace kfp::emulator
