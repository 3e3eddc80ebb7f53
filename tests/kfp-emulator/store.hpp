#pragma once
// The emulator's database: pipelines, versions, experiments, runs and recurring runs, in memory,
// with their JSON shapes in the v2beta1 and v1beta1 APIs. Run state is computed lazily from time.

#include "options.hpp"
#include "tasks.hpp"
#include "timeutil.hpp"

#include "package/package.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kfp::emulator {

namespace json = boost::json;

struct Pipeline {
  std::string id, name, display_name, description, ns;
  Time created_at{};
  json::object tags;
  std::uint64_t seq = 0;
};

struct PipelineVersion {
  std::string id, pipeline_id, name, display_name, description, ns, code_source_url, package_url;
  Time created_at{};
  json::value pipeline_spec;  // the uploaded document as JSON, as the server returns it
  json::object tags;
  std::vector<package::InputParameter> inputs;
  package::Kind kind = package::Kind::pipeline_spec;
  std::uint64_t seq = 0;
};

struct Experiment {
  std::string id, display_name, description, ns;
  std::string storage_state = "AVAILABLE";
  Time created_at{};
  std::optional<Time> last_run_created_at;
  std::uint64_t seq = 0;
};

// How a run ends; HANG never leaves RUNNING.
enum class Outcome { succeeded, failed, canceled, hang };
[[nodiscard]] std::optional<Outcome> parse_outcome(std::string_view text);
[[nodiscard]] std::string_view to_string(Outcome outcome);

// The Argo Workflow (or, on 2.x, compiled PipelineSpec) a run created in Kubernetes: what the
// pipeline really ran with. It exists from the moment the server creates it, even when storing
// the run fails afterwards (resource_manager.go CreateRun creates the workflow before the INSERT).
struct Workflow {
  std::string name, run_id, ns, api;
  std::string recurring_run_id;  // set on a ScheduledWorkflow (a recurring run's), not on a run's
  package::Kind kind = package::Kind::pipeline_spec;
  json::object parameters;  // every root input with the value the run got (given, else default)
  json::object provided;    // the values the request delivered to the template
  Time created_at{};
  std::uint64_t seq = 0;
};

// What a run and a recurring run share: who made it where, from which pipeline, with what.
struct RunSource {
  std::string id, display_name, description, experiment_id, ns, pipeline_id, pipeline_version_id;
  std::string service_account;
  json::value runtime_config;  // object or null
  json::value pipeline_spec;   // an inline spec; null when the run references a version
  Time created_at{};
  std::uint64_t seq = 0;
};

struct Run : RunSource {
  std::string recurring_run_id, workflow;
  std::string storage_state = "AVAILABLE";
  json::array v1_parameters;      // pipeline_spec.parameters [{name, value}] of a v1beta1 request
  std::string pipeline_manifest;  // a v1 inline workflow_manifest / pipeline_manifest
  bool retried = false;
  Time started_at{};  // when the current attempt began (created_at, or the last :retry)
  std::optional<Time> terminated_at;
  Outcome outcome = Outcome::succeeded;
  std::chrono::milliseconds duration{0};
  // The workflow the package compiles to (null when it has no tasks to lay out) and what the
  // test asked of its tasks (tasks.hpp).
  std::shared_ptr<const Blueprint> blueprint;
  TaskPlan plan;
};

struct RecurringRun : RunSource {
  std::string mode;
  json::value trigger;
  std::string max_concurrency;
  bool no_catchup = false;
  std::string k8s_name;  // the ScheduledWorkflow's name
  package::Kind kind = package::Kind::pipeline_spec;
  json::array v1_parameters;  // pipeline_spec.parameters [{name, value}] of a v1beta1 request
  std::string manifest;       // the template text the job keeps (workflow/pipeline manifest)
  std::string pipeline_name;  // the v1 pipeline_spec.pipeline_name
  json::array references;     // 1.8: the request's resource references, with names
  // Whether the persistence agent has reported the ScheduledWorkflow's status yet: until then the
  // v1 status is the controller's "NO_STATUS" (1.8) / STATUS_UNSPECIFIED (2.x).
  bool reported = false;
};

// A run's state at a given time, with the transitions that led there.
struct RunStatus {
  std::string state;  // V2beta1RuntimeState name
  std::optional<Time> finished_at;
  std::vector<std::pair<Time, std::string>> history;
};

// After :terminate, CANCELING lasts this long before CANCELED (the workflow controller's reaction).
inline constexpr std::chrono::milliseconds cancel_grace{500};

[[nodiscard]] RunStatus run_status(const Run& run, Time now);
// The v1beta1 `status` string for a run (Argo phase on 1.8, the v1 view of v2 states on 2.x).
[[nodiscard]] std::string v1_status(const RunStatus& status);

class Store {
 public:
  std::map<std::string, Pipeline> pipelines;
  std::map<std::string, PipelineVersion> versions;
  std::map<std::string, Experiment> experiments;
  std::map<std::string, Run> runs;
  std::map<std::string, RecurringRun> recurring_runs;
  std::map<std::string, Workflow> workflows;
  std::map<std::string, Workflow> scheduled_workflows;  // by name
  std::string default_experiment_id;

  [[nodiscard]] std::uint64_t next_seq() { return ++seq_; }

  [[nodiscard]] const Pipeline* find_pipeline(const std::string& id) const;
  [[nodiscard]] const Pipeline* find_pipeline_by_name(const std::string& name, const std::string& ns) const;
  [[nodiscard]] const PipelineVersion* find_version(const std::string& id) const;
  [[nodiscard]] const PipelineVersion* find_version_by_name(const std::string& pipeline_id,
                                                            const std::string& name) const;
  [[nodiscard]] const PipelineVersion* latest_version(const std::string& pipeline_id) const;
  [[nodiscard]] std::vector<const PipelineVersion*> versions_of(const std::string& pipeline_id) const;
  [[nodiscard]] const Experiment* find_experiment(const std::string& id) const;
  [[nodiscard]] const Experiment* find_experiment_by_name(const std::string& name,
                                                          const std::string& ns) const;
  [[nodiscard]] Run* find_run(const std::string& id);

 private:
  std::uint64_t seq_ = 0;
};

// v2beta1 shapes (zero values omitted, int64 as strings, enums as names).
[[nodiscard]] json::object to_v2(const Pipeline& pipeline, ServerVersion version);
[[nodiscard]] json::object to_v2(const PipelineVersion& pipeline_version, ServerVersion version);
[[nodiscard]] json::object to_v2(const Experiment& experiment);
[[nodiscard]] json::object to_v2(const Run& run, Time now);
[[nodiscard]] json::object to_v2(const RecurringRun& recurring_run);
[[nodiscard]] json::object to_json(const Workflow& workflow);

// v1beta1 shapes.
[[nodiscard]] json::object to_v1(const Pipeline& pipeline, const PipelineVersion* default_version);
[[nodiscard]] json::object to_v1(const PipelineVersion& pipeline_version);
[[nodiscard]] json::object to_v1(const Experiment& experiment);
[[nodiscard]] json::object to_v1(const Run& run, Time now, ServerVersion version);
// A recurring run as the v1beta1 Job (1.8 ToApiJob; 2.x toApiJobV1).
[[nodiscard]] json::object to_v1(const RecurringRun& recurring_run, ServerVersion version);

// v1 `parameters` of a version: [{name, value(default)}] of an Argo workflow's arguments; none for
// a v2 PipelineSpec (template ParametersJSON returns "[]" in every release).
[[nodiscard]] json::array v1_parameters(const PipelineVersion& pipeline_version);

}  // namespace kfp::emulator
