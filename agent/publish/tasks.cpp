#include "publish/tasks.hpp"

#include <fmt/format.h>
#include <boost/algorithm/string/predicate.hpp>

#include <algorithm>
#include <set>
#include <unordered_map>

namespace kfp::publish {

namespace {

using boost::algorithm::ends_with;
using boost::algorithm::starts_with;

// KFP 2's compiled templates (backend/src/v2/compiler/argocompiler): names may gain a suffix.
constexpr std::string_view container_driver_template = "system-container-driver";
constexpr std::string_view dag_driver_template = "system-dag-driver";
constexpr std::string_view executor_pod_template = "system-container-impl";
constexpr std::string_view executor_wrapper_template = "system-container-executor";
constexpr std::string_view importer_template = "system-importer";
// A loop's DAG ("for-loop-2-loop", template "comp-for-loop-2-loop-iterator") and the DAG each
// iteration runs its body in ("iteration-item"), as argocompiler names them.
constexpr std::string_view loop_iterator_template_suffix = "-loop-iterator";
constexpr std::string_view loop_node_suffix = "-loop";
constexpr std::string_view iteration_body_name = "iteration-item";
// Argo's message on a DAG whose child failed ("child 'ID' failed"): the child's own says more.
constexpr std::string_view child_failed_prefix = "child '";

// The index in an expanded item's name, "task(2:value)" or "task(2)", and the name before it.
std::optional<std::pair<std::string, std::string>> iteration_of(const std::string& name) {
  if (name.empty() || name.back() != ')') return std::nullopt;
  for (std::size_t open = name.find('('); open != std::string::npos; open = name.find('(', open + 1)) {
    std::size_t i = open + 1;
    while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
    if (i == open + 1 || i >= name.size()) continue;
    if (name[i] == ':' || (name[i] == ')' && i + 1 == name.size()))
      return std::pair{name.substr(0, open), name.substr(open + 1, i - open - 1)};
  }
  return std::nullopt;
}

bool is_failure(const std::string& state) {
  return state == "FAILED" || state == "CANCELED";
}

}  // namespace

TaskView::TaskView(const api::RunTasks& tasks) : tasks_(tasks) {
  entries_.resize(tasks_.nodes.size());
  std::unordered_map<std::string, int> by_key;
  for (std::size_t i = 0; i < tasks_.nodes.size(); ++i) {
    entries_[i].node = &tasks_.nodes[i];
    by_key.emplace(tasks_.nodes[i].id, static_cast<int>(i));
  }
  for (std::size_t i = 0; i < tasks_.nodes.size(); ++i) {
    if (!tasks_.nodes[i].pod.empty()) by_key.emplace(tasks_.nodes[i].pod, static_cast<int>(i));
  }
  for (std::size_t i = 0; i < tasks_.nodes.size(); ++i) {
    const auto& node = tasks_.nodes[i];
    if (node.parent.empty()) continue;
    if (auto found = by_key.find(node.parent); found != by_key.end() && found->second != static_cast<int>(i))
      entries_[i].parent = found->second;
  }
  if (tasks_.source == api::TaskSource::task_details) {
    // Without parent_task_id, a task is under the task listing it (child_tasks).
    for (std::size_t i = 0; i < tasks_.nodes.size(); ++i) {
      for (const auto& child : tasks_.nodes[i].children) {
        auto found = by_key.find(child);
        if (found == by_key.end() || found->second == static_cast<int>(i)) continue;
        if (entries_[found->second].parent < 0) entries_[found->second].parent = static_cast<int>(i);
      }
    }
  }
  // A cycle (a server's inconsistency) must not loop the walks up: cut it where it closes.
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    std::set<int> seen{static_cast<int>(i)};
    for (int at = static_cast<int>(i); entries_[at].parent >= 0; at = entries_[at].parent) {
      if (!seen.insert(entries_[at].parent).second) {
        entries_[at].parent = -1;
        break;
      }
    }
  }
  linked_ = std::any_of(entries_.begin(), entries_.end(), [](const Entry& e) { return e.parent >= 0; });
  classify();
  resolve_tasks();
}

