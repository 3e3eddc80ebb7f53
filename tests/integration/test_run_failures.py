"""When a run fails, the CI log says why (issue 17): the emulator's tasks and log endpoint as the real
server reports them (FIDELITY.md section 15), and kfp-publish's failed tasks, log tails, progress
counts, step summary and annotation against it (the interface in briefs/issue17-interface.md).

The pipelines come from ../shared/pipelines-corpus (skipped when absent): a sub-DAG
(parallel_and_nested/pipeline_in_pipeline.yaml), a parallel-for
(critical/parallel_for_after_dependency.yaml), nested loops (pipeline_with_nested_loops.yaml);
the KFP 1.8 (v1beta1) case uses an Argo package written here in the shape the KFP 1.8 SDK compiles.
"""

import base64
import http.client
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time
import uuid

import harness
from publish_harness import PublishTestCase, publish_env

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "deploy"))
import deploy_support as ds  # noqa: E402

SUB_DAG = ("parallel_and_nested", "pipeline_in_pipeline.yaml")
PARALLEL_FOR = ("critical", "parallel_for_after_dependency.yaml")
NESTED_LOOPS = ("pipeline_with_nested_loops.yaml",)

# A KFP 1.8 (SDK v1) compiled pipeline: a DAG entrypoint, a ParallelFor as a withItems task over a
# loop DAG template, container templates.
V1_ARGO = """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: v1-failures-
  annotations: {pipelines.kubeflow.org/kfp_sdk_version: 1.8.22}
spec:
  entrypoint: v1-failures
  arguments:
    parameters:
    - {name: message, value: hello}
  templates:
  - name: v1-failures
    dag:
      tasks:
      - {name: prepare, template: prepare}
      - name: for-loop-1
        template: for-loop-1
        dependencies: [prepare]
        withItems: [a, b, c]
      - {name: report, template: report, dependencies: [for-loop-1]}
  - name: for-loop-1
    dag:
      tasks:
      - {name: train, template: train}
  - name: prepare
    container: {image: alpine:3.19, command: [echo, prepare]}
  - name: train
    container: {image: alpine:3.19, command: [sh, -c, 'exit 1']}
  - name: report
    container: {image: alpine:3.19, command: [echo, report]}
"""

# ESC [ 31 m ... ESC [ 0 m, a cursor move, and bytes that are not UTF-8.
ANSI_LOG = b"step 1\n\x1b[31mred error\x1b[0m\n\x1b[2Kcleared line\nbad bytes \xff\xfe here\nlast line\n"

# Client memory bound while reading a 200 MiB log: generous against the ~6 MiB it needs. Under
# ASan/UBSan (make test-asan) the log is smaller and memory is not judged: the sanitizer's shadow
# memory and quarantine are not the program's.
HUGE_LOG_BYTES = 200 << 20
SANITIZED_LOG_BYTES = 8 << 20
MAX_CLIENT_RSS_KIB = 64 << 10


def huge_log_bytes(*binaries):
    """The huge log's size, and whether memory is judged, for these binaries."""
    if any(binary and ds.is_sanitizer_build(binary) for binary in binaries):
        return SANITIZED_LOG_BYTES, False
    return HUGE_LOG_BYTES, True


def log_path(run_id, pod):
    return f"/apis/v1alpha1/runs/{run_id}/nodes/{pod}/log"


def workflow_of(emu, run_id):
    """The Argo Workflow the v1beta1 API returns for a run (pipeline_runtime.workflow_manifest)."""
    detail = emu.get(f"/apis/v1beta1/runs/{run_id}").json()
    return json.loads(detail["pipeline_runtime"]["workflow_manifest"])


def pod_name(workflow, node, version):
    """The pod Argo ran for `node`: the node id up to Argo 3.3 (KFP 1.8.5, 2.0.5), else
    <workflow>-<template>-<hash> (Argo 3.4 POD_NAMES=v2, KFP 2.3+)."""
    if version in ("1.8.5", "2.0.5"):
        return node["id"]
    name = workflow["metadata"]["name"]
    return f"{name}-{node['templateName']}-{node['id'].rsplit('-', 1)[1]}"


