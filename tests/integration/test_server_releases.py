"""kfp-publish against the KFP releases where the server differs, one test class per point of issue 14
(the emulator imitates each release from the upstream source; the citations are that source):

1. run parameters arrive, whatever the pipeline kind, API and release (or exit 3 where none can);
2. from 2.15 on a refused upload is the generic 400 "Failed to create a pipeline [version]": a
   permission problem (exit 5), never an invalid package;
3. KFP 1.8's upload endpoints authorize only from the kubeflow-userid header;
4. KFP 1.8's upload_version does not unescape the description a second time;
6. authentication failures are generic on the real server: the client's reading does not depend on
   the wording;
9. through the UI server (ml-pipeline-ui), an API server that is not ready is waited for within the
   retry budget.

Each test starts its own emulator in the release it needs; it runs once (not per
KFP_EMULATOR_SERVER_VERSION), since it walks the releases itself.
"""

import json
import subprocess
import time
import unittest
import urllib.parse

import harness
from publish_harness import NAMESPACE, SUBJECT, PublishTestCase

RELEASES_2X = ("2.0.5", "2.3.0", "2.5.0", "2.15.0", "2.17.0")
# A release-walking suite: run it in the default run only (CMakeLists.txt repeats suites per release).
DEFAULT_RUN = harness.server_version() == "2.17.0"

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
      value: the-default
  templates:
  - name: main
    container:
      image: alpine:3.19
      command: [echo, "{{workflow.parameters.message}}"]
"""


@unittest.skipUnless(DEFAULT_RUN, "walks the releases itself: runs in the default run only")
class ReleaseCase(PublishTestCase):
    def restart(self, release, *flags, auth=True):
        """A fresh emulator imitating `release`; multi-user with the test's token unless auth=False."""
        self.emu.stop()
        auth_flags = ("--auth", "token", "--token-key", str(self.rsa_key())) if auth else ("--auth", "none")
        self.emu = self.start_emulator("--server-version", release, "--run-duration", "300ms", *auth_flags, *flags)
        self.host = self.emu.url

    def argo(self, name="hello-argo.yaml"):
        return self.write(name, ARGO_WORKFLOW)

    def workflows(self):
        return self.state().get("workflows", [])

    def posts(self, prefix):
        return [r for r in self.emu.requests_log() if r["method"] == "POST" and r["path"].startswith(prefix)]


