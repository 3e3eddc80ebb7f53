"""kfp-publish against KFP 1.8 (v1beta1 only) and 2.5 servers: publish created → unchanged →
updated, v2 IR YAML refused client-side on 1.8 (exit 3), publish --run --wait with SUCCEEDED (0) and
FAILED (1), run with checked parameters, the run key, multi-user namespaces, and the same traffic
checked against the real v1beta1 spec through ../shared/contract (skipped when absent).

Runs the real binaries: KFP_PUBLISH_BIN and KFP_EMULATOR_BIN (CTest sets both).
"""

import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402

CLI_TIMEOUT_S = 120
RUN_DURATION = "1s"
CONTRACT_START_TIMEOUT_S = 60

ARGO_WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hello-argo-
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: message
      value: {default}
    - name: count
  templates:
  - name: main
    container:
      image: alpine:3.19
      command: [echo, "{{{{workflow.parameters.message}}}}", "{{{{workflow.parameters.count}}}}"]
"""


def clean_env(extra=None):
    """No CI variables or KFP_* settings leak in from the caller: the tests decide them."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith(("KFP_", "KF_PIPELINES", "GITHUB_", "TEKTON", "ARGO_", "CI"))
                   or k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"))}
    env.update(extra or {})
    return env


class Result:
    def __init__(self, completed):
        self.code = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        try:
            self.report = json.loads(completed.stdout) if completed.stdout.strip() else {}
        except json.JSONDecodeError:
            self.report = {"unparsable_stdout": completed.stdout}

    def __repr__(self):
        return f"exit {self.code}\nreport {json.dumps(self.report, indent=1)}\nstderr {self.stderr[-2000:]}"


class V1Case(harness.EmulatorTestCase):
    """One emulator per test; subclasses choose the server version and the --api value."""

    server_version = "1.8.5"
    api = "auto"
    expected_api = "v1beta1"
    extra_flags = ()

    def setUp(self):
        super().setUp()
        self.cli = harness.require_publish(self)
        self.emulator = self.start_emulator("--server-version", self.server_version,
                                            "--run-duration", RUN_DURATION, *self.extra_flags)
        self.token_file = None  # the default path, absent here: no Authorization header
        self.host = self.emulator.url

    def argo(self, name="hello-argo", default="hello"):
        path = self.tmp / f"{name}.yaml"
        path.write_text(ARGO_WORKFLOW.format(default=default))
        return path

    def kfp(self, *args, env=None):
        argv = [str(self.cli), *args, "--host", self.host, "--api", self.api, "-o", "json", "--retries", "2"]
        if self.token_file is not None:
            argv += ["--token-file", str(self.token_file)]
        completed = subprocess.run(argv, capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
                                   env=clean_env(env))
        return Result(completed)

    def requests(self, method=None, prefix=""):
        return [r for r in self.emulator.requests_log()
                if (method is None or r["method"] == method) and r["path"].startswith(prefix)]

    def assert_exit(self, result, code):
        self.assertEqual(result.code, code, result)
        self.assertEqual(result.report.get("exit_code"), code, result)


