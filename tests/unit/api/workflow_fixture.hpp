#pragma once
// Argo workflows as the API server carries them in pipeline_runtime.workflow_manifest, shaped as
// the KFP 2 compiler lays a pipeline out (backend/src/v2/compiler/argocompiler: drivers, executor
// wrappers, a loop's iterator / TaskGroup / iteration / iteration-item nesting) and as KFP 1.8 runs
// a v1 pipeline (one Pod per task, a Retry over attempts).

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <string>
#include <vector>

namespace kfp::test {

struct ArgoNode {
  std::string id;
  std::string name;  // full node name
  std::string display;
  std::string type;
  std::string template_name;
  std::string phase;
  std::string boundary;
  std::vector<std::string> children;
  std::string message = {};
  std::string started = {};
  std::string finished = {};
};

inline std::string argo_workflow(const std::string& name, const std::vector<ArgoNode>& nodes,
                                 const std::string& pod_name_format) {
  boost::json::object status_nodes;
  for (const auto& n : nodes) {
    boost::json::object node{{"id", n.id},     {"name", n.name},   {"displayName", n.display},
                             {"type", n.type}, {"phase", n.phase}, {"templateName", n.template_name}};
    if (!n.boundary.empty()) node["boundaryID"] = n.boundary;
    if (!n.message.empty()) node["message"] = n.message;
    if (!n.started.empty()) node["startedAt"] = n.started;
    if (!n.finished.empty()) node["finishedAt"] = n.finished;
    boost::json::array children;
    for (const auto& child : n.children) children.emplace_back(child);
    if (!children.empty()) node["children"] = std::move(children);
    status_nodes[n.id] = std::move(node);
  }
  boost::json::object metadata{{"name", name}};
  if (!pod_name_format.empty())
    metadata["annotations"] = boost::json::object{{"workflows.argoproj.io/pod-name-format", pod_name_format}};
  return boost::json::serialize(
      boost::json::object{{"metadata", std::move(metadata)},
                          {"status", boost::json::object{{"nodes", std::move(status_nodes)}}}});
}

// A KFP 2 run: outer-dag holds prep and a two-iteration loop over train; train fails in iteration 1.
// Argo 3.4+ pod names (v2).
inline std::string v2_loop_failure_workflow() {
  const std::string w = "p-abc";
  const std::string root = w + ".root";
  const std::string outer = root + ".outer-dag";
  const std::string loop = outer + ".for-loop-2-loop";
  const std::string it0 = loop + ".iteration-iterations(0:0)";
  const std::string it1 = loop + ".iteration-iterations(1:1)";
  return argo_workflow(
      w,
      {
          {"p-abc", w, w, "DAG", "entrypoint", "Failed", "", {"p-abc-1"}},
          {"p-abc-1",
           w + ".root-driver",
           "root-driver",
           "Pod",
           "system-dag-driver",
           "Succeeded",
           "p-abc",
           {"p-abc-2"}},
          {"p-abc-2", root, "root", "DAG", "root", "Failed", "p-abc", {"p-abc-3"}},
          {"p-abc-3",
           root + ".outer-dag-driver",
           "outer-dag-driver",
           "Pod",
           "system-dag-driver",
           "Succeeded",
           "p-abc-2",
           {"p-abc-4"}},
          {"p-abc-4", outer, "outer-dag", "DAG", "comp-outer-dag", "Failed", "p-abc-2", {"p-abc-5"}},
          {"p-abc-5",
           outer + ".prep-driver",
           "prep-driver",
           "Pod",
           "system-container-driver",
           "Succeeded",
           "p-abc-4",
           {"p-abc-6"}},
          {"p-abc-6",
           outer + ".prep",
           "prep",
           "DAG",
           "system-container-executor",
           "Succeeded",
           "p-abc-4",
           {"p-abc-60"}},
          {"p-abc-60",
           outer + ".prep.executor",
           "executor",
           "Pod",
           "system-container-impl",
           "Succeeded",
           "p-abc-6",
           {"p-abc-7"}},
          {"p-abc-7",
           outer + ".for-loop-2-loop-driver",
           "for-loop-2-loop-driver",
           "Pod",
           "system-dag-driver",
           "Succeeded",
           "p-abc-4",
           {"p-abc-8"}},
          {"p-abc-8",
           loop,
           "for-loop-2-loop",
           "DAG",
           "comp-for-loop-2-loop-iterator",
           "Failed",
           "p-abc-4",
           {"p-abc-9"}},
          {"p-abc-9",
           loop + ".iteration-driver",
           "iteration-driver",
           "Pod",
           "system-dag-driver",
           "Succeeded",
           "p-abc-8",
           {"p-abc-10"}},
          {"p-abc-10",
           loop + ".iteration-iterations",
           "iteration-iterations",
           "TaskGroup",
           "",
           "Failed",
           "p-abc-8",
           {"p-abc-11", "p-abc-21"}},
          {"p-abc-11",
           it0,
           "iteration-iterations(0:0)",
           "DAG",
           "comp-for-loop-2-iteration",
           "Succeeded",
           "p-abc-8",
           {"p-abc-12"}},
          {"p-abc-12",
           it0 + ".iteration-item-driver",
           "iteration-item-driver",
           "Pod",
           "system-dag-driver",
           "Succeeded",
           "p-abc-11",
           {"p-abc-13"}},
          {"p-abc-13",
           it0 + ".iteration-item",
           "iteration-item",
           "DAG",
           "comp-for-loop-2",
           "Succeeded",
           "p-abc-11",
           {"p-abc-14"}},
          {"p-abc-14",
           it0 + ".iteration-item.train-driver",
           "train-driver",
           "Pod",
           "system-container-driver",
           "Succeeded",
           "p-abc-13",
           {"p-abc-15"}},
          {"p-abc-15",
           it0 + ".iteration-item.train",
           "train",
           "DAG",
           "system-container-executor",
           "Succeeded",
           "p-abc-13",
           {"p-abc-16"}},
          {"p-abc-16",
           it0 + ".iteration-item.train.executor",
           "executor",
           "Pod",
           "system-container-impl",
           "Succeeded",
           "p-abc-15",
           {}},
          {"p-abc-21",
           it1,
           "iteration-iterations(1:1)",
           "DAG",
           "comp-for-loop-2-iteration",
           "Failed",
           "p-abc-8",
           {"p-abc-22"}},
          {"p-abc-22",
           it1 + ".iteration-item-driver",
           "iteration-item-driver",
           "Pod",
           "system-dag-driver",
           "Succeeded",
           "p-abc-21",
           {"p-abc-23"}},
          {"p-abc-23",
           it1 + ".iteration-item",
           "iteration-item",
           "DAG",
           "comp-for-loop-2",
           "Failed",
           "p-abc-21",
           {"p-abc-24"}},
          {"p-abc-24",
           it1 + ".iteration-item.train-driver",
           "train-driver",
           "Pod",
           "system-container-driver",
           "Succeeded",
           "p-abc-23",
           {"p-abc-25"}},
          {"p-abc-25",
           it1 + ".iteration-item.train",
           "train",
           "DAG",
           "system-container-executor",
           "Failed",
           "p-abc-23",
           {"p-abc-26"},
           "child 'p-abc-26' failed",
           "2026-05-01T10:00:05Z",
           "2026-05-01T10:01:00Z"},
          {"p-abc-26",
           it1 + ".iteration-item.train.executor",
           "executor",
           "Pod",
           "system-container-impl",
           "Failed",
           "p-abc-25",
           {},
           "Error (exit code 1)",
           "2026-05-01T10:00:06Z",
           "2026-05-01T10:00:59Z"},
      },
      "v2");
}

// FNV-1a of the failed executor's node name, computed independently (Python) for the test: Argo's
// v2 pod name is "<workflow>-<template>-<hash>".
inline constexpr const char* v2_failed_pod = "p-abc-system-container-impl-1292422561";

// A KFP 1.8 run (Argo before 3.4: pod name = node id, no annotation): a retried "flaky" task whose
// attempts failed, after "make-data" succeeded, beside a running "report".
inline std::string v1_retry_failure_workflow() {
  return argo_workflow(
      "pipe-x",
      {
          {"pipe-x", "pipe-x", "pipe-x", "DAG", "my-pipeline", "Failed", "", {"pipe-x-1", "pipe-x-4"}},
          {"pipe-x-1",
           "pipe-x.make-data",
           "make-data",
           "Pod",
           "make-data",
           "Succeeded",
           "pipe-x",
           {"pipe-x-2"}},
          {"pipe-x-2",
           "pipe-x.flaky",
           "flaky",
           "Retry",
           "flaky",
           "Failed",
           "pipe-x",
           {"pipe-x-21", "pipe-x-22"},
           "No more retries left"},
          {"pipe-x-21",
           "pipe-x.flaky(0)",
           "flaky(0)",
           "Pod",
           "flaky",
           "Failed",
           "pipe-x",
           {},
           "Error (exit code 2)",
           "2026-05-01T10:00:00Z",
           "2026-05-01T10:00:10Z"},
          {"pipe-x-22",
           "pipe-x.flaky(1)",
           "flaky(1)",
           "Pod",
           "flaky",
           "Failed",
           "pipe-x",
           {},
           "Error (exit code 3)",
           "2026-05-01T10:00:20Z",
           "2026-05-01T10:00:30Z"},
          {"pipe-x-4", "pipe-x.report", "report", "Pod", "report", "Running", "pipe-x", {}},
      },
      "");
}

}  // namespace kfp::test