def wait_for_end(emu, run_id, api="v2beta1", timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api == "v2beta1":
            state = emu.get(f"/apis/v2beta1/runs/{run_id}").json()["state"]
            if state in ("SUCCEEDED", "FAILED", "CANCELED"):
                return state
        else:
            status = emu.get(f"/apis/v1beta1/runs/{run_id}").json()["run"]["status"]
            if status in ("Succeeded", "Failed"):
                return status
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not end")


class EmulatorTasksTest(harness.EmulatorTestCase):
    """The emulator's side: tasks, nodes and logs in the real server's shapes (FIDELITY.md 15)."""

    def setUp(self):
        super().setUp()
        if os.environ.get("KFP_EMULATOR_SERVER_VERSION"):
            self.skipTest("skipped in the per-release runs: these tests name their releases themselves")

    def start(self, version):
        return self.start_emulator("--server-version", version, "--run-duration", "600ms")

    def v2_run(self, emu, parts, **outcome):
        r = emu.upload(self.corpus("valid", *parts), "p.yaml", query={"name": "p-" + uuid.uuid4().hex[:8]})
        self.assertEqual(r.status, 200, r)
        pipeline_id = r.json()["pipeline_id"]
        if outcome:
            r = emu.post("/_emulator/outcomes", outcome)
            self.assertEqual(r.status, 200, r)
        r = emu.post("/apis/v2beta1/runs", {"display_name": "r", "pipeline_version_reference":
                                            {"pipeline_id": pipeline_id}})
        self.assertEqual(r.status, 200, r)
        return r.json()["run_id"]

    def test_v2_task_details_are_every_node_without_pod_or_error(self):
        emu = self.start("2.17.0")
        run_id = self.v2_run(emu, NESTED_LOOPS, outcome="FAILED", failed_task="print-op", message="boom")
        self.assertNotIn("run_details", emu.get(f"/apis/v2beta1/runs/{run_id}").json(),
                         "no tasks before the persistence agent reports the workflow")
        self.assertEqual(wait_for_end(emu, run_id), "FAILED")
        tasks = emu.get(f"/apis/v2beta1/runs/{run_id}").json()["run_details"]["task_details"]
        workflow = workflow_of(emu, run_id)
        nodes = workflow["status"]["nodes"]
        # One task per node, drivers and DAG wrappers included, ordered by node id.
        self.assertEqual(len(tasks), len(nodes))
        self.assertEqual(sorted(t["display_name"] for t in tasks), sorted(n["displayName"] for n in nodes.values()))
        for task in tasks:
            for absent in ("pod_name", "error", "parent_task_id", "execution_id", "executor_detail"):
                self.assertNotIn(absent, task, "toApiPipelineTaskDetail never sets " + absent)
            for child in task.get("child_tasks", []):
                self.assertIn(child["pod_name"], nodes, "child_tasks carry the children's node ids")
        by_name = {}
        for task in tasks:
            by_name.setdefault(task["display_name"], []).append(task)
        self.assertIn("root-driver", by_name)
        self.assertEqual({t["state"] for t in by_name["print-op"]}, {"SUCCEEDED", "FAILED"})
        failed_pods = [n for n in nodes.values() if n["type"] == "Pod" and n["phase"] == "Failed"]
        self.assertEqual(len(failed_pods), 1)
        self.assertEqual(failed_pods[0]["message"], "boom")
        self.assertEqual(failed_pods[0]["displayName"], "executor")
        parent = [n for n in nodes.values() if failed_pods[0]["id"] in n.get("children", [])][0]
        self.assertEqual(parent["displayName"], "print-op")
        self.assertEqual(parent["message"], f"child '{failed_pods[0]['id']}' failed")
        self.assertEqual(workflow["status"]["phase"], "Failed")
        self.assertEqual(workflow["metadata"]["annotations"]["workflows.argoproj.io/pod-name-format"], "v2")

    def test_node_links_follow_dependencies_as_argo_records_them(self):
        emu = self.start("2.17.0")
        run_id = self.v2_run(emu, SUB_DAG)
        self.assertEqual(wait_for_end(emu, run_id), "SUCCEEDED")
        workflow = workflow_of(emu, run_id)
        by_name = {n["name"][len(workflow["metadata"]["name"]):]: n for n in workflow["status"]["nodes"].values()}
        inner = by_name[".root.inner-pipeline"]
        # A task that depends on another hangs under that task's outbound node (its executor pod),
        # not under the DAG it runs in; the DAG is its boundary.
        self.assertEqual(by_name[".root.inner-pipeline.print-op1.executor"]["children"],
                         [by_name[".root.inner-pipeline.print-op2-driver"]["id"]])
        self.assertEqual(inner["children"], [by_name[".root.inner-pipeline.print-op1-driver"]["id"]])
        self.assertEqual(by_name[".root.inner-pipeline.print-op2-driver"]["boundaryID"], inner["id"])
        self.assertEqual(inner["outboundNodes"], [by_name[".root.inner-pipeline.print-op2.executor"]["id"]])
        tasks = emu.get(f"/apis/v2beta1/runs/{run_id}").json()["run_details"]["task_details"]
        ids = {t["display_name"]: t for t in tasks}
        self.assertEqual([c["pod_name"] for c in ids["root-driver"]["child_tasks"]], [by_name[".root"]["id"]])

    def test_log_endpoint_serves_the_pod_and_answers_errors_with_200(self):
        for version in ("2.0.5", "2.3.0", "2.17.0"):
            with self.subTest(version):
                emu = self.start(version)
                run_id = self.v2_run(emu, PARALLEL_FOR, outcome="FAILED", failed_task="for-loop-2/print-op",
                                     message="Error (exit code 3)", log="the last words\n")
                wait_for_end(emu, run_id)
                workflow = workflow_of(emu, run_id)
                failed = [n for n in workflow["status"]["nodes"].values()
                          if n["type"] == "Pod" and n["phase"] == "Failed"][0]
                self.assertIn("iteration-iterations(0:0)", failed["name"], "the first iteration fails")
                pod = pod_name(workflow, failed, version)
                r = emu.get(log_path(run_id, pod), query={"follow": "true"})
                self.assertEqual((r.status, r.body), (200, b"the last words\n"))
                self.assertEqual(r.headers["content-type"], "text/plain; charset=utf-8")
                self.assertNotIn("cache-control", r.headers, "headers set after WriteHeader are dropped")
                # On 2.3+ the node id is not the pod name: Kubernetes finds no such pod, nor the archive.
                if version != "2.0.5":
                    r = emu.get(log_path(run_id, failed["id"]))
                    self.assertEqual(r.status, 200)
                    body = r.json()
                    self.assertIn(f"Failed to read logs for run {run_id}", body["error_message"])
                    self.assertIn(f"/artifacts/{workflow['metadata']['name']}/{failed['id']}/main.log",
                                  body["error_message"])
                r = emu.get(log_path("no-such-run", pod))
                self.assertEqual(r.status, 200)
                self.assertIn("Run no-such-run not found", r.json()["error_message"])
                emu.stop()

    def test_pod_gone_archived_and_not(self):
        emu = self.start("2.17.0")
        gone = self.v2_run(emu, SUB_DAG, outcome="FAILED", failed_task="inner-pipeline/print-op2",
                           log="archived text\n", log_source="gone")
        archived = self.v2_run(emu, SUB_DAG, outcome="FAILED", failed_task="inner-pipeline/print-op2",
                               log="archived text\n", log_source="archive")
        for run_id, expect_log in ((gone, False), (archived, True)):
            wait_for_end(emu, run_id)
            workflow = workflow_of(emu, run_id)
            failed = [n for n in workflow["status"]["nodes"].values()
                      if n["type"] == "Pod" and n["phase"] == "Failed"][0]
            self.assertIn(".inner-pipeline.print-op2.executor", failed["name"])
            r = emu.get(log_path(run_id, pod_name(workflow, failed, "2.17.0")))
            self.assertEqual(r.status, 200)
            if expect_log:
                self.assertEqual(r.body, b"archived text\n")
            else:
                self.assertIn("due to error fetching the log file: Failed to get file reader for",
                              r.json()["error_message"])

    def test_v1_server_reads_an_argo_package_with_pod_names_as_node_ids(self):
        emu = self.start("1.8.5")
        r = emu.upload(V1_ARGO.encode(), "v1.yaml", api="v1beta1", query={"name": "v1-failures"})
        self.assertEqual(r.status, 200, r)
        emu.post("/_emulator/outcomes", {"outcome": "FAILED", "failed_task": "for-loop-1/train",
                                         "message": "Error (exit code 1)", "log": "train broke\n"})
        r = emu.post("/apis/v1beta1/runs", {"name": "r", "pipeline_spec": {"pipeline_id": r.json()["id"]}})
        self.assertEqual(r.status, 200, r)
        run_id = r.json()["run"]["id"]
        self.assertEqual(wait_for_end(emu, run_id, api="v1beta1"), "Failed")
        workflow = workflow_of(emu, run_id)
        nodes = workflow["status"]["nodes"]
        failed = [n for n in nodes.values() if n["type"] == "Pod" and n["phase"] == "Failed"]
        self.assertEqual([n["displayName"] for n in failed], ["train"])
        self.assertIn(".for-loop-1(0:a).train", failed[0]["name"])
        self.assertNotIn("report", {n["displayName"] for n in nodes.values()}, "nothing starts after a failure")
        self.assertEqual({n["type"] for n in nodes.values()}, {"DAG", "TaskGroup", "Pod"})
        r = emu.get(log_path(run_id, failed[0]["id"]))
        self.assertEqual(r.body, b"train broke\n")
        self.assertEqual(emu.get(log_path("nope", "x")).json()["error_message"],
                         "Run does not exist: log cannot be read")

    def test_canceled_and_terminated_runs_fail_their_running_pods(self):
        emu = self.start("2.17.0")
        run_id = self.v2_run(emu, SUB_DAG, outcome="CANCELED", failed_task="inner-pipeline/print-op1")
        self.assertEqual(wait_for_end(emu, run_id), "CANCELED")
        nodes = workflow_of(emu, run_id)["status"]["nodes"].values()
        killed = [n for n in nodes if n["type"] == "Pod" and n["phase"] == "Failed"]
        self.assertTrue(killed)
        self.assertEqual({n["message"] for n in killed}, {"Step exceeded its deadline"})
        self.assertIn("inner-pipeline.print-op1.executor", " ".join(n["name"] for n in killed))
        self.assertNotIn("print-op2", {n["displayName"] for n in nodes}, "pods after the deadline never start")
        self.assertFalse([n for n in nodes if n["phase"] == "Running"])

        hang = self.v2_run(emu, SUB_DAG, outcome="HANG")
        time.sleep(1.0)
        self.assertEqual(emu.post(f"/apis/v2beta1/runs/{hang}:terminate").status, 200)
        self.assertEqual(wait_for_end(emu, hang), "CANCELED")
        nodes = workflow_of(emu, hang)["status"]["nodes"].values()
        self.assertEqual({n["message"] for n in nodes if n["type"] == "Pod" and n["phase"] == "Failed"},
                         {"Step exceeded its deadline"})
        self.assertFalse([n for n in nodes if n["phase"] == "Running"])

    def test_a_huge_log_is_streamed_in_chunks(self):
        size, judged = huge_log_bytes(self.binary)
        emu = self.start("2.17.0")
        run_id = self.v2_run(emu, SUB_DAG, outcome="FAILED", log="THE END\n", log_bytes=size)
        wait_for_end(emu, run_id)
        workflow = workflow_of(emu, run_id)
        failed = [n for n in workflow["status"]["nodes"].values() if n["type"] == "Pod" and n["phase"] == "Failed"][0]
        connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=60)
        connection.request("GET", log_path(run_id, pod_name(workflow, failed, "2.17.0")))
        reply = connection.getresponse()
        self.assertEqual(reply.getheader("transfer-encoding"), "chunked")
        total, tail = 0, b""
        while True:
            piece = reply.read(1 << 20)
            if not piece:
                break
            total += len(piece)
            tail = (tail + piece)[-64:]
        connection.close()
        self.assertEqual(total, size + len(b"THE END\n"))
        self.assertTrue(tail.endswith(b"\nTHE END\n"), tail)
        if not judged:
            return
        # The emulator generated the log piece by piece: its peak memory stays far below the log.
        peak_kib = int(re.search(r"VmHWM:\s+(\d+)", pathlib.Path(f"/proc/{emu.process.pid}/status").read_text())[1])
        self.assertLess(peak_kib, 64 << 10)

    def test_outcome_controls_are_checked(self):
        emu = self.start("2.17.0")
        for body in ({"outcome": "SUCCEEDED", "failed_task": "x"}, {"outcome": "FAILED", "log_bytes": -1},
                     {"outcome": "FAILED", "log_source": "disk"}, {"outcome": "FAILED", "log": 3}):
            with self.subTest(body):
                self.assertEqual(emu.post("/_emulator/outcomes", body).status, 400)


