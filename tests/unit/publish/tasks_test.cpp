#include "publish/tasks.hpp"

#include "unit/api/workflow_fixture.hpp"

#include <doctest/doctest.h>
#include <boost/json/parse.hpp>

#include <algorithm>

using namespace kfp;

namespace {

publish::TaskView view_of(const std::string& manifest) {
  auto tasks = api::parse_workflow_manifest(manifest);
  REQUIRE(tasks.has_value());
  return publish::TaskView(*tasks);
}

api::TaskNode task(std::string id, std::string name, std::string state, std::string parent = {},
                   std::vector<std::string> children = {}) {
  api::TaskNode node;
  node.id = std::move(id);
  node.name = std::move(name);
  node.state = std::move(state);
  node.parent = std::move(parent);
  node.children = std::move(children);
  return node;
}

}  // namespace

TEST_CASE("a KFP 2 run counts its container tasks, not drivers, wrappers, loops or the root") {
  auto view = view_of(test::v2_loop_failure_workflow());
  const auto counts = view.counts();
  CHECK(counts.total == 3);  // prep, train in iteration 0, train in iteration 1
  CHECK(counts.succeeded == 2);
  CHECK(counts.failed == 1);
  CHECK(counts.running == 0);
  CHECK(counts.done() == 3);
}

TEST_CASE(
    "a task failing in a loop inside a sub-DAG is named by its path, with its executor's pod and error") {
  auto view = view_of(test::v2_loop_failure_workflow());
  auto failed = view.failed("http://ui/#/runs/details/r1");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].name == "train");
  CHECK(failed[0].path == "outer-dag/for-loop-2[1]/train");
  CHECK(failed[0].state == "FAILED");
  CHECK(failed[0].error == "Error (exit code 1)");  // the pod's, not the wrapper's "child ... failed"
  CHECK(failed[0].pod == test::v2_failed_pod);
  CHECK(failed[0].started_at == "2026-05-01T10:00:05Z");
  CHECK(failed[0].finished_at == "2026-05-01T10:01:00Z");
  CHECK(failed[0].url == "http://ui/#/runs/details/r1");
}

TEST_CASE("a KFP 1.8 run: Pod tasks, a Retry over its attempts reads as one task with the last attempt") {
  auto view = view_of(test::v1_retry_failure_workflow());
  const auto counts = view.counts();
  CHECK(counts.total == 3);
  CHECK(counts.succeeded == 1);
  CHECK(counts.failed == 1);
  CHECK(counts.running == 1);
  CHECK(counts.running_tasks == std::vector<std::string>{"report"});
  auto failed = view.failed("u");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].path == "flaky");
  CHECK(failed[0].pod == "pipe-x-22");
  CHECK(failed[0].error == "Error (exit code 3)");
}

TEST_CASE("failed tasks come innermost first, then by their end") {
  api::RunTasks tasks;
  tasks.source = api::TaskSource::task_details;
  tasks.nodes = {task("root", "pipeline", "FAILED", "", {}), task("a", "outer", "FAILED", "root"),
                 task("b", "late-top", "FAILED", "root"),    task("c", "early-top", "FAILED", "root"),
                 task("d", "deep", "FAILED", "a"),           task("e", "fine", "SUCCEEDED", "root")};
  tasks.nodes[1].children = {"d"};
  tasks.nodes[2].finished_at = "2026-05-01T10:05:00Z";
  tasks.nodes[3].finished_at = "2026-05-01T10:01:00Z";
  publish::TaskView view(tasks);
  auto failed = view.failed("u");
  std::vector<std::string> paths;
  for (const auto& f : failed) paths.push_back(f.path);
  CHECK(paths == std::vector<std::string>{"outer/deep", "early-top", "late-top"});
}

