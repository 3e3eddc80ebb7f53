#include "publish/session.hpp"

#include "auth/claims.hpp"
#include "auth/token_source.hpp"
#include "publish/limits.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"

#include <fmt/format.h>

namespace kfp::publish {

namespace {

constexpr std::size_t max_namespace_file_bytes = 256;

std::string trim(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  std::size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  return text.substr(start);
}

}  // namespace

FileTokens::FileTokens(std::filesystem::path path, std::function<void(const std::string&)> on_secret)
    : path_(std::move(path)), on_secret_(std::move(on_secret)) {}

util::Result<std::optional<std::string>> FileTokens::token() {
  auto token = auth::TokenSource(path_).token();
  if (token && *token && on_secret_) on_secret_(**token);
  return token;
}

http::TransportOptions transport_options(const SessionOptions& options) {
  http::TransportOptions transport_options;
  transport_options.timeout = options.request_timeout;
  transport_options.ca_file = options.ca_file;
  transport_options.insecure_skip_tls_verify = options.insecure_skip_tls_verify;
  transport_options.https_proxy = options.https_proxy;
  transport_options.http_proxy = options.http_proxy;
  transport_options.no_proxy = options.no_proxy;
  transport_options.user_agent = fmt::format("kfp-publish/{}", KFP_PUBLISH_VERSION);
  return transport_options;
}

std::string resolve_namespace(const SessionOptions& options, const api::Identity& identity) {
  std::string namespace_name = options.namespace_name;
  if (namespace_name.empty()) namespace_name = identity.namespace_name;
  if (namespace_name.empty() && !options.namespace_file.empty()) {
    std::error_code ec;
    if (std::filesystem::exists(options.namespace_file, ec)) {
      auto content =
          util::read_file(options.namespace_file, max_namespace_file_bytes, util::ErrorKind::usage);
      if (content) namespace_name = trim(*content);
    }
  }
  return namespace_name;
}

Session::Session(const SessionOptions& options, util::Log& log, report::Report& report,
                 const std::function<void(const std::string&)>& on_secret) {
  transport_ = http::make_beast_transport(transport_options(options));
  tokens_ = std::make_unique<FileTokens>(options.token_file, on_secret);
  clock_ = std::make_unique<http::SystemClock>([] { return util::interrupted(); });

  // Check the token before any request: an expired token or a wrong audience is a clear exit 4.
  api::Identity identity;
  auto token = tokens_->token();
  if (!token) throw util::Error(token.error());
  if (!*token) {
    if (options.token_requirement == TokenRequirement::required_file) {
      throw util::Error(
          util::ErrorKind::unauthenticated,
          fmt::format("the token file {} does not exist", options.token_file.string()),
          "mount a projected service-account token (audience pipelines.kubeflow.org) there, or fix "
          "--token-file / KF_PIPELINES_SA_TOKEN_PATH");
    }
    log.debug("no token file at {}: sending no Authorization header", options.token_file.string());
  } else {
    auto claims = auth::decode_claims(**token, options.token_file);
    if (!claims) throw util::Error(claims.error());
    auto checked = auth::check_claims(*claims, std::chrono::system_clock::now());
    if (!checked) throw util::Error(checked.error());
    identity.subject = claims->subject;
    identity.namespace_name = claims->namespace_name.value_or("");
    identity.service_account = claims->service_account.value_or("");
  }

  namespace_ = resolve_namespace(options, identity);
  // Before the first request: no server stores a longer one.
  if (auto fits = check_length(fmt::format("the namespace '{}'", fit(namespace_, 80)), namespace_,
                               limits::namespace_name);
      !fits) {
    throw util::Error(fits.error());
  }

  api::ConnectionOptions connection_options;
  connection_options.base_url = options.host;
  connection_options.retry.max_retries = options.retries;
  connection_options.identity = identity;
  connection_ = std::make_unique<api::Connection>(*transport_, *tokens_, *clock_, log, connection_options);

  auto server = api::detect_server(*connection_, options.api);
  if (!server) throw util::Error(server.error());
  report.server = report::ServerInfo{options.host, server->api, server->version, server->multi_user};
  log.debug("server {} speaks {} (KFP {}, {})", options.host, server->api, server->version,
            server->multi_user ? "multi-user" : "single-user");
  if (!server->multi_user) {
    // Single-user servers force every namespace to "".
    namespace_.clear();
  } else if (!*token) {
    // A multi-user server authenticates every request but healthz: name what is missing (exit 4).
    throw util::Error(
        util::ErrorKind::unauthenticated,
        fmt::format("the server is multi-user and authenticates every request, but no token was "
                    "sent: the token file {} does not exist",
                    options.token_file.string()),
        "mount a projected service-account token with audience pipelines.kubeflow.org there, or "
        "point --token-file / KF_PIPELINES_SA_TOKEN_PATH at one");
  } else if (namespace_.empty()) {
    throw util::Error(
        util::ErrorKind::usage, "the server is multi-user and no namespace is known",
        "pass --namespace (or KFP_NAMESPACE), or use a service-account token, whose namespace is used");
  }
  report.namespace_name = namespace_;
  connection_->set_namespace(namespace_);  // permission hints name the namespace in use
  auto api = api::make_api(*connection_, *server);
  if (!api) throw util::Error(api.error());
  api_ = std::move(*api);
}

Session::~Session() = default;

}  // namespace kfp::publish
