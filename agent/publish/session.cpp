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

// Token endpoints are public services (GitHub, Microsoft) or loopback stand-ins: the system trust
// store, not the CA file given for KFP, and always verified; the same proxies and timeouts.
http::TransportOptions token_endpoint_options(const http::TransportOptions& kfp) {
  http::TransportOptions options = kfp;
  options.ca_file = std::nullopt;
  options.insecure_skip_tls_verify = false;
  return options;
}

SessionParts make_session_parts_or_throw(const SessionOptions& options, const SessionServices& services) {
  auto parts = make_session_parts(options, services);
  if (!parts) throw util::Error(parts.error());
  return std::move(*parts);
}

}  // namespace

util::Result<SessionParts> make_session_parts(const SessionOptions& options,
                                              const SessionServices& services) {
  SessionParts parts;
  parts.transport = services.make_transport(options.transport);
  parts.token_transport = services.make_transport(token_endpoint_options(options.transport));
  parts.clock = services.make_clock ? services.make_clock()
                                    : std::make_unique<http::SystemClock>([] { return util::interrupted(); });
  auto expectations = auth::claim_expectations(options.token, services.env);
  if (!expectations) return expectations.error();
  parts.expectations = std::move(*expectations);
  auth::TokenServices token_services(*parts.token_transport, *parts.clock, services.env, services.secrets,
                                     services.log);
  token_services.now = services.now;
  auto tokens = auth::make_token_source(options.token, token_services);
  if (!tokens) return tokens.error();
  parts.tokens = std::move(*tokens);
  return parts;
}

std::unique_ptr<api::Connection> SessionParts::connect(const SessionOptions& options,
                                                       const api::Identity& identity, util::Log& log) {
  api::ConnectionOptions connection_options;
  connection_options.base_url = options.host;
  connection_options.retry.max_retries = options.retries;
  connection_options.identity = identity;
  connection_options.expectations = expectations;
  return std::make_unique<api::Connection>(*transport, *tokens, *clock, log, connection_options);
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

Session::Session(const SessionOptions& options, const SessionServices& services, report::Report& report)
    : parts_(make_session_parts_or_throw(options, services)) {
  util::Log& log = services.log;
  const std::string token_file = options.token.file.string();

  // Check the token before any request: an expired token or a wrong audience is a clear exit 4.
  api::Identity identity;
  auto token = parts_.tokens->token();
  if (!token) throw util::Error(token.error());
  if (!*token) {
    if (options.token.requirement == auth::TokenRequirement::required_file) {
      throw util::Error(
          util::ErrorKind::unauthenticated, fmt::format("the token file {} does not exist", token_file),
          "mount a projected service-account token (audience pipelines.kubeflow.org) there, or fix "
          "--token-file / KF_PIPELINES_SA_TOKEN_PATH");
    }
    log.debug("no token file at {}: sending no Authorization header", token_file);
  } else {
    auto claims = auth::decode_claims(**token, auth::token_origin(options.token));
    if (!claims) throw util::Error(claims.error());
    auto checked = auth::check_claims(*claims, services.now(), parts_.expectations);
    if (!checked) throw util::Error(checked.error());
    identity = api::identity_of(*claims);
  }

  namespace_ = resolve_namespace(options, identity);
  // Before the first request: no server stores a longer one.
  if (auto fits = check_length(fmt::format("the namespace '{}'", fit(namespace_, 80)), namespace_,
                               limits::namespace_name);
      !fits) {
    throw util::Error(fits.error());
  }

  connection_ = parts_.connect(options, identity, log);

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
                    token_file),
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
