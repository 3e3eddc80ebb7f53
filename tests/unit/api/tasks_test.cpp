#include "api/tasks.hpp"

#include "unit/api/workflow_fixture.hpp"

#include <doctest/doctest.h>
#include <boost/json/parse.hpp>

#include <algorithm>

using namespace kfp;

namespace {

const api::TaskNode& node_named(const api::RunTasks& tasks, const std::string& id) {
  auto it = std::find_if(tasks.nodes.begin(), tasks.nodes.end(), [&](const auto& n) { return n.id == id; });
  REQUIRE(it != tasks.nodes.end());
  return *it;
}

}  // namespace

TEST_CASE("Argo phases read as v2beta1 states, as the interface maps them") {
  CHECK(api::state_of_phase("Succeeded") == "SUCCEEDED");
  CHECK(api::state_of_phase("Failed") == "FAILED");
  CHECK(api::state_of_phase("Error") == "FAILED");
  CHECK(api::state_of_phase("Running") == "RUNNING");
  CHECK(api::state_of_phase("Pending") == "PENDING");
  CHECK(api::state_of_phase("Skipped") == "SKIPPED");
  CHECK(api::state_of_phase("Omitted") == "SKIPPED");
  CHECK(api::state_of_phase("") == "PENDING");
}

TEST_CASE("v2beta1 task_details are read field by field, the server's zero time as not known") {
  auto run = boost::json::parse(R"({"run_id":"r1","run_details":{"task_details":[
    {"run_id":"r1","task_id":"t1","display_name":"train","create_time":"2026-05-01T10:00:00Z",
     "start_time":"2026-05-01T10:00:01Z","end_time":"1970-01-01T00:00:00Z","state":"RUNNING",
     "execution_id":"42","parent_task_id":"t0","pod_name":"p-train-1",
     "child_tasks":[{"pod_name":"p-abc-7"},{"task_id":"t9"}]},
    {"task_id":"t2","display_name":"eval","state":"FAILED","error":{"code":2,"message":"boom"}},
    {"task_id":"t3","display_name":"later"}]}})");
  auto tasks = api::parse_task_details(run);
  REQUIRE(tasks.has_value());
  CHECK(tasks->source == api::TaskSource::task_details);
  REQUIRE(tasks->nodes.size() == 3);
  const auto& train = tasks->nodes[0];
  CHECK(train.id == "t1");
  CHECK(train.name == "train");
  CHECK(train.state == "RUNNING");
  CHECK(train.started_at == "2026-05-01T10:00:01Z");
  CHECK(train.finished_at.empty());
  CHECK(train.execution_id == 42);
  CHECK(train.parent == "t0");
  CHECK(train.pod == "p-train-1");
  CHECK(train.children == std::vector<std::string>{"p-abc-7", "t9"});
  CHECK(tasks->nodes[1].error == "boom");
  CHECK(tasks->nodes[2].state == "PENDING");  // unspecified: not yet
}

TEST_CASE("a v2beta1 run without task_details has no tasks") {
  CHECK_FALSE(
      api::parse_task_details(boost::json::parse(R"({"run_id":"r1","state":"RUNNING"})")).has_value());
  CHECK_FALSE(api::parse_task_details(boost::json::parse(R"({"run_details":{}})")).has_value());
  CHECK_FALSE(api::parse_task_details(boost::json::parse("[]")).has_value());
}

TEST_CASE("a KFP 2 workflow's nodes nest by boundary, a TaskGroup's iterations under it, with v2 pod names") {
  auto tasks = api::parse_workflow_manifest(test::v2_loop_failure_workflow());
  REQUIRE(tasks.has_value());
  CHECK(tasks->source == api::TaskSource::workflow);
  CHECK(tasks->nodes.size() == 24);
  const auto& executor = node_named(*tasks, "p-abc-26");
  CHECK(executor.state == "FAILED");
  CHECK(executor.error == "Error (exit code 1)");
  CHECK(executor.parent == "p-abc-25");
  CHECK(executor.pod == test::v2_failed_pod);
  CHECK(executor.template_name == "system-container-impl");
  CHECK(executor.started_at == "2026-05-01T10:00:06Z");
  CHECK(node_named(*tasks, "p-abc-21").parent == "p-abc-10");  // the TaskGroup lists it
  CHECK(node_named(*tasks, "p-abc-10").parent == "p-abc-8");
  CHECK(node_named(*tasks, "p-abc").parent.empty());
  CHECK(node_named(*tasks, "p-abc-25").pod.empty());  // a DAG runs no pod
}

TEST_CASE("without the v2 annotation an Argo pod is named by its node id, a Retry's attempts sit under it") {
  auto tasks = api::parse_workflow_manifest(test::v1_retry_failure_workflow());
  REQUIRE(tasks.has_value());
  CHECK(node_named(*tasks, "pipe-x-22").pod == "pipe-x-22");
  CHECK(node_named(*tasks, "pipe-x-22").parent == "pipe-x-2");
  CHECK(node_named(*tasks, "pipe-x-4").state == "RUNNING");
}

TEST_CASE("Argo's v2 pod name: workflow, template and the FNV-1a hash of the node name, the prefix capped") {
  // FNV-1a("a") = 0xe40c292c, the published test vector.
  CHECK(api::pod_name_of("wf", "a", "tmpl", "wf-1", api::PodNames::v2) == "wf-tmpl-3826002220");
  CHECK(api::pod_name_of("wf", "a", "tmpl", "wf-1", api::PodNames::v1) == "wf-1");
  CHECK(api::pod_name_of("wf", "wf", "tmpl", "wf", api::PodNames::v2) == "wf");
  CHECK(api::pod_name_of("wf", "wf.x.inline", "tmpl", "wf-2", api::PodNames::v2).rfind("wf-", 0) == 0);
  const std::string long_name(300, 'w');
  const std::string pod = api::pod_name_of(long_name, "a", "tmpl", "id", api::PodNames::v2);
  CHECK(pod == std::string(242, 'w') + "-3826002220");
}

TEST_CASE("a manifest that is not a workflow, or has no nodes yet, has no tasks") {
  CHECK_FALSE(api::parse_workflow_manifest("").has_value());
  CHECK_FALSE(api::parse_workflow_manifest("not json").has_value());
  CHECK_FALSE(api::parse_workflow_manifest(R"({"metadata":{"name":"x"},"status":{}})").has_value());
  CHECK_FALSE(api::parse_workflow_manifest(R"({"status":{"nodes":{}}})").has_value());
  CHECK_FALSE(api::parse_workflow_manifest("[1,2]").has_value());
}
