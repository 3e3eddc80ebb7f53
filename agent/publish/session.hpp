#pragma once
// Everything a networked command needs, set up in one place (the composition root of publish, run,
// apply and doctor): the transport from a factory, the token source, the clock, the namespace, and
// the server's API version and features. The token is checked up front (an expired token or a wrong
// audience stops before any request), and every token obtained is registered with util::Secrets,
// the one sink every output channel redacts through.

#include "api/connection.hpp"
#include "api/kfp_api.hpp"
#include "auth/token_options.hpp"
#include "http/retry.hpp"
#include "http/transport.hpp"
#include "report/report.hpp"
#include "util/environment.hpp"
#include "util/log.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace kfp::publish {

struct SessionOptions {
  std::string host;  // scheme://host[:port][/prefix], normalised
  auth::TokenOptions token;
  std::string namespace_name;  // empty: from the token, then the service-account namespace file
  std::filesystem::path namespace_file;
  api::ApiPreference api = api::ApiPreference::automatic;
  int retries = 5;
  http::TransportOptions transport;  // timeouts, CA, proxies, user agent
};

// What a session is built from besides its options: the CLI passes the real services, tests fakes.
struct SessionServices {
  SessionServices(util::Log& log_to, util::Secrets& secrets_sink, const util::Environment& environment)
      : log(log_to), secrets(secrets_sink), env(environment) {}

  util::Log& log;
  util::Secrets& secrets;  // every token obtained is added here the moment it is obtained
  const util::Environment& env;
  http::TransportFactory make_transport = http::make_beast_transport;
  // The retry and wait clock; default: the system clock, woken by SIGINT/SIGTERM.
  std::function<std::unique_ptr<http::Clock>()> make_clock;
  auth::WallClock now = [] { return std::chrono::system_clock::now(); };
};

// The parts every networked command uses, each built once, here.
struct SessionParts {
  std::unique_ptr<http::Transport> transport;        // to KFP
  std::unique_ptr<http::Transport> token_transport;  // to token endpoints (github-oidc, entra)
  std::unique_ptr<http::Clock> clock;
  std::unique_ptr<auth::TokenSource> tokens;
  auth::ClaimExpectations expectations;  // what the token must say, checked before the first request

  // A connection to options.host over these parts, with the retries asked for.
  [[nodiscard]] std::unique_ptr<api::Connection> connect(const SessionOptions& options,
                                                         const api::Identity& identity, util::Log& log);
};

// Builds the parts. Fails with kind usage or unauthenticated when the token source's configuration
// cannot work, before any request.
[[nodiscard]] util::Result<SessionParts> make_session_parts(const SessionOptions& options,
                                                            const SessionServices& services);

// The namespace in use: --namespace, else the token's namespace claim, else the service-account
// namespace file; empty when none says. Never fails (an unreadable file counts as absent).
[[nodiscard]] std::string resolve_namespace(const SessionOptions& options, const api::Identity& identity);

class Session {
 public:
  // Checks the token and reaches the server (healthz); fills report.server and report.namespace.
  // Throws util::Error.
  Session(const SessionOptions& options, const SessionServices& services, report::Report& report);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  [[nodiscard]] api::KfpApi& api() { return *api_; }
  [[nodiscard]] const std::string& namespace_name() const { return namespace_; }
  [[nodiscard]] http::Clock& clock() { return *parts_.clock; }
  [[nodiscard]] int request_count() const { return connection_->request_count(); }

 private:
  SessionParts parts_;
  std::unique_ptr<api::Connection> connection_;
  std::unique_ptr<api::KfpApi> api_;
  std::string namespace_;
};

}  // namespace kfp::publish
