"""kfp-emulator per KFP server release: each point of issue 14 the emulator imitates, checked in
the release modes where upstream differs. Every expectation cites the upstream source it comes
from (../shared/upstream/kfp-<release>/backend/src/apiserver); FIDELITY.md lists them all."""

import json
import threading
import time
import unittest
import urllib.parse

import harness
from harness import EmulatorTestCase

TESTDATA = harness.source_dir() / "tests" / "kfp-emulator" / "testdata"
ADD_YAML = TESTDATA / "add_numbers.yaml"
ADD_JSON = TESTDATA / "add_numbers.json"
ARGO_YAML = TESTDATA / "argo_workflow.yaml"
V2 = "/apis/v2beta1"
V1 = "/apis/v1beta1"
V2_RELEASES = ("2.0.5", "2.3.0", "2.5.0", "2.15.0", "2.17.0")
GENERIC_AUTH = "Failed to check authorization. User identity is empty in the request header"


class ReleaseCase(EmulatorTestCase):
    def emulator(self, version, *flags):
        return self.start_emulator("--server-version", version, *flags)

    def upload(self, emu, path, name, api="v2beta1", token=None, headers=None, **query):
        q = {"name": name, **query}
        r = emu.upload(path, path.name, query=q, api=api, token=token) if headers is None else \
            self.upload_with_headers(emu, path, q, api, headers)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def upload_with_headers(self, emu, path, query, api, headers):
        import uuid
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"uploadfile\"; filename=\"{path.name}\"\r\n"
                f"\r\n").encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        return emu.request("POST", f"/apis/{api}/pipelines/upload", body=body, query=query,
                           headers={"content-type": f"multipart/form-data; boundary={boundary}", **headers})

    def first_version(self, emu, pipeline_id):
        return emu.get(f"{V2}/pipelines/{pipeline_id}/versions").json()["pipeline_versions"][0]

    def experiment_v2(self, emu, name="ci"):
        r = emu.post(f"{V2}/experiments", {"display_name": name})
        self.assertEqual(r.status, 200, r)
        return r.json()["experiment_id"]

    def workflow_of(self, emu, run_id):
        workflows = [w for w in emu.state()["workflows"] if w["run_id"] == run_id]
        self.assertEqual(len(workflows), 1, emu.state()["workflows"])
        return workflows[0]