void TaskView::classify() {
  std::vector<bool> undecided(entries_.size(), false);
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    Entry& entry = entries_[i];
    const auto& node = *entry.node;
    const std::string& t = node.template_name;
    const std::string& n = node.name;
    if (starts_with(t, container_driver_template) || starts_with(t, dag_driver_template) ||
        (t.empty() && ends_with(n, "-driver"))) {
      entry.role = Role::driver;
    } else if (starts_with(t, executor_pod_template) || (t.empty() && n == "executor")) {
      entry.role = Role::executor;
    } else if ((linked_ && entry.parent < 0) || (n == "root" && (t.empty() || t == "root"))) {
      entry.role = Role::root;
    } else if (node.type == "Retry" || starts_with(t, executor_wrapper_template) ||
               starts_with(t, importer_template)) {
      entry.role = Role::task;
    } else if (node.type == "Pod" || node.type == "Skipped") {
      const bool in_retry = entry.parent >= 0 && entries_[entry.parent].node->type == "Retry";
      entry.role = in_retry ? Role::attempt : Role::task;
    } else if (!node.type.empty()) {
      entry.role = Role::group;  // DAG, Steps, TaskGroup, StepGroup
    } else if (!linked_) {
      // A flat list: a task's only child is its executor; a group starts several.
      entry.role = node.children.size() <= 1 ? Role::task : Role::group;
    } else {
      undecided[i] = true;
    }
  }
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (!undecided[i]) continue;
    bool has_member = false;
    for (const auto& other : entries_) {
      if (other.parent == static_cast<int>(i) && other.role != Role::executor) has_member = true;
    }
    entries_[i].role = has_member ? Role::group : Role::task;
  }
}

void TaskView::resolve_tasks() {
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    Entry& entry = entries_[i];
    entry.pod = entry.node->pod;
    entry.error = entry.node->error;
    if (entry.role != Role::task) continue;
    // The last executor or attempt under it (by start time) ran the task's container.
    const Entry* last = nullptr;
    for (const auto& other : entries_) {
      if (other.parent != static_cast<int>(i)) continue;
      if (other.role != Role::executor && other.role != Role::attempt) continue;
      if (last == nullptr || other.node->started_at >= last->node->started_at) last = &other;
    }
    if (last == nullptr) continue;
    if (entry.pod.empty()) entry.pod = last->node->pod;
    // A wrapper's "child '…' failed" and a Retry's "No more retries left" say less than the pod's own.
    if (!last->node->error.empty() &&
        (entry.error.empty() || starts_with(entry.error, child_failed_prefix) || entry.node->type == "Retry"))
      entry.error = last->node->error;
  }
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    entries_[i].path = path_of(static_cast<int>(i));
    entries_[i].depth = depth_of(static_cast<int>(i));
  }
}

// The label a group adds to a path; empty for the ones that add nothing (a TaskGroup, a loop
// iteration's body).
namespace {
std::string group_label(const api::TaskNode& node) {
  if (node.type == "TaskGroup" || node.type == "StepGroup" || node.name == iteration_body_name) return {};
  if (ends_with(node.template_name, loop_iterator_template_suffix) && ends_with(node.name, loop_node_suffix))
    return node.name.substr(0, node.name.size() - loop_node_suffix.size());
  return node.name;
}
}  // namespace

