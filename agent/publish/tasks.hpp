#pragma once
// Which nodes of a run's graph are the pipeline's own tasks, and what they say: counts for the wait's
// progress, the failed tasks innermost first, and the graph the step summary draws.
//
// The rule (what the KFP UI shows as a task): a KFP 2 pipeline compiles each container task to a
// driver pod (template system-container-driver), a DAG wrapper (system-container-executor) and the
// executor pod inside it (system-container-impl), each sub-DAG and loop to a driver
// (system-dag-driver) and a DAG, all under the workflow's root node and a "root" DAG
// (backend/src/v2/compiler/argocompiler container.go, dag.go). The task is the wrapper: it carries
// the task's name and state, its executor pod the pod name, log and error. Drivers, the root and
// "root" are plumbing and not counted; sub-DAGs and loop iterations are groups, named in paths. A
// KFP 1 pipeline (1.8) runs each task as one Pod node (or a Retry node over its attempts), in DAGs
// for sub-graphs, conditions, loops and exit handlers. Without templates (v2beta1 task_details
// alone) the names decide: "-driver" suffix, "executor", "root"; a node whose children are only its
// executor is a task.

#include "api/tasks.hpp"
#include "report/report.hpp"

#include <string>
#include <vector>

namespace kfp::publish {

class TaskView {
 public:
  explicit TaskView(const api::RunTasks& tasks);

  // The tasks by state; running_tasks holds the running ones' paths.
  [[nodiscard]] report::TaskCounts counts() const;

  // The failed tasks (FAILED or CANCELED, and a failed driver as its task's failure), innermost
  // first: the deepest path first, then the earliest end, then the path. `run_url` is the run's
  // page; a task with an ML Metadata execution links to it there (the UI's route
  // /runs/details/:runId/execution/:executionId, frontend/src/components/Router.tsx). No log yet.
  [[nodiscard]] std::vector<report::FailedTask> failed(const std::string& run_url) const;

  // The tasks and groups to draw, with their nesting, dependencies and the failed path marked.
  [[nodiscard]] report::RunGraph graph() const;

  // Whether the nodes say how they nest (else they came as a flat list and names decided).
  [[nodiscard]] bool linked() const { return linked_; }

  // The id and path of each task now FAILED, for telling which failures are new.
  [[nodiscard]] std::vector<std::pair<std::string, report::FailedTask>> failed_now() const;

 private:
  enum class Role { task, group, executor, attempt, driver, root };
  struct Entry {
    const api::TaskNode* node = nullptr;
    Role role = Role::task;
    int parent = -1;  // index of the enclosing entry
    std::string path;
    int depth = 0;
    std::string pod;    // the task's own, or its executor's or last attempt's
    std::string error;  // the task's own, or its executor's or last attempt's when more telling
  };

  void classify();
  void resolve_tasks();
  [[nodiscard]] std::string path_of(int index) const;
  [[nodiscard]] int depth_of(int index) const;
  [[nodiscard]] report::FailedTask failed_task(const Entry& entry, const std::string& run_url) const;

  api::RunTasks tasks_;
  std::vector<Entry> entries_;
  bool linked_ = false;  // the nodes say their parents (else: a flat list, names decide)
};

// The heartbeat's task part, as the interface fixes it: "tasks 3/5 done (2 succeeded, 1 failed), 1
// running: train" (skipped and canceled counts added when there are any); at most `max_names` names,
// then "and N more".
[[nodiscard]] std::string progress_text(const report::TaskCounts& counts, std::size_t max_names = 5);

}  // namespace kfp::publish
