#pragma once
// A run's tasks as the real server reports them: the Argo Workflow's status.nodes the persistence
// agent stores (v1beta1 pipeline_runtime.workflow_manifest), and the v2beta1
// run_details.task_details the server derives from those nodes (api_converter.go toModelTasks /
// toApiPipelineTaskDetail). The nodes come from the run's package, laid out as the workflow
// controller would run it (a v2 PipelineSpec as the argo compiler lays it out: drivers, executor
// DAGs, loop iterators; an Argo package as its own dag/steps templates), and move through time
// with the run. FIDELITY.md "Tasks and logs" cites each rule.

#include "message.hpp"
#include "options.hpp"
#include "timeutil.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kfp::emulator {

struct Run;

// Where the failing task's log is read from: its pod; the log archive (the pod is gone, Argo
// archived the log); or nowhere (pod and archive both gone: ReadLog's error body).
enum class LogSource { pod, archive, gone };

// What a test asked for the tasks of a run (POST /_emulator/outcomes): which task fails with which
// message, and what that task's log holds.
struct TaskPlan {
  // A task's display name or "/"-joined path: on FAILED the task that fails (empty: the last task
  // to start), on CANCELED the task running when the run is terminated (empty: mid-run).
  std::string failed_task;
  std::string message;             // the failing pod's node message; empty: "Error (exit code 1)"
  std::optional<std::string> log;  // the failing pod's log (its tail after any filler)
  std::uint64_t log_bytes = 0;     // filler generated in front of `log`, to make a huge log
  LogSource log_source = LogSource::pod;
};

enum class NodeType { pod, dag, steps, step_group, task_group, retry };

// One node of the workflow the package compiles to, before time is applied.
struct BlueprintNode {
  std::string suffix;  // how its name extends its parent's: ".task", "[0]", "(0:0)", "(0)"
  std::string display_name, template_name;
  NodeType type = NodeType::pod;
  int parent = -1;
  std::vector<int> children;
  int start = 0, end = 0;       // time slots: a pod runs [start, end); other nodes span their children
  int scope = -1;               // the DAG/steps node whose template scheduled this node; -1 for the root
  bool user_pod = false;        // runs the component's code (v2 executor, Argo container)
  std::string task_name;        // user_pod: the task's display name
  std::string task_path;        // user_pod: the user-visible task names from the root down, "/"-joined
  bool first_iteration = true;  // every loop it sits in is at item 0
  // A DAG node's tasks as its template lists them: each task's node and the positions (in this
  // list) of the tasks it depends on. Argo links a task under its dependencies' outbound nodes.
  std::vector<std::pair<int, std::vector<int>>> entries;
};

struct Blueprint {
  std::vector<BlueprintNode> nodes;  // nodes[0] is the workflow's own node
  int slots = 0;                     // the end of the last pod
  bool v2 = false;                   // compiled from a v2 PipelineSpec
  boost::json::value spec;           // an Argo package's spec (the workflow manifest carries it)
};

// The blueprint of a package document (PipelineSpec, {pipeline_spec, platform_spec} or Argo
// Workflow as JSON); null when it holds no tasks the emulator can lay out.
[[nodiscard]] std::shared_ptr<const Blueprint> make_blueprint(const boost::json::value& document);

// A node with time applied.
struct NodeStatus {
  int index = 0;  // into the blueprint
  std::string id, name, pod_name;
  std::string phase;  // Argo NodePhase: Pending, Running, Succeeded, Failed
  std::string message;
  Time started_at{};
  std::optional<Time> finished_at;
  // Argo's `children` (indexes into the node list): a DAG's first tasks, then each task under its
  // dependencies' outbound nodes; a steps node's first group, each later group under the previous
  // group's outbound nodes; a task group's or retry's items.
  std::vector<int> children;
  std::vector<int> outbound;  // a finished DAG's or steps node's outboundNodes
};

struct RunNodes {
  std::string workflow_name;
  std::vector<NodeStatus> nodes;  // only the nodes that exist by now; empty before the run runs
  std::vector<int> position;      // blueprint index -> index in `nodes`, or -1
  int failed_pod = -1;            // blueprint index of the pod the plan fails
};

// The run's nodes at `now` on `version` (pod names: the node id up to Argo 3.3, the v2 pod-name
// format from Argo 3.4, which KFP 2.3 ships).
[[nodiscard]] RunNodes run_nodes(const Run& run, Time now, ServerVersion version);

// v2beta1 run_details.task_details: one PipelineTaskDetail per node, as toApiPipelineTaskDetail
// fills it (no pod_name, no error: the converter never sets them). Empty before the run runs.
[[nodiscard]] boost::json::array task_details(const Run& run, const RunNodes& nodes);
// The Argo Workflow as the persistence agent stored it (WorkflowRuntimeManifest), as JSON text.
[[nodiscard]] std::string workflow_manifest(const Run& run, const RunNodes& nodes, ServerVersion version);

// The log of one pod of a run, generated on demand so that a huge log is never held in memory.
class LogStream : public BodyStream {
 public:
  LogStream(std::string head, std::uint64_t filler_bytes, std::string tail);
  // The next piece of the log (about 64 KiB); false once the log is exhausted.
  bool next(std::string& chunk) override;
  [[nodiscard]] std::uint64_t size() const;

 private:
  std::string head_, tail_;
  std::uint64_t filler_left_;
  std::uint64_t line_ = 0;
  int stage_ = 0;
};

// What the log endpoint finds for `pod_name` among the run's nodes: the log, or why there is none.
struct PodLog {
  enum class Found { log, no_pod, gone } found = Found::no_pod;
  std::shared_ptr<LogStream> stream;
};
[[nodiscard]] PodLog pod_log(const Run& run, const RunNodes& nodes, const std::string& pod_name);

}  // namespace kfp::emulator
