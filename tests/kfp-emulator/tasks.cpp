#include "tasks.hpp"

#include "auth.hpp"
#include "store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>

namespace kfp::emulator {

namespace json = boost::json;

namespace {

// Loops with more items are cut to this many iterations: enough for every path a test reads.
constexpr std::size_t max_iterations = 20;
// Iterations of a loop whose items are only known at run time (a task's output, a pipeline input).
constexpr std::size_t runtime_iterations = 2;

const json::object* object_at(const json::value& value, std::string_view key) {
  if (!value.is_object()) return nullptr;
  const auto* found = value.as_object().if_contains(key);
  return found != nullptr && found->is_object() ? &found->as_object() : nullptr;
}

std::string string_at(const json::object& object, std::string_view key) {
  const auto* found = object.if_contains(key);
  return found != nullptr && found->is_string() ? std::string(found->as_string()) : std::string{};
}

// Orders a DAG's task names so that each comes after the tasks it depends on (ties by name, as
// the compiler sorts them); a cycle keeps the remaining tasks in name order.
std::vector<std::string> topological(const std::map<std::string, std::vector<std::string>>& dependencies) {
  std::vector<std::string> order;
  std::set<std::string> placed;
  while (order.size() < dependencies.size()) {
    bool progress = false;
    for (const auto& [name, deps] : dependencies) {
      if (placed.contains(name)) continue;
      bool ready = std::all_of(deps.begin(), deps.end(), [&](const auto& dep) {
        return placed.contains(dep) || !dependencies.contains(dep);
      });
      if (!ready) continue;
      order.push_back(name);
      placed.insert(name);
      progress = true;
    }
    if (progress) continue;
    for (const auto& [name, deps] : dependencies)
      if (!placed.contains(name)) {
        order.push_back(name);
        placed.insert(name);
      }
  }
  return order;
}

class Builder {
 public:
  Blueprint blueprint;

  int add(int parent, std::string suffix, std::string display, std::string template_name, NodeType type,
          int scope, int start) {
    BlueprintNode node;
    node.suffix = std::move(suffix);
    node.display_name = std::move(display);
    node.template_name = std::move(template_name);
    node.type = type;
    node.parent = parent;
    node.scope = scope;
    node.start = start;
    node.end = start;
    if (parent >= 0) node.first_iteration = blueprint.nodes[parent].first_iteration;
    blueprint.nodes.push_back(std::move(node));
    int index = static_cast<int>(blueprint.nodes.size()) - 1;
    if (parent >= 0) blueprint.nodes[parent].children.push_back(index);
    return index;
  }

  int add_pod(int parent, std::string suffix, std::string display, std::string template_name, int scope,
              int start) {
    int index = add(parent, std::move(suffix), std::move(display), std::move(template_name), NodeType::pod,
                    scope, start);
    blueprint.nodes[index].end = start + 1;
    blueprint.slots = std::max(blueprint.slots, start + 1);
    return index;
  }

  // Lists `node` as a task of the DAG node `dag`, after the tasks at `deps`; returns its position.
  int entry(int dag, int node, std::vector<int> deps) {
    auto& entries = blueprint.nodes[dag].entries;
    entries.emplace_back(node, std::move(deps));
    return static_cast<int>(entries.size()) - 1;
  }

  // Lays out the tasks of the DAG node `node` in dependency order from slot `start`: each starts
  // when the tasks it depends on end. `place(name, begin, deps, entry)` lays one task out, listed
  // after the tasks at `deps`, sets `entry` to its position in the DAG's list and returns its end.
  using Place = std::function<int(const std::string&, int, std::vector<int>, int&)>;
  int lay_out(int node, const std::map<std::string, std::vector<std::string>>& dependencies, int start,
              const Place& place) {
    std::map<std::string, int> ends, entries;
    int end = start;
    for (const auto& name : topological(dependencies)) {
      int begin = start;
      std::vector<int> deps;
      for (const auto& dep : dependencies.at(name))
        if (auto found = ends.find(dep); found != ends.end()) {
          begin = std::max(begin, found->second);
          deps.push_back(entries[dep]);
        }
      int position = -1;
      int finish = place(name, begin, std::move(deps), position);
      ends[name] = finish;
      entries[name] = position;
      end = std::max(end, finish);
    }
    blueprint.nodes[node].end = std::max(blueprint.nodes[node].end, end);
    return end;
  }

  void mark_user(int pod, const std::string& name, const std::string& path) {
    auto& node = blueprint.nodes[pod];
    node.user_pod = true;
    node.task_name = name;
    node.task_path = path;
  }

  // ---- v2 PipelineSpec, as the argo compiler lays it out (argocompiler/container.go, dag.go).

  const json::object* components = nullptr;
  const json::object* executors = nullptr;
  const json::object* root_inputs = nullptr;

  std::size_t iteration_count(const json::object& task) const {
    if (const auto* iterator = task.if_contains("parameterIterator"); iterator && iterator->is_object()) {
      const auto* items = object_at(*iterator, "items");
      if (items != nullptr) {
        auto raw = string_at(*items, "raw");
        if (!raw.empty()) {
          boost::system::error_code ec;
          auto parsed = json::parse(raw, ec);
          if (!ec && parsed.is_array()) return std::min(parsed.as_array().size(), max_iterations);
        }
      }
    }
    return runtime_iterations;
  }