class PublishScenarios:
    """The publish-and-run scenarios; mixed into one TestCase per server flavour."""

    def test_created_unchanged_updated(self):
        package = self.argo()
        first = self.kfp("publish", str(package), "--pipeline", "hello-argo")
        self.assert_exit(first, 0)
        self.assertEqual(first.report["outcome"], "created", first)
        self.assertEqual(first.report["server"]["api"], self.expected_api, first)
        self.assertTrue(first.report["pipeline"]["created"], first)
        self.assertTrue(first.report["version"]["created"], first)
        self.assertTrue(first.report["version"]["digest"].startswith("sha256:"), first)
        state = self.emulator.state()
        self.assertEqual(len(state.get("pipelines", [])), 1, state)
        self.assertEqual(len(state.get("pipeline_versions", [])), 1, state)
        first_version_id = first.report["version"]["id"]
        self.assertIn(first_version_id, json.dumps(state["pipeline_versions"]))

        self.emulator.clear_requests()
        again = self.kfp("publish", str(package), "--pipeline", "hello-argo")
        self.assert_exit(again, 0)
        self.assertEqual(again.report["outcome"], "unchanged", again)
        self.assertEqual(again.report["version"]["id"], first_version_id, again)
        self.assertFalse(again.report["version"]["created"], again)
        self.assertEqual(self.requests("POST"), [], "an unchanged publish uploads nothing")

        changed = self.argo(name="hello-argo-changed", default="hello-again")
        updated = self.kfp("publish", str(changed), "--pipeline", "hello-argo")
        self.assert_exit(updated, 0)
        self.assertEqual(updated.report["outcome"], "updated", updated)
        self.assertNotEqual(updated.report["version"]["id"], first_version_id, updated)
        self.assertFalse(updated.report["pipeline"]["created"], updated)
        self.assertEqual(len(self.emulator.state().get("pipeline_versions", [])), 2)

        # The first content is still known by its digest: unchanged, nothing uploaded.
        back = self.kfp("publish", str(package), "--pipeline", "hello-argo")
        self.assert_exit(back, 0)
        self.assertEqual(back.report["outcome"], "unchanged", back)
        self.assertEqual(back.report["version"]["id"], first_version_id, back)

    def test_publish_run_wait_succeeded(self):
        result = self.kfp("publish", str(self.argo()), "--pipeline", "hello-argo", "--run",
                          "--experiment", "ci", "--param", "count=3", "--run-key", "k-ok", "--wait",
                          "--wait-timeout", "60s")
        self.assert_exit(result, 0)
        self.assertEqual(result.report["run"]["state"], "SUCCEEDED", result)
        self.assertTrue(result.report["run"]["created"], result)
        self.assertTrue(result.report["run"]["url"].endswith("/#/runs/details/" + result.report["run"]["id"]))
        self.assertTrue(result.report["experiment"]["created"], result)
        runs = self.emulator.state().get("runs", [])
        self.assertEqual(len(runs), 1, runs)

    def test_publish_run_wait_failed(self):
        self.emulator.set_outcome("FAILED")
        result = self.kfp("publish", str(self.argo()), "--pipeline", "hello-argo", "--run",
                          "--experiment", "ci", "--param", "count=3", "--run-key", "k-fail", "--wait",
                          "--wait-timeout", "60s")
        self.assert_exit(result, 1)
        self.assertEqual(result.report["run"]["state"], "FAILED", result)
        self.assertEqual(result.report["error"]["kind"], "run_failed", result)

    def test_run_checks_parameters_and_keeps_one_run_per_key(self):
        self.assert_exit(self.kfp("publish", str(self.argo()), "--pipeline", "hello-argo"), 0)
        self.emulator.clear_requests()
        unknown = self.kfp("run", "--pipeline", "hello-argo", "--experiment", "ci", "--param", "nope=1",
                           "--param", "count=1", "--run-key", "k1")
        self.assert_exit(unknown, 3)
        self.assertEqual(unknown.report["error"]["kind"], "invalid_parameters", unknown)
        self.assertEqual(self.requests("POST"), [], "nothing is created when parameters are wrong")

        missing = self.kfp("run", "--pipeline", "hello-argo", "--experiment", "ci", "--run-key", "k1")
        self.assert_exit(missing, 3)
        self.assertIn("count", missing.report["error"]["message"], missing)

        first = self.kfp("run", "--pipeline", "hello-argo", "--experiment", "ci", "--param", "count=1",
                         "--run-key", "k1")
        self.assert_exit(first, 0)
        self.assertTrue(first.report["run"]["created"], first)
        second = self.kfp("run", "--pipeline", "hello-argo", "--experiment", "ci", "--param", "count=1",
                          "--run-key", "k1")
        self.assert_exit(second, 0)
        self.assertFalse(second.report["run"]["created"], second)
        self.assertEqual(second.report["run"]["id"], first.report["run"]["id"], second)
        self.assertFalse(second.report["experiment"]["created"], second)
        self.assertEqual(len(self.emulator.state().get("runs", [])), 1)

    def test_run_of_unknown_pipeline_is_not_found(self):
        result = self.kfp("run", "--pipeline", "missing", "--experiment", "ci", "--run-key", "k")
        self.assert_exit(result, 6)
        self.assertEqual(result.report["error"]["kind"], "not_found", result)


