#pragma once
// The emulator's configuration (command-line flags) and the behaviours that differ between the
// KFP server versions it imitates (shared/kfp-api/NOTES.md section 0).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kfp::emulator {

enum class ServerVersion { v1_8_5, v2_5_0, v2_17_0 };
enum class AuthMode { none, token };

struct Options {
  std::string listen = "127.0.0.1:0";
  AuthMode auth = AuthMode::none;
  std::string token_key_file;
  std::string rbac_file;
  std::vector<std::string> istio_principals;  // "cluster.local/ns/NS/sa/SA"
  ServerVersion version = ServerVersion::v2_17_0;
  std::chrono::milliseconds run_duration{2000};
  std::chrono::milliseconds latency{0};
  std::string tls_cert_file;
  std::string tls_key_file;
};

[[nodiscard]] std::optional<ServerVersion> parse_server_version(std::string_view text);
[[nodiscard]] std::string_view to_string(ServerVersion version);

// Feature gates, each named after the behaviour it switches.
[[nodiscard]] inline bool serves_v2(ServerVersion v) {
  return v != ServerVersion::v1_8_5;
}
[[nodiscard]] inline bool has_tags(ServerVersion v) {
  return v == ServerVersion::v2_17_0;
}
// grpc-gateway v2 (2.14+): unknown request fields are 400, no "error" key, WWW-Authenticate on 401.
[[nodiscard]] inline bool is_gateway_v2(ServerVersion v) {
  return v == ServerVersion::v2_17_0;
}
// 2.14+: Pipeline.name separate from display_name, healthz pipeline_store.
[[nodiscard]] inline bool has_separate_names(ServerVersion v) {
  return v == ServerVersion::v2_17_0;
}
// 2.15+: name lengths checked on upload (400 text/plain).
[[nodiscard]] inline bool checks_name_length(ServerVersion v) {
  return v == ServerVersion::v2_17_0;
}

}  // namespace kfp::emulator