  // Lays out the tasks of `dag` under the DAG node `node`, from slot `start`; returns the end.
  int v2_dag(int node, const json::object& dag, int start, const std::string& path) {
    const auto* tasks = dag.if_contains("tasks");
    if (tasks == nullptr || !tasks->is_object()) return start;
    std::map<std::string, std::vector<std::string>> dependencies;
    for (const auto& [key, task] : tasks->as_object()) {
      auto& deps = dependencies[std::string(key)];
      if (const auto* listed = task.is_object() ? task.as_object().if_contains("dependentTasks") : nullptr;
          listed != nullptr && listed->is_array())
        for (const auto& dep : listed->as_array())
          if (dep.is_string()) deps.emplace_back(dep.as_string());
    }
    return lay_out(node, dependencies, start,
                   [&](const std::string& key, int begin, std::vector<int> deps, int& entry) {
                     return v2_task(node, key, tasks->as_object().at(key).as_object(), begin, path,
                                    std::move(deps), entry);
                   });
  }

  // Lays out one task from slot `t`, listed after the tasks at `deps`; `last_entry` receives the
  // position of its last node in the DAG's list (what the tasks depending on it wait for).
  int v2_task(int dag_node, const std::string& key, const json::object& task, int t, const std::string& path,
              std::vector<int> deps, int& last_entry) {
    std::string component_name;
    if (const auto* ref = task.if_contains("componentRef"); ref && ref->is_object())
      component_name = string_at(ref->as_object(), "name");
    const json::object* component = nullptr;
    if (components != nullptr)
      if (const auto* found = components->if_contains(component_name); found && found->is_object())
        component = &found->as_object();
    const auto* sub_dag = component != nullptr ? component->if_contains("dag") : nullptr;
    std::string task_path = path.empty() ? key : path + "/" + key;
    if (task.contains("parameterIterator") || task.contains("artifactIterator")) {
      // dag.go iterator: <task>-loop-driver, then <task>-loop (the loop iterator) holding the
      // iteration driver and the expanded iterations, each an item driver and the loop body.
      int driver = add_pod(dag_node, "." + key + "-loop-driver", key + "-loop-driver", "system-dag-driver",
                           dag_node, t);
      int driver_entry = entry(dag_node, driver, std::move(deps));
      int loop = add(dag_node, "." + key + "-loop", key + "-loop", component_name + "-loop-iterator",
                     NodeType::dag, dag_node, t + 1);
      last_entry = entry(dag_node, loop, {driver_entry});
      int iteration_driver =
          add_pod(loop, ".iteration-driver", "iteration-driver", "system-dag-driver", loop, t + 1);
      int iteration_driver_entry = entry(loop, iteration_driver, {});
      int group = add(loop, ".iteration-iterations", "iteration-iterations", component_name + "-iteration",
                      NodeType::task_group, loop, t + 2);
      entry(loop, group, {iteration_driver_entry});
      int end = t + 2;
      auto count = iteration_count(task);
      for (std::size_t i = 0; i < count; ++i) {
        auto label = fmt::format("({}:{})", i, i);
        int iteration = add(group, label, "iteration-iterations" + label, component_name + "-iteration",
                            NodeType::dag, loop, t + 2);
        if (i != 0) blueprint.nodes[iteration].first_iteration = false;
        int item_driver = add_pod(iteration, ".iteration-item-driver", "iteration-item-driver",
                                  "system-dag-driver", iteration, t + 2);
        int item_driver_entry = entry(iteration, item_driver, {});
        int item = add(iteration, ".iteration-item", "iteration-item", component_name, NodeType::dag,
                       iteration, t + 3);
        entry(iteration, item, {item_driver_entry});
        int finish = t + 3;
        if (sub_dag != nullptr && sub_dag->is_object())
          finish = v2_dag(item, sub_dag->as_object(), t + 3, task_path);
        blueprint.nodes[item].end = finish;
        blueprint.nodes[iteration].end = finish;
        end = std::max(end, finish);
      }
      blueprint.nodes[group].end = end;
      blueprint.nodes[loop].end = end;
      return end;
    }
    if (sub_dag != nullptr && sub_dag->is_object()) {
      int driver =
          add_pod(dag_node, "." + key + "-driver", key + "-driver", "system-dag-driver", dag_node, t);
      int driver_entry = entry(dag_node, driver, std::move(deps));
      int inner = add(dag_node, "." + key, key, component_name, NodeType::dag, dag_node, t + 1);
      last_entry = entry(dag_node, inner, {driver_entry});
      int end = v2_dag(inner, sub_dag->as_object(), t + 1, task_path);
      blueprint.nodes[inner].end = end;
      return end;
    }
    std::string display = key;
    std::string executor_label = component != nullptr ? string_at(*component, "executorLabel") : "";
    const auto* executor = executors != nullptr ? executors->if_contains(executor_label) : nullptr;
    if (executor != nullptr && executor->is_object() && executor->as_object().contains("importer")) {
      // importer.go: one pod runs the importer, no driver.
      int pod = add_pod(dag_node, "." + key, key, "system-importer", dag_node, t);
      last_entry = entry(dag_node, pod, std::move(deps));
      mark_user(pod, display, task_path);
      return t + 1;
    }
    // container.go: <task>-driver, then <task> (system-container-executor) whose "executor" pod
    // (system-container-impl) runs the component.
    int driver =
        add_pod(dag_node, "." + key + "-driver", key + "-driver", "system-container-driver", dag_node, t);
    int driver_entry = entry(dag_node, driver, std::move(deps));
    int executor_dag =
        add(dag_node, "." + key, key, "system-container-executor", NodeType::dag, dag_node, t + 1);
    last_entry = entry(dag_node, executor_dag, {driver_entry});
    int pod = add_pod(executor_dag, ".executor", "executor", "system-container-impl", executor_dag, t + 1);
    entry(executor_dag, pod, {});
    mark_user(pod, display, task_path);
    blueprint.nodes[executor_dag].end = t + 2;
    return t + 2;
  }

