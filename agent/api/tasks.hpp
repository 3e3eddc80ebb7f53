#pragma once
// A run's tasks as the server reports them, in one shape whichever API carried them: v2beta1's
// run_details.task_details, or the Argo workflow's status.nodes that v1beta1 carries in
// pipeline_runtime.workflow_manifest. Parsing is tolerant: a field the server left out reads empty.

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kfp::api {

// One node of the run's graph, as reported (drivers, DAG wrappers and the root included: which of
// them are the pipeline's own tasks is decided above, in publish/tasks.hpp).
struct TaskNode {
  std::string id;             // task_details: task_id; Argo: the node id
  std::string name;           // display name
  std::string type;           // Argo node type (Pod, DAG, Retry, Skipped, ...); "" in task_details
  std::string template_name;  // Argo templateName; "" in task_details
  std::string state;          // v2beta1 RuntimeState names (state_of_phase for Argo phases)
  std::string error;          // the server's message for this node (task error, Argo message)
  std::string started_at;     // RFC 3339; empty when not known (or the server's zero time)
  std::string finished_at;
  // The pod that ran it, when known: task_details' pod_name, or the Argo pod name derived from the
  // node (pod_name_of). This is the node_id the log endpoint reads (ReadLog: GetLogs(nodeId)).
  std::string pod;
  // The enclosing node's id: Argo's boundaryID (the DAG the node runs in; for a retry's attempt or a
  // loop's iteration, the Retry or TaskGroup node listing it), task_details' parent_task_id. Empty
  // for the root or when not said.
  std::string parent;
  // As given: ids or pod names. Argo lists under a node both what it starts (a DAG's first tasks)
  // and the tasks that depend on it (workflow/controller/dag.go adds a dependent task as a child of
  // its dependency's outbound nodes); task_details' child_tasks copy them (api_converter.go
  // toModelTask).
  std::vector<std::string> children;
  std::int64_t execution_id = 0;  // the ML Metadata execution (v2), 0 when not known
};

enum class TaskSource { task_details, workflow };

struct RunTasks {
  TaskSource source = TaskSource::task_details;
  std::vector<TaskNode> nodes;
};

// An Argo node phase as a v2beta1 RuntimeState name (the interface of issue 17): Succeeded ->
// SUCCEEDED, Failed|Error -> FAILED, Running -> RUNNING, Pending -> PENDING, Skipped|Omitted -> SKIPPED;
// anything else (empty, unknown) -> PENDING.
[[nodiscard]] std::string state_of_phase(std::string_view phase);

// The tasks in a v2beta1 run (run_details.task_details); nullopt when the run carries none.
// Every 2.x release converts a stored task with display_name, state, start/end times and
// child_tasks (as pod_name: the child's Argo node id) but neither pod_name nor error
// (server/api_converter.go toApiPipelineTaskDetail: 2.0.5 :1722, 2.17.0 :1875); they are read when
// present.
[[nodiscard]] std::optional<RunTasks> parse_task_details(const boost::json::value& run);

// The nodes of an Argo workflow (the JSON text in pipeline_runtime.workflow_manifest); nullopt when
// the text is not a workflow or has no status.nodes yet. Tolerant of every missing field.
[[nodiscard]] std::optional<RunTasks> parse_workflow_manifest(std::string_view manifest);

// The pod an Argo node ran in. Argo names pods by the node id ("v1") or, from Argo 3.4 on by default,
// by workflow name, template name and the node name's hash ("v2": argo-workflows
// workflow/util/pod_name.go GeneratePodName; the hash is the node id's own suffix). The workflow's
// annotation workflows.argoproj.io/pod-name-format says which; without it the node id is the pod
// name (v1, Argo before 3.4: KFP 1.8).
// `node_name` is the node's full name (status.nodes[].name), which the hash is taken of.
enum class PodNames { v1, v2 };
[[nodiscard]] std::string pod_name_of(std::string_view workflow_name, std::string_view node_name,
                                      std::string_view template_name, std::string_view node_id,
                                      PodNames format);

}  // namespace kfp::api
