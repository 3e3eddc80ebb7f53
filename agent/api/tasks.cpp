#include "api/tasks.hpp"

#include "api/json_fields.hpp"

#include <fmt/format.h>
#include <boost/algorithm/string/predicate.hpp>
#include <boost/json/parse.hpp>

#include <cstdint>
#include <unordered_map>

namespace kfp::api {

namespace {

// Argo's limits on a v2 pod name's prefix (workflow/util/pod_name.go: maxK8sResourceNameLength 253,
// k8sNamingHashLength 10; the prefix is cut to 253 - 10 - 1 bytes).
constexpr std::size_t max_pod_name_prefix = 253 - 10 - 1;
constexpr std::string_view pod_name_format_annotation = "workflows.argoproj.io/pod-name-format";
// grpc-gateway writes a zero google.protobuf.Timestamp as the epoch: the server's "not yet".
constexpr std::string_view zero_time = "1970-01-01T00:00:00Z";

std::string time_field(const boost::json::object& object, std::string_view key) {
  std::string text = string_field(object, key);
  if (text == zero_time) return {};
  return text;
}

std::int64_t int_field(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr) return 0;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64()) return static_cast<std::int64_t>(value->as_uint64());
  // proto3 JSON writes int64 as a string.
  if (value->is_string()) {
    std::int64_t number = 0;
    const auto& text = value->as_string();
    for (char c : text) {
      if (c < '0' || c > '9') return 0;
      number = number * 10 + (c - '0');
    }
    return number;
  }
  return 0;
}

// The v2beta1 state as sent: the enum name, with or without the RuntimeState prefix; a number (an
// enum written by index) reads as unknown, which counts as pending.
std::string task_state(const boost::json::object& task) {
  std::string state = string_field(task, "state");
  if (state.empty() || state == "RUNTIME_STATE_UNSPECIFIED") return "PENDING";
  return state;
}

std::uint32_t fnv32a(std::string_view text) {
  // FNV-1a, 32 bits: what Go's hash/fnv New32a computes and Argo hashes node names with.
  std::uint32_t hash = 2166136261U;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 16777619U;
  }
  return hash;
}

}  // namespace

std::string state_of_phase(std::string_view phase) {
  if (phase == "Succeeded") return "SUCCEEDED";
  if (phase == "Failed" || phase == "Error") return "FAILED";
  if (phase == "Running") return "RUNNING";
  if (phase == "Skipped" || phase == "Omitted") return "SKIPPED";
  return "PENDING";
}

std::optional<RunTasks> parse_task_details(const boost::json::value& run) {
  const auto* details = object_of(run).if_contains("run_details");
  const auto* list = details != nullptr ? object_of(*details).if_contains("task_details") : nullptr;
  if (list == nullptr || !list->is_array()) return std::nullopt;
  RunTasks tasks;
  tasks.source = TaskSource::task_details;
  for (const auto& item : list->as_array()) {
    const auto& task = object_of(item);
    TaskNode node;
    node.id = string_field(task, "task_id");
    node.name = string_field(task, "display_name");
    node.state = task_state(task);
    if (const auto* error = task.if_contains("error"); error != nullptr && error->is_object())
      node.error = string_field(error->as_object(), "message");
    node.started_at = time_field(task, "start_time");
    node.finished_at = time_field(task, "end_time");
    node.pod = string_field(task, "pod_name");
    node.parent = string_field(task, "parent_task_id");
    node.execution_id = int_field(task, "execution_id");
    if (const auto* children = task.if_contains("child_tasks"); children != nullptr && children->is_array()) {
      for (const auto& child : children->as_array()) {
        const auto& c = object_of(child);
        std::string id = string_field(c, "task_id");
        if (id.empty()) id = string_field(c, "pod_name");
        if (!id.empty()) node.children.push_back(std::move(id));
      }
    }
    tasks.nodes.push_back(std::move(node));
  }
  return tasks;
}

