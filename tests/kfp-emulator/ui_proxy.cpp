#include "ui_proxy.hpp"

#include "util/base64.hpp"
#include "util/error.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <openssl/sha.h>

#include <fmt/format.h>

#include <ctime>
#include <thread>

namespace kfp::emulator {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;

namespace {

constexpr std::string_view base_path = "/pipeline";  // configs.ts BASEPATH
// handlers/healthz.ts: the probe of the API server's healthz gives up after one second.
constexpr std::chrono::milliseconds healthz_timeout{1000};
// http-proxy has no timeout of its own; this only bounds a thread the emulator spends.
constexpr std::chrono::minutes proxy_timeout{5};

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Node's name for the socket error that ended a proxied request.
std::string node_error_code(const boost::system::error_code& ec) {
  if (ec == net::error::connection_refused) return "ECONNREFUSED";
  if (ec == net::error::timed_out || ec == beast::error::timeout) return "ETIMEDOUT";
  if (ec == net::error::host_not_found) return "ENOTFOUND";
  return "ECONNRESET";  // a reset, an early EOF ("socket hang up"), a broken pipe
}

// One request to the API server on a new connection, as http-proxy makes it (agent: false). The
// operations are asynchronous on a private io_context because only those honour the deadline.
UiProxy::Upstream call(const std::string& host, const std::string& port,
                       http::request<http::string_body> message, std::chrono::milliseconds timeout) {
  UiProxy::Upstream upstream;
  net::io_context io;
  beast::tcp_stream stream(io);
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, port, ec);
  if (ec) {
    upstream.error = node_error_code(ec);
    return upstream;
  }
  message.prepare_payload();
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::size_t{200} << 20);
  stream.expires_after(timeout);
  stream.async_connect(endpoints, [&](boost::system::error_code error, const tcp::endpoint&) {
    if (error) {
      ec = error;
      return;
    }
    http::async_write(stream, message, [&](boost::system::error_code write_error, std::size_t) {
      if (write_error) {
        ec = write_error;
        return;
      }
      http::async_read(stream, buffer, parser,
                       [&](boost::system::error_code read_error, std::size_t) { ec = read_error; });
    });
  });
  io.run();
  if (ec) {
    upstream.error = node_error_code(ec);
    return upstream;
  }
  auto response = parser.release();
  upstream.status = static_cast<int>(response.result_int());
  upstream.reason = std::string(response.reason());
  for (const auto& field : response) upstream.headers.emplace_back(field.name_string(), field.value());
  upstream.body = std::move(response.body());
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return upstream;
}

// express: app.use/app.get paths match case-insensitively, with an optional trailing slash.
bool route_is(std::string_view path, std::string_view route) {
  if (path.size() == route.size() + 1 && path.back() == '/') path.remove_suffix(1);
  return path.size() == route.size() && beast::iequals(path, route);
}

// app.use(path): the path itself or anything below it.
bool mounted_at(std::string_view path, std::string_view mount) {
  if (path.size() < mount.size() || !beast::iequals(path.substr(0, mount.size()), mount)) return false;
  return path.size() == mount.size() || path[mount.size()] == '/';
}

// The etag package's weak ETag: W/"<length hex>-<base64 SHA-1, 27 characters>".
std::string weak_etag(const std::string& body) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
  auto hash = util::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
  return fmt::format("W/\"{:x}-{}\"", body.size(), hash.substr(0, 27));
}

std::string http_date() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[64];
  std::strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return text;
}

bool client_closes(const Request& request) {
  auto connection = request.header("connection");
  return connection && beast::iequals(*connection, "close");
}

}  // namespace

void UiProxy::HealthzStats::set(const std::string& key, std::optional<std::string> json_value) {
  for (auto& [name, value] : fields)
    if (name == key) {
      value = std::move(json_value);
      return;
    }
  fields.emplace_back(key, std::move(json_value));
}

UiProxy::UiProxy(net::io_context& io, const Options& options) : io_(io), options_(options) {
  std::string url = options.ui_proxy;
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme))
    throw util::Error(util::ErrorKind::usage, "--ui-proxy must be http://HOST:PORT, got " + url);
  auto authority = url.substr(scheme.size());
  if (auto slash = authority.find('/'); slash != std::string::npos) authority.resize(slash);
  auto colon = authority.rfind(':');
  host_ = colon == std::string::npos ? authority : authority.substr(0, colon);
  port_ = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (host_.empty())
    throw util::Error(util::ErrorKind::usage, "--ui-proxy must be http://HOST:PORT, got " + url);
  // handlers/healthz.ts getBuildMetadata: BUILD_DATE, COMMIT_HASH and TAG_NAME files of the image.
  for (auto* stats : {&v1_stats_, &v2_stats_}) {
    stats->set("buildDate", "\"kfp-emulator\"");
    stats->set("frontendCommitHash", "\"kfp-emulator\"");
    stats->set("frontendTagName", json::serialize(json::value(std::string(to_string(options.version)))));
  }
}