class V18Server(PublishScenarios, V1Case):
    server_version = "1.8.5"
    api = "auto"
    expected_api = "v1beta1"

    def test_v2_yaml_is_refused_before_any_upload(self):
        package = harness.source_dir() / "pipelines-examples" / "hello-world.yaml"
        if not package.exists():
            self.skipTest("pipelines-examples/hello-world.yaml is absent")
        result = self.kfp("publish", str(package), "--pipeline", "hello-world")
        self.assert_exit(result, 3)
        self.assertEqual(result.report["error"]["kind"], "invalid_package", result)
        self.assertIn("1.8.5", result.report["error"]["message"], result)
        self.assertEqual(self.requests("POST"), [], "nothing is sent for a package 1.8 cannot run")
        self.assertEqual(self.requests(prefix="/apis/v1beta1/pipelines"), [])

    def test_corpus_argo_package_publishes(self):
        corpus = self.corpus("v1-argo")
        packages = sorted(corpus.glob("*.yaml"))
        if not packages:
            self.skipTest(f"skipped: no Argo packages in {corpus}")
        result = self.kfp("publish", str(packages[0]), "--pipeline", "corpus-argo")
        self.assert_exit(result, 0)
        self.assertEqual(result.report["outcome"], "created", result)

    def test_description_with_plus_and_percent_survives_the_second_unescape(self):
        text = "a+b 100% done"
        result = self.kfp("publish", str(self.argo()), "--pipeline", "hello-argo", "--description", text)
        self.assert_exit(result, 0)
        pipelines = self.emulator.state()["pipelines"]
        self.assertIn(text, json.dumps(pipelines), pipelines)
        again = self.kfp("publish", str(self.argo(name="second", default="v2")), "--pipeline", "hello-argo",
                         "--description", text)
        self.assert_exit(again, 0)
        self.assertIn(text, json.dumps(self.emulator.state()["pipeline_versions"]))

    def test_the_source_url_is_in_the_pipeline_and_version_descriptions_and_round_trips(self):
        # 1.8 unescapes the pipeline upload's description twice and the version upload's once
        # (pipeline_upload_server.go:114,167 @1.8.5); neither reads a code_source_url.
        url = "https://git.example.com/a%20b/tree/c+d?x=1&y=%2F"
        first = self.kfp("publish", str(self.argo()), "--pipeline", "hello-argo", "--code-source-url", url)
        self.assert_exit(first, 0)
        self.assertIn(f"\nsource: {url}\ndigest: sha256:", self.emulator.state()["pipelines"][0]["description"])
        second = self.kfp("publish", str(self.argo(name="second", default="v2")), "--pipeline", "hello-argo",
                          "--code-source-url", url)
        self.assert_exit(second, 0)
        version = next(v for v in self.emulator.state()["pipeline_versions"]
                       if v["pipeline_version_id"] == second.report["version"]["id"])
        self.assertIn(f"\nsource: {url}\ndigest: sha256:", version["description"])
        self.assertFalse([r for r in self.requests("POST") if "code_source_url" in r["query"]])
        # Both digests still read back beside the source line: nothing is uploaded again.
        self.emulator.clear_requests()
        for package in (self.argo(), self.argo(name="second", default="v2")):
            again = self.kfp("publish", str(package), "--pipeline", "hello-argo", "--code-source-url", url)
            self.assert_exit(again, 0)
            self.assertEqual(again.report["outcome"], "unchanged", again)
        self.assertEqual(self.requests("POST"), [])

    def test_lost_upload_responses_are_looked_up_not_repeated(self):
        self.emulator.add_fault(method="POST", path="/apis/v1beta1/pipelines/upload", kind="lost_response",
                                count=1)
        first = self.kfp("publish", str(self.argo()), "--pipeline", "hello-argo")
        self.assert_exit(first, 0)
        self.assertEqual(first.report["outcome"], "created", first)
        self.assertEqual(len(self.requests("POST", "/apis/v1beta1/pipelines/upload")), 1, self.requests())
        self.emulator.add_fault(method="POST", path="/apis/v1beta1/pipelines/upload_version",
                                kind="lost_response", count=1)
        second = self.kfp("publish", str(self.argo(name="second", default="other")), "--pipeline", "hello-argo")
        self.assert_exit(second, 0)
        self.assertEqual(second.report["outcome"], "updated", second)
        self.assertEqual(len(self.requests("POST", "/apis/v1beta1/pipelines/upload_version")), 1, self.requests())
        state = self.emulator.state()
        self.assertEqual(len(state["pipelines"]), 1, state)
        self.assertEqual(len(state["pipeline_versions"]), 2, state)

    def test_wait_timeout_terminates_with_the_v1_path(self):
        self.emulator.set_outcome("HANG")
        result = self.kfp("publish", str(self.argo()), "--pipeline", "hello-argo", "--run", "--experiment", "ci",
                          "--param", "count=1", "--run-key", "hang", "--wait", "--wait-timeout", "2s",
                          "--cancel-on-timeout")
        self.assert_exit(result, 8)
        run_id = result.report["run"]["id"]
        terminated = self.requests("POST", f"/apis/v1beta1/runs/{run_id}/terminate")
        self.assertEqual(len(terminated), 1, self.requests())

    def test_first_publish_reports_the_pipeline_id_and_the_version_name(self):
        # On v1 the pipeline is created by its first upload, which names the version after the
        # pipeline: the report must carry that pipeline id and that version name.
        result = self.kfp("publish", str(self.argo()), "--pipeline", "hello-argo")
        self.assert_exit(result, 0)
        state = self.emulator.state()
        self.assertEqual(result.report["pipeline"]["id"], state["pipelines"][0]["pipeline_id"], result)
        self.assertEqual(result.report["version"]["name"], "hello-argo", result)