class TestRunParameters(ReleaseCase):
    """Point 1: where each (pipeline kind x API x release) run takes its parameters
    (api_converter.go toModelRun; template/argo_template.go and v2_template.go RunWorkflow)."""

    def test_v2beta1_runs_on_2x(self):
        for version in V2_RELEASES:
            with self.subTest(version=version):
                emu = self.emulator(version)
                exp = self.experiment_v2(emu)
                v2 = self.upload(emu, ADD_YAML, "v2")
                argo = self.upload(emu, ARGO_YAML, "argo")
                body = lambda p, params: {
                    "display_name": "r", "experiment_id": exp,
                    "pipeline_version_reference": {"pipeline_id": p["pipeline_id"],
                                                   "pipeline_version_id": self.first_version(emu, p["pipeline_id"])["pipeline_version_id"]},
                    "runtime_config": {"parameters": params}}
                # A v2 pipeline gets runtime_config.parameters; defaults fill the rest.
                run = emu.post(f"{V2}/runs", body(v2, {"a": 5}))
                self.assertEqual(run.status, 200, run)
                wf = self.workflow_of(emu, run.json()["run_id"])
                self.assertEqual(wf["provided"], {"a": 5})
                self.assertEqual(wf["parameters"], {"a": 5, "b": 2.0, "label": "x"})
                # The same values on an Argo pipeline are dropped: toModelRun blanks the v1
                # parameters and the Argo template reads nothing else. The run echoes them anyway.
                run = emu.post(f"{V2}/runs", body(argo, {"message": "ignored"}))
                self.assertEqual(run.status, 200, run)
                self.assertEqual(run.json()["runtime_config"]["parameters"], {"message": "ignored"})
                wf = self.workflow_of(emu, run.json()["run_id"])
                self.assertEqual(wf["provided"], {})
                self.assertEqual(wf["parameters"], {"message": "hello"})
                # validatePipelineJobInputs: types, required inputs, extras (400).
                for params, text in (({"a": "5"}, "requires type double or integer"),
                                     ({}, "parameter a is not optional"),
                                     ({"a": 1, "zzz": 1}, "not required by pipeline: zzz")):
                    bad = emu.post(f"{V2}/runs", body(v2, params))
                    self.assertEqual(bad.status, 400, bad)
                    self.assertIn(text, bad.json()["message"])
                    self.assertIn("Failed to create a new run", bad.json()["message"])

    def test_v1beta1_runs_on_2x_and_1_8(self):
        for version in ("1.8.5",) + V2_RELEASES:
            with self.subTest(version=version):
                emu = self.emulator(version)
                exp = emu.post(f"{V1}/experiments", {"name": "ci"}).json()["id"]
                argo = self.upload(emu, ARGO_YAML, "argo", api="v1beta1")
                v2 = self.upload(emu, ADD_JSON, "v2", api="v1beta1")
                # The v1 API lists an Argo pipeline's parameters and none for a v2 one (ParametersJSON).
                self.assertEqual(argo["parameters"], [{"name": "message", "value": "hello"}])
                self.assertNotIn("parameters", v2)

                def run(pipeline, spec):
                    return emu.post(f"{V1}/runs", {
                        "name": "r", "pipeline_spec": spec,
                        "resource_references": [
                            {"key": {"type": "EXPERIMENT", "id": exp}, "relationship": "OWNER"},
                            {"key": {"type": "PIPELINE_VERSION", "id": pipeline["default_version"]["id"]},
                             "relationship": "CREATOR"}]})

                r = run(argo, {"parameters": [{"name": "message", "value": "hi"}]})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(self.workflow_of(emu, r.json()["run"]["id"])["parameters"], {"message": "hi"})
                # v1 parameters never reach a v2 pipeline; only runtime_config does.
                config = {"parameters": {"a": {"int_value": "7"}}} if version == "1.8.5" else {"parameters": {"a": 7}}
                r = run(v2, {"runtime_config": config})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(self.workflow_of(emu, r.json()["run"]["id"])["provided"], {"a": 7})
                r = run(v2, {"parameters": [{"name": "a", "value": "7"}]})
                if version == "1.8.5":
                    # 1.8 compiles the job without checking inputs: the run starts, without a.
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(self.workflow_of(emu, r.json()["run"]["id"])["provided"], {})
                else:
                    self.assertEqual(r.status, 400, r)
                    self.assertIn("parameter a is not optional", r.json()["message"])
                # An undeclared Argo parameter: 400 on 2.x, an internal error (500) on 1.8.
                r = run(argo, {"parameters": [{"name": "zzz", "value": "1"}]})
                self.assertEqual(r.status, 500 if version == "1.8.5" else 400, r)
                self.assertIn("Unrecognized input parameter: zzz", r.json()["message"])


class TestUploadAuthorization(ReleaseCase):
    """Points 2 and 3: the upload endpoints' answer to a caller without permission."""

    def setUp(self):
        super().setUp()
        self.key = self.rsa_key()
        self.rules = self.tmp / "rbac.yaml"
        self.rules.write_text("- subject: system:serviceaccount:team-a:ci\n  namespace: team-a\n  allow: [\"*\"]\n"
                              "- subject: alice@example.com\n  namespace: team-a\n  allow: [\"*\"]\n")

    def token(self, sub="system:serviceaccount:team-a:ci"):
        return harness.mint_token(self.key, sub, binary=self.binary)

    def test_denied_upload_per_release(self):
        for version in V2_RELEASES:
            with self.subTest(version=version):
                emu = self.emulator(version, "--auth", "token", "--token-key", self.key, "--rbac", self.rules)
                self.upload(emu, ADD_YAML, "mine", namespace="team-a", token=self.token())
                r = emu.upload(ADD_YAML, "a.yaml", query={"name": "x", "namespace": "team-b"}, token=self.token())
                self.assertEqual(r.status, 400)
                if version in ("2.15.0", "2.17.0"):
                    # pipeline_upload_server.go:135 (2.15): the same generic text as other failures.
                    self.assertEqual(r.json()["error_message"], "Failed to create a pipeline")
                else:
                    self.assertTrue(r.json()["error_message"].startswith(
                        "Failed to create a pipeline due to authorization error: Authorization Failure: "
                        "PermissionDenied: User 'system:serviceaccount:team-a:ci' is not authorized"), r)
                # Written before Content-Type is set: net/http sniffs the JSON body as text.
                self.assertEqual(r.headers["content-type"], "text/plain; charset=utf-8")

    def test_1_8_uploads_authorize_only_the_kubeflow_userid_header(self):
        emu = self.emulator("1.8.5", "--auth", "token", "--token-key", self.key, "--rbac", self.rules)
        # A token that may do everything in team-a: refused, the review has no user.
        r = emu.upload(ARGO_YAML, "wf.yaml", api="v1beta1", query={"name": "p", "namespace": "team-a"},
                       token=self.token())
        self.assertEqual(r.status, 400)
        self.assertIn("Failed to create SubjectAccessReview for user ''", r.json()["error_message"])
        # The header alone works, token or not (pipeline_upload_server.go:228).
        ok = self.upload_with_headers(emu, ARGO_YAML, {"name": "p", "namespace": "team-a"}, "v1beta1",
                                      {"kubeflow-userid": "alice@example.com"})
        self.assertEqual(ok.status, 200, ok)
        denied = self.upload_with_headers(emu, ARGO_YAML, {"name": "q", "namespace": "team-a"}, "v1beta1",
                                          {"kubeflow-userid": "mallory@example.com"})
        self.assertEqual(denied.status, 400)
        self.assertIn("is not authorized with reason:  (request:", denied.json()["error_message"])
        # The gRPC API still takes the token.
        listed = emu.get(f"{V1}/pipelines", query={"resource_reference_key.type": "NAMESPACE",
                                                   "resource_reference_key.id": "team-a"}, token=self.token())
        self.assertEqual(listed.status, 200, listed)