class RunParametersArrive(ReleaseCase):
    """Point 1. An Argo workflow reads only the v1-style parameters (argo_template.go RunWorkflow), a
    PipelineSpec only runtime_config (v2_template.go RunWorkflow); a v2beta1 run blanks the former
    (api_converter.go toModelRun: specParams = ""). So an Argo package's --param must go through the
    v1beta1 run API on 2.x, or the run silently takes its defaults."""

    def test_an_argo_workflows_parameters_reach_its_workflow_on_every_2x_release(self):
        for release in RELEASES_2X:
            with self.subTest(release=release):
                self.restart(release)
                result = self.kfp("publish", self.argo(), "--pipeline", "hello-argo", "--run", "--experiment", "ci",
                                  "--param", "message=from-ci", "--run-key", "k", "--wait", "--wait-timeout",
                                  "60s", "-o", "json")
                self.assertEqual(result.code, 0, result)
                workflows = self.workflows()
                self.assertEqual(len(workflows), 1, workflows)
                self.assertEqual(workflows[0]["parameters"].get("message"), "from-ci", workflows)
                self.assertEqual(len(self.posts("/apis/v1beta1/runs")), 1, self.emu.requests_log())
                self.assertEqual(self.posts("/apis/v2beta1/runs"), [])

    def test_a_pipeline_specs_parameters_reach_its_workflow_on_every_2x_release(self):
        for release in RELEASES_2X:
            with self.subTest(release=release):
                self.restart(release)
                result = self.kfp("publish", self.package(), "--pipeline", "hello", "--run", "--experiment", "ci",
                                  "--param", "message=from-ci", "--run-key", "k", "-o", "json")
                self.assertEqual(result.code, 0, result)
                workflows = self.workflows()
                self.assertEqual(len(workflows), 1, workflows)
                self.assertEqual(workflows[0]["parameters"].get("message"), "from-ci", workflows)
                self.assertEqual(len(self.posts("/apis/v2beta1/runs")), 1)

    def test_an_argo_workflows_recurring_run_keeps_its_parameters_on_2x(self):
        # toModelJob blanks the v1 parameters of a v2beta1 recurring run too (specParams = ""):
        # apply creates an Argo workflow's schedule through the v1beta1 job API.
        for release in ("2.3.0", "2.17.0"):
            with self.subTest(release=release):
                self.restart(release)
                self.argo()
                apply_file = self.write("apply.yaml", (
                    "apiVersion: kfp-publish/v1\nkind: Apply\n"
                    "pipelines:\n  - {name: hello-argo, package: hello-argo.yaml}\n"
                    "experiments:\n  - {name: nightly}\n"
                    "recurringRuns:\n  - {name: nightly-argo, pipeline: hello-argo, experiment: nightly,"
                    " cron: '0 0 2 * * *', parameters: {message: from-ci}}\n"))
                result = self.kfp("apply", "-f", apply_file, "-o", "json")
                self.assertEqual(result.code, 0, result)
                jobs = self.state().get("recurring_runs", [])
                self.assertEqual(len(jobs), 1, jobs)
                self.assertIn("from-ci", json.dumps(jobs[0]), jobs)
                self.assertEqual(len(self.posts("/apis/v1beta1/jobs")), 1, self.emu.requests_log())

    def test_an_argo_workflows_parameters_reach_it_on_1_8(self):
        self.restart("1.8.5", auth=False)  # single-user: 1.8's uploads need no identity there
        result = self.kfp("publish", self.argo(), "--pipeline", "hello-argo", "--run", "--experiment", "ci",
                          "--param", "message=from-ci", "--run-key", "k", "-o", "json", token_file=False)
        self.assertEqual(result.code, 0, result)
        self.assertEqual(self.workflows()[0]["parameters"].get("message"), "from-ci", self.workflows())

    def test_a_pipeline_specs_parameters_reach_it_through_v1beta1_on_2x(self):
        self.restart("2.3.0")
        result = self.kfp("publish", self.package(), "--pipeline", "hello", "--run", "--experiment", "ci",
                          "--param", "message=from-ci", "--run-key", "k", "--api", "v1beta1", "-o", "json")
        self.assertEqual(result.code, 0, result)
        self.assertEqual(self.workflows()[0]["parameters"].get("message"), "from-ci", self.workflows())
        body_kinds = [r for r in self.emu.requests_log() if r["path"].endswith("/templates")]
        self.assertTrue(body_kinds, "the v1 path reads what the version runs from its template")

    def test_kfp_1_8_cannot_take_a_boolean_for_a_pipeline_spec_exit_3_before_any_run(self):
        # 1.8's v1beta1 runtime_config Value has int_value, double_value and string_value only
        # (backend/api/pipeline_spec.proto @1.8.5); template.go toPipelineJobRuntimeConfig refuses others.
        self.restart("1.8.5", auth=False)
        spec = self.write("flag.json", json.dumps({
            "pipelineInfo": {"name": "flag"}, "schemaVersion": "2.1.0", "sdkVersion": "kfp-2.7.0",
            "deploymentSpec": {"executors": {}}, "components": {},
            "root": {"dag": {"tasks": {}}, "inputDefinitions": {"parameters": {
                "flag": {"parameterType": "BOOLEAN"}}}}}))
        result = self.kfp("publish", spec, "--pipeline", "flag", "--run", "--experiment", "ci",
                          "--param", "flag=true", "--run-key", "k", "-o", "json", token_file=False)
        self.assertEqual(result.code, 3, result)
        self.assertEqual(result.report()["error"]["kind"], "invalid_parameters", result)
        self.assertIn("BOOLEAN", result.report()["error"]["message"], result)
        self.assertEqual(self.state().get("runs", []), [])


