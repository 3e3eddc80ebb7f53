#pragma once
// The emulator's configuration (command-line flags) and the behaviours that differ between the
// KFP server releases it imitates. Each gate names the behaviour it switches and the upstream
// source it comes from; FIDELITY.md lists them with file and line per release.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kfp::emulator {

// Ordered oldest first: the gates below compare releases.
enum class ServerVersion { v1_8_5, v2_0_5, v2_3_0, v2_5_0, v2_15_0, v2_17_0 };
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
  // Non-empty: answer as the KFP UI server (frontend/server) in front of this API server URL.
  std::string ui_proxy;
};

[[nodiscard]] std::optional<ServerVersion> parse_server_version(std::string_view text);
[[nodiscard]] std::string_view to_string(ServerVersion version);
// "2.17.0, 2.15.0, ..." for help texts.
[[nodiscard]] std::string server_version_list();

[[nodiscard]] constexpr bool at_least(ServerVersion v, ServerVersion first) {
  return static_cast<int>(v) >= static_cast<int>(first);
}

// Feature gates, each named after the behaviour it switches.
// /apis/v2beta1 exists (2.0.0+: main.go registers the v2beta1 services).
[[nodiscard]] constexpr bool serves_v2(ServerVersion v) {
  return at_least(v, ServerVersion::v2_0_5);
}
// grpc-gateway v2 (2.14+; main.go imports grpc-gateway/v2/runtime from 2.15.0 here): unknown request
// fields are 400, no "error" key, WWW-Authenticate on 401, 501 for a wrong method.
[[nodiscard]] constexpr bool is_gateway_v2(ServerVersion v) {
  return at_least(v, ServerVersion::v2_15_0);
}
// 2.14+: Pipeline.name separate from display_name, healthz pipeline_store, DELETE ?cascade.
[[nodiscard]] constexpr bool has_separate_names(ServerVersion v) {
  return at_least(v, ServerVersion::v2_15_0);
}
// 2.15+: validation/length.go checks names on upload and in the model converters.
[[nodiscard]] constexpr bool checks_name_length(ServerVersion v) {
  return at_least(v, ServerVersion::v2_15_0);
}
// 2.15+: the upload endpoints answer every failure with a fixed generic message.
[[nodiscard]] constexpr bool generic_upload_errors(ServerVersion v) {
  return at_least(v, ServerVersion::v2_15_0);
}
// 2.3+: a duplicate upload is 409 (2.0.5 and 1.8.5 answer 500).
[[nodiscard]] constexpr bool upload_conflict_is_409(ServerVersion v) {
  return at_least(v, ServerVersion::v2_3_0);
}
// 2.17: tags on pipelines and versions; an invalid uploaded spec is 400 (was 500).
[[nodiscard]] constexpr bool has_tags(ServerVersion v) {
  return at_least(v, ServerVersion::v2_17_0);
}
[[nodiscard]] constexpr bool upload_invalid_spec_is_400(ServerVersion v) {
  return at_least(v, ServerVersion::v2_17_0);
}
// 2.17: writes to shared pipelines through the JSON API are authorized against the KFP namespace.
[[nodiscard]] constexpr bool authorizes_shared_pipeline_writes(ServerVersion v) {
  return at_least(v, ServerVersion::v2_17_0);
}
// 1.8: the gorm v1 / go-sql-driver of that release; the MySQL error text carries no SQLSTATE.
[[nodiscard]] constexpr bool is_v1_server(ServerVersion v) {
  return v == ServerVersion::v1_8_5;
}

}  // namespace kfp::emulator
