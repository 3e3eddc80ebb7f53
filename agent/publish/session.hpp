#pragma once
// Everything a networked command needs, set up in one place: the transport, the token read per
// request and checked up front (an expired token or a wrong audience stops before any request),
// the namespace, and the server's API version and features.

#include "api/connection.hpp"
#include "api/kfp_api.hpp"
#include "http/retry.hpp"
#include "http/transport.hpp"
#include "report/report.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace kfp::publish {

enum class TokenRequirement { optional_file, required_file };

struct SessionOptions {
  std::string host;
  std::filesystem::path token_file;
  TokenRequirement token_requirement = TokenRequirement::optional_file;
  std::string namespace_name;  // empty: from the token, then the service-account namespace file
  std::filesystem::path namespace_file;
  std::optional<std::filesystem::path> ca_file;
  bool insecure_skip_tls_verify = false;
  api::ApiPreference api = api::ApiPreference::automatic;
  util::Milliseconds request_timeout{30'000};
  int retries = 5;
  std::optional<std::string> https_proxy;
  std::optional<std::string> http_proxy;
  std::optional<std::string> no_proxy;
};

// The bearer token read afresh from the file for every request; each token read is passed to
// `on_secret` so the log can redact it. Failures are TokenSource's (kind unauthenticated).
class FileTokens final : public api::TokenProvider {
 public:
  FileTokens(std::filesystem::path path, std::function<void(const std::string&)> on_secret);
  util::Result<std::optional<std::string>> token() override;

 private:
  std::filesystem::path path_;
  std::function<void(const std::string&)> on_secret_;
};

// The transport settings the session options imply (timeouts, CA, proxies, user agent).
[[nodiscard]] http::TransportOptions transport_options(const SessionOptions& options);

// The namespace in use: --namespace, else the token's namespace claim, else the service-account
// namespace file; empty when none says. Never fails (an unreadable file counts as absent).
[[nodiscard]] std::string resolve_namespace(const SessionOptions& options, const api::Identity& identity);

class Session {
 public:
  // Checks the token and reaches the server (healthz); fills report.server and report.namespace.
  // Throws util::Error. The token string is passed to `on_secret` so the log can redact it.
  Session(const SessionOptions& options, util::Log& log, report::Report& report,
          const std::function<void(const std::string&)>& on_secret);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  [[nodiscard]] api::KfpApi& api() { return *api_; }
  [[nodiscard]] const std::string& namespace_name() const { return namespace_; }
  [[nodiscard]] http::Clock& clock() { return *clock_; }
  [[nodiscard]] int request_count() const { return connection_->request_count(); }

 private:
  std::unique_ptr<http::Transport> transport_;
  std::unique_ptr<FileTokens> tokens_;
  std::unique_ptr<http::Clock> clock_;
  std::unique_ptr<api::Connection> connection_;
  std::unique_ptr<api::KfpApi> api_;
  std::string namespace_;
};

}  // namespace kfp::publish
