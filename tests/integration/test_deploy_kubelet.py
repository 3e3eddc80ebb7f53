"""The deployment's containers run as the kubelet runs them (tests/deploy/kubelet.py says what is
reproduced and from which Kubernetes source): the in-cluster and through-ui Jobs, the suspended
CronJob's job template, the Tekton step and the Argo step, each against kfp-emulator with
`--auth token` and a minted projected token, with a pipeline whose input is required and the run
parameters from the settings ConfigMap. Only the API host is pointed at the emulator.

Needs root (unshare), kubectl (kustomize), a Release/RelWithDebInfo kfp-publish and kfp-emulator.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "deploy"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import deploy_support as ds  # noqa: E402
import harness  # noqa: E402
import kubelet  # noqa: E402

NAMESPACE = "team-a"
SUBJECT = f"system:serviceaccount:{NAMESPACE}:default-editor"
AUDIENCE = "pipelines.kubeflow.org"
CONTAINER = "kfp-publish"
PARAMS = {"recipient": "kubelet"}
# The README's one command that loads a package into the fixed-name ConfigMap (its first half,
# which renders the object offline; the second half applies it).
LOAD_PACKAGE = "kubectl -n team-a create configmap kfp-publish-package --from-file=pipeline.yaml=my-pipeline.yaml"
EXIT_INVALID_INPUT = 3
EXIT_AUTH = 4


def required_input_package():
    """The placeholder package with its input's default removed: a run needs the parameter."""
    text = (ds.MANIFESTS / "package" / "pipeline.yaml").read_text(encoding="utf-8")
    changed = text.replace("        defaultValue: world\n", "")
    assert changed != text
    return changed.replace("name: hello-world", "name: needs-input")


def config_maps_of(docs):
    return {d["metadata"]["name"]: dict(d.get("data", {})) for d in docs if d["kind"] == "ConfigMap"}


def pod_of(template, name, job_uid):
    """A pod of a Job as the Job controller makes it: the template plus the controller labels."""
    labels = dict(template.get("metadata", {}).get("labels", {}))
    labels.update({"controller-uid": job_uid, "batch.kubernetes.io/controller-uid": job_uid,
                   "job-name": name, "batch.kubernetes.io/job-name": name})
    return {"metadata": {"name": f"{name}-x7k2p", "namespace": NAMESPACE, "uid": "pod-uid-1",
                         "labels": labels, "annotations": template.get("metadata", {}).get("annotations", {})},
            "spec": json.loads(json.dumps(template["spec"]))}


