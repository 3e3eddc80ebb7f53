// GET /apis/v1alpha1/runs/{run_id}/nodes/{node_id}/log: the log streaming endpoint main.go puts
// on the top mux in every release (run_log_server.go ReadRunLog[V1], ResourceManager.ReadLog).
// FIDELITY.md "Tasks and logs" cites each behaviour.

#include "app.hpp"
#include "tasks.hpp"

#include <fmt/format.h>

namespace kfp::emulator {

namespace {

// Go's http.Server sends a body of at most this many bytes, written before the handler returns,
// with a Content-Length; a longer one goes out chunked (net/http bufferBeforeChunkingSize).
constexpr std::uint64_t buffered_body_bytes = 2048;

// ReadRunLog writes the 200 header before ReadLog runs, so a failure cannot change the status:
// writeErrorToResponse's WriteHeader(500) is superfluous and ignored, and the error goes out as a
// 200 body {"error_message","error_details"} whose type net/http sniffs.
Reply log_error(const std::string& message) {
  return upload_error(200, message, false, false);
}

// The object store's answer for a log that was never archived (or has been deleted).
std::string missing_object(ServerVersion version, const std::string& key) {
  // minio-go up to 2.5; gocloud.dev/blob from 2.15.
  if (!at_least(version, ServerVersion::v2_15_0)) return "The specified key does not exist.";
  return fmt::format("blob (key \"{}\") (code=NotFound): NoSuchKey: The specified key does not exist.",
                     key.substr(1));
}

// ReadLog's error when neither the pod nor the log archive has the log: the pod read fails
// (the API server asks Kubernetes for pod `pod` in the run's namespace, container "main") and the
// archive, configured in every release's config.json (ARCHIVE_CONFIG_LOG_PATH_PREFIX /artifacts,
// ARCHIVE_CONFIG_LOG_FILE_NAME main.log), has no object at the key GetLogObjectKey builds.
std::string no_log_message(ServerVersion version, const std::string& run_id, const std::string& workflow,
                           const std::string& pod) {
  auto key = fmt::format("/artifacts/{}/{}/main.log", workflow, pod);
  auto missing = missing_object(version, key);
  if (is_v1_server(version))
    // 1.8 returns the archive's error unwrapped (resource_manager.go:584-596, 625-641).
    return fmt::format("Failed to retrieve the log file from archive: Failed to get {}: {}", key, missing);
  std::string fetch = version == ServerVersion::v2_17_0
                          ? fmt::format("Failed to get file reader for {}: {}", key, missing)
                          : fmt::format("Failed to get file {}: {}", key, missing);
  return fmt::format(
      "Failed to read logs for run {}: Failed to read logs from archive {} due to error fetching "
      "the log file: {}",
      run_id, pod, fetch);
}

Reply read_run_log(Context& context) {
  App& app = context.app;
  const auto version = app.version();
  const auto& run_id = context.args[0];
  const auto& pod = context.args[1];
  // `follow` is read from the route's path variables, which never hold it: the query is ignored
  // and the log is never followed.
  const Run* run = app.store().find_run(run_id);
  if (run == nullptr) {
    if (is_v1_server(version)) return log_error("Run does not exist: log cannot be read");
    return log_error(
        fmt::format("Failed to read logs for run {} due to run fetching error: Failed to fetch run {}: "
                    "ResourceNotFoundError: Run {} not found",
                    run_id, run_id, run_id));
  }
  auto nodes = run_nodes(*run, app.now(), version);
  auto found = pod_log(*run, nodes, pod);
  if (found.found != PodLog::Found::log)
    return log_error(no_log_message(version, run_id, run->workflow, pod));
  Reply reply;
  auto& stream = *found.stream;
  if (stream.size() <= buffered_body_bytes) {
    std::string chunk;
    while (stream.next(chunk)) reply.body += chunk;
    reply.content_type = sniffed_content_type(reply.body.substr(0, 512));
    return reply;
  }
  // The first piece decides the sniffed type; it is sent before the rest.
  std::string first;
  stream.next(first);
  reply.content_type = sniffed_content_type(std::string_view(first).substr(0, 512));
  struct Prefixed : BodyStream {
    std::string first;
    std::shared_ptr<LogStream> rest;
    bool next(std::string& chunk) override {
      if (!first.empty()) {
        chunk = std::move(first);
        first.clear();
        return true;
      }
      return rest->next(chunk);
    }
  };
  auto prefixed = std::make_shared<Prefixed>();
  prefixed->first = std::move(first);
  prefixed->rest = found.stream;
  reply.stream = std::move(prefixed);
  return reply;
}

}  // namespace

void register_log_routes(App& app) {
  // topMux.HandleFunc without .Methods: every method reaches the handler.
  app.add("*", "/apis/v1alpha1/runs/{}/nodes/{}/log", ErrorShape::upload, read_run_log);
}

}  // namespace kfp::emulator
