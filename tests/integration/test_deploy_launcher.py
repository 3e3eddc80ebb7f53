"""ci/kfp-job.sh (the one-off command and the GitHub workflow's step) against tests/deploy/fake_kubectl.py,
which answers as kubectl and the API server do, failure modes included; the workflow step under the
runner's real cancellation; the composite action; and the README's set-up commands against a fresh
cluster. One scenario runs the created Job's pod through tests/deploy/kubelet.py against kfp-emulator.
"""
import json
import os
import pathlib
import re
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "deploy"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import deploy_support as ds  # noqa: E402
import harness  # noqa: E402
import kubelet  # noqa: E402

SCRIPT = ds.SOURCE_DIR / "ci" / "kfp-job.sh"
WORKFLOW = ds.SOURCE_DIR / "ci" / "github" / "workflows" / "publish-pipeline.yaml"
ACTION = ds.SOURCE_DIR / "ci" / "github" / "actions" / "kfp-publish" / "action.yml"
EXIT_SETUP, EXIT_UNAVAILABLE, EXIT_INTERRUPTED = 2, 7, 130
# actions/runner src/Runner.Sdk/ProcessInvoker.cs: _sigintTimeout 7500 ms, _sigtermTimeout 2500 ms,
# signals sent with kill(_proc.Id, sig) to the step's process only, then the process is killed.
SIGINT_GRACE_S, SIGTERM_GRACE_S = 7.5, 2.5
# src/Runner.Worker/Handlers/ScriptHandlerHelpers.cs: `shell: bash` runs this, {0} the script file.
STEP_SHELL = ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail"]
REPORT = {"schema": "kfp-publish/report/v1", "exit_code": 0, "outcome": "updated",
          "pipeline": {"id": "p-1"}, "version": {"id": "v-1", "name": "sha256-abc"},
          "run": {"id": "r-1", "state": "SUCCEEDED"}}


def done(exit_code, message="", condition=None, reason=""):
    condition = condition or ("Complete" if exit_code == 0 else "Failed")
    return {"job": {"conditions": [{"type": condition, "reason": reason, "message": reason.lower()}]},
            "pods": [{"name": "%JOB%-abcde", "state": {"terminated": {"exitCode": exit_code, "message": message}}}]}


RUNNING = {"job": {"active": 1}, "pods": [{"name": "%JOB%-abcde", "state": {"running": {}}}]}


def setUpModule():
    ds.skip_under_sanitizers()


def read_outputs(path):
    """$GITHUB_OUTPUT as the runner parses it: name=value lines and name<<DELIMITER blocks."""
    fields, lines = {}, path.read_text().split("\n") if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            fields[name] = "\n".join(lines[i + 1:end])
            i = end + 1
        elif "=" in line:
            name, value = line.split("=", 1)
            fields[name] = value
            i += 1
        else:
            i += 1
    return fields