std::chrono::milliseconds UiProxy::request_latency(const Request& request) const {
  (void)request;
  return std::chrono::milliseconds{0};
}

Reply UiProxy::express_reply(const Request& request, int status, std::string content_type, std::string body,
                             bool etag) const {
  Reply reply;
  reply.status = status;
  reply.content_type.clear();
  reply.headers.emplace_back("X-Powered-By", "Express");
  if (!content_type.empty()) reply.headers.emplace_back("Content-Type", std::move(content_type));
  reply.headers.emplace_back("Content-Length", std::to_string(body.size()));
  if (etag) reply.headers.emplace_back("ETag", weak_etag(body));
  reply.headers.emplace_back("Date", http_date());
  // Node's own keep-alive headers, unless the client asked to close.
  if (client_closes(request)) {
    reply.headers.emplace_back("Connection", "close");
    reply.close_connection = true;
  } else {
    reply.headers.emplace_back("Connection", "keep-alive");
    reply.headers.emplace_back("Keep-Alive", "timeout=5");
  }
  reply.body = std::move(body);
  return reply;
}

Reply UiProxy::healthz(HealthzStats& stats, const Upstream& upstream) {
  std::lock_guard lock(mutex_);
  // fetch() resolves on any HTTP status; only a network error, the timeout or a body that is not
  // JSON marks the API server not ready. The other fields keep their last values.
  boost::system::error_code ec;
  json::value status = upstream.error.empty() ? json::parse(upstream.body, ec) : json::value{};
  if (!upstream.error.empty() || ec) {
    stats.set("apiServerReady", "false");
  } else {
    stats.set("apiServerReady", "true");
    auto field = [&](std::string_view key) -> std::optional<std::string> {
      const auto* object = status.if_object();
      const auto* value = object != nullptr ? object->if_contains(key) : nullptr;
      if (value == nullptr) return std::nullopt;  // undefined: JSON.stringify leaves the key out
      return json::serialize(*value);
    };
    stats.set("apiServerCommitHash", field("commit_sha"));
    stats.set("apiServerTagName", field("tag_name"));
    stats.set("apiServerMultiUser", field("multi_user"));
    stats.set("multi_user", field("multi_user"));
    // 2.17 handlers/healthz.ts:89; 2.3.0 has no pipelineStore.
    if (has_tags(options_.version)) stats.set("pipelineStore", field("pipeline_store"));
  }
  std::string body = "{";
  for (const auto& [key, value] : stats.fields) {
    if (!value) continue;
    if (body.size() > 1) body += ",";
    body += json::serialize(json::value(key)) + ":" + *value;
  }
  body += "}";
  Reply reply;
  reply.body = std::move(body);
  return reply;
}

Reply UiProxy::proxied(const Request& request, const Upstream& upstream) const {
  if (!upstream.error.empty()) {
    // http-proxy-middleware's default error handler: 504 for a refused, reset or unknown host,
    // else 500; the body names the UI's own Host and the original URL. Node then chunks it.
    int status = upstream.error == "ECONNREFUSED" || upstream.error == "ECONNRESET" ||
                         upstream.error == "ENOTFOUND" || upstream.error == "ETIMEDOUT"
                     ? 504
                     : 500;
    Reply reply = express_reply(request, status, "", "", false);
    std::erase_if(reply.headers, [](const auto& h) { return h.first == "Content-Length"; });
    reply.chunked = true;
    auto host = request.header("host").value_or("");
    // http-proxy-middleware 0.18 (2.3.0) misspells "occured" and says "proxy to"; 2.0 (2.17) not.
    reply.body = has_tags(options_.version)
                     ? fmt::format("Error occurred while trying to proxy: {}{}", host, request.target)
                     : fmt::format("Error occured while trying to proxy to: {}{}", host, request.target);
    return reply;
  }
  Reply reply;
  reply.status = upstream.status;
  reply.reason = upstream.reason;
  reply.content_type.clear();
  reply.headers.emplace_back("X-Powered-By", "Express");
  bool closes = false;
  for (const auto& [name, value] : upstream.headers) {
    // Node hands http-proxy lower-cased names, which it writes back as they are.
    auto lower = lowercase(name);
    if (lower == "connection" && beast::iequals(value, "close")) closes = true;
    reply.headers.emplace_back(lower, value);
  }
  reply.headers.emplace_back("Date", http_date());
  // http-proxy sends the API server "connection: close" (agent: false) and copies its answer.
  reply.close_connection = closes || client_closes(request);
  reply.body = upstream.body;
  return reply;
}