class KubeletRuns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = kubelet.can_run()
        if why:
            raise unittest.SkipTest(f"skipped: {why}")
        if harness.v2_yaml_unreadable():  # every run here publishes the v2 YAML example
            raise unittest.SkipTest(harness.v2_yaml_unreadable())
        ds.require_yaml()
        ds.require_tool("kubectl")
        binary = harness.publish_bin()
        if binary is None or not binary.exists() or harness.emulator_bin() is None:
            raise unittest.SkipTest("skipped: kfp-publish or kfp-emulator is not built (KFP_PUBLISH_BIN)")
        cls.tmp = pathlib.Path(tempfile.mkdtemp(prefix="kfp-kubelet-"))
        if ds.is_sanitizer_build(binary):
            shutil.rmtree(cls.tmp)
            raise unittest.SkipTest("skipped: a sanitizer build is not an image binary (test_deploy_kubelet runs in make test)")
        cls.rootfs = cls.tmp / "rootfs"
        staged = ds.run([ds.SOURCE_DIR / "ci" / "scripts" / "image-files.sh", "--stage", cls.rootfs, binary])
        if staged.returncode != 0:
            raise AssertionError(f"image-files.sh --stage failed:\n{staged.stderr}")
        cls.key = harness.generate_rsa_key(cls.tmp)
        cls.emulator = harness.Emulator("--auth", "token", "--token-key", cls.key, "--run-duration", "100ms").start()
        cls.token = cls.emulator.mint_token(cls.key, SUBJECT, aud=AUDIENCE)

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()
        subprocess.run(["umount", "-R", "-q", str(cls.tmp)], check=False, capture_output=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def node(self):
        node = pathlib.Path(tempfile.mkdtemp(dir=self.tmp, prefix="node-"))
        return node

    def run_container(self, pod, config_maps, env_overrides=None, container=CONTAINER):
        plan, termination = kubelet.prepare(pod, container, self.rootfs, config_maps, self.token, self.node(),
                                            env_overrides=env_overrides, dockerfile=ds.SOURCE_DIR / "Dockerfile")
        completed = kubelet.run(plan)
        return completed, termination, plan

    def check_report(self, termination, expected_exit):
        message, size = kubelet.termination_message(termination)
        self.assertLessEqual(size, kubelet.MAX_TERMINATION_MESSAGE_BYTES, "the kubelet would cut the report")
        report = json.loads(message)
        self.assertEqual(report["exit_code"], expected_exit, report)
        return report

    def run_of(self, run_id):
        return self.emulator.get(f"/apis/v2beta1/runs/{run_id}", token=self.token).json()

    def latest_run(self):
        runs = self.emulator.get("/apis/v2beta1/runs", query={"namespace": NAMESPACE, "page_size": "100"},
                                 token=self.token).json().get("runs", [])
        self.assertTrue(runs, "no run was created")
        return max(runs, key=lambda r: r["created_at"])

    def assert_run_has_the_parameters(self):
        run = self.latest_run()
        self.assertEqual(run["runtime_config"]["parameters"], PARAMS, run)
        self.assertEqual(run["state"], "SUCCEEDED", run)
        return run

    def overlay(self, name, params=PARAMS):
        docs = ds.documents(ds.kustomize(ds.MANIFESTS / "overlays" / name))
        maps = config_maps_of(docs)
        maps["kfp-publish-package"]["pipeline.yaml"] = required_input_package()
        maps["kfp-publish-settings"]["params.yaml"] = json.dumps(params)
        maps["kfp-publish-settings"]["pipeline"] = f"needs-input-{name}"
        job = ds.only(docs, "Job")
        return pod_of(job["spec"]["template"], job["metadata"]["name"], f"uid-{name}-{len(json.dumps(params))}"), maps

    def run_overlay(self, name):
        pod, maps = self.overlay(name)
        completed, termination, plan = self.run_container(pod, maps, {"KFP_HOST": self.emulator.url})
        self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
        self.assertIn("--run-key=uid-", " ".join(plan["argv"]))
        run = self.assert_run_has_the_parameters()
        report = self.check_report(termination, 0)
        self.assertEqual(report["run"]["id"], run["run_id"])

    def test_the_in_cluster_job(self):
        self.run_overlay("in-cluster")

    def test_the_through_ui_job(self):
        self.run_overlay("through-ui")

    def test_without_the_params_file_a_required_input_fails_with_3(self):
        pod, maps = self.overlay("in-cluster", params={})
        completed, termination, _ = self.run_container(pod, maps, {"KFP_HOST": self.emulator.url})
        self.assertEqual(completed.returncode, EXIT_INVALID_INPUT, completed.stderr)
        self.check_report(termination, EXIT_INVALID_INPUT)

    def test_without_fs_group_the_token_is_unreadable(self):
        # The reproduction is faithful enough to catch the classic mistake: no fsGroup, token 0600 root.
        pod, maps = self.overlay("in-cluster")
        del pod["spec"]["securityContext"]["fsGroup"]
        completed, _, _ = self.run_container(pod, maps, {"KFP_HOST": self.emulator.url})
        self.assertEqual(completed.returncode, EXIT_AUTH, completed.stderr)

    def test_the_root_is_read_only_and_tmp_is_the_empty_dir(self):
        pod, maps = self.overlay("in-cluster")
        plan, _ = kubelet.prepare(pod, CONTAINER, self.rootfs, maps, self.token, self.node(),
                                  env_overrides={"KFP_HOST": self.emulator.url})
        self.assertTrue(plan["readonly_root"])
        self.assertEqual((plan["uid"], plan["gid"], plan["groups"]), (65532, 65532, [65532]))
        self.assertIn({"type": "tmpfs", "target": "/tmp", "options": "mode=0777,size=16m", "readonly": False},
                      plan["mounts"])
        # Writing anywhere but the volumes fails: the Job's hardening is in force.
        plan["argv"] = ["/usr/local/bin/kfp-publish", "validate", "/pipelines/pipeline.yaml",
                        "--report=/etc/report.json"]
        (pathlib.Path(plan["node"]) / "plan.json").write_text(json.dumps(plan))
        completed = kubelet.run(plan)
        self.assertNotEqual(completed.returncode, 0)
        self.assertIn("/etc/report.json", completed.stdout + completed.stderr)

    def test_the_cronjob_job_template_with_the_readme_package(self):
        readme = (ds.SOURCE_DIR / "README.md").read_text(encoding="utf-8")
        self.assertTrue(LOAD_PACKAGE in readme, "README \"Run the Job by hand\" must show the package command")
        package = self.tmp / "my-pipeline.yaml"
        package.write_text(required_input_package(), encoding="utf-8")
        loaded = ds.run(["kubectl", *LOAD_PACKAGE.split()[1:], "--dry-run=client", "-o", "json"], cwd=self.tmp)
        self.assertEqual(loaded.returncode, 0, loaded.stderr)
        docs = ds.documents(ds.kustomize(ds.MANIFESTS / "cronjob"))
        cronjob = ds.only(docs, "CronJob")
        self.assertIs(cronjob["spec"]["suspend"], True)
        self.assertEqual([d["kind"] for d in docs if d["kind"] in ("Job", "CronJob")], ["CronJob"])
        maps = config_maps_of(docs + [json.loads(loaded.stdout)])
        maps["kfp-publish-settings"]["params.yaml"] = json.dumps(PARAMS)
        maps["kfp-publish-settings"]["pipeline"] = "needs-input-cronjob"
        # `kubectl create job upload-1 --from=cronjob/kfp-publish` copies jobTemplate.spec.
        template = cronjob["spec"]["jobTemplate"]["spec"]["template"]
        pod = pod_of(template, "upload-1", "uid-upload-1")
        completed, termination, _ = self.run_container(pod, maps, {"KFP_HOST": self.emulator.url})
        self.assertEqual(completed.returncode, 0, completed.stderr)
        run = self.assert_run_has_the_parameters()
        self.assertEqual(self.check_report(termination, 0)["run"]["id"], run["run_id"])

    def test_the_tekton_step(self):
        task = ds.only(ds.load_file(ds.SOURCE_DIR / "ci" / "tekton" / "kfp-publish-task.yaml"), "Task")
        taskrun = ds.only(ds.load_file(ds.SOURCE_DIR / "ci" / "tekton" / "kfp-publish-taskrun.yaml"), "TaskRun")
        spec = task["spec"]
        values = {p["name"]: p.get("default") for p in spec["params"]}
        values.update({p["name"]: p["value"] for p in taskrun["spec"]["params"]})
        values["host"] = self.emulator.url  # the one change: the API server is the emulator
        values["pipeline"] = "needs-input-tekton"
        missing = [k for k, v in values.items() if v is None]
        self.assertEqual(missing, [], "params without a value in the example TaskRun")
        step = spec["steps"][0]
        workspace = spec["workspaces"][0]

        # Tekton's substitution (pkg/pod, pkg/reconciler/taskrun/resources/apply.go): params,
        # workspace paths (/workspace/<name>), the TaskRun's uid.
        def substitute(text):
            text = re.sub(r"\$\(params\.([\w-]+)\)", lambda m: values[m.group(1)], text)
            text = text.replace(f"$(workspaces.{workspace['name']}.path)", f"/workspace/{workspace['name']}")
            return text.replace("$(context.taskRun.uid)", "taskrun-uid-1")

        container = json.loads(substitute(json.dumps(step)))
        # Tekton gives every step its results directory and the termination file it reads results from.
        container["volumeMounts"] += [{"name": "tekton-internal-results", "mountPath": "/tekton/results"},
                                      {"name": "ws-source", "mountPath": f"/workspace/{workspace['name']}",
                                       "readOnly": bool(workspace.get("readOnly"))}]
        container["terminationMessagePath"] = "/tekton/termination"
        bound = next(w for w in taskrun["spec"]["workspaces"] if w["name"] == workspace["name"])
        volumes = spec["volumes"] + [{"name": "tekton-internal-results", "emptyDir": {}},
                                     {"name": "ws-source", "configMap": bound["configMap"]}]
        pod = {"metadata": {"name": "kfp-publish-run-pod", "namespace": NAMESPACE, "uid": "pod-uid-2",
                            "labels": {}, "annotations": taskrun["metadata"].get("annotations", {})},
               "spec": {"serviceAccountName": taskrun["spec"]["serviceAccountName"],
                        "securityContext": taskrun["spec"]["podTemplate"]["securityContext"],
                        "containers": [container], "volumes": volumes}}
        maps = self.fixed_name_config_maps()
        completed, _, plan = self.run_container(pod, maps, container=step["name"])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        results = pathlib.Path(plan["node"]) / "volumes" / "tekton-internal-results"
        fields = {p.name: p.read_text() for p in results.iterdir()}
        self.assertEqual(fields["run_state"], "SUCCEEDED")
        self.assertEqual(set(fields), {r["name"] for r in spec["results"]})
        # Tekton's entrypoint puts the results into the 4096-byte termination message.
        encoded = json.dumps([{"key": k, "value": v, "type": 1} for k, v in sorted(fields.items())])
        self.assertLessEqual(len(encoded.encode()), kubelet.MAX_TERMINATION_MESSAGE_BYTES)
        self.assertEqual(self.run_of(fields["run_id"])["runtime_config"]["parameters"], PARAMS)

    def test_the_argo_step(self):
        template = ds.only(ds.load_file(ds.SOURCE_DIR / "ci" / "argo" / "kfp-publish-workflowtemplate.yaml"),
                           "WorkflowTemplate")
        spec = template["spec"]
        values = {p["name"]: p["value"] for p in spec["arguments"]["parameters"]}
        values["host"] = self.emulator.url
        values["pipeline"] = "needs-input-argo"
        publish = next(t for t in spec["templates"] if t["name"] == spec["entrypoint"])

        def substitute(text):
            text = re.sub(r"\{\{workflow\.parameters\.([\w-]+)\}\}", lambda m: values[m.group(1)], text)
            return text.replace("{{workflow.uid}}", "workflow-uid-1")

        container = json.loads(substitute(json.dumps(publish["container"])))
        pod = {"metadata": {"name": "kfp-publish-abcde", "namespace": NAMESPACE, "uid": "pod-uid-3",
                            "labels": {}, "annotations": spec.get("podMetadata", {}).get("annotations", {})},
               "spec": {"serviceAccountName": spec["serviceAccountName"], "securityContext": spec["securityContext"],
                        "containers": [container], "volumes": spec["volumes"]}}
        completed, termination, plan = self.run_container(pod, self.fixed_name_config_maps(),
                                                          container=container["name"])
        self.assertEqual(completed.returncode, 0, completed.stderr)
        results = pathlib.Path(plan["node"]) / "volumes" / "results"
        outputs = {p["name"]: (results / pathlib.Path(p["valueFrom"]["path"]).name).read_text()
                   for p in publish["outputs"]["parameters"]}
        self.assertEqual(outputs["exit_code"], "0")
        self.assertEqual(self.run_of(outputs["run_id"])["runtime_config"]["parameters"], PARAMS)
        self.check_report(termination, 0)

    def fixed_name_config_maps(self):
        """kfp-publish-settings from manifests/cronjob and kfp-publish-package as the README loads it."""
        maps = config_maps_of(ds.documents(ds.kustomize(ds.MANIFESTS / "cronjob")))
        maps["kfp-publish-settings"]["params.yaml"] = json.dumps(PARAMS)
        maps["kfp-publish-package"] = {"pipeline.yaml": required_input_package()}
        return maps


class Expansion(unittest.TestCase):
    """kubelet.expand against the cases of Kubernetes' own expand_test.go."""

    def test_cases(self):
        mapping = {"VAR_A": "A", "VAR_B": "B", "VAR_EMPTY": ""}
        cases = {"$(VAR_A)": "A", "___$(VAR_B)___": "___B___", "$(VAR_A)-$(VAR_B)": "A-B",
                 "$$(VAR_A)": "$(VAR_A)", "$$$(VAR_A)": "$A", "$(VAR_EMPTY)": "", "$(UNKNOWN)": "$(UNKNOWN)",
                 "$(VAR_A": "$(VAR_A", "$VAR_A": "$VAR_A", "$": "$", "f000-$$VAR_A": "f000-$VAR_A",
                 "$()": "$()", "--run-key=$(KFP_RUN_KEY)": "--run-key=$(KFP_RUN_KEY)"}
        for text, expected in cases.items():
            with self.subTest(text=text):
                self.assertEqual(kubelet.expand(text, mapping), expected)

    def test_env_refers_only_to_earlier_entries(self):
        pod = {"metadata": {"name": "p", "namespace": "ns", "uid": "u", "labels": {"controller-uid": "c"}},
               "spec": {}}
        container = {"env": [{"name": "B", "value": "$(A)-b"}, {"name": "A", "value": "a"},
                             {"name": "C", "value": "$(A)-c"},
                             {"name": "K", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['controller-uid']"}}},
                             {"name": "M", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}},
                             {"name": "N", "value": "$(M)"}]}
        env = kubelet.resolve_env(container, pod, {"cm": {"k": "$(A)"}})
        self.assertEqual((env["B"], env["C"], env["K"], env["M"], env["N"]), ("$(A)-b", "a-c", "c", "$(A)", "$(A)"))
        with self.assertRaises(kubelet.ContainerConfigError):
            kubelet.resolve_env(container, pod, {"cm": {}})


if __name__ == "__main__":
    unittest.main()