class TestUploadDecoding(ReleaseCase):
    """Point 4: 1.8 decodes the pipeline upload's name and description a second time, but only
    the name of a version upload (pipeline_upload_server.go:114 vs :167; server/util.go:38)."""

    def test_second_decode_on_1_8(self):
        for version in ("1.8.5", "2.3.0"):
            with self.subTest(version=version):
                emu = self.emulator(version)
                raw = "name=a%2541&description=d%2541"  # the handler sees "a%41" / "d%41"
                r = emu.upload(ARGO_YAML, "wf.yaml", api="v1beta1", query=raw)
                self.assertEqual(r.status, 200, r)
                pipeline = r.json()
                twice = version == "1.8.5"
                self.assertEqual(pipeline["name"], "aA" if twice else "a%41")
                self.assertEqual(pipeline["description"], "dA" if twice else "d%41")
                v = emu.upload(ARGO_YAML, "wf.yaml", api="v1beta1", version=True,
                               query=f"pipelineid={pipeline['id']}&name=v%2541&description=d%2541")
                self.assertEqual(v.status, 200, v)
                self.assertEqual(v.json()["name"], "vA" if twice else "v%41")
                self.assertEqual(v.json()["description"], "d%41")


class TestColumnLimits(ReleaseCase):
    """Point 5: MySQL column sizes (strict mode: error 1406 after the side effects) and the 2.15+
    model-length validation."""

    def test_run_description_over_varchar_255(self):
        for version in ("2.3.0", "2.17.0"):
            with self.subTest(version=version):
                emu = self.emulator(version)
                exp = self.experiment_v2(emu)
                p = self.upload(emu, ADD_YAML, "p")
                ref = {"pipeline_id": p["pipeline_id"],
                       "pipeline_version_id": self.first_version(emu, p["pipeline_id"])["pipeline_version_id"]}
                body = {"display_name": "r", "experiment_id": exp, "pipeline_version_reference": ref,
                        "runtime_config": {"parameters": {"a": 1}}}
                # 255 characters fit, multi-byte ones too (VARCHAR counts characters).
                for description in ("d" * 255, "é" * 255):
                    self.assertEqual(emu.post(f"{V2}/runs", {**body, "description": description}).status, 200)
                before = len(emu.state()["workflows"])
                r = emu.post(f"{V2}/runs", {**body, "description": "d" * 256})
                self.assertEqual(r.status, 500, r)
                self.assertEqual(r.json()["details"][0]["message"], "Internal Server Error")
                self.assertIn("Data too long for column 'Description' at row 1", r.json()["message"])
                # The workflow was created before the INSERT failed; the run was not stored.
                self.assertEqual(len(emu.state()["workflows"]), before + 1)
                self.assertEqual(len(emu.state()["runs"]), 2)

    def test_experiment_name_and_description(self):
        for version, name_status in (("2.3.0", 200), ("2.15.0", 500)):
            with self.subTest(version=version):
                emu = self.emulator(version)
                # 129 characters: a VARCHAR(255) column on 2.3; ValidateModel's 128 on 2.15+ (500).
                r = emu.post(f"{V2}/experiments", {"display_name": "n" * 129})
                self.assertEqual(r.status, name_status, r)
                if name_status == 500:
                    self.assertIn("Experiment.Name length cannot exceed 128", r.json()["message"])
                r = emu.post(f"{V2}/experiments", {"display_name": "e", "description": "d" * 256})
                self.assertEqual(r.status, 500, r)
                self.assertIn("Data too long for column 'Description'", r.json()["message"])

    def test_upload_name_limits_2_15(self):
        emu = self.emulator("2.15.0")
        r = emu.upload(ADD_YAML, "a.yaml", query={"name": "x" * 129})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.body, b"Invalid input error: Pipeline.Name length cannot exceed 128\n")
        p = self.upload(emu, ADD_YAML, "p")
        r = emu.upload(ADD_YAML, "a.yaml", version=True, query={"pipelineid": p["pipeline_id"], "name": "v" * 128})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.body, b"Invalid input error: PipelineVersion.Name length cannot exceed 127\n")
        self.assertEqual(r.headers["x-content-type-options"], "nosniff")

    def test_tags_2_17(self):
        emu = self.emulator("2.17.0")
        too_many = json.dumps({f"k{i}": "v" for i in range(21)})
        r = emu.upload(ADD_YAML, "a.yaml", query={"name": "t", "tags": too_many})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["error_message"], "number of tags (21) exceeds maximum of 20 per entity")
        p = self.upload(emu, ADD_YAML, "t", tags=json.dumps({"digest": "abc"}))
        self.assertEqual(p["tags"], {"digest": "abc"})
        # The upload puts the tags on the pipeline only, not on its first version.
        self.assertNotIn("tags", self.first_version(emu, p["pipeline_id"]))