  bool v2(const json::value& document) {
    const auto* root = object_at(document, "root");
    const auto* dag = root != nullptr ? root->if_contains("dag") : nullptr;
    if (dag == nullptr || !dag->is_object()) return false;
    components = object_at(document, "components");
    if (const auto* deployment = object_at(document, "deploymentSpec"))
      if (const auto* found = deployment->if_contains("executors"); found && found->is_object())
        executors = &found->as_object();
    blueprint.v2 = true;
    // argo.go: the entrypoint DAG runs root-driver, then root.
    int workflow = add(-1, "", "", "entrypoint", NodeType::dag, -1, 0);
    int root_driver = add_pod(workflow, ".root-driver", "root-driver", "system-dag-driver", workflow, 0);
    int root_driver_entry = entry(workflow, root_driver, {});
    int root_node = add(workflow, ".root", "root", "root", NodeType::dag, workflow, 1);
    entry(workflow, root_node, {root_driver_entry});
    int end = v2_dag(root_node, dag->as_object(), 1, "");
    blueprint.nodes[root_node].end = end;
    blueprint.nodes[workflow].end = end;
    return true;
  }

  // ---- Argo Workflow packages: the templates as the workflow controller runs them.

  std::map<std::string, const json::object*> templates;

  static std::vector<std::string> depends_names(const json::object& task) {
    std::vector<std::string> names;
    if (const auto* listed = task.if_contains("dependencies"); listed && listed->is_array())
      for (const auto& dep : listed->as_array())
        if (dep.is_string()) names.emplace_back(dep.as_string());
    // "depends": "a && (b.Succeeded || c.Failed)": the task names before any ".Result".
    auto depends = string_at(task, "depends");
    std::string word;
    bool after_dot = false;
    auto flush = [&] {
      if (!word.empty() && !after_dot) names.push_back(word);
      word.clear();
      after_dot = false;
    };
    for (char c : depends) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
        word.push_back(c);
      } else if (c == '.') {
        if (!word.empty() && !after_dot) names.push_back(word);
        word.clear();
        after_dot = true;
      } else {
        flush();
      }
    }
    flush();
    return names;
  }

  static std::vector<std::string> expansion_labels(const json::object& task) {
    std::vector<std::string> labels;
    if (const auto* items = task.if_contains("withItems"); items && items->is_array()) {
      std::size_t i = 0;
      for (const auto& item : items->as_array()) {
        if (i == max_iterations) break;
        std::string text = item.is_string() ? std::string(item.as_string()) : json::serialize(item);
        labels.push_back(fmt::format("({}:{})", i++, text));
      }
      return labels;
    }
    if (task.contains("withParam") || task.contains("withSequence"))
      for (std::size_t i = 0; i < runtime_iterations; ++i) labels.push_back(fmt::format("({}:{})", i, i));
    return labels;
  }

