#include "cli/options.hpp"

#include "http/url.hpp"

#include <fmt/format.h>

namespace kfp::cli {

std::string_view to_string(ApiChoice api) {
  switch (api) {
    case ApiChoice::automatic: return "auto";
    case ApiChoice::v2beta1: return "v2beta1";
    case ApiChoice::v1beta1: return "v1beta1";
  }
  return "auto";
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

  std::string host_source = "--host";
  if (!raw.host.empty()) {
    options.host = raw.host;
  } else {
    for (const char* variable : {"KFP_HOST", "KF_PIPELINES_ENDPOINT"}) {
      if (auto value = env.get(variable)) {
        options.host = *value;
        host_source = variable;
        break;
      }
    }
  }
  auto host = http::normalize_base_url(options.host);
  if (!host) return usage(fmt::format("{}: {}", host_source, host.error().message), host.error().hint);
  options.host = *host;

  if (auto token = pick(raw.token_file, env, {"KF_PIPELINES_SA_TOKEN_PATH"})) {
    options.token_file = *token;
    options.token_file_explicit = true;
  }
  if (auto ns = pick(raw.namespace_name, env, {"KFP_NAMESPACE"})) options.namespace_name = *ns;
  if (auto ca = pick(raw.ca_file, env, {"KFP_CA_FILE"})) options.ca_file = *ca;
  options.insecure_skip_tls_verify = raw.insecure_skip_tls_verify;

  if (auto api = pick(raw.api, env, {"KFP_API"})) {
    if (*api == "auto")
      options.api = ApiChoice::automatic;
    else if (*api == "v2beta1")
      options.api = ApiChoice::v2beta1;
    else if (*api == "v1beta1")
      options.api = ApiChoice::v1beta1;
    else
      return usage(fmt::format("--api '{}' is not one of auto, v2beta1, v1beta1", *api));
  }

  if (!raw.request_timeout.empty()) {
    auto timeout = util::parse_duration(raw.request_timeout);
    if (!timeout)
      return usage(fmt::format("--request-timeout: {}", timeout.error().message), timeout.error().hint);
    if (timeout->count() <= 0) return usage("--request-timeout must be greater than zero");
    options.request_timeout = *timeout;
  }

  if (raw.retries) {
    if (*raw.retries < 0 || *raw.retries > max_retries) {
      return usage(fmt::format("--retries {} is out of range 0..{}", *raw.retries, max_retries));
    }
    options.retries = *raw.retries;
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

  options.https_proxy = env.get("HTTPS_PROXY");
  if (!options.https_proxy) options.https_proxy = env.get("https_proxy");
  options.http_proxy = env.get("HTTP_PROXY");
  if (!options.http_proxy) options.http_proxy = env.get("http_proxy");
  options.no_proxy = env.get("NO_PROXY");
  if (!options.no_proxy) options.no_proxy = env.get("no_proxy");
  return options;
}

}  // namespace kfp::cli
