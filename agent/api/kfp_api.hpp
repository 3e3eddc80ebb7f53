#pragma once
// The typed KFP operations the flows need, over one API version. V2Api speaks v2beta1; a v1beta1
// implementation serves KFP 1.8 servers behind the same interface.

#include "api/connection.hpp"
#include "api/task_log.hpp"
#include "api/tasks.hpp"
#include "http/transport.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kfp::api {

// What healthz says about the server.
struct ServerInfo {
  std::string api;      // "v2beta1" | "v1beta1"
  std::string version;  // tag_name, e.g. "2.17.0", or "unknown"
  bool multi_user = false;
  bool supports_tags = false;              // 2.17+
  bool via_ui_proxy = false;               // healthz answered in ml-pipeline-ui's shape
  bool accepts_pipeline_spec_yaml = true;  // false on 1.x: v2 IR is read as JSON only
};

// What a pipeline version runs. The server reads each kind's run parameters from a different field:
// an Argo workflow only the v1-style `parameters`, a PipelineSpec only `runtime_config`
// (template/argo_template.go and v2_template.go RunWorkflow).
enum class PipelineKind { unknown, pipeline_spec, argo_workflow };

// The kind of a pipeline spec as the server returns it (v2beta1 pipeline_spec, or a template).
[[nodiscard]] PipelineKind kind_of_spec(const boost::json::value& spec);

struct Pipeline {
  std::string id;
  std::string name;
  std::string namespace_name;
  // Set by a create that did not get the server's answer (lost, 5xx) or got a 409, when its look-up
  // found the object instead: made by an earlier attempt of this create or by another process.
  bool found_existing = false;
};

struct PipelineVersion {
  std::string id;
  std::string name;
  std::string pipeline_id;
  std::string description;
  std::map<std::string, std::string> tags;
  boost::json::value pipeline_spec;           // null unless fetched
  PipelineKind kind = PipelineKind::unknown;  // known when the spec was fetched
  // Set by a create that did not get the server's answer (lost, 5xx) or got a 409, when its look-up
  // found the object instead: made by an earlier attempt of this create or by another process.
  bool found_existing = false;
};

struct Experiment {
  std::string id;
  std::string name;
  std::string namespace_name;
  // Set by a create that did not get the server's answer (lost, 5xx) or got a 409, when its look-up
  // found the object instead: made by an earlier attempt of this create or by another process.
  bool found_existing = false;
};

struct Run {
  std::string id;
  std::string name;
  std::string
      state;  // v2 RuntimeState names: PENDING RUNNING SUCCEEDED SKIPPED FAILED CANCELING CANCELED PAUSED
  std::string error;  // the server's error message for a failed run
  // When the server created it (RFC 3339, as sent; empty when not known). The server stores whole
  // seconds (CreatedAtInSec), so runs created in the same second tie: order_oldest_first breaks the
  // tie by id, as the server's own sort does. (A default initialiser keeps Run{id, name, state, error}
  // valid where it is written so.)
  std::string created_at = {};
  std::string description = {};
  // The parameters the run was given, as the server answers them (v1: their string values); nullopt
  // when the answer carries none.
  std::optional<boost::json::object> parameters = {};
  // Set by a create that did not get the server's answer (lost, 5xx) or got a 409, when its look-up
  // found the object instead: made by an earlier attempt of this create or by another process.
  bool found_existing = false;
  // The run's tasks when the answer carries them (v2beta1 run_details.task_details; v1beta1 the
  // workflow manifest's nodes); nullopt when it carries none.
  std::optional<RunTasks> tasks = {};
};

// Sorts runs as the server's `sort_by=created_at` does: creation time, then id (list.go orders by
// the sort field and then the primary key). A run whose created_at cannot be read sorts last.
void order_oldest_first(std::vector<Run>& runs);

// An RFC 3339 time ("2025-05-01T10:00:00Z", fractions and offsets allowed) as Unix seconds.
[[nodiscard]] std::optional<std::chrono::sys_seconds> parse_rfc3339(std::string_view text);