  // A task or step calling `template_name`, with Argo's loop expansion and retry node around it.
  int argo_call(int parent, const json::object& call, int scope, int start, const std::string& path) {
    auto name = string_at(call, "name");
    auto template_name = string_at(call, "template");
    auto labels = expansion_labels(call);
    auto task_path = path.empty() ? name : path + "/" + name;
    if (labels.empty()) return argo_node(parent, "." + name, name, template_name, scope, start, task_path);
    int group = add(parent, "." + name, name, template_name, NodeType::task_group, scope, start);
    int end = start;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      int before = static_cast<int>(blueprint.nodes.size());
      int finish = argo_node(group, labels[i], name + labels[i], template_name, scope, start, task_path);
      if (i != 0)
        for (int n = before; n < static_cast<int>(blueprint.nodes.size()); ++n)
          blueprint.nodes[n].first_iteration = false;
      end = std::max(end, finish);
    }
    blueprint.nodes[group].end = end;
    return end;
  }

  int argo_node(int parent, std::string suffix, std::string display, const std::string& template_name,
                int scope, int start, const std::string& path) {
    auto it = templates.find(template_name);
    const json::object* tmpl = it == templates.end() ? nullptr : it->second;
    if (tmpl != nullptr && tmpl->contains("retryStrategy")) {
      // A template with a retryStrategy runs as a Retry node holding its attempts "(0)", "(1)", ...
      int retry = add(parent, std::move(suffix), display, template_name, NodeType::retry, scope, start);
      int end = argo_body(retry, "(0)", display + "(0)", template_name, tmpl, scope, start, path);
      blueprint.nodes[retry].end = end;
      return end;
    }
    return argo_body(parent, std::move(suffix), std::move(display), template_name, tmpl, scope, start, path);
  }

  int argo_body(int parent, std::string suffix, std::string display, const std::string& template_name,
                const json::object* tmpl, int scope, int start, const std::string& path) {
    if (tmpl != nullptr && tmpl->contains("dag")) {
      int node = add(parent, std::move(suffix), display, template_name, NodeType::dag, scope, start);
      const auto& dag = tmpl->at("dag");
      const json::value* tasks = dag.is_object() ? dag.as_object().if_contains("tasks") : nullptr;
      if (tasks == nullptr || !tasks->is_array()) return start;
      std::map<std::string, std::vector<std::string>> dependencies;
      std::map<std::string, const json::object*> by_name;
      for (const auto& task : tasks->as_array()) {
        if (!task.is_object()) continue;
        auto name = string_at(task.as_object(), "name");
        dependencies[name] = depends_names(task.as_object());
        by_name[name] = &task.as_object();
      }
      return lay_out(node, dependencies, start,
                     [&](const std::string& name, int begin, std::vector<int> deps, int& entry) {
                       int task_node = static_cast<int>(blueprint.nodes.size());
                       int finish = argo_call(node, *by_name[name], node, begin, parent < 0 ? "" : path);
                       entry = this->entry(node, task_node, std::move(deps));
                       return finish;
                     });
    }
    if (tmpl != nullptr && tmpl->contains("steps")) {
      int node = add(parent, std::move(suffix), display, template_name, NodeType::steps, scope, start);
      const auto& groups = tmpl->at("steps");
      int cursor = start;
      if (groups.is_array()) {
        std::size_t index = 0;
        for (const auto& group : groups.as_array()) {
          auto label = fmt::format("[{}]", index++);
          int group_node = add(node, label, label, template_name, NodeType::step_group, node, cursor);
          int end = cursor;
          if (group.is_array())
            for (const auto& step : group.as_array())
              if (step.is_object())
                end = std::max(end,
                               argo_call(group_node, step.as_object(), node, cursor, parent < 0 ? "" : path));
          blueprint.nodes[group_node].end = end;
          cursor = end;
        }
      }
      blueprint.nodes[node].end = cursor;
      return cursor;
    }
    // container, script, resource, containerSet, data: one pod.
    int pod = add_pod(parent, std::move(suffix), display, template_name, scope, start);
    if (parent >= 0) mark_user(pod, display, path);
    return start + 1;
  }

  bool argo(const json::value& document) {
    const auto* spec = object_at(document, "spec");
    if (spec == nullptr) return false;
    const auto* list = spec->if_contains("templates");
    if (list == nullptr || !list->is_array()) return false;
    for (const auto& tmpl : list->as_array())
      if (tmpl.is_object()) templates[string_at(tmpl.as_object(), "name")] = &tmpl.as_object();
    auto entrypoint = string_at(*spec, "entrypoint");
    if (!templates.contains(entrypoint)) return false;
    blueprint.spec = *spec;
    argo_node(-1, "", "", entrypoint, -1, 0, "");
    return !blueprint.nodes.empty();
  }
};

std::uint32_t fnv32a(std::string_view text) {
  std::uint32_t hash = 2166136261u;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 16777619u;
  }
  return hash;
}

std::uint64_t fnv64a(std::string_view text, std::uint64_t seed) {
  std::uint64_t hash = 14695981039346656037ull ^ seed;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

// The task id CreateOrUpdateTasks gave the node (a random UUID, kept across reports); here derived
// from the run and node so that every report of the run gives it the same one.
std::string task_uuid(const std::string& run_id, const std::string& node_id) {
  auto key = run_id + "/" + node_id;
  auto high = fnv64a(key, 1), low = fnv64a(key, 2);
  high = (high & 0xffffffffffff0fffull) | 0x4000ull;
  low = (low & 0x3fffffffffffffffull) | 0x8000000000000000ull;
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xffff, high & 0xffff,
                     low >> 48, low & 0xffffffffffffull);
}

std::string_view type_name(NodeType type) {
  switch (type) {
    case NodeType::pod: return "Pod";
    case NodeType::dag: return "DAG";
    case NodeType::steps: return "Steps";
    case NodeType::step_group: return "StepGroup";
    case NodeType::task_group: return "TaskGroup";
    case NodeType::retry: return "Retry";
  }
  return "Pod";
}

// Argo 3.4 made the v2 pod-name format (<workflow>-<template>-<hash>) the default; KFP 2.3 is the
// first release here that ships Argo 3.4 (before it, a pod is named after its node id).
bool pod_names_v2(ServerVersion version) {
  return at_least(version, ServerVersion::v2_3_0);
}