TEST_CASE("task_details with parents: members make a group, an executor alone makes a task") {
  api::RunTasks tasks;
  tasks.source = api::TaskSource::task_details;
  tasks.nodes = {task("w", "p-run", "RUNNING"),
                 task("r", "root", "RUNNING", "w"),
                 task("s", "sub-dag", "RUNNING", "r"),
                 task("s1", "inner", "RUNNING", "s"),
                 task("s1e", "executor", "RUNNING", "s1"),
                 task("s1d", "inner-driver", "SUCCEEDED", "s"),
                 task("t", "top", "PENDING", "r")};
  tasks.nodes[4].pod = "pod-inner";
  publish::TaskView view(tasks);
  const auto counts = view.counts();
  CHECK(counts.total == 2);
  CHECK(counts.running_tasks == std::vector<std::string>{"sub-dag/inner"});
  CHECK(counts.pending == 1);
}

TEST_CASE(
    "a flat task_details list (as every 2.x release answers): drivers, executors and root are not tasks") {
  auto run = boost::json::parse(R"({"run_details":{"task_details":[
    {"task_id":"1","display_name":"p-run-x","state":"RUNNING","child_tasks":[{"pod_name":"n1"},{"pod_name":"n2"}]},
    {"task_id":"2","display_name":"root-driver","state":"SUCCEEDED","child_tasks":[{"pod_name":"n2"}]},
    {"task_id":"3","display_name":"root","state":"RUNNING","child_tasks":[{"pod_name":"n4"}]},
    {"task_id":"4","display_name":"train-driver","state":"SUCCEEDED","child_tasks":[{"pod_name":"n5"}]},
    {"task_id":"5","display_name":"train","state":"RUNNING","child_tasks":[{"pod_name":"n6"}]},
    {"task_id":"6","display_name":"executor","state":"RUNNING"}]}})");
  auto tasks = api::parse_task_details(run);
  REQUIRE(tasks.has_value());
  publish::TaskView view(*tasks);
  CHECK_FALSE(view.linked());
  const auto counts = view.counts();
  CHECK(counts.total == 1);
  CHECK(counts.running_tasks == std::vector<std::string>{"train"});
}

TEST_CASE("the graph draws tasks and named groups, dependencies through drivers, the failed path marked") {
  auto view = view_of(test::v2_loop_failure_workflow());
  auto graph = view.graph();
  std::vector<std::string> labels;
  for (const auto& node : graph.nodes) labels.push_back(node.label);
  std::sort(labels.begin(), labels.end());
  CHECK(labels ==
        std::vector<std::string>{"[0]", "[1]", "for-loop-2", "outer-dag", "prep", "train", "train"});
  auto find = [&](const std::string& id) {
    return *std::find_if(graph.nodes.begin(), graph.nodes.end(), [&](const auto& n) { return n.id == id; });
  };
  CHECK(find("p-abc-25").on_failed_path);
  CHECK(find("p-abc-21").on_failed_path);
  CHECK(find("p-abc-8").on_failed_path);
  CHECK(find("p-abc-4").on_failed_path);
  CHECK_FALSE(find("p-abc-15").on_failed_path);
  CHECK_FALSE(find("p-abc-6").on_failed_path);
  CHECK(find("p-abc-25").parent == "p-abc-21");  // the iteration-item body is not drawn
  CHECK(find("p-abc-21").parent == "p-abc-8");   // nor the TaskGroup
  // prep's executor lists the loop's driver: prep -> the loop.
  CHECK(graph.edges == std::vector<std::pair<std::string, std::string>>{{"p-abc-6", "p-abc-8"}});
}

TEST_CASE("the heartbeat's task part counts and names the running tasks") {
  report::TaskCounts counts;
  counts.total = 9;
  counts.succeeded = 2;
  counts.failed = 1;
  counts.running = 3;
  counts.running_tasks = {"a", "b", "c"};
  CHECK(publish::progress_text(counts) == "tasks 3/9 done (2 succeeded, 1 failed), 3 running: a, b, c");
  CHECK(publish::progress_text(counts, 2) ==
        "tasks 3/9 done (2 succeeded, 1 failed), 3 running: a, b and 1 more");
  CHECK(publish::progress_text(report::TaskCounts{}) == "tasks 0/0 done (0 succeeded, 0 failed), 0 running");
  counts.skipped = 1;
  counts.running = 0;
  counts.running_tasks.clear();
  CHECK(publish::progress_text(counts) == "tasks 4/9 done (2 succeeded, 1 failed, 1 skipped), 0 running");
}