std::string TaskView::path_of(int index) const {
  std::vector<std::string> parts;
  for (int at = entries_[index].parent; at >= 0; at = entries_[at].parent) {
    if (entries_[at].role != Role::group) continue;
    std::string label = group_label(*entries_[at].node);
    if (!label.empty()) parts.push_back(std::move(label));
  }
  std::reverse(parts.begin(), parts.end());
  // An iteration "x(2:...)" reads as its loop's index: "for-loop-2[2]".
  std::vector<std::string> merged;
  for (auto& part : parts) {
    if (auto iteration = iteration_of(part)) {
      if (merged.empty()) merged.push_back(iteration->first);
      merged.back() += fmt::format("[{}]", iteration->second);
    } else {
      merged.push_back(std::move(part));
    }
  }
  std::string name = entries_[index].node->name;
  if (entries_[index].role == Role::driver && ends_with(name, "-driver"))
    name.resize(name.size() - std::string_view("-driver").size());
  merged.push_back(std::move(name));
  std::string path;
  for (const auto& part : merged) {
    if (!path.empty()) path += '/';
    path += part;
  }
  return path;
}

int TaskView::depth_of(int index) const {
  int depth = 0;
  for (int at = entries_[index].parent; at >= 0; at = entries_[at].parent) {
    if (entries_[at].role == Role::group) ++depth;
  }
  return depth;
}

report::TaskCounts TaskView::counts() const {
  report::TaskCounts counts;
  for (const auto& entry : entries_) {
    if (entry.role != Role::task) continue;
    ++counts.total;
    const std::string& state = entry.node->state;
    if (state == "SUCCEEDED") {
      ++counts.succeeded;
    } else if (state == "RUNNING") {
      ++counts.running;
      counts.running_tasks.push_back(entry.path);
    } else if (state == "FAILED") {
      ++counts.failed;
    } else if (state == "SKIPPED") {
      ++counts.skipped;
    } else if (state == "CANCELED" || state == "CANCELING") {
      ++counts.canceled;
    } else {
      ++counts.pending;
    }
  }
  return counts;
}

report::FailedTask TaskView::failed_task(const Entry& entry, const std::string& run_url) const {
  report::FailedTask task;
  task.name = entry.node->name;
  task.path = entry.path;
  task.state = entry.node->state;
  task.error = entry.error;
  task.started_at = entry.node->started_at;
  task.finished_at = entry.node->finished_at;
  task.pod = entry.pod;
  task.url = entry.node->execution_id > 0 ? fmt::format("{}/execution/{}", run_url, entry.node->execution_id)
                                          : run_url;
  return task;
}

std::vector<std::pair<std::string, report::FailedTask>> TaskView::failed_now() const {
  std::vector<std::pair<std::string, report::FailedTask>> out;
  for (const auto& entry : entries_) {
    const bool counted = entry.role == Role::task || entry.role == Role::driver;
    if (counted && entry.node->state == "FAILED") out.emplace_back(entry.node->id, failed_task(entry, {}));
  }
  return out;
}

std::vector<report::FailedTask> TaskView::failed(const std::string& run_url) const {
  std::vector<const Entry*> picked;
  for (const auto& entry : entries_) {
    if ((entry.role == Role::task || entry.role == Role::driver) && is_failure(entry.node->state))
      picked.push_back(&entry);
  }
  std::stable_sort(picked.begin(), picked.end(), [](const Entry* a, const Entry* b) {
    if (a->depth != b->depth) return a->depth > b->depth;
    const auto& a_end = a->node->finished_at;
    const auto& b_end = b->node->finished_at;
    // A task still without an end time sorts after those that have one.
    if (a_end != b_end) return !a_end.empty() && (b_end.empty() || a_end < b_end);
    return a->path < b->path;
  });
  std::vector<report::FailedTask> out;
  for (const Entry* entry : picked) {
    out.push_back(failed_task(*entry, run_url));
    if (entry->role == Role::driver) out.back().name = out.back().path.substr(out.back().path.rfind('/') + 1);
  }
  return out;
}