struct UploadVersion {
  std::string pipeline_id;
  std::string name;
  std::string description;
  std::map<std::string, std::string> tags;  // sent only where the server supports tags
  std::string filename;                     // multipart filename; its suffix picks the format
  http::BodyPiece content;                  // the document: streamed from disk or in memory
};

// What a run and a recurring run both start: a pipeline version in an experiment, with parameters.
struct RunSettings {
  std::string name;
  std::string description;
  std::string experiment_id;
  std::string pipeline_id;
  std::string version_id;
  boost::json::object parameters;
  std::string service_account;
  // What the version runs, when the caller knows; unknown: the API reads the version when the
  // parameters (or a pipeline root) make it matter.
  PipelineKind pipeline_kind = PipelineKind::unknown;
};

struct CreateRun : RunSettings {
  std::string pipeline_root;
};

// A recurring run (a schedule); exactly one of cron and interval_seconds is set.
struct RecurringRun : RunSettings {
  std::string id;
  std::string cron;  // 6 fields, leading seconds (robfig/cron v1)
  std::optional<std::int64_t> interval_seconds;
  std::int64_t max_concurrency = 1;  // 1..10
  bool enabled = true;
};

class KfpApi {
 public:
  virtual ~KfpApi() = default;
  [[nodiscard]] virtual const ServerInfo& server() const = 0;

  [[nodiscard]] virtual util::Result<std::optional<Pipeline>> find_pipeline(const std::string& name,
                                                                            const std::string& ns) = 0;
  // Creates an empty pipeline (no version yet); a lost response is looked up by name.
  [[nodiscard]] virtual util::Result<Pipeline> create_pipeline(const std::string& name,
                                                               const std::string& description,
                                                               const std::string& ns) = 0;
  [[nodiscard]] virtual util::Result<std::optional<PipelineVersion>> find_version_by_name(
      const std::string& pipeline_id, const std::string& name) = 0;
  // The version carrying this content digest (tag on 2.17+, description before), if any.
  [[nodiscard]] virtual util::Result<std::optional<PipelineVersion>> find_version_by_digest(
      const std::string& pipeline_id, const std::string& digest) = 0;
  [[nodiscard]] virtual util::Result<std::optional<PipelineVersion>> latest_version(
      const std::string& pipeline_id) = 0;
  // With the pipeline_spec, for parameter checks.
  [[nodiscard]] virtual util::Result<PipelineVersion> get_version(const std::string& pipeline_id,
                                                                  const std::string& version_id) = 0;
  [[nodiscard]] virtual util::Result<PipelineVersion> upload_version(const UploadVersion& upload) = 0;

  [[nodiscard]] virtual util::Result<std::optional<Experiment>> find_experiment(const std::string& name,
                                                                                const std::string& ns) = 0;
  [[nodiscard]] virtual util::Result<Experiment> create_experiment(const std::string& name,
                                                                   const std::string& ns) = 0;

  // The oldest run in the experiment whose description holds `marker` (the run key), if any.
  [[nodiscard]] virtual util::Result<std::optional<Run>> find_run(const std::string& experiment_id,
                                                                  const std::string& ns,
                                                                  const std::string& marker) = 0;
  // Every run in the experiment (and namespace) whose description holds `marker`, oldest first
  // (order_oldest_first), each with its id and created_at: what the oldest-wins rule for concurrent
  // creates with one run key decides on. Pages through the whole list; `within` bounds each page's
  // read as ApiRequest::within does (a wait's deadline).
  [[nodiscard]] virtual util::Result<std::vector<Run>> list_runs_with_marker(
      const std::string& experiment_id, const std::string& ns, const std::string& marker,
      std::optional<util::Milliseconds> within = std::nullopt);
  // `marker` must be inside run.description; it is how a lost create is found again.
  [[nodiscard]] virtual util::Result<Run> create_run(const CreateRun& run, const std::string& ns,
                                                     const std::string& marker) = 0;
  // `within`: the read, retries included, ends within this (a wait's deadline; ApiRequest::within).
  [[nodiscard]] virtual util::Result<Run> get_run(
      const std::string& run_id, std::optional<util::Milliseconds> within = std::nullopt) = 0;
  [[nodiscard]] virtual util::Result<void> terminate_run(const std::string& run_id) = 0;
  // Moves the run to the archive (:archive, every release): kept, but out of the UI's run list.
  [[nodiscard]] virtual util::Result<void> archive_run(const std::string& run_id) = 0;

