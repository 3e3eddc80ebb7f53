#include "api/calls.hpp"
#include "api/json_fields.hpp"
#include "api/kfp_api.hpp"

#include <fmt/format.h>
#include <boost/json/parse.hpp>

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
    // ml-pipeline-ui answers healthz itself, in its own shape, with 200 even if the API is down
    // (healthz_request's readiness check has waited for apiServerReady, which makes the other
    // fields this probe's, not a stale earlier one's).
    info.via_ui_proxy = true;
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

// ml-pipeline-ui's healthz (frontend/server/handlers/healthz.ts, 2.3.0 and 2.17.0) is its own: always
// 200, with apiServerReady false whenever its 1 s probe of the API server failed (an API server
// restarting, or a slow healthz) and the other fields left from an earlier probe. That is a
// server that is not ready yet: asked again within the retry budget, like a 503.
ApiRequest healthz_request(std::string_view api) {
  ApiRequest request = get_request(fmt::format("/apis/{}/healthz", api));
  request.readiness = [](const http::Response& response) -> std::optional<std::string> {
    boost::system::error_code ec;
    auto value = boost::json::parse(response.body, ec);
    if (ec || !value.is_object()) return std::nullopt;
    const auto* ready = value.as_object().if_contains("apiServerReady");
    if (ready == nullptr || (ready->is_bool() && ready->as_bool())) return std::nullopt;
    return std::string(
        "the ml-pipeline-ui proxy says the API server behind it is not ready (apiServerReady: false: its "
        "1 s probe of the API server's healthz failed)");
  };
  return request;
}

// A 404 on the very first request: nothing at this URL speaks the KFP API.
util::Failure not_the_api(util::Failure failure, const Connection& connection, std::string_view more) {
  failure.kind = util::ErrorKind::usage;
  failure.hint = fmt::format(
      "{}--host {} does not reach the KFP API: it must be the API server "
      "(http://ml-pipeline.kubeflow.svc.cluster.local:8888) or the UI / Kubeflow gateway with its path "
      "prefix "
      "(https://HOST/pipeline); the /apis/... paths are appended to it",
      more, connection.base_url());
  return failure;
}

}  // namespace

util::Result<ServerInfo> detect_server(Connection& connection, ApiPreference preference) {
  if (preference != ApiPreference::v1beta1) {
    auto reply = connection.call(healthz_request("v2beta1"), "check the server (v2beta1 healthz)");
    if (reply) return parse_healthz(*reply, "v2beta1");
    if (reply.error().kind != util::ErrorKind::not_found) return reply.error();
    if (preference == ApiPreference::v2beta1) {
      return not_the_api(
          reply.error(), connection,
          "no v2beta1 API here: a KFP 1.8 server serves only v1beta1 (use --api v1beta1 or --api "
          "auto); otherwise ");
    }
  }
  auto reply = connection.call(healthz_request("v1beta1"), "check the server (v1beta1 healthz)");
  if (!reply) {
    if (reply.error().kind == util::ErrorKind::not_found) return not_the_api(reply.error(), connection, "");
    return reply.error();
  }
  return parse_healthz(*reply, "v1beta1");
}

}  // namespace kfp::api