report::RunGraph TaskView::graph() const {
  report::RunGraph graph;
  // What is drawn: tasks, and the groups that name something (group_label).
  auto drawn = [&](int i) {
    const auto& entry = entries_[i];
    return entry.role == Role::task || (entry.role == Role::group && !group_label(*entry.node).empty());
  };
  auto drawn_parent = [&](int i) {
    for (int at = entries_[i].parent; at >= 0; at = entries_[at].parent) {
      if (drawn(at)) return at;
    }
    return -1;
  };
  std::set<int> failed_path;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (!drawn(static_cast<int>(i)) || entries_[i].role != Role::task || !is_failure(entries_[i].node->state))
      continue;
    for (int at = static_cast<int>(i); at >= 0; at = drawn_parent(at)) failed_path.insert(at);
  }
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const int index = static_cast<int>(i);
    if (!drawn(index)) continue;
    const auto& entry = entries_[i];
    report::GraphNode node;
    node.id = entry.node->id;
    node.group = entry.role == Role::group;
    node.label = node.group ? group_label(*entry.node) : entry.node->name;
    if (node.group) {
      if (auto iteration = iteration_of(node.label)) node.label = fmt::format("[{}]", iteration->second);
    }
    node.state = entry.node->state;
    if (const int parent = drawn_parent(index); parent >= 0) node.parent = entries_[parent].node->id;
    node.on_failed_path = failed_path.contains(index);
    graph.nodes.push_back(std::move(node));
  }
  // Dependencies: Argo lists a task's dependents under its outbound nodes (the executor pod of a
  // KFP 2 task) and the dependent's driver first; both ends are taken to the task they belong to.
  std::unordered_map<std::string, int> by_id;
  for (std::size_t i = 0; i < entries_.size(); ++i) by_id.emplace(entries_[i].node->id, static_cast<int>(i));
  auto owner = [&](int i) -> int {
    if (drawn(i) && entries_[i].role == Role::task) return i;
    if (entries_[i].role == Role::executor || entries_[i].role == Role::attempt) {
      const int parent = entries_[i].parent;
      return parent >= 0 && entries_[parent].role == Role::task ? parent : -1;
    }
    return -1;
  };
  std::set<std::pair<std::string, std::string>> edges;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const int from = owner(static_cast<int>(i));
    if (from < 0) continue;
    std::vector<int> targets;
    for (const auto& child : entries_[i].node->children) {
      if (auto found = by_id.find(child); found != by_id.end()) targets.push_back(found->second);
    }
    for (std::size_t k = 0; k < targets.size() && k < entries_.size(); ++k) {
      const int to = targets[k];
      if (entries_[to].role == Role::driver) {
        for (const auto& child : entries_[to].node->children) {
          if (auto found = by_id.find(child); found != by_id.end()) targets.push_back(found->second);
        }
        continue;
      }
      if (!drawn(to) || to == from || entries_[to].parent == from ||
          entries_[to].parent == static_cast<int>(i))
        continue;
      edges.emplace(entries_[from].node->id, entries_[to].node->id);
    }
  }
  graph.edges.assign(edges.begin(), edges.end());
  return graph;
}

std::string progress_text(const report::TaskCounts& counts, std::size_t max_names) {
  std::string text = fmt::format("tasks {}/{} done ({} succeeded, {} failed", counts.done(), counts.total,
                                 counts.succeeded, counts.failed);
  if (counts.skipped > 0) text += fmt::format(", {} skipped", counts.skipped);
  if (counts.canceled > 0) text += fmt::format(", {} canceled", counts.canceled);
  text += fmt::format("), {} running", counts.running);
  const std::size_t shown = std::min(max_names, counts.running_tasks.size());
  if (shown > 0) {
    text += ": ";
    for (std::size_t i = 0; i < shown; ++i) text += (i > 0 ? ", " : "") + counts.running_tasks[i];
    if (counts.running_tasks.size() > shown)
      text += fmt::format(" and {} more", counts.running_tasks.size() - shown);
  }
  return text;
}

}  // namespace kfp::publish