class TestAuthentication(ReleaseCase):
    """Point 6: authentication failures as each release words them."""

    def test_missing_and_bad_tokens(self):
        key = self.rsa_key()
        forged = harness.mint_token(harness.generate_rsa_key(self.tmp), "system:serviceaccount:team-a:ci",
                                    binary=self.binary)
        for version in ("1.8.5", "2.3.0", "2.17.0"):
            with self.subTest(version=version):
                emu = self.emulator(version, "--auth", "token", "--token-key", key)
                path = f"{V1}/experiments"
                query = {"resource_reference_key.type": "NAMESPACE", "resource_reference_key.id": "team-a"}
                for token in (None, forged):
                    r = emu.get(path, query=query, token=token)
                    if version == "1.8.5":
                        # 1.8 returns the authenticators' aggregate as a plain error: 500.
                        self.assertEqual(r.status, 500, r)
                        self.assertTrue(r.json()["error"].startswith("Internal error: "), r)
                        self.assertIn("Unauthenticated: Request header error: there is no user identity header.",
                                      r.json()["error"])
                        if token is not None:
                            self.assertIn("Review.Status.Authenticated is false", r.json()["error"])
                        self.assertEqual(r.json()["details"][0]["error_message"], r.json()["error"])
                    else:
                        self.assertEqual(r.status, 401, r)
                        self.assertEqual(r.json()["details"][0]["message"], GENERIC_AUTH)
                        self.assertEqual("www-authenticate" in r.headers, version == "2.17.0")

    def test_permission_denied_chain(self):
        key = self.rsa_key()
        emu = self.emulator("2.17.0", "--auth", "token", "--token-key", key)
        token = harness.mint_token(key, "system:serviceaccount:team-a:ci", binary=self.binary)
        r = emu.get(f"{V2}/runs", query={"namespace": "team-b"}, token=token)
        self.assertEqual(r.status, 403)
        self.assertEqual(r.json()["details"][0]["message"],
                         "User 'system:serviceaccount:team-a:ci' is not authorized with reason:  (request: "
                         "&ResourceAttributes{Namespace:team-b,Verb:list,Group:pipelines.kubeflow.org,"
                         "Version:v1beta1,Resource:runs,Subresource:,Name:,})")
        self.assertTrue(r.json()["message"].endswith(": Unauthorized access"))


