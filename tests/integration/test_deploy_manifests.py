"""manifests/ and Dockerfile: every kustomization builds, the output matches the Kubernetes, Istio
and Kubeflow schemas offline, and the Job carries the security settings, the projected token and the
failure policy that DESIGN §6 requires."""
import re
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))
import deploy_support as ds  # noqa: E402

OVERLAYS = ("in-cluster", "through-ui")
TOKEN_DIR = "/var/run/secrets/kubeflow/pipelines"
NO_RETRY_EXIT_CODES = {2, 3, 4, 5, 6}
RETRY_EXIT_CODE = 7


def overlay_docs(name):
    return ds.documents(ds.kustomize(ds.MANIFESTS / "overlays" / name))


def container_of(job):
    containers = job["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "kfp-publish")


def env_of(container):
    return {e["name"]: e for e in container.get("env", [])}


def setUpModule():
    ds.skip_under_sanitizers()


class KustomizeBuilds(unittest.TestCase):
    def test_every_kustomization_builds_and_validates_against_the_schemas(self):
        ds.require_node_modules()
        directories = ds.buildable_kustomizations()
        self.assertGreaterEqual(len(directories), 9, directories)
        for directory in directories:
            with self.subTest(kustomization=str(directory.relative_to(ds.SOURCE_DIR))):
                rendered = ds.kustomize(directory)
                self.assertTrue(ds.documents(rendered), "renders nothing")
                checked = ds.node("validate-manifests.mjs", "-", stdin=rendered)
                self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)

    def test_the_validator_rejects_a_broken_job(self):
        rendered = ds.kustomize(ds.MANIFESTS / "overlays" / "in-cluster")
        broken = rendered.replace("runAsNonRoot: true", "runAsNonRoot: \"yes\"", 1)
        self.assertNotEqual(broken, rendered)
        checked = ds.node("validate-manifests.mjs", "-", stdin=broken)
        self.assertEqual(checked.returncode, 1, checked.stdout)
        self.assertIn("runAsNonRoot", checked.stdout)

    def test_the_validator_rejects_unknown_kinds_and_bad_profiles(self):
        unknown = "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: x}\n"
        self.assertEqual(ds.node("validate-manifests.mjs", "-", stdin=unknown).returncode, 1)
        profile = "apiVersion: kubeflow.org/v1\nkind: Profile\nmetadata: {name: x}\nspec: {}\n"
        checked = ds.node("validate-manifests.mjs", "-", stdin=profile)
        self.assertEqual(checked.returncode, 1)
        self.assertIn("spec.owner", checked.stdout)


