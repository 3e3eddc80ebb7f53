#include "cli/options.hpp"

#include "http/url.hpp"

#include <fmt/format.h>

namespace kfp::cli {

publish::SessionOptions default_session_options() {
  publish::SessionOptions session;
  session.host = default_host;
  session.token.file = default_token_file;
  session.namespace_file = default_namespace_file;
  session.retries = default_retries;
  session.transport.timeout = default_request_timeout;
  session.transport.user_agent = fmt::format("kfp-publish/{}", KFP_PUBLISH_VERSION);
  return session;
}

namespace {

// The first of: the flag, then each variable in order.
std::optional<std::string> pick(const std::string& flag, const util::Environment& env,
                                std::initializer_list<const char*> variables) {
  if (!flag.empty()) return flag;
  for (const char* name : variables) {
    if (auto value = env.get(name)) return value;
  }
  return std::nullopt;
}

util::Failure usage(std::string message, std::string hint = {}) {
  return util::fail(util::ErrorKind::usage, std::move(message), std::move(hint));
}

}  // namespace

util::Result<GlobalOptions> resolve_global_options(const RawGlobalOptions& raw,
                                                   const util::Environment& env) {
  GlobalOptions options;
  publish::SessionOptions& session = options.session;

  std::string host_source = "--host";
  if (!raw.host.empty()) {
    session.host = raw.host;
  } else {
    for (const char* variable : {"KFP_HOST", "KF_PIPELINES_ENDPOINT"}) {
      if (auto value = env.get(variable)) {
        session.host = *value;
        host_source = variable;
        break;
      }
    }
  }
  auto host = http::normalize_base_url(session.host);
  if (!host) return usage(fmt::format("{}: {}", host_source, host.error().message), host.error().hint);
  session.host = *host;

  if (auto token = pick(raw.token_file, env, {"KF_PIPELINES_SA_TOKEN_PATH"})) {
    session.token.file = *token;
    session.token.requirement = auth::TokenRequirement::required_file;
  }
  if (auto source = pick(raw.token_source, env, {"KFP_TOKEN_SOURCE"})) {
    auto kind = auth::parse_token_source(*source);
    if (!kind)
      return usage(fmt::format("--token-source '{}' is not one of file, github-oidc, entra", *source));
    session.token.source = *kind;
  }
  if (auto audience = pick(raw.token_audience, env, {"KFP_TOKEN_AUDIENCE"}))
    session.token.audience = *audience;
  if (auto issuer = pick(raw.token_issuer, env, {"KFP_TOKEN_ISSUER"})) session.token.issuer = *issuer;
  if (auto ns = pick(raw.namespace_name, env, {"KFP_NAMESPACE"})) session.namespace_name = *ns;
  if (auto ca = pick(raw.ca_file, env, {"KFP_CA_FILE"})) session.transport.ca_file = *ca;
  session.transport.insecure_skip_tls_verify = raw.insecure_skip_tls_verify;

  if (auto api = pick(raw.api, env, {"KFP_API"})) {
    if (*api == "auto")
      session.api = api::ApiPreference::automatic;
    else if (*api == "v2beta1")
      session.api = api::ApiPreference::v2beta1;
    else if (*api == "v1beta1")
      session.api = api::ApiPreference::v1beta1;
    else
      return usage(fmt::format("--api '{}' is not one of auto, v2beta1, v1beta1", *api));
  }

  if (!raw.request_timeout.empty()) {
    auto timeout = util::parse_duration(raw.request_timeout);
    if (!timeout)
      return usage(fmt::format("--request-timeout: {}", timeout.error().message), timeout.error().hint);
    if (timeout->count() <= 0) return usage("--request-timeout must be greater than zero");
    session.transport.timeout = *timeout;
  }

  if (raw.retries) {
    if (*raw.retries < 0 || *raw.retries > max_retries) {
      return usage(fmt::format("--retries {} is out of range 0..{}", *raw.retries, max_retries));
    }
    session.retries = *raw.retries;
  }

  if (auto output = pick(raw.output, env, {"KFP_OUTPUT"})) {
    if (*output == "text")
      options.output = OutputFormat::text;
    else if (*output == "json")
      options.output = OutputFormat::json;
    else
      return usage(fmt::format("--output '{}' is not one of text, json", *output));
  }

  options.shared_pipeline = raw.shared_pipeline;
  if (!raw.shared_pipeline) {
    if (auto shared = env.get("KFP_SHARED_PIPELINE")) {
      if (*shared == "true" || *shared == "1")
        options.shared_pipeline = true;
      else if (!shared->empty() && *shared != "false" && *shared != "0")
        return usage(fmt::format("KFP_SHARED_PIPELINE='{}' is not one of true, false, 1, 0", *shared));
    }
  }

  if (!raw.report_file.empty()) options.report_file = raw.report_file;
  if (!raw.results_dir.empty()) options.results_dir = raw.results_dir;
  if (!raw.termination_log.empty()) options.termination_log = raw.termination_log;
  if (raw.quiet && raw.verbose > 0) return usage("-q and -v exclude each other");
  options.verbosity = raw.quiet ? -1 : raw.verbose;

  session.transport.https_proxy = env.get("HTTPS_PROXY");
  if (!session.transport.https_proxy) session.transport.https_proxy = env.get("https_proxy");
  session.transport.http_proxy = env.get("HTTP_PROXY");
  if (!session.transport.http_proxy) session.transport.http_proxy = env.get("http_proxy");
  session.transport.no_proxy = env.get("NO_PROXY");
  if (!session.transport.no_proxy) session.transport.no_proxy = env.get("no_proxy");
  return options;
}

}  // namespace kfp::cli