class LauncherCase(unittest.TestCase):
    """A temp dir, the fake kubectl first on PATH, a package; no tests of its own."""

    def setUp(self):
        ds.require_yaml()
        self.real_kubectl = ds.require_tool("kubectl")
        ds.require_tool("jq")
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = pathlib.Path(self.tmp.name)
        bin_dir = self.dir / "bin"
        bin_dir.mkdir()
        fake = bin_dir / "kubectl"
        fake.write_text(f"#!/bin/sh\nexec {sys.executable} {ds.DEPLOY_DIR / 'fake_kubectl.py'} \"$@\"\n")
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
        self.path = f"{bin_dir}:{os.environ['PATH']}"
        self.package = self.dir / "my-pipeline.yaml"
        self.package.write_text((ds.MANIFESTS / "package" / "pipeline.yaml").read_text() + "# this commit\n")
        self.state_file = self.dir / "state.json"
        self.log = self.dir / "calls.jsonl"

    def environment(self, scenario, **env):
        self.state_file.write_text(json.dumps(scenario))
        return {"PATH": self.path, "HOME": str(self.dir), "FAKE_KUBECTL_REAL": self.real_kubectl,
                "FAKE_KUBECTL_STATE": str(self.state_file), "FAKE_KUBECTL_LOG": str(self.log),
                "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(self.dir / "github_output"),
                "GITHUB_STEP_SUMMARY": str(self.dir / "summary.md"),
                "GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "3", "GITHUB_SHA": "abc123",
                "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/pipelines",
                "KFP_JOB_NAMESPACE": "team-q", "KFP_JOB_PACKAGE": str(self.package),
                "KFP_JOB_PIPELINE": "my-pipeline", "KFP_JOB_IMAGE": "registry.example/kfp-publish:1.2.3",
                "KFP_JOB_POLL_SECONDS": "0", "KFP_JOB_START_TIMEOUT": "0", "KFP_JOB_RETRY_SECONDS": "0", **env}

    def calls(self):
        return [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []

    def state(self):
        return json.loads(self.state_file.read_text())

    def created(self):
        return [d for d in self.state().get("objects", {}).values()]

    def run_script(self, scenario, *args, **env):
        completed = ds.run([SCRIPT, *args], env=self.environment(scenario, **env), cwd=ds.SOURCE_DIR)
        return completed, read_outputs(self.dir / "github_output")


class Launcher(LauncherCase):
    def test_a_succeeded_run_passes_exit_code_and_outputs_through(self):
        params = self.dir / "params.yaml"
        params.write_text("recipient: CI\n")
        completed, fields = self.run_script(
            {"steps": [RUNNING, RUNNING, done(0, json.dumps(REPORT))], "logs": {"%JOB%-abcde": "LOG-OF-THE-POD"}},
            "--params-file", params)
        self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
        self.assertIn("LOG-OF-THE-POD", completed.stdout)
        self.assertEqual(fields, {"pipeline_id": "p-1", "version_id": "v-1", "version_name": "sha256-abc",
                                  "run_id": "r-1", "run_state": "SUCCEEDED", "outcome": "updated",
                                  "exit_code": "0", "job_name": "kfp-publish-4242-3"})
        self.assertIn("Complete (exit code 0)", (self.dir / "summary.md").read_text())
        job = next(d for d in self.created() if d["kind"] == "Job")
        self.assertEqual((job["metadata"]["name"], job["metadata"]["namespace"]), ("kfp-publish-4242-3", "team-q"))
        self.assertEqual(job["metadata"]["annotations"]["kfp-publish/commit"], "abc123")
        self.assertEqual(job["spec"]["template"]["spec"]["containers"][0]["image"], "registry.example/kfp-publish:1.2.3")
        maps = {d["metadata"]["name"]: d for d in self.created() if d["kind"] == "ConfigMap"}
        self.assertEqual(maps["kfp-publish-package-4242-3"]["data"]["pipeline.yaml"], self.package.read_text())
        settings = maps["kfp-publish-settings-4242-3"]["data"]
        self.assertEqual(settings, {"pipeline": "my-pipeline", "experiment": "ci", "wait_timeout": "1h",
                                    "code_source_url": "https://github.com/acme/pipelines/tree/abc123",
                                    "params.yaml": "recipient: CI\n"})
        # Both ConfigMaps are handed to the Job, so its TTL removes them.
        for config_map in maps.values():
            self.assertEqual(config_map["metadata"]["ownerReferences"][0]["name"], "kfp-publish-4242-3")
        self.assertFalse([c for c in self.calls() if c[0] == "delete"], "deletes nothing on success")

    def test_values_cannot_inject_manifest_content_or_outputs(self):
        hostile = 'x"\n  evil: true\nkind: Secret\n#'
        report = {"exit_code": 3, "outcome": "failed", "version": {"id": "v-1", "name": "v\nrun_state=SUCCEEDED"}}
        completed, fields = self.run_script({"steps": [done(3, json.dumps(report))]},
                                            "--experiment", hostile, "-p", "pipe: $(KFP_HOST) ${x}")
        self.assertEqual(completed.returncode, 3, completed.stderr)
        kinds = sorted(d["kind"] for d in self.created())
        self.assertEqual(kinds, ["ConfigMap", "ConfigMap", "Job"])
        settings = next(d for d in self.created() if d["metadata"]["name"].startswith("kfp-publish-settings"))
        self.assertEqual(settings["data"]["experiment"], hostile)
        self.assertEqual(settings["data"]["pipeline"], "pipe: $(KFP_HOST) ${x}")
        self.assertEqual(fields["version_name"], "v\nrun_state=SUCCEEDED")
        self.assertNotIn("run_state", fields)

    def test_a_one_off_run_gets_a_unique_name_and_takes_options(self):
        names = set()
        for _ in range(2):
            completed, _ = self.run_script({"steps": [done(0, json.dumps(REPORT))]}, "-n", "team-z",
                                           "--pipeline", "p", str(self.package), GITHUB_ACTIONS="", GITHUB_RUN_ID="",
                                           KFP_JOB_NAMESPACE="", GITHUB_OUTPUT="")
            self.assertEqual(completed.returncode, 0, completed.stderr)
            job = next(d for d in self.created() if d["kind"] == "Job")
            self.assertEqual(job["metadata"]["namespace"], "team-z")
            names.add(job["metadata"]["name"])
            self.log.unlink()
        self.assertEqual(len(names), 2, names)
        self.assertTrue(all(re.fullmatch(r"kfp-publish-\d{14}-[0-9a-f]{4}", n) for n in names), names)

    def test_transient_kubectl_errors_are_retried(self):
        completed, fields = self.run_script(
            {"steps": [RUNNING, done(0, json.dumps(REPORT))],
             "faults": [{"verb": "get", "resource": "job", "skip": 1, "times": 2, "error": "refused"},
                        {"verb": "get", "resource": "pods", "times": 1, "error": "timeout"}]},
            KFP_JOB_KUBECTL_RETRIES="3")
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("was refused", completed.stderr)
        self.assertEqual(fields["exit_code"], "0")

    def test_kubectl_failures_never_end_as_a_failed_run(self):
        cases = {
            "unreachable": ({"steps": [RUNNING], "faults": [{"verb": "get", "resource": "job", "times": 99,
                                                            "error": "timeout"}]}, EXIT_UNAVAILABLE, "i/o timeout"),
            "forbidden": ({"steps": [RUNNING], "faults": [{"verb": "get", "resource": "pods", "times": 99,
                                                          "error": "forbidden"}]}, EXIT_SETUP, "(Forbidden)"),
            "deleted": ({"steps": [RUNNING], "faults": [{"verb": "get", "resource": "job", "skip": 1, "times": 99,
                                                        "error": "notfound"}]}, EXIT_UNAVAILABLE, "disappeared"),
            "no namespace": ({"namespaces": ["team-a"]}, EXIT_UNAVAILABLE, 'namespaces "team-q" not found'),
        }
        for name, (scenario, code, message) in cases.items():
            with self.subTest(name):
                completed, fields = self.run_script(scenario, KFP_JOB_KUBECTL_RETRIES="2")
                self.assertEqual(completed.returncode, code, completed.stdout + completed.stderr)
                self.assertIn(message, completed.stdout + completed.stderr)
                self.assertNotEqual(fields.get("exit_code"), "1")

    def test_a_failed_job_is_never_green(self):
        completed, fields = self.run_script({"steps": [done(0, json.dumps(REPORT), condition="Failed",
                                                            reason="DeadlineExceeded")]})
        self.assertEqual(completed.returncode, EXIT_UNAVAILABLE)
        self.assertIn("DeadlineExceeded", completed.stdout)
        self.assertEqual(fields["exit_code"], str(EXIT_UNAVAILABLE))
        no_code = {"job": {"conditions": [{"type": "Failed", "reason": "BackoffLimitExceeded"}]},
                   "pods": [{"name": "%JOB%-a", "state": {"waiting": {"reason": "ContainerCreating"}}}]}
        completed, _ = self.run_script({"steps": [no_code]})
        self.assertEqual(completed.returncode, EXIT_UNAVAILABLE)
        self.assertIn("BackoffLimitExceeded", completed.stdout)

    def test_a_permission_failure_exits_5_and_prints_every_pod(self):
        report = {"exit_code": 5, "outcome": "failed", "error": {"kind": "istio_denied"}}
        step = {"job": {"conditions": [{"type": "Failed", "reason": "PodFailurePolicy"}]},
                "pods": [{"name": "%JOB%-a", "state": {"terminated": {"exitCode": 7, "message": "{}"}}},
                         {"name": "%JOB%-b", "state": {"terminated": {"exitCode": 5, "message": json.dumps(report)}}}]}
        completed, fields = self.run_script({"steps": [step], "logs": {"%JOB%-a": "FIRST-ATTEMPT", "%JOB%-b": "SECOND"}})
        self.assertEqual(completed.returncode, 5, completed.stderr)
        self.assertIn("FIRST-ATTEMPT", completed.stdout)
        self.assertIn("SECOND", completed.stdout)
        self.assertEqual((fields["exit_code"], fields["outcome"]), ("5", "failed"))

    def test_a_pod_that_never_starts_fails_with_the_reason_from_its_events(self):
        pull = {"job": {"active": 1}, "pods": [{"name": "%JOB%-abcde", "state": {"waiting": {
            "reason": "ImagePullBackOff", "message": 'Back-off pulling image "registry.example/kfp-publish:1.2.3"'}}}]}
        config = {"job": {"active": 1}, "pods": [{"name": "%JOB%-abcde", "state": {"waiting": {
            "reason": "CreateContainerConfigError",
            "message": "couldn't find key pipeline in ConfigMap team-q/kfp-publish-settings"}}}]}
        quota = {"job": {"active": 0}, "pods": []}
        cases = {
            "image pull": (pull, [{"kind": "Pod", "name": "%JOB%-abcde", "reason": "Failed",
                                   "message": 'Failed to pull image "registry.example/kfp-publish:1.2.3": not found'}],
                           "Failed to pull image"),
            "configuration": (config, [], "couldn't find key pipeline"),
            "quota": (quota, [{"kind": "Job", "name": "%JOB%", "reason": "FailedCreate",
                               "message": 'Error creating: pods "x" is forbidden: exceeded quota: compute'}],
                      "exceeded quota"),
            "admission": (quota, [{"kind": "Job", "name": "%JOB%", "reason": "FailedCreate",
                                   "message": 'Error creating: pods "x" is forbidden: violates PodSecurity '
                                              '"restricted:latest": seccompProfile'}], "violates PodSecurity"),
        }
        for name, (step, events, message) in cases.items():
            with self.subTest(name):
                completed, fields = self.run_script({"steps": [step], "events": events})
                self.assertEqual(completed.returncode, EXIT_SETUP, completed.stdout + completed.stderr)
                self.assertIn(message, completed.stdout + completed.stderr)
                deletes = [c for c in self.calls() if c[0] == "delete"]
                self.assertEqual(len(deletes), 1, "the Job it created, and only that")
                self.assertIn("kfp-publish-4242-3", deletes[0])
                self.log.unlink()

    def test_a_slow_start_within_the_grace_period_is_not_a_failure(self):
        pull = {"job": {"active": 1}, "pods": [{"name": "%JOB%-abcde", "state": {"waiting": {"reason": "ErrImagePull"}}}]}
        completed, _ = self.run_script({"steps": [pull, RUNNING, done(0, json.dumps(REPORT))]},
                                       KFP_JOB_START_TIMEOUT="60")
        self.assertEqual(completed.returncode, 0, completed.stderr)

    def test_refuses_packages_too_large_for_a_configmap(self):
        self.package.write_text("x" * 1_100_000)
        completed, _ = self.run_script({})
        self.assertEqual(completed.returncode, EXIT_SETUP)
        self.assertIn("1 MiB", completed.stdout)
        self.assertEqual(self.calls(), [])


class Cancellation(LauncherCase):
    """The workflow step as the runner runs and cancels it."""

    def start_step(self, step_script, scenario):
        script = self.dir / "step.sh"
        script.write_text(step_script)
        env = self.environment(scenario, KFP_JOB_POLL_SECONDS="30")
        return subprocess.Popen([*STEP_SHELL, str(script)], cwd=ds.SOURCE_DIR, env=env, start_new_session=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def cancel_like_the_runner(self, process):
        """SIGINT to the shell, 7.5 s, SIGTERM, 2.5 s, SIGKILL to the whole tree (stricter than the
        runner's Process.Kill of the shell alone: whatever is not done by then never happens)."""
        process.send_signal(signal.SIGINT)
        for sig, grace in ((signal.SIGTERM, SIGINT_GRACE_S), (signal.SIGKILL, SIGTERM_GRACE_S)):
            try:
                process.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                if sig == signal.SIGKILL:
                    os.killpg(process.pid, signal.SIGKILL)
                else:
                    process.send_signal(sig)
        # The runner's job ends here; whatever the step left behind goes with the runner's pod.
        time.sleep(0.5)
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return process.communicate(timeout=10)[0]

    def wait_for_the_job(self):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if any(c[:2] == ["get", "job"] and "json" in c for c in self.calls()):
                return
            time.sleep(0.1)
        self.fail("the step never polled the Job")

    def step_run(self):
        workflow = ds.load_file(WORKFLOW)[0]
        step = next(s for s in workflow["jobs"]["publish"]["steps"] if s.get("id") == "publish")
        return step["run"]

    def test_cancelling_the_workflow_deletes_the_job(self):
        process = self.start_step(self.step_run(), {"steps": [RUNNING]})
        self.wait_for_the_job()
        started = time.monotonic()
        output = self.cancel_like_the_runner(process)
        deletes = [c for c in self.calls() if c[0] == "delete"]
        self.assertEqual([c[1:3] for c in deletes if c[1] == "job"], [["job", "kfp-publish-4242-3"]], output)
        # Nothing else but what it created (its ConfigMaps, in case they were not yet the Job's).
        named = [w for c in deletes for w in c[2:] if not w.startswith("-") and w != "team-q"]
        self.assertEqual(sorted(named), ["kfp-publish-4242-3", "kfp-publish-package-4242-3",
                                         "kfp-publish-settings-4242-3"])
        self.assertTrue(self.state()["objects"]["Job/team-q/kfp-publish-4242-3"]["deleted"])
        self.assertEqual(process.returncode, EXIT_INTERRUPTED, output)
        self.assertLess(time.monotonic() - started, SIGINT_GRACE_S, "ended within SIGINT's grace")
        self.assertEqual(read_outputs(self.dir / "github_output")["exit_code"], str(EXIT_INTERRUPTED))

    def test_without_exec_the_runner_signal_never_reaches_the_script(self):
        # The defect this guards against: the shell gets the signals, kfp-job.sh is killed unaware.
        process = self.start_step("ci/kfp-job.sh\n", {"steps": [RUNNING]})
        self.wait_for_the_job()
        self.cancel_like_the_runner(process)
        self.assertEqual([c for c in self.calls() if c[0] == "delete"], [])


class WithThePod(LauncherCase):
    """kfp-job.sh end to end: the Job it renders runs as the kubelet runs it, against kfp-emulator."""

    def setUp(self):
        super().setUp()
        if harness.v2_yaml_unreadable():  # both publish the v2 YAML example
            self.skipTest(harness.v2_yaml_unreadable())

    def test_a_pipeline_with_a_required_input_through_kfp_job_sh(self):
        why = kubelet.can_run()
        if why:
            self.skipTest(f"skipped: {why}")
        binary = harness.publish_bin()
        if binary is None or not binary.exists() or harness.emulator_bin() is None:
            self.skipTest("skipped: kfp-publish or kfp-emulator is not built")
        if ds.is_sanitizer_build(binary):
            self.skipTest("skipped: a sanitizer build is not an image binary")
        rootfs = self.dir / "rootfs"
        ds.run([ds.SOURCE_DIR / "ci" / "scripts" / "image-files.sh", "--stage", rootfs, binary])
        key = harness.generate_rsa_key(self.dir)
        with harness.Emulator("--auth", "token", "--token-key", key, "--run-duration", "100ms") as emulator:
            token = emulator.mint_token(key, "system:serviceaccount:team-q:default-editor", aud="pipelines.kubeflow.org")
            self.package.write_text((ds.SOURCE_DIR / "pipelines-examples" / "hello-world.yaml").read_text())
            params = ds.SOURCE_DIR / "ci" / "github" / "hello-world.params.yaml"
            scenario = {"kubelet": {"rootfs": str(rootfs), "token": token, "host": emulator.url,
                                    "node": str(self.dir / "node"), "dockerfile": str(ds.SOURCE_DIR / "Dockerfile")}}
            try:
                completed, fields = self.run_script(scenario, "--params-file", params)
            finally:
                subprocess.run(["umount", "-R", "-q", str(self.dir / "node")], check=False, capture_output=True)
            self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
            runs = emulator.get("/apis/v2beta1/runs", query={"namespace": "team-q"}, token=token).json()["runs"]
            self.assertEqual(len(runs), 1)
            self.assertEqual(runs[0]["runtime_config"]["parameters"],
                             {"message": "published by kfp-publish from CI"})
            # The report came back through the termination message into the step outputs.
            self.assertEqual(fields["run_id"], runs[0]["run_id"])
            self.assertEqual((fields["run_state"], fields["exit_code"]), ("SUCCEEDED", "0"))

    def test_a_pipeline_with_a_required_input_through_the_action(self):
        binary = harness.publish_bin()
        if binary is None or not binary.exists() or harness.emulator_bin() is None:
            self.skipTest("skipped: kfp-publish or kfp-emulator is not built")
        action = ds.load_file(ACTION)[0]
        step = action["runs"]["steps"][0]
        inputs = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
        with harness.Emulator() as emulator:
            inputs.update({"package": str(ds.SOURCE_DIR / "pipelines-examples" / "hello-world.yaml"),
                           "pipeline": "hello-action", "host": emulator.url, "binary": str(binary),
                           "params-file": str(ds.SOURCE_DIR / "ci" / "github" / "hello-world.params.yaml")})
            env = {"PATH": os.environ["PATH"], "RUNNER_TEMP": str(self.dir), "GITHUB_OUTPUT": str(self.dir / "out")}
            for name, expression in step["env"].items():
                input_name = re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", expression).group(1)
                env[name] = inputs[input_name]
            script = self.dir / "action-step.sh"
            script.write_text(step["run"])
            completed = ds.run([*STEP_SHELL, script], env=env)
            self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
            runs = emulator.get("/apis/v2beta1/runs").json()["runs"]
            self.assertEqual(runs[0]["runtime_config"]["parameters"], {"message": "published by kfp-publish from CI"})


class SetUpCommands(LauncherCase):
    """README step 2, run as written against a fresh cluster whose profile controller creates the
    namespace a few reads after the Profile appears."""

    def readme_setup_block(self):
        readme = (ds.SOURCE_DIR / "README.md").read_text(encoding="utf-8")
        match = re.search(r"<!-- setup-commands -->\n```sh\n(.*?)```", readme, re.DOTALL)
        self.assertIsNotNone(match, "README step 2 lost its marked command block")
        return match.group(1)

    def test_the_readme_setup_applies_on_a_fresh_cluster(self):
        for setup in ("in-cluster", "through-ui"):
            with self.subTest(setup):
                block = self.readme_setup_block().replace("manifests/setup/in-cluster", f"manifests/setup/{setup}")
                env = self.environment({"namespaces": ["kubeflow"], "profile_creates": {"team-a": 3}})
                completed = ds.run(["bash", "-e", "-o", "pipefail", "-c", block], env=env, cwd=ds.SOURCE_DIR)
                self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
                kinds = {k.split("/")[0] for k in self.state()["objects"]}
                self.assertLessEqual({"Profile", "RoleBinding", "Role"}, kinds)

    def test_one_pass_fails_on_a_fresh_cluster(self):
        # Why the README waits: the namespaced objects are refused until the controller acts.
        env = self.environment({"namespaces": ["kubeflow"], "profile_creates": {"team-a": 3}})
        completed = ds.run(["kubectl", "apply", "-k", "manifests/setup/in-cluster"], env=env, cwd=ds.SOURCE_DIR)
        self.assertEqual(completed.returncode, 1)
        self.assertIn('namespaces "team-a" not found', completed.stderr)


if __name__ == "__main__":
    unittest.main()