std::string pod_name_of(std::string_view workflow_name, std::string_view node_name,
                        std::string_view template_name, std::string_view node_id, PodNames format) {
  if (format == PodNames::v1) return std::string(node_id);
  if (node_name == workflow_name) return std::string(workflow_name);
  // workflow/util/pod_name.go GeneratePodName (v2): "<workflow>-<template>-<fnv32a(node name)>", the
  // prefix cut to its limit; an inline template's pod has no template part.
  std::string prefix = node_name.find(".inline") != std::string_view::npos
                           ? std::string(workflow_name)
                           : fmt::format("{}-{}", workflow_name, template_name);
  if (prefix.size() > max_pod_name_prefix) prefix.resize(max_pod_name_prefix);
  return fmt::format("{}-{}", prefix, fnv32a(node_name));
}

std::optional<RunTasks> parse_workflow_manifest(std::string_view manifest) {
  if (manifest.empty()) return std::nullopt;
  boost::system::error_code error;
  boost::json::value workflow = boost::json::parse(manifest, error);
  if (error || !workflow.is_object()) return std::nullopt;
  static const boost::json::value none;
  const auto* metadata_value = workflow.as_object().if_contains("metadata");
  const auto& metadata = object_of(metadata_value != nullptr ? *metadata_value : none);
  const std::string workflow_name = string_field(metadata, "name");
  PodNames format = PodNames::v1;
  if (const auto* annotations = metadata.if_contains("annotations");
      annotations != nullptr && annotations->is_object() &&
      string_field(annotations->as_object(), pod_name_format_annotation) == "v2") {
    format = PodNames::v2;
  }
  const auto* status_value = workflow.as_object().if_contains("status");
  const auto& status = object_of(status_value != nullptr ? *status_value : none);
  const auto* nodes = status.if_contains("nodes");
  if (nodes == nullptr || !nodes->is_object() || nodes->as_object().empty()) return std::nullopt;

  RunTasks tasks;
  tasks.source = TaskSource::workflow;
  for (const auto& [key, value] : nodes->as_object()) {
    const auto& n = object_of(value);
    TaskNode node;
    node.id = string_field(n, "id");
    if (node.id.empty()) node.id = std::string(key);
    node.name = string_field(n, "displayName");
    const std::string full_name = string_field(n, "name");
    if (node.name.empty()) node.name = full_name;
    node.type = string_field(n, "type");
    node.template_name = string_field(n, "templateName");
    if (node.template_name.empty()) {
      // A node from a templateRef names its template there.
      if (const auto* ref = n.if_contains("templateRef"); ref != nullptr && ref->is_object())
        node.template_name = string_field(ref->as_object(), "template");
    }
    node.state = state_of_phase(string_field(n, "phase"));
    node.error = string_field(n, "message");
    node.started_at = string_field(n, "startedAt");
    node.finished_at = string_field(n, "finishedAt");
    node.parent = string_field(n, "boundaryID");
    if (node.type == "Pod")
      node.pod = pod_name_of(workflow_name, full_name, node.template_name, node.id, format);
    if (const auto* children = n.if_contains("children"); children != nullptr && children->is_array()) {
      for (const auto& child : children->as_array()) {
        if (child.is_string()) node.children.emplace_back(child.as_string());
      }
    }
    tasks.nodes.push_back(std::move(node));
  }
  // A Retry's attempts and a TaskGroup's iterations are enclosed by the node listing them, whatever
  // their boundary says.
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < tasks.nodes.size(); ++i) index.emplace(tasks.nodes[i].id, i);
  for (const auto& node : tasks.nodes) {
    if (node.type != "Retry" && node.type != "TaskGroup" && node.type != "StepGroup") continue;
    for (const auto& child : node.children) {
      if (auto found = index.find(child); found != index.end()) tasks.nodes[found->second].parent = node.id;
    }
  }
  return tasks;
}

}  // namespace kfp::api