std::string log_head(const BlueprintNode& node, const std::string& pod_name) {
  if (node.user_pod)
    return fmt::format("{}: starting\n{}: running in pod {}\n", node.task_name, node.task_name, pod_name);
  return fmt::format("{} ({}): pod {}\n", node.display_name, node.template_name, pod_name);
}

}  // namespace

std::shared_ptr<const Blueprint> make_blueprint(const json::value& document) {
  const json::value* spec = &document;
  if (const auto* wrapped = object_at(document, "pipeline_spec"); wrapped != nullptr)
    spec = &document.as_object().at("pipeline_spec");
  Builder builder;
  bool laid_out = false;
  try {
    laid_out = object_at(*spec, "root") != nullptr ? builder.v2(*spec) : builder.argo(*spec);
  } catch (const std::exception&) {
    laid_out = false;
  }
  if (!laid_out || builder.blueprint.nodes.empty()) return nullptr;
  return std::make_shared<const Blueprint>(std::move(builder.blueprint));
}

namespace {

// Argo's node links among the nodes that exist (workflow/controller/dag.go, steps.go): a DAG's
// tasks without dependencies under the DAG node, every other task under the outbound nodes of each
// task it depends on; a steps node's first group under it, each later group under the outbound
// nodes of the previous group's steps; a group's, task group's or retry's items under it. A node's
// outbound nodes: a pod itself; a DAG the outbound nodes of its last tasks (those no task of it
// depends on); a steps node those of its last group's steps; a task group's, its items'; a retry's,
// its last attempt's.
void link_children(const Blueprint& bp, RunNodes& out) {
  const int count = static_cast<int>(bp.nodes.size());
  auto exists = [&](int index) { return out.position[index] >= 0; };
  std::vector<std::optional<std::vector<int>>> memo(count);
  std::function<std::vector<int>(int)> outbound = [&](int index) -> std::vector<int> {
    if (memo[index]) return *memo[index];
    const auto& node = bp.nodes[index];
    std::vector<int> result;
    auto take = [&](int child) {
      if (!exists(child)) return;
      for (int o : outbound(child))
        if (std::find(result.begin(), result.end(), o) == result.end()) result.push_back(o);
    };
    switch (node.type) {
      case NodeType::pod: result.push_back(index); break;
      case NodeType::dag:
        for (std::size_t i = 0; i < node.entries.size(); ++i) {
          bool depended_on = std::any_of(node.entries.begin(), node.entries.end(), [&](const auto& other) {
            return std::find(other.second.begin(), other.second.end(), static_cast<int>(i)) !=
                   other.second.end();
          });
          if (!depended_on) take(node.entries[i].first);
        }
        break;
      case NodeType::steps:
        for (auto it = node.children.rbegin(); it != node.children.rend(); ++it)
          if (exists(*it)) {
            for (int step : bp.nodes[*it].children) take(step);
            break;
          }
        break;
      case NodeType::retry:
        for (auto it = node.children.rbegin(); it != node.children.rend(); ++it)
          if (exists(*it)) {
            take(*it);
            break;
          }
        break;
      case NodeType::task_group:
      case NodeType::step_group:
        for (int child : node.children) take(child);
        break;
    }
    memo[index] = result;
    return result;
  };
  std::vector<std::vector<int>> links(count);
  auto link = [&](int from, int to) {
    if (!exists(from) || !exists(to)) return;
    if (std::find(links[from].begin(), links[from].end(), to) == links[from].end()) links[from].push_back(to);
  };
  for (int i = 0; i < count; ++i) {
    if (!exists(i)) continue;
    const auto& node = bp.nodes[i];
    if (node.type == NodeType::dag) {
      for (const auto& [task, deps] : node.entries) {
        if (deps.empty()) link(i, task);
        for (int dep : deps)
          for (int o : outbound(node.entries[dep].first)) link(o, task);
      }
    } else if (node.type == NodeType::steps) {
      int previous = -1;
      for (int group : node.children) {
        if (previous < 0)
          link(i, group);
        else
          for (int step : bp.nodes[previous].children)
            if (exists(step))
              for (int o : outbound(step)) link(o, group);
        previous = group;
      }
    } else if (node.type != NodeType::pod) {
      for (int child : node.children) link(i, child);
    }
  }
  for (auto& status : out.nodes) {
    for (int child : links[status.index]) status.children.push_back(out.position[child]);
    const auto type = bp.nodes[status.index].type;
    if ((type == NodeType::dag || type == NodeType::steps) && status.phase != "Running" &&
        status.phase != "Pending")
      for (int o : outbound(status.index)) status.outbound.push_back(out.position[o]);
  }
}

}  // namespace