class RunFailuresTest(PublishTestCase):
    """kfp-publish against those runs: the report, the text, the step summary and the annotation."""

    emulator_flags = ("--auth", "token", "--run-duration", "800ms")

    def setUp(self):
        super().setUp()
        # The client side of issue 17 lands separately; until kfp-publish knows --failure-log-lines
        # these tests have nothing to test and say so.
        helped = subprocess.run([str(self.publish_binary), "run", "--help"], capture_output=True, text=True,
                                timeout=30)
        if "--failure-log-lines" not in helped.stdout + helped.stderr:
            self.skipTest("skipped: this kfp-publish has no --failure-log-lines (issue 17's client side)")

    def corpus_package(self, parts):
        self.skip_without_v2_yaml()
        source = self.corpus("valid", *parts)
        if not source.exists():
            self.skipTest(f"skipped: {source} is absent")
        target = self.tmp / parts[-1]
        shutil.copyfile(source, target)
        return target

    def run_failing(self, parts, *extra, pipeline="p", env=None, **outcome):
        if outcome:
            r = self.emu.post("/_emulator/outcomes", outcome)
            self.assertEqual(r.status, 200, r)
        return self.kfp("publish", self.corpus_package(parts), "--pipeline", pipeline, "--run", "--experiment", "ci",
                        "--wait", "-o", "json", *extra, env=env)

    def failed_pod(self, report):
        workflow = workflow_of_token(self.emu, report["run"]["id"], self.token)
        failed = [n for n in workflow["status"]["nodes"].values() if n["type"] == "Pod" and n["phase"] == "Failed"]
        return workflow, failed

    def assert_failed_task(self, task, name, first_segment, message):
        self.assertEqual(task["name"], name)
        segments = task["path"].split("/")
        self.assertEqual(segments[-1], name)
        self.assertTrue(segments[0].startswith(first_segment), task["path"])
        self.assertEqual(task["state"], "FAILED")
        self.assertIn(message, task["error"])
        for key in ("started_at", "finished_at", "pod", "node_id", "url"):
            self.assertTrue(task.get(key), f"{key} missing in {task}")

    def assert_counts(self, tasks, succeeded=None, running=None):
        """The report's task counts: the components only (print-op1 twice, print-op2, and perhaps the
        sub-DAG inner-pipeline itself, which the interface leaves to the client), never the drivers,
        executor wrappers, loop iterators or the root."""
        states = ("succeeded", "running", "failed", "pending", "skipped", "canceled")
        self.assertEqual(tasks["total"], sum(tasks[state] for state in states), tasks)
        self.assertLessEqual(tasks["total"], 4, f"system nodes counted: {tasks}")
        if succeeded is not None:
            self.assertEqual(tasks["succeeded"], succeeded, tasks)
        if running is not None:
            self.assertEqual(tasks["running"], running, tasks)
            self.assertEqual(len(tasks["running_tasks"]), running, tasks)

    def test_a_failing_task_inside_a_sub_dag(self):
        result = self.run_failing(SUB_DAG, outcome="FAILED", failed_task="inner-pipeline/print-op2",
                                  message="Error (exit code 2)", log="line one\nprint-op2 went wrong\n")
        self.assertEqual(result.code, 1, result)
        report = result.report()
        self.assertEqual(report["run"]["state"], "FAILED")
        failed = report["run"]["failed_tasks"]
        self.assertTrue(failed, report)
        self.assert_failed_task(failed[0], "print-op2", "inner-pipeline", "Error (exit code 2)")
        self.assertEqual(failed[0]["path"], "inner-pipeline/print-op2")
        workflow, pods = self.failed_pod(report)
        self.assertEqual(failed[0]["pod"], pod_name(workflow, pods[0], harness.server_version()))
        self.assertEqual(failed[0]["node_id"], failed[0]["pod"], "the log endpoint takes the pod name")
        self.assertIn("print-op2 went wrong", failed[0]["log_tail"])
        self.assertNotIn("log_error", failed[0])
        self.assertIn(report["run"]["id"], failed[0]["url"])
        self.assert_counts(report["run"]["tasks"], succeeded=2, running=0)
        self.assertRegex(result.stderr, r"task inner-pipeline/print-op2 FAILED: .*Error \(exit code 2\)")
        self.assertEqual(len(re.findall(r"task inner-pipeline/print-op2 FAILED", result.stderr)), 1,
                         "the transition is printed once")
        self.assertIn("print-op2 went wrong", result.stderr)

    def test_progress_while_the_run_is_running(self):
        # HANG: print-op2, the last task, never ends; the wait times out (exit 8) with it running.
        result = self.run_failing(SUB_DAG, "--wait-timeout", "2500ms", outcome="HANG")
        self.assertEqual(result.code, 8, result)
        tasks = result.report()["run"]["tasks"]
        self.assert_counts(tasks, succeeded=2)
        self.assertGreaterEqual(tasks["running"], 1, tasks)
        self.assertTrue(any(name.endswith("print-op2") for name in tasks["running_tasks"]), tasks)
        # The interface's "tasks D/T done (S succeeded, F failed), R running: a, b", a count of 0
        # failed left out.
        self.assertRegex(result.stderr, r"tasks \d+/\d+ done \(\d+ succeeded(, \d+ failed)?\), 1 running: \S*print-op")

    def test_a_failing_task_inside_a_parallel_for(self):
        result = self.run_failing(PARALLEL_FOR, outcome="FAILED", failed_task="for-loop-2/print-op",
                                  message="OOMKilled (exit code 137)")
        self.assertEqual(result.code, 1, result)
        failed = result.report()["run"]["failed_tasks"]
        self.assertTrue(failed)
        self.assert_failed_task(failed[0], "print-op", "for-loop-2", "OOMKilled (exit code 137)")
        self.assertEqual(len([t for t in failed if t["name"] == "print-op"]), 1, "one iteration failed")
        tasks = result.report()["run"]["tasks"]
        self.assertGreaterEqual(tasks["failed"], 1)
        self.assertEqual(tasks["running"], 0)

    def test_a_canceled_run_reports_the_tasks_it_stopped_and_exits_9(self):
        result = self.run_failing(SUB_DAG, outcome="CANCELED", failed_task="inner-pipeline/print-op1")
        self.assertEqual(result.code, 9, result)
        report = result.report()
        self.assertEqual(report["run"]["state"], "CANCELED")
        self.assertIn("failed_tasks", report["run"])
        stopped = [t for t in report["run"]["failed_tasks"] if t["name"] == "print-op1"]
        self.assertTrue(stopped, report["run"]["failed_tasks"])
        self.assertIn("Step exceeded its deadline", stopped[0]["error"])

    def test_log_endpoint_failures_are_reported_without_changing_the_exit_code(self):
        cases = {
            # The real server answers a vanished pod (and no archived log) with 200 and an error body.
            "pod gone": ({"log_source": "gone"}, None),
            "500": ({}, 500),
            "404": ({}, 404),
        }
        for name, (plan, status) in cases.items():
            with self.subTest(name):
                self.emu.clear_faults()
                if status:
                    self.emu.add_fault(path="/apis/v1alpha1/", kind="status", status=status, count=50)
                result = self.run_failing(SUB_DAG, "--run-key", f"logs-{name}", outcome="FAILED",
                                          failed_task="inner-pipeline/print-op2", log="never read\n", **plan)
                self.assertEqual(result.code, 1, result)
                task = result.report()["run"]["failed_tasks"][0]
                self.assertTrue(task.get("log_error"), task)
                self.assertNotIn("never read", task.get("log_tail", ""))
                if name == "pod gone":
                    self.assertIn("Failed to read logs", task["log_error"])
                else:
                    self.assertIn(str(status), task["log_error"])
        self.emu.clear_faults()

    def test_ansi_escapes_and_invalid_utf8_in_the_log(self):
        result = self.run_failing(SUB_DAG, outcome="FAILED", failed_task="inner-pipeline/print-op2",
                                  log_base64=base64.b64encode(ANSI_LOG).decode())
        self.assertEqual(result.code, 1, result)
        tail = result.report()["run"]["failed_tasks"][0]["log_tail"]
        self.assertNotIn("\x1b", tail)
        self.assertIn("red error", tail)
        self.assertIn("cleared line", tail)
        self.assertIn("bad bytes \ufffd", tail, "invalid UTF-8 is replaced")
        self.assertIn("last line", tail)
        self.assertNotIn("\x1b", result.stderr)
        self.assertIn("red error", result.stderr)

    def test_a_huge_log_is_read_for_its_tail_in_bounded_memory(self):
        size, judged = huge_log_bytes(self.publish_binary, self.binary)
        self.emu.post("/_emulator/outcomes", {"outcome": "FAILED", "failed_task": "inner-pipeline/print-op2",
                                              "log": "the final line\n", "log_bytes": size})
        package = self.corpus_package(SUB_DAG)
        argv = [str(self.publish_binary), "publish", str(package), "--pipeline", "p", "--run", "--experiment", "ci",
                "--wait", "-o", "json", "--host", self.host, "--token-file", str(self.token_file)]
        # The child's peak RSS, measured by a wrapper that runs only it.
        wrapper = ("import resource, subprocess, sys\n"
                   "done = subprocess.run(sys.argv[1:], capture_output=True)\n"
                   "sys.stdout.buffer.write(done.stdout)\n"
                   "sys.stderr.buffer.write(done.stderr)\n"
                   "sys.stderr.write('\\nMAXRSS_KIB=%d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
                   "sys.exit(done.returncode)\n")
        completed = subprocess.run([sys.executable, "-c", wrapper, *argv], capture_output=True, text=True,
                                   env=publish_env(), timeout=300)
        self.assertEqual(completed.returncode, 1, completed.stderr[-3000:])
        peak = int(re.search(r"MAXRSS_KIB=(\d+)", completed.stderr)[1])
        if judged:
            self.assertLess(peak, MAX_CLIENT_RSS_KIB, f"kfp-publish peaked at {peak} KiB reading a 200 MiB log")
        task = json.loads(completed.stdout)["run"]["failed_tasks"][0]
        self.assertTrue(task["log_tail"].rstrip().endswith("the final line"), task["log_tail"][-300:])
        self.assertLessEqual(len(task["log_tail"].splitlines()), 50, "the default tail is 50 lines")

    def test_failure_log_lines_flag_and_zero(self):
        lines = "".join(f"log line {i}\n" for i in range(200))
        for flag, expected in (("7", 7), ("0", 0)):
            with self.subTest(flag):
                result = self.run_failing(SUB_DAG, "--failure-log-lines", flag, "--run-key", f"lines-{flag}",
                                          outcome="FAILED", failed_task="inner-pipeline/print-op2", log=lines)
                self.assertEqual(result.code, 1, result)
                task = result.report()["run"]["failed_tasks"][0]
                tail = task.get("log_tail", "")
                self.assertEqual(len(tail.splitlines()), expected, tail)
                if expected:
                    self.assertEqual(tail.splitlines()[-1], "log line 199")
                logs = [r for r in self.emu.requests_log() if r["path"].startswith("/apis/v1alpha1/")]
                if not expected:
                    self.assertEqual(logs, [], "0 turns log reading off")
                self.emu.clear_requests()

    def test_a_token_in_the_log_is_redacted_everywhere(self):
        summary = self.tmp / "summary.md"
        report_file = self.tmp / "report.json"
        log = f"connecting\nAuthorization: Bearer {self.token}\nfailed with token={self.token}\n"
        result = self.run_failing(SUB_DAG, "--report", report_file, outcome="FAILED",
                                  failed_task="inner-pipeline/print-op2", log=log,
                                  env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
        self.assertEqual(result.code, 1, result)
        for name, text in (("stderr", result.stderr), ("stdout", result.stdout),
                           ("report", report_file.read_text()), ("step summary", summary.read_text())):
            self.assertNotIn(self.token, text, f"the token leaked into the {name}")
        self.assertIn("connecting", result.report()["run"]["failed_tasks"][0]["log_tail"])

    def test_github_step_summary_table_mermaid_and_annotation(self):
        summary = self.tmp / "summary.md"
        result = self.run_failing(SUB_DAG, outcome="FAILED", failed_task="inner-pipeline/print-op2",
                                  message="Error (exit code 5)", log="summary tail line\n",
                                  env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
        self.assertEqual(result.code, 1, result)
        text = summary.read_text()
        # A table row for the failed task, its log tail folded.
        self.assertRegex(text, r"\|[^\n]*inner-pipeline/print-op2[^\n]*\|")
        self.assertIn("<details>", text)
        self.assertIn("summary tail line", text)
        mermaid = re.search(r"```mermaid\n(.*?)```", text, re.S)
        self.assertIsNotNone(mermaid, text)
        graph = mermaid[1]
        self.assertRegex(graph, r"^(graph|flowchart) ")
        for task in ("print-op1", "print-op2", "inner-pipeline"):
            self.assertIn(task, graph)
        self.assertNotIn("driver", graph, "system nodes are not drawn")
        self.assertRegex(graph, r"(classDef|style|linkStyle)")
        annotation = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("::error")]
        self.assertTrue(annotation, result)
        self.assertIn("inner-pipeline/print-op2", annotation[0])

    def test_v1beta1_server_reports_failed_tasks_from_the_workflow_manifest(self):
        emu = self.start_emulator("--server-version", "1.8.5", "--auth", "token", "--run-duration", "800ms",
                                  "--token-key", str(self.rsa_key()))
        package = self.write("v1.yaml", V1_ARGO)
        emu.post("/_emulator/outcomes", {"outcome": "FAILED", "failed_task": "for-loop-1/train",
                                         "message": "Error (exit code 1)", "log": "train broke here\n"})
        # KFP 1.8's upload endpoints take no token (only kubeflow-userid): the pipeline is shared,
        # the run is in the profile's namespace.
        result = self.kfp("publish", package, "--pipeline", "v1-failures", "--shared-pipeline", "--run", "--experiment",
                          "ci", "--wait", "-o", "json", host=emu.url)
        self.assertEqual(result.code, 1, result)
        report = result.report()
        failed = report["run"]["failed_tasks"]
        self.assertTrue(failed, report)
        self.assertEqual(failed[0]["name"], "train")
        self.assertIn("Error (exit code 1)", failed[0]["error"])
        self.assertIn("train broke here", failed[0]["log_tail"])
        workflow = workflow_of_token(emu, report["run"]["id"], self.token)
        pods = [n for n in workflow["status"]["nodes"].values() if n["type"] == "Pod" and n["phase"] == "Failed"]
        self.assertEqual(failed[0]["pod"], pods[0]["id"], "on KFP 1.8 (Argo 3.3) the pod is named after its node")
        tasks = report["run"]["tasks"]
        # prepare and the other iterations' train succeed, one train fails; report never starts.
        self.assertGreaterEqual(tasks["succeeded"], 1, tasks)
        self.assertGreaterEqual(tasks["failed"], 1, tasks)


def workflow_of_token(emu, run_id, token):
    detail = emu.get(f"/apis/v1beta1/runs/{run_id}", token=token).json()
    return json.loads(detail["pipeline_runtime"]["workflow_manifest"])


if __name__ == "__main__":
    import unittest

    unittest.main()