  // The run's Argo workflow nodes, the fullest account of its tasks any release gives (node
  // messages, templates, pod names), from the v1beta1 run's pipeline_runtime.workflow_manifest,
  // which every release serves (2.x keeps it current: resource_manager.go ReportWorkflowResource
  // stores WorkflowRuntimeManifest on each report). One request; nullopt when the run has no
  // workflow yet. The default has none.
  [[nodiscard]] virtual util::Result<std::optional<RunTasks>> get_run_workflow(
      const std::string& run_id, std::optional<util::Milliseconds> within = std::nullopt) {
    (void)run_id;
    (void)within;
    return std::optional<RunTasks>();
  }
  // The last `max_lines` lines of the log of the pod `node_id` (api/task_log.hpp read_task_log).
  // The default fails with kind usage.
  [[nodiscard]] virtual util::Result<TaskLog> read_task_log(
      const std::string& run_id, const std::string& node_id, std::size_t max_lines,
      std::optional<util::Milliseconds> within = std::nullopt) {
    (void)run_id;
    (void)node_id;
    (void)max_lines;
    (void)within;
    return util::fail(util::ErrorKind::usage, "this API cannot read task logs");
  }

  // Where a person looks at the run.
  [[nodiscard]] virtual std::string run_url(const std::string& run_id) const = 0;

  // Recurring runs: the server has no update, so a changed schedule is deleted and created again.
  // The defaults fail with kind usage: the v1beta1 API (KFP 1.8) is not supported for them.
  // The recurring run with this display name in the namespace, if any.
  [[nodiscard]] virtual util::Result<std::optional<RecurringRun>> find_recurring_run(const std::string& name,
                                                                                     const std::string& ns);
  // Creates it once; a lost response is looked up by name.
  [[nodiscard]] virtual util::Result<RecurringRun> create_recurring_run(const RecurringRun& recurring_run,
                                                                        const std::string& ns);
  [[nodiscard]] virtual util::Result<void> delete_recurring_run(const std::string& id);
  enum class Schedule { enabled, disabled };
  [[nodiscard]] virtual util::Result<void> set_recurring_run_schedule(const std::string& id,
                                                                      Schedule schedule);
  // Creates an experiment with a description; the default drops the description.
  [[nodiscard]] virtual util::Result<Experiment> create_described_experiment(const std::string& name,
                                                                             const std::string& description,
                                                                             const std::string& ns) {
    (void)description;
    return create_experiment(name, ns);
  }
};

// Asks healthz which API the server speaks (auto), or checks the one forced by --api.
enum class ApiPreference { automatic, v2beta1, v1beta1 };
[[nodiscard]] util::Result<ServerInfo> detect_server(Connection& connection, ApiPreference preference);

// The API object for the detected server; fails with kind usage for an API this build cannot speak.
[[nodiscard]] util::Result<std::unique_ptr<KfpApi>> make_api(Connection& connection,
                                                             const ServerInfo& server);

// The v1beta1 implementation (KFP 1.8 servers; 2.x serve v1beta1 too). Pipelines are created by
// their first upload: create_pipeline returns an empty id, filled in by upload_version.
[[nodiscard]] std::unique_ptr<KfpApi> make_v1_api(Connection& connection, const ServerInfo& server);

// "2.17.0" >= "2.17": numeric comparison of dotted versions; "unknown" counts as newest.
[[nodiscard]] bool version_at_least(const std::string& version, int major, int minor);

// The tag holding the content digest, and its value (keys and values are capped at 63 characters).
inline constexpr const char* digest_tag_key = "kfp-publish-digest";
[[nodiscard]] std::string digest_tag_value(const std::string& digest);

}  // namespace kfp::api