class TestRecurringRuns(ReleaseCase):
    """Points 7 and 8: cron specs as robfig/cron v1 parses them; int64 fields as strings; a
    recurring run from an inline spec returns it."""

    def body(self, exp, spec_or_ref, trigger, **extra):
        body = {"display_name": "nightly", "experiment_id": exp, "max_concurrency": "1", "mode": "ENABLE",
                "trigger": trigger, "runtime_config": {"parameters": {"a": 1}}, **extra}
        body.update(spec_or_ref)
        return body

    def test_cron_and_periodic(self):
        emu = self.emulator("2.17.0")
        exp = self.experiment_v2(emu)
        p = self.upload(emu, ADD_YAML, "p")
        ref = {"pipeline_version_reference": {"pipeline_id": p["pipeline_id"]}}
        for cron in ("@daily", "@every 1h30m", "@midnight", "0 0 2 * * *", "0 2 * * *", "0 */5 * * * ?",
                     "0 0 0 * JAN-MAR MON"):
            r = emu.post(f"{V2}/recurringruns", self.body(exp, ref, {"cron_schedule": {"cron": cron}}))
            self.assertEqual(r.status, 200, (cron, r))
        for cron, error in (("* * *", "Expected 5 to 6 fields, found 3: * * *"),
                            ("0 0 25 * * *", "End of range (25) above maximum (23): 25"),
                            ("@every 1x", "Failed to parse duration @every 1x"),
                            ("@fortnightly", "Unrecognized descriptor: @fortnightly"),
                            ("0 0 0 * * MONDAY", "Failed to parse int from MONDAY")):
            r = emu.post(f"{V2}/recurringruns", self.body(exp, ref, {"cron_schedule": {"cron": cron}}))
            self.assertEqual(r.status, 400, (cron, r))
            self.assertIn("Schedule cron is not a supported format(https://godoc.org/github.com/robfig/cron). "
                          "Error: " + error, r.json()["message"])
        r = emu.post(f"{V2}/recurringruns", self.body(exp, ref, {"periodic_schedule": {"interval_second": 3600}}))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["trigger"]["periodic_schedule"]["interval_second"], "3600")
        self.assertEqual(r.json()["max_concurrency"], "1")
        r = emu.post(f"{V2}/recurringruns", self.body(exp, ref, {"periodic_schedule": {"interval_second": "0"}}))
        self.assertEqual(r.status, 400)
        self.assertIn("Found invalid period schedule interval 0", r.json()["message"])

    def test_inline_spec_is_returned(self):
        emu = self.emulator("2.17.0")
        exp = self.experiment_v2(emu)
        spec = json.loads(ADD_JSON.read_text())
        r = emu.post(f"{V2}/recurringruns",
                     self.body(exp, {"pipeline_spec": spec}, {"periodic_schedule": {"interval_second": "60"}}))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["pipeline_spec"], spec)
        self.assertNotIn("pipeline_version_reference", r.json())
        got = emu.get(f"{V2}/recurringruns/{r.json()['recurring_run_id']}").json()
        self.assertEqual(got["pipeline_spec"], spec)


