#pragma once
// The global options of every command (DESIGN §3): flags win over environment variables, which win
// over defaults. resolve_global_options() is the one place that applies that order.

#include "publish/session.hpp"
#include "util/duration.hpp"
#include "util/environment.hpp"
#include "util/error.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace kfp::cli {

inline constexpr const char* default_host = "http://ml-pipeline.kubeflow.svc.cluster.local:8888";
inline constexpr const char* default_token_file = "/var/run/secrets/kubeflow/pipelines/token";
inline constexpr const char* default_namespace_file =
    "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
inline constexpr util::Milliseconds default_request_timeout{30'000};
inline constexpr int default_retries = 5;
inline constexpr int max_retries = 100;

enum class OutputFormat { text, json };

// What the command line said, before environment and defaults; empty/nullopt means "not given".
struct RawGlobalOptions {
  std::string host;
  std::string token_file;
  std::string token_source;
  std::string token_audience;
  std::string token_issuer;
  std::string namespace_name;
  std::string ca_file;
  bool insecure_skip_tls_verify = false;
  std::string api;
  std::string request_timeout;
  std::optional<int> retries;
  std::string output;
  std::string report_file;
  std::string results_dir;
  std::string termination_log;
  int verbose = 0;
  bool quiet = false;
  bool shared_pipeline = false;
};

// The session's options (host, token, namespace, API, retries, transport) are resolved straight
// into the struct the session is built from: nothing is copied field by field on the way.
[[nodiscard]] publish::SessionOptions default_session_options();

struct GlobalOptions {
  publish::SessionOptions session = default_session_options();
  OutputFormat output = OutputFormat::text;
  std::optional<std::filesystem::path> report_file;
  std::optional<std::filesystem::path> results_dir;
  std::optional<std::filesystem::path>
      termination_log;  // --termination-log (KFP_TERMINATION_LOG: report/outputs)
  int verbosity = 0;    // -1 quiet, 0 normal, 1+ verbose
  // Pipelines are published and looked up without a namespace (shared); runs and experiments stay
  // in the namespace. The way through KFP 1.8's upload endpoints with a token (publish/flows.hpp).
  bool shared_pipeline = false;
};

// Applies flags > variables > defaults and checks values. Fails with kind usage naming the option.
[[nodiscard]] util::Result<GlobalOptions> resolve_global_options(const RawGlobalOptions& raw,
                                                                 const util::Environment& env);

}  // namespace kfp::cli