RunNodes run_nodes(const Run& run, Time now, ServerVersion version) {
  RunNodes out;
  out.workflow_name = run.workflow;
  if (!run.blueprint) return out;
  const auto& bp = *run.blueprint;
  const int count = static_cast<int>(bp.nodes.size());
  const auto begin = std::max(run.created_at, run.started_at);
  const auto running_from = begin + run.duration / 5;
  const auto scheduled_end = begin + run.duration;
  out.position.assign(count, -1);
  if (now < running_from) return out;

  // The pod the plan names (its first iteration): on FAILED the one that fails (by default the
  // last task to start), on CANCELED the one running when the run is terminated.
  int failed = -1;
  if (run.outcome == Outcome::failed || run.outcome == Outcome::canceled) {
    const auto& wanted = run.plan.failed_task;
    for (int i = 0; i < count; ++i) {
      const auto& node = bp.nodes[i];
      if (!node.user_pod) continue;
      if (!wanted.empty()) {
        bool named = node.task_name == wanted || node.task_path == wanted;
        if (named && (failed < 0 || (node.first_iteration && !bp.nodes[failed].first_iteration))) failed = i;
      } else if (run.outcome == Outcome::failed && (failed < 0 || node.start >= bp.nodes[failed].start)) {
        failed = i;
      }
    }
  }
  int canceled_in = -1;
  if (run.outcome == Outcome::canceled) std::swap(canceled_in, failed);
  out.failed_pod = failed;

  // A failure stops its DAGs (and steps) from starting anything new (Argo's failFast default);
  // branches in other DAGs run on.
  std::vector<bool> blocked(count, false);
  if (failed >= 0) {
    std::vector<bool> ancestor(count, false);
    for (int n = failed; n >= 0; n = bp.nodes[n].parent) ancestor[n] = true;
    const int f = bp.nodes[failed].start;
    for (int i = 1; i < count; ++i) {
      const auto& node = bp.nodes[i];
      blocked[i] =
          blocked[node.parent] || (node.start > f && node.scope >= 0 && ancestor[node.scope] && !ancestor[i]);
    }
  }
  int slots = 1;
  for (int i = 0; i < count; ++i)
    if (bp.nodes[i].type == NodeType::pod && !blocked[i]) slots = std::max(slots, bp.nodes[i].end);

  // Slot i starts at slot_time(i). A queued CANCELED run is terminated mid-way, at its end time.
  const auto span = std::chrono::duration_cast<std::chrono::milliseconds>(scheduled_end - running_from);
  double slot_ms = static_cast<double>(span.count()) / slots;
  std::optional<Time> kill;
  if (run.outcome == Outcome::canceled) {
    // Mid-way through the named task's pod, else through the run's middle slot.
    double kill_slot = canceled_in >= 0 ? bp.nodes[canceled_in].start + 0.5 : slots / 2 + 0.5;
    slot_ms = static_cast<double>(span.count()) / kill_slot;
    kill = scheduled_end;
  }
  if (run.terminated_at && (!kill || *run.terminated_at < *kill)) kill = run.terminated_at;
  auto slot_time = [&](int slot) {
    return running_from + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double, std::milli>(slot * slot_ms));
  };
  const bool hang = run.outcome == Outcome::hang;

  struct State {
    bool exists = false;
    std::string phase, message;
    Time started{};
    std::optional<Time> finished;
  };
  std::vector<State> states(count);
  // Children have larger indexes than their parents: settle them first.
  for (int i = count - 1; i >= 0; --i) {
    const auto& node = bp.nodes[i];
    auto& state = states[i];
    if (blocked[i]) continue;
    if (node.type == NodeType::pod) {
      auto start = slot_time(node.start);
      if (start > now || (kill && start >= *kill)) continue;
      state.exists = true;
      state.started = start;
      std::optional<Time> end;
      if (!(hang && node.end >= slots)) end = slot_time(node.end);
      // A pod is Pending (scheduled, containers being created) for the first fifth of its slot.
      const auto running = start + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double, std::milli>(slot_ms / 5));
      const char* alive = now < running ? "Pending" : "Running";
      if (kill && (!end || *end > *kill)) {
        // exec_control.go: a pod past the workflow's deadline (KFP terminates by setting
        // activeDeadlineSeconds to 0) is stopped and its node failed with this message.
        if (now < *kill) {
          state.phase = alive;
        } else {
          state.phase = "Failed";
          state.message = "Step exceeded its deadline";
          state.finished = kill;
        }
      } else if (!end || now < *end) {
        state.phase = alive;
      } else {
        state.finished = end;
        if (i == failed) {
          state.phase = "Failed";
          state.message = run.plan.message.empty() ? "Error (exit code 1)" : run.plan.message;
        } else {
          state.phase = "Succeeded";
        }
      }
      continue;
    }
    bool complete = true;
    int first_failed = -1;
    for (int child : node.children) {
      if (blocked[child]) continue;
      const auto& child_state = states[child];
      if (!child_state.exists) {
        // A child that would start before the deadline is still to come.
        if (!kill || now < *kill || slot_time(bp.nodes[child].start) < *kill) complete = false;
        continue;
      }
      if (!state.exists || child_state.started < state.started) state.started = child_state.started;
      state.exists = true;
      if (child_state.phase == "Running" || child_state.phase == "Pending") complete = false;
      if (child_state.finished && (!state.finished || *child_state.finished > *state.finished))
        state.finished = child_state.finished;
      if (child_state.phase == "Failed" && first_failed < 0) first_failed = child;
    }
    if (!state.exists) continue;
    if (!complete) {
      state.phase = "Running";
      state.finished.reset();
    } else if (first_failed >= 0) {
      state.phase = "Failed";
      state.message = "child-failed";  // named after the child's id below
      state.finished = state.finished.value_or(now);
    } else {
      state.phase = "Succeeded";
    }
  }

  // Names and ids: a node's name extends its parent's; its id hashes the name (Argo NodeID).
  std::vector<std::string> names(count), ids(count);
  for (int i = 0; i < count; ++i) {
    const auto& node = bp.nodes[i];
    names[i] = node.parent < 0 ? run.workflow : names[node.parent] + node.suffix;
    ids[i] = node.parent < 0 ? run.workflow : fmt::format("{}-{}", run.workflow, fnv32a(names[i]));
  }
  for (int i = 0; i < count; ++i) {
    if (!states[i].exists) continue;
    const auto& node = bp.nodes[i];
    NodeStatus status;
    status.index = i;
    status.id = ids[i];
    status.name = names[i];
    if (node.type == NodeType::pod) {
      if (!pod_names_v2(version) || node.parent < 0)
        status.pod_name = ids[i];
      else
        status.pod_name = fmt::format("{}-{}-{}", run.workflow, node.template_name, fnv32a(names[i]));
    }
    status.phase = states[i].phase;
    status.message = states[i].message;
    if (status.message == "child-failed") {
      // steps.go / dag.go: "child '<id>' failed", naming the first failed child.
      for (int child : node.children)
        if (states[child].exists && states[child].phase == "Failed") {
          status.message = fmt::format("child '{}' failed", ids[child]);
          break;
        }
    }
    status.started_at = states[i].started;
    status.finished_at = states[i].finished;
    out.position[i] = static_cast<int>(out.nodes.size());
    out.nodes.push_back(std::move(status));
  }
  link_children(bp, out);
  return out;
}