void UiProxy::handle(Request request, Respond respond) {
  const auto version = options_.version;
  std::string path = request.path;
  std::string api_path = path;
  bool under_base = mounted_at(path, base_path);
  if (under_base) api_path = path.substr(base_path.size());

  // app.ts: GET healthz on each API prefix, with and without the base path.
  for (auto [prefix, stats] :
       {std::pair{"/apis/v1beta1", &v1_stats_}, std::pair{"/apis/v2beta1", &v2_stats_}}) {
    if (request.method != "GET" || !route_is(api_path, std::string(prefix) + "/healthz")) continue;
    http::request<http::string_body> probe{http::verb::get, std::string(prefix) + "/healthz", 11};
    probe.set(http::field::host, host_ + ":" + port_);
    probe.set(http::field::accept, "*/*");
    std::thread([this, stats = stats, probe = std::move(probe), request = std::move(request),
                 respond = std::move(respond)]() mutable {
      auto upstream = call(host_, port_, std::move(probe), healthz_timeout);
      net::post(io_, [this, stats, upstream = std::move(upstream), request = std::move(request),
                      respond = std::move(respond)]() mutable {
        Reply body = healthz(*stats, upstream);
        respond(express_reply(request, 200, "application/json; charset=utf-8", std::move(body.body), true));
      });
    }).detach();
    return;
  }

  // app.ts: internal endpoints answer 403 (registered without the base path only: the base-path
  // variant concatenates the whole array into one path and never matches).
  for (std::string_view mount : {"/apis/v1beta1/workflows", "/apis/v1beta1/scheduledworkflows",
                                 "/apis/v2beta1/workflows", "/apis/v2beta1/scheduledworkflows"}) {
    if (mounted_at(path, mount))
      return respond(express_reply(request, 403, "text/html; charset=utf-8",
                                   request.target + " endpoint is not meant for external usage.", true));
  }
  if (beast::iequals(path.substr(0, std::min(path.size(), std::size_t{19})), "/apis/v1beta1/runs/") &&
      path.ends_with("reportMetrics"))
    return respond(express_reply(request, 403, "text/html; charset=utf-8",
                                 request.target + " endpoint is not meant for external usage.", true));
  for (std::string_view prefix : {"/apis/v1beta1/_proxy", "/apis/v2beta1/_proxy"}) {
    if (!mounted_at(api_path, prefix)) continue;
    // 2.17: the generic /_proxy/ endpoint is gone (410).
    if (has_tags(version))
      return respond(express_reply(request, 410, "text/html; charset=utf-8",
                                   "The generic /_proxy/ endpoint is deprecated and no longer supported.",
                                   true));
    // 2.3.0 proxy-middleware.ts: proxies to the origin named after the prefix, which the emulator
    // never reaches (the test double has no network): http-proxy-middleware's 504 on the rest.
    Upstream unreachable;
    unreachable.error = "ENOTFOUND";
    Request rest = request;
    rest.target = api_path.size() > prefix.size() + 1 ? api_path.substr(prefix.size() + 1) : "";
    if (!request.query.empty()) rest.target += "?" + request.query;
    return respond(proxied(rest, unreachable));
  }

  if (mounted_at(api_path, "/apis/v1beta1") || mounted_at(api_path, "/apis/v2beta1")) {
    // The proxy: the base path is stripped; changeOrigin sets Host to the API server.
    std::string target = request.target.substr(under_base ? base_path.size() : 0);
    auto verb = http::string_to_verb(request.method);
    http::request<http::string_body> forward{verb, target, 11};
    for (const auto& [name, value] : request.headers)
      if (name != "host" && name != "connection") forward.set(name, value);
    forward.set(http::field::host, host_ + ":" + port_);
    forward.set(http::field::connection, "close");
    forward.body() = request.body;
    std::thread([this, forward = std::move(forward), request = std::move(request),
                 respond = std::move(respond)]() mutable {
      auto upstream = call(host_, port_, std::move(forward), proxy_timeout);
      net::post(io_, [this, upstream = std::move(upstream), request = std::move(request),
                      respond = std::move(respond)]() mutable { respond(proxied(request, upstream)); });
    }).detach();
    return;
  }

  // Anything else falls to the static handler and then Express's final handler.
  Reply reply = express_reply(
      request, 404, "text/html; charset=utf-8",
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n"
      "</head>\n<body>\n<pre>Cannot " +
          request.method + " " + request.path + "</pre>\n</body>\n</html>\n",
      false);
  reply.headers.insert(reply.headers.begin() + 1, {"Content-Security-Policy", "default-src 'none'"});
  reply.headers.insert(reply.headers.begin() + 2, {"X-Content-Type-Options", "nosniff"});
  respond(std::move(reply));
}

}  // namespace kfp::emulator