class GenericUploadRefusal(ReleaseCase):
    """Point 2. From 2.15 on, pipeline_upload_server.go answers an upload its authorization check
    refused with the bare 400 "Failed to create a pipeline" (uploadPipeline) or "Failed to create a
    pipeline version" (uploadPipelineVersion, also its answer for an unknown pipeline id). Up to 2.5
    it named the authorization error. Either way: exit 5, not 3."""

    ADMIN = "system:serviceaccount:kubeflow:admin"

    def rbac(self):
        # The CI account may read pipelines but not create them; an admin made the pipeline.
        return self.write("rbac.yaml",
                          f"- subject: {SUBJECT}\n  namespace: {NAMESPACE}\n"
                          "  allow: ['pipelines/get', 'pipelines/list', 'experiments/list', 'runs/list']\n"
                          f"- subject: {self.ADMIN}\n  namespace: {NAMESPACE}\n  allow: ['*']\n")

    def seed_pipeline(self):
        admin = self.emu.mint_token(self.rsa_key(), self.ADMIN)
        seeded = self.emu.upload(self.examples / "hello-world.yaml", "hello-world.yaml",
                                 query={"name": "hello", "namespace": NAMESPACE}, token=admin)
        self.assertEqual(seeded.status, 200, seeded)

    def test_a_refused_new_version_is_a_permission_error_on_every_2x_release(self):
        for release in RELEASES_2X:
            with self.subTest(release=release):
                self.restart(release, "--rbac", self.rbac())
                self.seed_pipeline()
                changed = self.write("changed.yaml", self.package().read_text() + "\n# changed\n")
                result = self.kfp("publish", changed, "--pipeline", "hello", "-o", "json")
                self.assertEqual(result.code, 5, result)
                error = result.report()["error"]
                self.assertEqual(error["kind"], "forbidden", result)
                self.assertEqual(error["http_status"], 400, result)
                self.assertIn("kubeflow-edit", error["hint"], result)
                self.assertIn(NAMESPACE, error["hint"], result)
                self.assertEqual(len(self.state()["pipeline_versions"]), 1, "nothing was added")

    def test_a_refused_first_upload_through_v1beta1_is_a_permission_error(self):
        for release in ("2.3.0", "2.15.0"):
            with self.subTest(release=release):
                self.restart(release, "--rbac", self.rbac())
                result = self.kfp("publish", self.package(), "--pipeline", "fresh", "--api", "v1beta1", "-o", "json")
                self.assertEqual(result.code, 5, result)
                self.assertEqual(result.report()["error"]["kind"], "forbidden", result)
                self.assertEqual(self.state().get("pipelines", []), [])


class UploadsIgnoreTheTokenOn18(ReleaseCase):
    """Point 3 (the publish flow's side is in test_v1_publish.V18MultiUser): KFP 1.8's upload
    endpoints review the kubeflow-userid header's identity only (pipeline_upload_server.go:224-241
    @1.8.5), while its JSON API authenticates the token by TokenReview."""

    def test_doctor_names_the_header_and_the_json_api_still_takes_the_token(self):
        self.restart("1.8.5")
        result = self.kfp("doctor", "-o", "json", "--retries", "0")
        self.assertEqual(result.code, 5, result)
        checks = {c["name"]: c for c in result.report()["checks"]}
        self.assertEqual(checks["authenticated read"]["status"], "ok", checks)
        self.assertEqual(checks["permission runs/list"]["status"], "ok", checks)
        probe = checks["permission pipelines/create"]
        self.assertEqual(probe["status"], "fail", probe)
        self.assertIn("only from the kubeflow-userid header", probe["detail"])


class SharedPipelinesPerRelease(ReleaseCase):
    """Point 3's way through, --shared-pipeline, on 2.x: who may publish a pipeline without a
    namespace. Up to 2.15 nobody is checked: canAccessPipeline skips an empty namespace
    (pipeline_server.go:1030-1033 @2.3.0, :1095-1098 @2.15.0) and so does the upload endpoint
    (pipeline_upload_server.go:276-278 @2.3.0). 2.17 authorizes the create of a shared pipeline as
    pipelines/create in KFP's own namespace (pipeline_server.go:1290-1305 @2.17.0), which a profile's
    account does not have, while its versions' upload is still unchecked (:401-403)."""

    def rbac(self):
        # The profile's account may do everything in its namespace, nothing in kubeflow.
        return self.write("rbac.yaml", f"- subject: {SUBJECT}\n  namespace: {NAMESPACE}\n  allow: ['*']\n")

    def test_who_may_publish_a_shared_pipeline_on_each_2x_release(self):
        for release in RELEASES_2X:
            with self.subTest(release=release):
                self.restart(release, "--rbac", self.rbac())
                result = self.kfp("publish", self.package(), "--pipeline", "hello", "--shared-pipeline", "--run",
                                  "--experiment", "ci", "--param", "message=hi", "--run-key", "k", "--wait",
                                  "--wait-timeout", "60s", "-o", "json")
                if release == "2.17.0":
                    self.assertEqual(result.code, 5, result)
                    error = result.report()["error"]
                    self.assertEqual(error["kind"], "forbidden", result)
                    self.assertIn("(kubeflow)", error["hint"], result)
                    self.assertIn("without --shared-pipeline", error["hint"], result)
                    self.assertEqual(self.state().get("pipelines", []), [])
                    continue
                self.assertEqual(result.code, 0, result)
                state = self.state()
                self.assertEqual([p.get("namespace", "") for p in state["pipelines"]], [""], state)
                self.assertEqual([w["namespace"] for w in self.workflows()], [NAMESPACE], state)