class V18MultiUser(V1Case):
    """Kubeflow mode: namespaced pipelines, experiments with a NAMESPACE owner reference."""

    server_version = "1.8.5"

    def setUp(self):
        harness.EmulatorTestCase.setUp(self)
        self.cli = harness.require_publish(self)
        key = self.rsa_key()
        self.emulator = self.start_emulator("--server-version", "1.8.5", "--run-duration", RUN_DURATION,
                                            "--auth", "token", "--token-key", str(key))
        self.token_file = self.tmp / "token"
        self.token_file.write_text(self.emulator.mint_token(key, "system:serviceaccount:team-a:default-editor"))
        self.host = self.emulator.url

    def test_a_namespaced_upload_with_a_token_is_refused_and_says_why(self):
        # KFP 1.8's upload endpoints review the identity of the kubeflow-userid header only, never
        # the bearer token (pipeline_upload_server.go:224-241 @1.8.5), while its JSON API accepts
        # the token (TokenReview): the upload is refused whatever the RBAC, exit 5, and the message
        # says so instead of blaming a RoleBinding.
        result = self.kfp("publish", str(self.argo()), "--pipeline", "hello-argo", "--run",
                          "--experiment", "ci", "--param", "count=2", "--run-key", "mu")
        self.assert_exit(result, 5)
        error = result.report["error"]
        self.assertEqual(error["kind"], "forbidden", result)
        self.assertEqual(error["http_status"], 400, result)
        self.assertIn("only from the kubeflow-userid header", error["message"], result)
        self.assertIn("namespace team-a", error["message"], result)
        self.assertIn("--shared-pipeline", error["hint"], result)
        self.assertNotIn("RoleBinding", error["hint"], result)
        self.assertEqual(result.report["namespace"], "team-a", result)
        state = self.emulator.state()
        self.assertEqual(state.get("pipelines", []), [], state)
        self.assertEqual(state.get("runs", []), [], state)

    def test_a_shared_pipeline_publishes_with_the_token_and_runs_in_the_namespace(self):
        # What does work on 1.8 with a token: the upload endpoints skip authorization for a pipeline
        # without a namespace (canUploadVersionedPipeline returns nil, pipeline_upload_server.go
        # :225-227 @1.8.5), and the run and experiment servers authenticate the bearer token
        # (server/util.go:348-380 isAuthorized → AuthenticateRequest). publish → run → wait, end to end.
        for attempt, (option, env) in enumerate([(["--shared-pipeline"], None),
                                                 ([], {"KFP_SHARED_PIPELINE": "true"})]):
            with self.subTest(option=option, env=env):
                result = self.kfp("publish", str(self.argo()), "--pipeline", "hello-argo", *option, "--run",
                                  "--experiment", "ci", "--param", "count=2", "--run-key", f"shared-{attempt}",
                                  "--wait", "--wait-timeout", "60s", env=env)
                self.assert_exit(result, 0)
                self.assertEqual(result.report["run"]["state"], "SUCCEEDED", result)
                self.assertEqual(result.report["namespace"], "team-a", result)
                self.assertIn("shared pipeline", result.stderr, result)
                state = self.emulator.state()
                self.assertEqual(len(state["pipelines"]), 1, state)
                self.assertEqual(state["pipelines"][0].get("namespace", ""), "", state)
                experiments = {e["display_name"]: e.get("namespace") for e in state["experiments"]}
                self.assertEqual(experiments.get("ci"), "team-a", state)
                # Each run's workflow went to the profile namespace.
                workflows = [w["namespace"] for w in state["workflows"]]
                self.assertEqual(workflows, ["team-a"] * (attempt + 1), state)
        # The second publish found the shared pipeline and its version: nothing was uploaded again.
        self.assertEqual(result.report["outcome"], "unchanged", result)
        uploads = self.requests("POST", "/apis/v1beta1/pipelines/upload")
        self.assertEqual(len(uploads), 1, uploads)
        # `run` looks the pipeline up among the shared ones too.
        run = self.kfp("run", "--pipeline", "hello-argo", "--shared-pipeline", "--experiment", "ci",
                       "--param", "count=3", "--run-key", "shared-run", "--wait", "--wait-timeout", "60s")
        self.assert_exit(run, 0)
        self.assertEqual(run.report["pipeline"]["id"], state["pipelines"][0]["pipeline_id"], run)