class JobSecurity(unittest.TestCase):
    def check_job(self, docs):
        job = ds.only(docs, "Job")
        spec = job["spec"]
        pod = spec["template"]["spec"]
        container = container_of(job)

        self.assertEqual(pod["serviceAccountName"], "default-editor")
        self.assertIs(pod["automountServiceAccountToken"], False)
        self.assertEqual(pod["restartPolicy"], "Never")
        self.assertIs(pod["securityContext"]["runAsNonRoot"], True)
        self.assertNotEqual(pod["securityContext"]["runAsUser"], 0)
        self.assertEqual(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault")

        security = container["securityContext"]
        self.assertIs(security["readOnlyRootFilesystem"], True)
        self.assertIs(security["allowPrivilegeEscalation"], False)
        self.assertEqual(security["capabilities"]["drop"], ["ALL"])
        self.assertIs(security.get("privileged", False), False)

        # The projected token: audience, lifetime, path, and the variable pointing at it.
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        self.assertIn(TOKEN_DIR, mounts)
        token_volume = volumes[mounts[TOKEN_DIR]["name"]]
        sources = token_volume["projected"]["sources"]
        token = next(s["serviceAccountToken"] for s in sources if "serviceAccountToken" in s)
        self.assertEqual(token["audience"], "pipelines.kubeflow.org")
        self.assertEqual(token["expirationSeconds"], 7200)
        self.assertEqual(token["path"], "token")
        self.assertIs(mounts[TOKEN_DIR].get("readOnly"), True)
        env = env_of(container)
        self.assertEqual(env["KF_PIPELINES_SA_TOKEN_PATH"]["value"], f"{TOKEN_DIR}/token")

        # A read-only root with a memory emptyDir at /tmp.
        self.assertIn("/tmp", mounts)
        self.assertEqual(volumes[mounts["/tmp"]["name"]]["emptyDir"]["medium"], "Memory")
        # The report goes to the kubelet's termination-message file, written in place by kfp-publish
        # (the kubelet bind-mounts that file: a rename onto it fails), not through --report.
        self.assertEqual(container.get("terminationMessagePath", "/dev/termination-log"), "/dev/termination-log")
        self.assertEqual(container.get("terminationMessagePolicy", "File"), "File")
        self.assertFalse([a for a in container["args"] if a.startswith("--report")])
        # The run parameters: a file from the settings ConfigMap.
        self.assertIn("--params-file=/etc/kfp-publish/params.yaml", container["args"])
        settings = volumes[mounts["/etc/kfp-publish"]["name"]]["configMap"]
        self.assertEqual(settings["name"], "kfp-publish-settings")
        self.assertEqual(settings["items"], [{"key": "params.yaml", "path": "params.yaml"}])
        self.assertIs(mounts["/etc/kfp-publish"].get("readOnly"), True)

        # Retries only where a retry can help.
        self.assertIsInstance(spec["backoffLimit"], int)
        self.assertGreaterEqual(spec["backoffLimit"], 1)
        self.assertGreater(spec["ttlSecondsAfterFinished"], 0)
        self.assertGreater(spec["activeDeadlineSeconds"], 3600)
        rules = spec["podFailurePolicy"]["rules"]
        fail_codes = set()
        for rule in rules:
            codes = rule.get("onExitCodes")
            if codes and rule["action"] == "FailJob":
                self.assertEqual(codes["operator"], "In")
                self.assertEqual(codes.get("containerName"), "kfp-publish")
                fail_codes |= set(codes["values"])
        self.assertLessEqual(NO_RETRY_EXIT_CODES, fail_codes)
        self.assertNotIn(RETRY_EXIT_CODE, fail_codes)
        first_match = next(r for r in rules
                           if RETRY_EXIT_CODE in r.get("onExitCodes", {}).get("values", []))
        self.assertEqual(first_match["action"], "Count")
        self.assertTrue(any(r["action"] == "Ignore" and r.get("onPodConditions") for r in rules))

        # The ConfigMaps the Job mounts and reads are the ones generated, under their fixed names.
        package_volume = volumes[mounts["/pipelines"]["name"]]
        config_maps = {d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"}
        self.assertEqual(package_volume["configMap"]["name"], "kfp-publish-package")
        if config_maps:
            self.assertEqual(config_maps, {"kfp-publish-package", "kfp-publish-settings"})
        return job

    def test_in_cluster_overlay(self):
        docs = overlay_docs("in-cluster")
        job = self.check_job(docs)
        self.assertEqual(job["metadata"]["namespace"], "team-a")
        env = env_of(container_of(job))
        self.assertEqual(env["KFP_HOST"]["value"], "http://ml-pipeline.kubeflow.svc.cluster.local:8888")
        annotations = job["spec"]["template"]["metadata"]["annotations"]
        self.assertEqual(annotations["sidecar.istio.io/inject"], "false")

    def test_through_ui_overlay_calls_the_ui_without_a_sidecar(self):
        # Kubeflow >= 1.9.1 admits an authorization header without kubeflow-userid at ml-pipeline-ui.
        job = self.check_job(overlay_docs("through-ui"))
        env = env_of(container_of(job))
        self.assertEqual(env["KFP_HOST"]["value"], "http://ml-pipeline-ui.kubeflow.svc.cluster.local")
        annotations = job["spec"]["template"]["metadata"]["annotations"]
        self.assertEqual(annotations["sidecar.istio.io/inject"], "false")

    def test_through_ui_mesh_overlay_asks_for_a_native_sidecar(self):
        job = self.check_job(overlay_docs("through-ui-mesh"))
        self.assertEqual(env_of(container_of(job))["KFP_HOST"]["value"],
                         "http://ml-pipeline-ui.kubeflow.svc.cluster.local")
        annotations = job["spec"]["template"]["metadata"]["annotations"]
        self.assertEqual(annotations["sidecar.istio.io/inject"], "true")
        self.assertEqual(annotations["sidecar.istio.io/nativeSidecar"], "true")

    def test_the_cronjob_carries_the_whole_job(self):
        docs = ds.documents(ds.kustomize(ds.MANIFESTS / "cronjob"))
        cronjob = ds.only(docs, "CronJob")
        self.assertIs(cronjob["spec"]["suspend"], True)
        self.assertEqual(cronjob["metadata"]["namespace"], "team-a")
        job = ds.only(overlay_docs("in-cluster"), "Job")
        self.assertEqual(cronjob["spec"]["jobTemplate"]["spec"], job["spec"])
        self.check_job([{"kind": "Job", "spec": cronjob["spec"]["jobTemplate"]["spec"]}])
        # The settings under their fixed name; the package is loaded separately (README step 4).
        self.assertEqual([d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"], ["kfp-publish-settings"])
        self.assertEqual([d["kind"] for d in docs if d["kind"] == "Job"], [])

    def test_the_run_key_is_stable_across_pod_retries(self):
        env = env_of(container_of(ds.only(overlay_docs("in-cluster"), "Job")))
        self.assertIn("controller-uid", env["KFP_RUN_KEY"]["valueFrom"]["fieldRef"]["fieldPath"])

    def test_the_package_configmap_holds_the_package(self):
        docs = overlay_docs("in-cluster")
        package = next(d for d in docs if d["kind"] == "ConfigMap"
                       and d["metadata"]["name"].startswith("kfp-publish-package"))
        expected = (ds.MANIFESTS / "package" / "pipeline.yaml").read_text(encoding="utf-8")
        self.assertEqual(package["data"]["pipeline.yaml"], expected)


class SetUp(unittest.TestCase):
    def test_the_profile_step_is_the_profile_alone(self):
        docs = ds.documents(ds.kustomize(ds.MANIFESTS / "setup" / "profile"))
        self.assertEqual([d["kind"] for d in docs], ["Profile"])

    def test_through_ui_setup_binds_and_admits_the_namespace(self):
        docs = ds.documents(ds.kustomize(ds.MANIFESTS / "setup" / "through-ui"))
        binding = next(d for d in docs if d["kind"] == "RoleBinding" and d["roleRef"]["name"] == "kubeflow-edit")
        self.assertEqual(binding["roleRef"]["kind"], "ClusterRole")
        self.assertEqual(binding["subjects"],
                         [{"kind": "ServiceAccount", "name": "default-editor", "namespace": "team-a"}])
        self.assertEqual(binding["metadata"]["namespace"], "team-a")
        self.assertEqual(ds.only(docs, "Profile")["metadata"]["name"], "team-a")
        policy = ds.only(docs, "NetworkPolicy")
        self.assertEqual(policy["metadata"]["namespace"], "kubeflow")
        self.assertNotEqual(policy["metadata"]["name"], "ml-pipeline-ui")  # the installer owns that one
        self.assertEqual(policy["spec"]["podSelector"], {"matchLabels": {"app": "ml-pipeline-ui"}})
        self.assertEqual(policy["spec"]["ingress"], [{
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "team-a"}}}],
            "ports": [{"protocol": "TCP", "port": 3000}]}])
        # From Kubeflow 1.9.1 the installer's ml-pipeline-ui policy admits the request already.
        self.assertEqual([d for d in docs if d["kind"] == "AuthorizationPolicy"], [])

    def test_through_ui_mesh_setup_admits_the_principal(self):
        docs = ds.documents(ds.kustomize(ds.MANIFESTS / "setup" / "through-ui-mesh"))
        ds.only(docs, "NetworkPolicy")
        policy = ds.only(docs, "AuthorizationPolicy")
        self.assertEqual(policy["metadata"]["namespace"], "kubeflow")
        self.assertEqual(policy["spec"]["action"], "ALLOW")
        self.assertEqual(policy["spec"]["selector"]["matchLabels"], {"app": "ml-pipeline-ui"})
        rule = policy["spec"]["rules"][0]
        self.assertEqual(rule["from"][0]["source"]["principals"], ["cluster.local/ns/team-a/sa/default-editor"])
        self.assertIn({"key": "request.headers[kubeflow-userid]", "notValues": ["*"]}, rule["when"])

    def test_the_namespace_is_named_once_in_the_setup(self):
        profile = ds.MANIFESTS / "base" / "profile" / "profile.yaml"
        text = profile.read_text(encoding="utf-8")
        self.assertIn("\n  name: team-a\n", text)
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "manifests"
            shutil.copytree(ds.MANIFESTS, copy)
            (copy / "base" / "profile" / "profile.yaml").write_text(
                text.replace("\n  name: team-a\n", "\n  name: team-z\n"), encoding="utf-8")
            docs = ds.documents(ds.kustomize(copy / "setup" / "through-ui-mesh"))
        rendered = ds.dumps(docs)
        self.assertNotIn("team-a", rendered)
        self.assertIn("cluster.local/ns/team-z/sa/default-editor", rendered)
        for doc in docs:
            if doc["kind"] in ("Role", "RoleBinding"):
                self.assertEqual(doc["metadata"]["namespace"], "team-z", doc["metadata"]["name"])

    def test_standalone_rbac_and_istio_files_for_doctor(self):
        binding = ds.only(ds.load_file(ds.MANIFESTS / "base" / "rbac" / "rolebinding.yaml"), "RoleBinding")
        self.assertEqual(binding["roleRef"]["name"], "kubeflow-edit")
        policy = ds.only(ds.load_file(ds.MANIFESTS / "base" / "istio" / "authorizationpolicy.yaml"),
                         "AuthorizationPolicy")
        self.assertRegex(policy["spec"]["rules"][0]["from"][0]["source"]["principals"][0],
                         r"^cluster\.local/ns/[a-z0-9-]+/sa/default-editor$")

    def test_the_launcher_role_covers_what_kfp_job_sh_does(self):
        role = ds.only(ds.load_file(ds.MANIFESTS / "base" / "launcher" / "role.yaml"), "Role")
        granted = {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"]
                   for r in rule["resources"] for v in rule["verbs"]}
        for needed in [("batch", "jobs", "create"), ("batch", "jobs", "get"),
                       ("batch", "jobs", "delete"), ("", "configmaps", "create"),
                       ("", "configmaps", "patch"), ("", "pods", "list"), ("", "pods", "get"),
                       ("", "pods/log", "get"), ("", "events", "list"), ("batch", "cronjobs", "get")]:
            self.assertIn(needed, granted)