class VersionDescriptionOn18(ReleaseCase):
    """Point 4. 1.8's upload_version unescapes the version name a second time (GetPipelineName) but
    not the description (pipeline_upload_server.go:159-167 @1.8.5): sent encoded twice, the digest
    is stored percent-encoded and never matches again."""

    def publish(self, package, *extra):
        return self.kfp("publish", package, "--pipeline", "hello-argo", *extra, "-o", "json", token_file=False)

    def test_the_digest_is_stored_readable_and_matches_again(self):
        self.restart("1.8.5", auth=False)
        self.assertEqual(self.publish(self.argo()).code, 0)
        changed = self.write("changed.yaml", ARGO_WORKFLOW.replace("the-default", "another"))
        updated = self.publish(changed)
        self.assertEqual(updated.code, 0, updated)
        self.assertEqual(updated.report()["outcome"], "updated", updated)
        digest = updated.report()["version"]["digest"]
        name = updated.report()["version"]["name"]
        stored = [v for v in self.state()["pipeline_versions"] if v.get("display_name", v.get("name")) == name]
        self.assertEqual(len(stored), 1, self.state()["pipeline_versions"])
        self.assertIn(digest, stored[0]["description"], "stored as sent, not percent-encoded")

        self.emu.clear_requests()
        again = self.publish(changed)
        self.assertEqual(again.code, 0, again)
        self.assertEqual(again.report()["outcome"], "unchanged", again)
        self.assertEqual(self.posts("/apis/v1beta1/pipelines/upload"), [], "nothing is uploaded again")

        named = self.publish(changed, "--version", updated.report()["version"]["name"])
        self.assertEqual(named.code, 0, named)
        self.assertEqual(named.report()["outcome"], "unchanged", named)

    def test_a_description_stored_percent_encoded_by_an_earlier_client_still_matches(self):
        self.restart("1.8.5", auth=False)
        first = self.publish(self.argo())
        self.assertEqual(first.code, 0, first)
        pipeline_id = first.report()["pipeline"]["id"]
        changed = self.write("changed.yaml", ARGO_WORKFLOW.replace("the-default", "legacy"))
        digest = json.loads(subprocess.run([str(self.publish_binary), "validate", str(changed), "-o", "json"],
                                           capture_output=True, text=True).stdout)["packages"][0]["digest"]
        # What a client that encoded the description twice left on 1.8: the server decoded it once.
        description = urllib.parse.quote(f"digest: {digest}", safe="")
        legacy = self.emu.upload(changed, "changed.yaml", api="v1beta1", version=True,
                                 query={"pipelineid": pipeline_id, "name": "legacy", "description": description})
        self.assertEqual(legacy.status, 200, legacy)
        self.assertIn("%3A", json.dumps(self.state()["pipeline_versions"]))
        self.emu.clear_requests()
        again = self.publish(changed)
        self.assertEqual(again.code, 0, again)
        self.assertEqual(again.report()["outcome"], "unchanged", again)
        self.assertEqual(again.report()["version"]["name"], "legacy", again)
        self.assertEqual(self.posts("/apis/v1beta1/pipelines/upload"), [])