json::array task_details(const Run& run, const RunNodes& nodes) {
  // toModelTasks sorts the node ids; every node becomes a task (drivers, DAGs and the root too).
  std::vector<const NodeStatus*> sorted;
  for (const auto& node : nodes.nodes) sorted.push_back(&node);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
  json::array out;
  for (const auto* node : sorted) {
    const auto& blueprint_node = run.blueprint->nodes[node->index];
    json::object task;
    task["run_id"] = run.id;
    task["task_id"] = task_uuid(run.id, node->id);
    task["display_name"] = blueprint_node.parent < 0 ? run.workflow : blueprint_node.display_name;
    // CreatedTimestamp is the workflow's creation; start and end the node's, in whole seconds.
    task["create_time"] = rfc3339(run.created_at);
    task["start_time"] = rfc3339(node->started_at);
    // An unfinished node's finishedAt is the zero metav1.Time, whose Unix() is year 1.
    task["end_time"] = node->finished_at ? rfc3339(*node->finished_at) : std::string("0001-01-01T00:00:00Z");
    // model.RuntimeState(phase).ToV2(): Running, Succeeded, Failed map to the v2 names.
    if (node->phase == "Pending")
      task["state"] = "PENDING";
    else if (node->phase == "Running")
      task["state"] = "RUNNING";
    else if (node->phase == "Succeeded")
      task["state"] = "SUCCEEDED";
    else if (node->phase == "Failed")
      task["state"] = "FAILED";
    if (!node->children.empty()) {
      json::array children;
      for (int child : node->children) children.push_back(json::object{{"pod_name", nodes.nodes[child].id}});
      task["child_tasks"] = std::move(children);
    }
    out.push_back(std::move(task));
  }
  return out;
}