class Dockerfile(unittest.TestCase):
    def test_multi_stage_nonroot_final_stage_from_the_shared_file_list(self):
        text = (ds.SOURCE_DIR / "Dockerfile").read_text(encoding="utf-8")
        stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.MULTILINE)
        self.assertGreaterEqual(len(stages), 2)
        final = text[text.rindex("\nFROM "):]
        self.assertRegex(final, r"\nFROM (scratch|gcr\.io/distroless/cc-debian12:nonroot)\n")
        self.assertRegex(final, r"\nUSER 65532(:65532)?\n")
        self.assertEqual(re.findall(r"^COPY .*$", final, re.MULTILINE), ["COPY --from=build /rootfs/ /"])
        self.assertIn("ci/scripts/image-files.sh --stage /rootfs", text)
        self.assertIn("ci/scripts/install-deps.sh", text)
        self.assertIn("strip", text)
        # The build context is an allow-list: every path the build stage copies must be let in.
        allowed = {line[1:].rstrip("/") for line in
                   (ds.SOURCE_DIR / ".dockerignore").read_text(encoding="utf-8").splitlines()
                   if line.startswith("!")}
        for source in re.findall(r"^COPY (?!--from)(\S+)", text, re.MULTILINE):
            self.assertIn(source.rstrip("/"), allowed)

if __name__ == "__main__":
    unittest.main()