class GenericAuthenticationFailures(ReleaseCase):
    """Point 6. A rejected token gets ResourceManager.IsAuthorized's generic Unauthenticated error
    ("Failed to check authorization. User identity is empty in the request header"), with nothing
    about why: the kind comes from the status and what the client knows of its token."""

    def test_a_token_the_server_rejects_is_exit_4_on_every_release(self):
        # 1.8 answers it with HTTP 500 (AuthenticateRequest's aggregate is no user error,
        # server/util.go:361 @1.8.5): still exit 4, not a retryable 7.
        forged = self.write("forged", self.emu.mint_token(harness.generate_rsa_key(self.tmp), SUBJECT))
        for release in ("1.8.5", "2.3.0", "2.15.0", "2.17.0"):
            with self.subTest(release=release):
                self.restart(release)
                result = self.kfp("run", "--pipeline", "hello", "--experiment", "ci", "-o", "json",
                                  token_file=forged)
                self.assertEqual(result.code, 4, result)
                error = result.report()["error"]
                self.assertEqual(error["kind"], "unauthenticated", result)
                self.assertEqual(error["http_status"], 500 if release == "1.8.5" else 401, result)
                self.assertIn("pipelines.kubeflow.org", error["hint"], result)

    def test_no_token_against_a_multi_user_server_is_exit_4_naming_the_token_file(self):
        for release in ("1.8.5", "2.3.0", "2.17.0"):
            with self.subTest(release=release):
                self.restart(release)
                absent = self.tmp / "absent-token"
                result = self.kfp("run", "--pipeline", "hello", "--experiment", "ci", "-o", "json",
                                  token_file=absent)
                self.assertEqual(result.code, 4, result)
                self.assertEqual(result.report()["error"]["kind"], "unauthenticated", result)
                self.assertIn(str(absent), result.report()["error"]["message"], result)


class ThroughTheUiServer(ReleaseCase):
    """Point 9. ml-pipeline-ui answers healthz itself (frontend/server/handlers/healthz.ts: always
    200, apiServerReady false when its 1 s probe of the API server fails) and an API server it
    cannot reach with a 504 "Error occurred while trying to proxy" (http-proxy-middleware). The
    client rides that out within --retries instead of exiting 7 at once."""

    def start_api(self, release, port=0):
        """An API server emulator on a chosen port (to come back where the UI expects it)."""
        argv = [str(harness.emulator_bin()), "--listen", f"127.0.0.1:{port}", "--server-version", release,
                "--run-duration", "300ms", "--auth", "token", "--token-key", str(self.rsa_key())]
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

        def stop():
            if process.poll() is None:
                process.terminate()
            process.wait()
            process.stdout.close()

        self.addCleanup(stop)
        line = process.stdout.readline()
        self.assertTrue(line.startswith("listening on 127.0.0.1:"), line)
        return process, int(line.strip().rsplit(":", 1)[1])

    def test_an_api_server_restart_behind_the_ui_is_ridden_out(self):
        for release in ("2.3.0", "2.17.0"):
            with self.subTest(release=release):
                api, port = self.start_api(release)
                self.emu.stop()
                self.emu = self.start_emulator("--ui-proxy", f"http://127.0.0.1:{port}", "--server-version", release)
                self.host = self.emu.url
                api.terminate()
                api.wait()
                publish = subprocess.Popen(
                    [str(self.publish_binary), "publish", str(self.package()), "--pipeline", "hello",
                     "--host", self.host, "--token-file", str(self.token_file), "--retries", "6", "-o", "json"],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                time.sleep(1.0)  # the UI now says apiServerReady: false
                self.start_api(release, port)
                stdout, stderr = publish.communicate(timeout=120)
                self.assertEqual(publish.returncode, 0, stderr)
                self.assertEqual(json.loads(stdout)["outcome"], "created", stdout)
                self.assertIn("not ready", stderr, "the wait is logged")

    def test_an_api_server_that_stays_down_is_exit_7_after_the_retries(self):
        api, port = self.start_api("2.3.0")
        self.emu.stop()
        self.emu = self.start_emulator("--ui-proxy", f"http://127.0.0.1:{port}", "--server-version", "2.3.0")
        self.host = self.emu.url
        api.terminate()
        api.wait()
        result = self.kfp("publish", self.package(), "--pipeline", "hello", "--retries", "2", "-o", "json")
        self.assertEqual(result.code, 7, result)
        self.assertEqual(result.report()["error"]["kind"], "server", result)
        self.assertIn("not ready", result.report()["error"]["message"], result)
        self.assertIn("retry 2/2", result.stderr, result)


if __name__ == "__main__":
    unittest.main()