class V25Server(PublishScenarios, V1Case):
    server_version = "2.5.0"
    api = "auto"
    expected_api = "v2beta1"


class V25ServerForcedV1(PublishScenarios, V1Case):
    server_version = "2.5.0"
    api = "v1beta1"
    expected_api = "v1beta1"

    def test_v2_yaml_is_accepted_by_a_2x_server_through_v1beta1(self):
        package = harness.source_dir() / "pipelines-examples" / "hello-world.yaml"
        if not package.exists():
            self.skipTest("pipelines-examples/hello-world.yaml is absent")
        result = self.kfp("publish", str(package), "--pipeline", "hello-world")
        self.assert_exit(result, 0)
        self.assertEqual(result.report["outcome"], "created", result)


# Contract checking ------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


class ContractProxy:
    """Prism in proxy mode, report-only, in front of the emulator; started by this test only."""

    def __init__(self, contract_dir, spec, upstream, log_dir):
        self.port = free_port()
        self.log = pathlib.Path(log_dir) / f"contract-prism-{self.port}.log"
        env = dict(os.environ, CONTRACT_ERRORS="0", CONTRACT_LOG_DIR=str(log_dir))
        self.process = subprocess.Popen(
            ["bash", str(contract_dir / "contract.sh"), "proxy", str(spec), upstream, str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)

    def ready(self):
        return wait_for_port(self.port, CONTRACT_START_TIMEOUT_S)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()

    def violations(self):
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines() if "Violation" in line]


class V18Contract(V1Case):
    """The v1 traffic of publish and publish --run --wait, checked against the v1beta1 spec."""

    server_version = "1.8.5"
    # auto would first probe /apis/v2beta1/healthz, a route the v1beta1 spec rightly does not know.
    api = "v1beta1"

    def setUp(self):
        super().setUp()
        shared = harness.shared_dir()
        if shared is None or not (shared / "contract" / "contract.sh").exists():
            self.skipTest("skipped: ../shared/contract is absent")
        if shutil.which("npm") is None or shutil.which("node") is None:
            self.skipTest("skipped: node/npm are absent, the contract checker cannot run")
        spec = shared / "contract" / "specs" / "kfp_api_v1beta1.prism.json"
        # The spec requires an authorization header: send a token (the single-user emulator ignores it).
        self.token_file = self.tmp / "token"
        self.token_file.write_text(self.emulator.mint_token(self.rsa_key(), "system:serviceaccount:team-a:ci"))
        self.proxy = ContractProxy(shared / "contract", spec, self.emulator.url, self.tmp)
        self.addCleanup(self.proxy.stop)
        if not self.proxy.ready():
            self.skipTest("skipped: the contract proxy (Prism) did not start; is it installed (npm ci)?")
        self.host = f"http://127.0.0.1:{self.proxy.port}"

    def test_no_request_violations(self):
        first = self.kfp("publish", str(self.argo()), "--pipeline", "hello-argo")
        self.assert_exit(first, 0)
        again = self.kfp("publish", str(self.argo()), "--pipeline", "hello-argo")
        self.assert_exit(again, 0)
        self.assertEqual(again.report["outcome"], "unchanged", again)
        waited = self.kfp("publish", str(self.argo(name="changed", default="changed")), "--pipeline", "hello-argo", "--run",
                          "--experiment", "ci", "--param", "count=1", "--run-key", "contract", "--wait",
                          "--wait-timeout", "60s")
        self.assert_exit(waited, 0)
        self.assertEqual(waited.report["outcome"], "updated", waited)
        ran = self.kfp("run", "--pipeline", "hello-argo", "--experiment", "ci", "--param", "count=1",
                       "--run-key", "contract")
        self.assert_exit(ran, 0)
        self.assertGreater(len(self.requests()), 5, "the traffic went through the proxy to the emulator")
        violations = self.proxy.violations()
        requests = [v for v in violations if v.split("Violation:", 1)[-1].strip().startswith("request")]
        self.assertEqual(requests, [], "\n".join(violations))


if __name__ == "__main__":
    unittest.main()