class TestEndpoints(ReleaseCase):
    """Point 8: archive, unarchive and retry; 1.8's sniffed healthz."""

    def test_archive_unarchive_retry_v2(self):
        emu = self.emulator("2.17.0", "--run-duration", "200ms")
        exp = self.experiment_v2(emu)
        p = self.upload(emu, ADD_YAML, "p")
        body = {"display_name": "r", "experiment_id": exp,
                "pipeline_version_reference": {"pipeline_id": p["pipeline_id"]},
                "runtime_config": {"parameters": {"a": 1}}}
        emu.set_outcome("FAILED")
        run_id = emu.post(f"{V2}/runs", body).json()["run_id"]
        deadline = time.monotonic() + 20
        while emu.get(f"{V2}/runs/{run_id}").json()["state"] != "FAILED" and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(emu.post(f"{V2}/runs/{run_id}:retry").status, 200)
        self.assertIn(emu.get(f"{V2}/runs/{run_id}").json()["state"], {"PENDING", "RUNNING", "SUCCEEDED"})
        while emu.get(f"{V2}/runs/{run_id}").json()["state"] != "SUCCEEDED" and time.monotonic() < deadline:
            time.sleep(0.05)
        again = emu.post(f"{V2}/runs/{run_id}:retry")
        self.assertEqual(again.status, 500)
        self.assertIn("does not allow reties", again.json()["message"])
        self.assertEqual(emu.post(f"{V2}/runs/{run_id}:archive").status, 200)
        self.assertEqual(emu.get(f"{V2}/runs/{run_id}").json()["storage_state"], "ARCHIVED")
        self.assertEqual(emu.post(f"{V2}/runs/{run_id}:unarchive").status, 200)
        self.assertEqual(emu.get(f"{V2}/runs/{run_id}").json()["storage_state"], "AVAILABLE")
        self.assertEqual(emu.post(f"{V2}/experiments/{exp}:archive").status, 200)
        self.assertEqual(emu.get(f"{V2}/runs/{run_id}").json()["storage_state"], "ARCHIVED")
        blocked = emu.post(f"{V2}/runs/{run_id}:unarchive")
        self.assertEqual(blocked.status, 400)
        self.assertIn("must be un-archived first", blocked.json()["message"])
        self.assertEqual(emu.post(f"{V2}/experiments/{exp}:unarchive").status, 200)
        self.assertEqual(emu.get(f"{V2}/experiments/{exp}").json()["storage_state"], "AVAILABLE")

    def test_v1_paths(self):
        emu = self.emulator("1.8.5", "--run-duration", "100ms")
        exp = emu.post(f"{V1}/experiments", {"name": "ci"}).json()["id"]
        argo = self.upload(emu, ARGO_YAML, "argo", api="v1beta1")
        emu.set_outcome("FAILED")
        run = emu.post(f"{V1}/runs", {"name": "r", "resource_references": [
            {"key": {"type": "EXPERIMENT", "id": exp}, "relationship": "OWNER"},
            {"key": {"type": "PIPELINE_VERSION", "id": argo["default_version"]["id"]}, "relationship": "CREATOR"}]})
        run_id = run.json()["run"]["id"]
        deadline = time.monotonic() + 20
        while emu.get(f"{V1}/runs/{run_id}").json()["run"]["status"] != "Failed" and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(emu.post(f"{V1}/runs/{run_id}/retry").status, 200)
        self.assertEqual(emu.post(f"{V1}/runs/{run_id}:archive").status, 200)
        self.assertEqual(emu.get(f"{V1}/runs/{run_id}").json()["run"]["storage_state"], "STORAGESTATE_ARCHIVED")
        self.assertEqual(emu.post(f"{V1}/experiments/{exp}:archive").status, 200)
        self.assertEqual(emu.get(f"{V1}/experiments/{exp}").json()["storage_state"], "STORAGESTATE_ARCHIVED")

    def test_healthz_per_release(self):
        for version in harness.SERVER_VERSIONS:
            with self.subTest(version=version):
                emu = self.emulator(version)
                r = emu.get(f"{V1}/healthz")
                self.assertEqual(r.status, 200)
                self.assertEqual(r.json()["tag_name"], version)
                self.assertEqual(r.headers["content-type"],
                                 "text/plain; charset=utf-8" if version == "1.8.5" else "application/json")
                v2 = emu.get(f"{V2}/healthz")
                if version == "1.8.5":
                    self.assertEqual(v2.status, 404)
                    continue
                self.assertEqual("pipeline_store" in v2.json(), version in ("2.15.0", "2.17.0"))
                # 2.0-2.15 write the body by hand with a space after each comma; 2.17 marshals it.
                self.assertEqual(b", " in v2.body, version != "2.17.0")


class TestLatency(ReleaseCase):
    """--latency delays every API and upload request on both sides of the server's action."""

    def test_half_before_the_action(self):
        emu = self.emulator("2.17.0", "--latency", "4s")
        done = threading.Event()
        result = {}

        def create():
            client = harness.Emulator(binary=emu.binary)
            client.port = emu.port
            result["response"] = client.post(f"{V2}/experiments", {"display_name": "slow"}, fresh=True)
            client.stop()
            done.set()

        start = time.monotonic()
        threading.Thread(target=create, daemon=True).start()
        time.sleep(0.2)
        # Control endpoints are not delayed; the experiment is not there while the request travels.
        names = [e["display_name"] for e in emu.state()["experiments"]]
        if time.monotonic() - start < 1.9:
            self.assertNotIn("slow", names)
        self.assertTrue(done.wait(30))
        self.assertGreaterEqual(time.monotonic() - start, 4.0)
        self.assertEqual(result["response"].status, 200)

    def test_uploads_are_delayed(self):
        emu = self.emulator("2.17.0", "--latency", "600ms")
        start = time.monotonic()
        self.upload(emu, ADD_YAML, "p")
        self.assertGreaterEqual(time.monotonic() - start, 0.6)


if __name__ == "__main__":
    unittest.main()
