#include "api/calls.hpp"
#include "api/json_fields.hpp"
#include "api/kfp_api.hpp"

#include <fmt/format.h>

#include <charconv>

namespace kfp::api {

bool version_at_least(const std::string& version, int major, int minor) {
  int parsed_major = 0;
  int parsed_minor = 0;
  const char* begin = version.data();
  const char* end = begin + version.size();
  if (!version.empty() && (*begin == 'v' || *begin == 'V')) ++begin;
  auto [p1, e1] = std::from_chars(begin, end, parsed_major);
  if (e1 != std::errc{}) return true;  // "unknown", a dev build: assume the newest
  if (p1 < end && *p1 == '.') {
    auto [p2, e2] = std::from_chars(p1 + 1, end, parsed_minor);
    (void)p2;
    if (e2 != std::errc{}) parsed_minor = 0;
  }
  return parsed_major > major || (parsed_major == major && parsed_minor >= minor);
}

std::string digest_tag_value(const std::string& digest) {
  return digest.substr(0, 63);
}

namespace {

util::Result<ServerInfo> parse_healthz(const ApiReply& reply, std::string api) {
  if (!reply.json.is_object()) {
    return util::fail(util::ErrorKind::server, "healthz answered without a JSON object",
                      "is --host the KFP API (ml-pipeline:8888, or https://HOST/pipeline)?");
  }
  const auto& object = reply.json.as_object();
  ServerInfo info;
  info.api = std::move(api);
  if (object.contains("apiServerReady") || object.contains("apiServerTagName")) {
    // ml-pipeline-ui answers healthz itself, in its own shape, with 200 even if the API is down.
    info.via_ui_proxy = true;
    if (object.contains("apiServerReady") && !bool_field(object, "apiServerReady")) {
      return util::fail(util::ErrorKind::server, "the KFP UI proxy says the API server is not ready");
    }
    info.version = string_field(object, "apiServerTagName");
    info.multi_user = bool_field(object, "apiServerMultiUser") || bool_field(object, "multi_user");
  } else {
    info.version = string_field(object, "tag_name");
    info.multi_user = bool_field(object, "multi_user");
  }
  if (info.version.empty()) info.version = "unknown";
  info.supports_tags = info.api == "v2beta1" && version_at_least(info.version, 2, 17);
  return info;
}

}  // namespace

util::Result<ServerInfo> detect_server(Connection& connection, ApiPreference preference) {
  if (preference != ApiPreference::v1beta1) {
    auto reply = connection.call(get_request("/apis/v2beta1/healthz"), "check the server (v2beta1 healthz)");
    if (reply) return parse_healthz(*reply, "v2beta1");
    if (reply.error().kind != util::ErrorKind::not_found || preference == ApiPreference::v2beta1) {
      util::Failure failure = reply.error();
      if (failure.kind == util::ErrorKind::not_found) {
        failure.kind = util::ErrorKind::usage;
        failure.hint = "this server serves no v2beta1 API (KFP 1.8?): use --api v1beta1 or --api auto";
      }
      return failure;
    }
  }
  auto reply = connection.call(get_request("/apis/v1beta1/healthz"), "check the server (v1beta1 healthz)");
  if (!reply) return reply.error();
  return parse_healthz(*reply, "v1beta1");
}

}  // namespace kfp::api