std::string workflow_manifest(const Run& run, const RunNodes& nodes, ServerVersion version) {
  json::object metadata{{"name", run.workflow},
                        {"namespace", run.ns.empty() ? std::string(kfp_install_namespace) : run.ns},
                        {"creationTimestamp", rfc3339(run.created_at)}};
  const NodeStatus* root = nodes.nodes.empty() ? nullptr : &nodes.nodes.front();
  std::string phase = root != nullptr ? root->phase : "";
  json::object labels{
      {"pipeline/runid", run.id},
      {"workflows.argoproj.io/completed", phase == "Succeeded" || phase == "Failed" ? "true" : "false"}};
  if (!phase.empty()) labels["workflows.argoproj.io/phase"] = phase;
  metadata["labels"] = std::move(labels);
  if (pod_names_v2(version))
    metadata["annotations"] = json::object{{"workflows.argoproj.io/pod-name-format", "v2"}};
  json::object workflow{{"kind", "Workflow"}, {"apiVersion", "argoproj.io/v1alpha1"}, {"metadata", metadata}};
  if (run.blueprint && !run.blueprint->spec.is_null())
    workflow["spec"] = run.blueprint->spec;
  else
    workflow["spec"] =
        json::object{{"entrypoint", "entrypoint"}, {"serviceAccountName", run.service_account}};
  json::object status;
  if (root != nullptr) {
    status["phase"] = phase;
    status["startedAt"] = rfc3339(root->started_at);
    status["finishedAt"] =
        root->finished_at ? json::value(rfc3339(*root->finished_at)) : json::value(nullptr);
    if (!root->message.empty()) status["message"] = root->message;
    int pods = 0, done = 0;
    json::object map;
    for (const auto& node : nodes.nodes) {
      const auto& blueprint_node = run.blueprint->nodes[node.index];
      json::object item{
          {"id", node.id},
          {"name", node.name},
          {"displayName", blueprint_node.parent < 0 ? run.workflow : blueprint_node.display_name},
          {"type", type_name(blueprint_node.type)},
          {"templateName", blueprint_node.template_name},
          {"templateScope", "local/" + run.workflow},
          {"phase", node.phase}};
      if (blueprint_node.scope >= 0 && nodes.position[blueprint_node.scope] >= 0)
        item["boundaryID"] = nodes.nodes[nodes.position[blueprint_node.scope]].id;
      if (!node.message.empty()) item["message"] = node.message;
      item["startedAt"] = rfc3339(node.started_at);
      item["finishedAt"] = node.finished_at ? json::value(rfc3339(*node.finished_at)) : json::value(nullptr);
      if (blueprint_node.type == NodeType::pod) {
        ++pods;
        bool finished = node.phase != "Running" && node.phase != "Pending";
        if (finished) ++done;
        item["progress"] = finished ? "1/1" : "0/1";
        item["hostNodeName"] = "kfp-emulator-node";
      }
      if (!node.children.empty()) {
        json::array children;
        for (int child : node.children) children.push_back(json::value(nodes.nodes[child].id));
        item["children"] = std::move(children);
      }
      if (!node.outbound.empty()) {
        json::array outbound;
        for (int o : node.outbound) outbound.push_back(json::value(nodes.nodes[o].id));
        item["outboundNodes"] = std::move(outbound);
      }
      map[node.id] = std::move(item);
    }
    status["progress"] = fmt::format("{}/{}", done, pods);
    status["nodes"] = std::move(map);
  }
  workflow["status"] = std::move(status);
  return json::serialize(workflow);
}

LogStream::LogStream(std::string head, std::uint64_t filler_bytes, std::string tail)
    : head_(std::move(head)), tail_(std::move(tail)), filler_left_(filler_bytes) {}

std::uint64_t LogStream::size() const {
  return head_.size() + filler_left_ + tail_.size();
}

bool LogStream::next(std::string& chunk) {
  chunk.clear();
  constexpr std::size_t piece = 64 * 1024;
  while (chunk.size() < piece) {
    if (stage_ == 0) {
      chunk += head_;
      stage_ = 1;
    } else if (stage_ == 1) {
      if (filler_left_ == 0) {
        stage_ = 2;
        continue;
      }
      // 100-byte numbered lines; the last one shortened to fill the size exactly.
      auto line = fmt::format("log line {:010d} ", ++line_);
      std::uint64_t want = std::min<std::uint64_t>(100, filler_left_);
      if (line.size() + 1 > want) line.resize(want > 0 ? want - 1 : 0);
      line.append(want - 1 - line.size(), 'x');
      line.push_back('\n');
      chunk += line;
      filler_left_ -= want;
    } else if (stage_ == 2) {
      chunk += tail_;
      stage_ = 3;
    } else {
      break;
    }
  }
  return !chunk.empty();
}

PodLog pod_log(const Run& run, const RunNodes& nodes, const std::string& pod_name) {
  PodLog out;
  for (const auto& node : nodes.nodes) {
    if (node.pod_name.empty() || node.pod_name != pod_name) continue;
    const auto& blueprint_node = run.blueprint->nodes[node.index];
    // The plan's log belongs to the failed pod, or on a terminated run to the pods it stopped.
    bool planned = node.index == nodes.failed_pod ||
                   (blueprint_node.user_pod && node.message == "Step exceeded its deadline");
    // A pending pod's container has not started: Kubernetes refuses its log ("is waiting to
    // start"), and the archive has none yet.
    if (node.phase == "Pending" || (planned && run.plan.log_source == LogSource::gone)) {
      out.found = PodLog::Found::gone;
      return out;
    }
    out.found = PodLog::Found::log;
    std::string head = log_head(blueprint_node, pod_name);
    if (planned && run.plan.log) {
      out.stream = std::make_shared<LogStream>(std::string{}, run.plan.log_bytes, *run.plan.log);
    } else if (planned) {
      auto message = node.message.empty() ? std::string("Error (exit code 1)") : node.message;
      out.stream = std::make_shared<LogStream>(
          head, run.plan.log_bytes,
          fmt::format(
              "Traceback (most recent call last):\n  File \"/tmp/ephemeral_component.py\", line 1, in "
              "<module>\nRuntimeError: {}\n",
              message));
    } else {
      out.stream = std::make_shared<LogStream>(head, 0,
                                               blueprint_node.user_pod && node.phase == "Succeeded"
                                                   ? blueprint_node.task_name + ": done\n"
                                                   : std::string{});
    }
    return out;
  }
  return out;
}

}  // namespace kfp::emulator
