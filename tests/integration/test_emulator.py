"""kfp-emulator driven over HTTP: every endpoint, auth outcome, fault kind and server version."""

import http.client
import json
import pathlib
import subprocess
import threading
import time
import unittest
import urllib.parse

import harness
from harness import EmulatorTestCase, filter_param

TESTDATA = harness.source_dir() / "tests" / "kfp-emulator" / "testdata"
ADD_YAML = TESTDATA / "add_numbers.yaml"
ADD_JSON = TESTDATA / "add_numbers.json"
ARGO_YAML = TESTDATA / "argo_workflow.yaml"
V2 = "/apis/v2beta1"
V1 = "/apis/v1beta1"
WAIT_LIMIT_S = 20


def wait_for_state(emulator, run_id, states, token=None):
    """Polls a v2 run until its state is in `states`; fails after WAIT_LIMIT_S (never expected)."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while True:
        run = emulator.get(f"{V2}/runs/{run_id}", token=token).json()
        if run.get("state") in states or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


def user_experiments(emulator):
    """The stored experiments other than the "Default" a single-user server creates at start-up."""
    return [e for e in emulator.state()["experiments"] if e["display_name"] != "Default"]


def require_v2beta1(test):
    """Skips on KFP 1.8.5, which serves no v2beta1 API (kfp-1.8.5 main.go:127-135 registers only the
    v1beta1 services); TestServerVersions.test_1_8_5 and test_emulator_releases cover 1.8."""
    if harness.server_version() == "1.8.5":
        test.skipTest("skipped on KFP 1.8.5: no /apis/v2beta1 there (kfp-1.8.5 main.go:127-135)")


# The pipeline API changed in 2.14 (2.15.0 here): a `name` apart from the display name (kfp-2.15.0
# server/pipeline_server.go:1112-1122; up to 2.5 only display_name, 2.3.0 :1047-1052), DELETE with
# ?cascade, the generic upload answers (2.15.0 server/pipeline_upload_server.go:102-137,168-178) and
# the length checks (validation/length.go). The tests below assert each release's side of it.
SEPARATE_NAMES = harness.server_version() in ("2.15.0", "2.17.0")
# grpc-gateway v2 from 2.15 (kfp-2.15.0 main.go:36): unknown fields are 400, WWW-Authenticate on 401.
GATEWAY_V2 = SEPARATE_NAMES


def name_of(obj):
    """A pipeline's or version's name: `name` from 2.14, before only `display_name` (see above)."""
    return obj["name"] if SEPARATE_NAMES else obj["display_name"]


class Fixtures(EmulatorTestCase):
    def upload(self, emulator, name, ns=None, token=None, path=ADD_YAML, **query):
        q = {"name": name, **query}
        if ns:
            q["namespace"] = ns
        r = emulator.upload(path, path.name, query=q, token=token)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def version_of(self, emulator, pipeline_id, token=None):
        r = emulator.get(f"{V2}/pipelines/{pipeline_id}/versions", token=token)
        self.assertEqual(r.status, 200, r)
        return r.json()["pipeline_versions"][0]

    def experiment(self, emulator, name="ci", ns=None, token=None):
        body = {"display_name": name}
        if ns:
            body["namespace"] = ns
        r = emulator.post(f"{V2}/experiments", body, token=token)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def run_body(self, experiment_id, pipeline, version, **extra):
        body = {"display_name": "ci-run", "experiment_id": experiment_id,
                "pipeline_version_reference": {"pipeline_id": pipeline["pipeline_id"],
                                               "pipeline_version_id": version["pipeline_version_id"]},
                "runtime_config": {"parameters": {"a": 1}}}
        body.update(extra)
        return body


class TestStartup(EmulatorTestCase):
    def test_help_says_it_is_a_test_double(self):
        out = subprocess.run([str(self.binary), "--help"], capture_output=True, text=True).stdout
        self.assertIn("TEST DOUBLE", out)
        self.assertIn("NOT a", out)

    def test_port_zero_prints_the_chosen_port(self):
        emulator = self.start_emulator()
        self.assertGreater(emulator.port, 0)
        self.assertEqual(emulator.output[0].strip(), f"listening on 127.0.0.1:{emulator.port}")

    def test_healthz_2_17(self):
        r = self.start_emulator("--server-version", "2.17.0").get(f"{V2}/healthz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["content-type"], "application/json")
        self.assertEqual(r.json()["tag_name"], "2.17.0")
        self.assertIs(r.json()["multi_user"], False)
        self.assertEqual(r.json()["pipeline_store"], "database")

    def test_unknown_route_is_grpc_not_found(self):
        r = self.start_emulator().get(f"{V1}/nothing-here")
        self.assertEqual(r.status, 404)
        # grpc-gateway v2 (2.15+) answers JSON, v1.16 (up to 2.5) its plain text (FIDELITY.md section 1).
        if harness.server_version() in ("2.15.0", "2.17.0"):
            self.assertEqual(r.json(), {"code": 5, "message": "Not Found"})
        else:
            self.assertEqual(r.text, "Not Found\n")

    def test_many_concurrent_keep_alive_connections(self):
        emulator = self.start_emulator()
        errors = []

        def client():
            try:
                c = harness.Emulator(binary=emulator.binary)
                c.port = emulator.port
                for _ in range(20):
                    r = c.get(f"{V1}/healthz")
                    if r.status != 200:
                        errors.append(r.status)
                c._connection.close()
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(repr(error))

        threads = [threading.Thread(target=client) for _ in range(64)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(emulator.requests_log()), 64 * 20)


class TestPipelinesV2(Fixtures):
    def setUp(self):
        super().setUp()
        require_v2beta1(self)
        self.emu = self.start_emulator()

    def test_upload_returns_pipeline_and_creates_one_version(self):
        p = self.upload(self.emu, "my-pipe", description="d1")
        self.assertEqual(name_of(p), "my-pipe")
        self.assertEqual(p["display_name"], "my-pipe")
        self.assertEqual(p["description"], "d1")
        self.assertNotIn("namespace", p)
        self.assertRegex(p["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        versions = self.emu.get(f"{V2}/pipelines/{p['pipeline_id']}/versions").json()
        self.assertEqual(versions["total_size"], 1)
        v = versions["pipeline_versions"][0]
        self.assertEqual(name_of(v), "my-pipe")
        self.assertEqual(v["pipeline_spec"]["pipelineInfo"]["name"], "add-numbers")
        self.assertEqual(v["pipeline_spec"], json.loads(ADD_JSON.read_text()))
        self.assertNotIn("package_url", v)

    def test_upload_without_name_uses_filename(self):
        r = self.emu.upload(ADD_YAML, "hello-world.yaml")
        self.assertEqual(name_of(r.json()), "hello-world.yaml")

    def test_duplicate_upload_is_409_with_upload_error_body(self):
        self.upload(self.emu, "dup")
        r = self.emu.upload(ADD_YAML, "a.yaml", query={"name": "dup"})
        # 409 from 2.3 (2.3.0 pipeline_upload_server.go:138-143); 2.0.5 has no 409 branch (:133-136).
        self.assertEqual(r.status, 500 if harness.server_version() == "2.0.5" else 409)
        self.assertEqual(set(r.json()), {"error_message", "error_details"})
        if SEPARATE_NAMES:  # 2.15+ answer every upload failure with a fixed message (:172)
            self.assertEqual(r.json()["error_message"], "Failed to create a pipeline and a pipeline version")
        else:
            self.assertIn("already exist", r.json()["error_message"])
        # 2.3+ set the JSON content type just before the create; 2.0.5 only after success (:143), so
        # its failure is sniffed as text.
        self.assertEqual(r.headers["content-type"],
                         "text/plain; charset=utf-8" if harness.server_version() == "2.0.5" else "application/json")

    def test_missing_uploadfile_part_or_filename_is_400(self):
        r = self.emu.upload(ADD_YAML, "a.yaml", field="other")
        self.assertEqual(r.status, 400)
        self.assertIn("Failed to read pipeline", r.json()["error_message"])
        r = self.emu.upload(ADD_YAML, None)
        self.assertEqual(r.status, 400)

    def test_invalid_spec_is_400_on_2_17(self):
        self.emu = self.start_emulator("--server-version", "2.17.0")
        r = self.emu.upload(b"# only a comment\n", "empty.yaml")
        self.assertEqual(r.status, 400)
        r = self.emu.upload(ADD_YAML.read_bytes(), "pipeline.png")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["error_message"], "Failed to read a pipeline spec file")
        # Written before the handler sets Content-Type: Go sniffs the JSON as text.
        self.assertEqual(r.headers["content-type"], "text/plain; charset=utf-8")

    def test_name_too_long_is_400_plain_text(self):
        r = self.emu.upload(ADD_YAML, "a.yaml", query={"name": "x" * 129})
        if not SEPARATE_NAMES:  # no length check before 2.15; the VARCHAR(255) column holds it
            self.assertEqual(r.status, 200, r)
            return
        self.assertEqual(r.status, 400)
        self.assertTrue(r.headers["content-type"].startswith("text/plain"))

    def test_upload_version(self):
        p = self.upload(self.emu, "pv")
        r = self.emu.upload(ADD_YAML, "a.yaml", version=True,
                            query={"pipelineid": p["pipeline_id"], "name": "v2", "description": "second",
                                   "code_source_url": "https://github.com/o/r/commit/abc"})
        self.assertEqual(r.status, 200, r)
        v = r.json()
        self.assertEqual(v["pipeline_id"], p["pipeline_id"])
        self.assertEqual(name_of(v), "v2")
        # The upload endpoints read no code_source_url (pipeline_upload_server.go, every release),
        # and the v2beta1 shape has none (toApiPipelineVersion).
        self.assertNotIn("code_source_url", v)
        self.assertIn("pipeline_spec", v)
        again = self.emu.upload(ADD_YAML, "a.yaml", version=True, query={"pipelineid": p["pipeline_id"], "name": "v2"})
        duplicate = 500 if harness.server_version() == "2.0.5" else 409  # 2.0.5 :224-227, 2.3.0 :234-235
        self.assertEqual(again.status, duplicate)
        same_as_pipeline = self.emu.upload(ADD_YAML, "a.yaml", version=True,
                                           query={"pipelineid": p["pipeline_id"], "name": "pv"})
        self.assertEqual(same_as_pipeline.status, duplicate)
        no_id = self.emu.upload(ADD_YAML, "a.yaml", version=True, query={"name": "v3"})
        self.assertEqual(no_id.status, 400)
        fake = self.emu.upload(ADD_YAML, "a.yaml", version=True, query={"pipelineid": "fake", "name": "v3"})
        self.assertEqual(fake.status, 400)
        got = self.emu.get(f"{V2}/pipelines/{p['pipeline_id']}/versions/{v['pipeline_version_id']}")
        self.assertEqual(got.json()["pipeline_version_id"], v["pipeline_version_id"])
        self.assertEqual(self.emu.delete(f"{V2}/pipelines/{p['pipeline_id']}/versions/{v['pipeline_version_id']}").status, 200)
        self.assertEqual(self.emu.get(f"{V2}/pipelines/{p['pipeline_id']}/versions/{v['pipeline_version_id']}").status, 404)

    def test_tags_on_2_17(self):
        self.emu = self.start_emulator("--server-version", "2.17.0")
        p = self.upload(self.emu, "tagged", tags=json.dumps({"digest": "abc", "team": "ml"}))
        self.assertEqual(p["tags"], {"digest": "abc", "team": "ml"})
        self.upload(self.emu, "other", tags=json.dumps({"digest": "zzz"}))
        r = self.emu.get(f"{V2}/pipelines", query="filter=" + filter_param(
            [{"key": "tags.digest", "operation": "EQUALS", "string_value": "abc"}]))
        self.assertEqual([name_of(x) for x in r.json()["pipelines"]], ["tagged"])
        for bad in ({"k" * 64: "v"}, {"k": "v" * 64}, {"a.b": "v"}):
            r = self.emu.upload(ADD_YAML, "a.yaml", query={"name": "bad-tags", "tags": json.dumps(bad)})
            self.assertEqual(r.status, 400, bad)
        r = self.emu.upload(ADD_YAML, "a.yaml", query={"name": "bad-tags", "tags": "{not json"})
        self.assertEqual(r.status, 400)

    def test_get_and_get_by_name_and_404(self):
        p = self.upload(self.emu, "lookup me")
        self.assertEqual(name_of(self.emu.get(f"{V2}/pipelines/{p['pipeline_id']}").json()), "lookup me")
        by_name = self.emu.get(f"{V2}/pipelines/names/" + urllib.parse.quote("lookup me", safe=""))
        self.assertEqual(by_name.json()["pipeline_id"], p["pipeline_id"])
        missing = self.emu.get(f"{V2}/pipelines/names/nope")
        self.assertEqual(missing.status, 404)
        self.assertEqual(missing.json()["code"], 5)
        self.assertEqual("error" in missing.json(), not GATEWAY_V2)  # grpc-gateway v1.16 adds "error"
        self.assertEqual(missing.json()["details"][0]["@type"], "type.googleapis.com/google.rpc.Status")
        self.assertEqual(self.emu.get(f"{V2}/pipelines/unknown-id").status, 404)

    def test_create_pipeline_json_api(self):
        r = self.emu.post(f"{V2}/pipelines", {"display_name": "json-made", "description": "x"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(name_of(r.json()), "json-made")
        key = "name" if SEPARATE_NAMES else "display_name"  # a request names it by `name` from 2.14
        self.assertEqual(self.emu.post(f"{V2}/pipelines", {key: "json-made"}).status, 409)
        # 2.15+ check Pipeline.Name <= 128 in the converter (validation/length.go), an internal error;
        # before, the VARCHAR(255) column holds it.
        self.assertEqual(self.emu.post(f"{V2}/pipelines", {key: "y" * 129}).status, 500 if SEPARATE_NAMES else 200)
        unknown = self.emu.post(f"{V2}/pipelines", {key: "z", "bogus": 1})
        if GATEWAY_V2:
            self.assertEqual(unknown.status, 400)
            self.assertIn("unknown field", unknown.json()["message"])
        else:  # grpc-gateway v1.16 ignores unknown fields
            self.assertEqual(unknown.status, 200, unknown)
        no_parent = self.emu.post(f"{V2}/pipelines/{r.json()['pipeline_id']}/versions",
                                  {key: "v", "package_url": {"pipeline_url": "https://github.com/x.yaml"}})
        self.assertEqual(no_parent.status, 400)
        self.assertIn("Parent pipeline id is empty", no_parent.json()["message"])

    def test_list_filter_sort_and_paging(self):
        for name in ("alpha", "beta", "gamma", "delta", "a+b"):
            self.upload(self.emu, name, description=f"about {name}")

        def names(query):
            r = self.emu.get(f"{V2}/pipelines", query=query)
            self.assertEqual(r.status, 200, r)
            return [name_of(p) for p in r.json().get("pipelines", [])], r.json()

        eq = filter_param([{"key": "name", "operation": "EQUALS", "string_value": "beta"}])
        self.assertEqual(names("filter=" + eq)[0], ["beta"])
        plus = filter_param([{"key": "name", "operation": "EQUALS", "string_value": "a+b"}])
        self.assertEqual(names("filter=" + plus)[0], ["a+b"])
        # Encoded only once, '+' reaches the server's second unescape and becomes a space.
        once = urllib.parse.quote(json.dumps({"predicates": [
            {"key": "name", "operation": "EQUALS", "string_value": "a+b"}]}), safe="")
        self.assertEqual(names("filter=" + once)[0], [])
        ne = filter_param([{"key": "name", "operation": "NOT_EQUALS", "string_value": "beta"}])
        self.assertEqual(len(names("filter=" + ne)[0]), 4)
        sub = filter_param([{"key": "description", "operation": "IS_SUBSTRING", "string_value": "lt"}])
        self.assertEqual(names("filter=" + sub)[0], ["delta"])
        in_list = filter_param([{"key": "name", "operation": "IN",
                                 "string_values": {"values": ["alpha", "gamma"]}}])
        self.assertEqual(sorted(names("filter=" + in_list)[0]), ["alpha", "gamma"])
        in_scalar = filter_param([{"key": "name", "operation": "IN", "string_value": "alpha"}])
        self.assertEqual(self.emu.get(f"{V2}/pipelines", query="filter=" + in_scalar).status, 400)
        none = filter_param([{"key": "name", "operation": "EQUALS", "string_value": "nothing"}])
        self.assertEqual(names("filter=" + none)[1], {})
        future = filter_param([{"key": "created_at", "operation": "LESS_THAN",
                                "string_value": str(int(time.time()) + 3600)}])
        self.assertEqual(len(names("filter=" + future)[0]), 5)
        past = filter_param([{"key": "created_at", "operation": "GREATER_THAN",
                              "string_value": str(int(time.time()) + 3600)}])
        self.assertEqual(names("filter=" + past)[0], [])
        self.assertEqual(self.emu.get(f"{V2}/pipelines", query="filter=%7Bbad").status, 400)

        self.assertEqual(names("sort_by=name")[0], ["a+b", "alpha", "beta", "delta", "gamma"])
        self.assertEqual(names("sort_by=name%20desc")[0], ["gamma", "delta", "beta", "alpha", "a+b"])
        self.assertEqual(self.emu.get(f"{V2}/pipelines", query="sort_by=unknownfield").status, 400)
        self.assertEqual(self.emu.get(f"{V2}/pipelines", query="page_size=-1").status, 400)

        first, body = names("page_size=2&sort_by=name")
        self.assertEqual(first, ["a+b", "alpha"])
        self.assertEqual(body["total_size"], 5)
        token = body["next_page_token"]
        second, body = names({"page_token": token, "page_size": 2})
        self.assertEqual(second, ["beta", "delta"])
        third, body = names({"page_token": body["next_page_token"], "sort_by": "name", "page_size": 2})
        self.assertEqual(third, ["gamma"])
        self.assertNotIn("next_page_token", body)
        mismatch = self.emu.get(f"{V2}/pipelines", query={"page_token": token, "sort_by": "created_at"})
        self.assertEqual(mismatch.status, 400)
        self.assertIn("page token does not match", mismatch.json()["message"])

    def test_delete_needs_cascade_when_versions_exist(self):
        p = self.upload(self.emu, "to-delete")
        r = self.emu.delete(f"{V2}/pipelines/{p['pipeline_id']}")
        self.assertEqual(r.status, 400)
        self.assertIn("as it has existing pipeline versions (e.g. ", r.json()["message"])
        if SEPARATE_NAMES:  # ?cascade from 2.14 (2.15.0 resource/resource_manager.go:303-343)
            self.assertIn("Set cascade=true to delete all versions", r.json()["message"])
            self.assertEqual(self.emu.delete(f"{V2}/pipelines/{p['pipeline_id']}", query={"cascade": "true"}).status, 200)
        else:  # before, the versions go first (2.3.0 resource/resource_manager.go:295-310)
            self.assertEqual(self.emu.delete(f"{V2}/pipelines/{p['pipeline_id']}", query={"cascade": "true"}).status, 400)
            version = self.version_of(self.emu, p["pipeline_id"])
            self.assertIn(version["pipeline_version_id"], r.json()["message"])
            self.assertEqual(self.emu.delete(
                f"{V2}/pipelines/{p['pipeline_id']}/versions/{version['pipeline_version_id']}").status, 200)
            self.assertEqual(self.emu.delete(f"{V2}/pipelines/{p['pipeline_id']}").status, 200)
        self.assertEqual(self.emu.get(f"{V2}/pipelines/{p['pipeline_id']}").status, 404)
        self.assertEqual(self.emu.delete(f"{V2}/pipelines/{p['pipeline_id']}").status, 404)
        self.assertEqual(self.emu.state()["pipeline_versions"], [])


class TestExperimentsAndRunsV2(Fixtures):
    def setUp(self):
        super().setUp()
        require_v2beta1(self)
        self.emu = self.start_emulator("--run-duration", "300ms")
        self.pipeline = self.upload(self.emu, "runner")
        self.version = self.version_of(self.emu, self.pipeline["pipeline_id"])
        self.exp = self.experiment(self.emu, "ci")

    def test_experiments(self):
        self.assertEqual(self.exp["storage_state"], "AVAILABLE")
        dup = self.emu.post(f"{V2}/experiments", {"display_name": "ci"})
        self.assertEqual(dup.status, 409)
        self.assertIn("Please specify a new name", dup.json()["message"])
        self.assertEqual(self.emu.get(f"{V2}/experiments/{self.exp['experiment_id']}").json()["display_name"], "ci")
        self.assertEqual(self.emu.get(f"{V2}/experiments/nope").status, 404)
        self.experiment(self.emu, "other")
        f = filter_param([{"key": "name", "operation": "EQUALS", "string_value": "ci"}])
        listed = self.emu.get(f"{V2}/experiments", query="filter=" + f).json()["experiments"]
        self.assertEqual([e["experiment_id"] for e in listed], [self.exp["experiment_id"]])
        # toModelExperiment turns an empty name into an internal error (api_converter.go).
        self.assertEqual(self.emu.post(f"{V2}/experiments", {"display_name": ""}).status, 500)

    def test_run_lifecycle_to_succeeded(self):
        r = self.emu.post(f"{V2}/runs", self.run_body(self.exp["experiment_id"], self.pipeline, self.version,
                                                      description="run-key: abc"))
        self.assertEqual(r.status, 200, r)
        run = r.json()
        self.assertEqual(run["state"], "PENDING")
        self.assertEqual(run["finished_at"], "1970-01-01T00:00:00Z")
        self.assertEqual(run["service_account"], "pipeline-runner")
        self.assertEqual(run["pipeline_version_reference"]["pipeline_version_id"], self.version["pipeline_version_id"])
        self.assertEqual(run["storage_state"], "AVAILABLE")
        done = wait_for_state(self.emu, run["run_id"], {"SUCCEEDED"})
        self.assertEqual(done["state"], "SUCCEEDED")
        self.assertNotEqual(done["finished_at"], "1970-01-01T00:00:00Z")
        self.assertEqual([h["state"] for h in done["state_history"]], ["PENDING", "RUNNING", "SUCCEEDED"])

    def test_outcomes_queue(self):
        self.emu.set_outcome("FAILED", 1)
        self.emu.set_outcome("CANCELED", 1)
        self.emu.set_outcome("HANG", 1)
        ids = [self.emu.post(f"{V2}/runs", self.run_body(self.exp["experiment_id"], self.pipeline, self.version)).json()["run_id"]
               for _ in range(4)]
        self.assertEqual(wait_for_state(self.emu, ids[0], {"FAILED"})["state"], "FAILED")
        self.assertEqual(wait_for_state(self.emu, ids[1], {"CANCELED"})["state"], "CANCELED")
        self.assertEqual(wait_for_state(self.emu, ids[3], {"SUCCEEDED"})["state"], "SUCCEEDED")
        self.assertEqual(self.emu.get(f"{V2}/runs/{ids[2]}").json()["state"], "RUNNING")
        t = self.emu.post(f"{V2}/runs/{ids[2]}:terminate")
        self.assertEqual((t.status, t.json()), (200, {}))
        self.assertIn(self.emu.get(f"{V2}/runs/{ids[2]}").json()["state"], {"CANCELING", "CANCELED"})
        self.assertEqual(wait_for_state(self.emu, ids[2], {"CANCELED"})["state"], "CANCELED")
        again = self.emu.post(f"{V2}/runs/{ids[3]}:terminate")
        self.assertEqual(again.status, 400)
        self.assertIn("Row not found", again.json()["message"])

    def test_run_parameter_checks(self):
        base = lambda params: self.run_body(self.exp["experiment_id"], self.pipeline, self.version,
                                            runtime_config={"parameters": params})
        self.assertEqual(self.emu.post(f"{V2}/runs", base({"a": "one"})).status, 400)
        self.assertEqual(self.emu.post(f"{V2}/runs", base({"a": 1, "extra": 2})).status, 400)
        self.assertEqual(self.emu.post(f"{V2}/runs", base({"b": 1})).status, 400)
        self.assertEqual(self.emu.post(f"{V2}/runs", base({"a": 1, "b": 3, "label": "y"})).status, 200)

    def test_run_errors(self):
        body = self.run_body(self.exp["experiment_id"], self.pipeline, self.version, display_name="")
        self.assertEqual(self.emu.post(f"{V2}/runs", body).status, 500)
        body = self.run_body(self.exp["experiment_id"], self.pipeline, {"pipeline_version_id": "nope"})
        self.assertEqual(self.emu.post(f"{V2}/runs", body).status, 500)
        self.assertEqual(self.emu.get(f"{V2}/runs/nope").status, 404)
        body = self.run_body(self.exp["experiment_id"], self.pipeline, self.version, bogus=True)
        # grpc-gateway v1.16 (up to 2.5) ignores unknown fields; v2 (2.15+) refuses them.
        self.assertEqual(self.emu.post(f"{V2}/runs", body).status, 400 if GATEWAY_V2 else 200)

    def test_run_without_experiment_goes_to_default_in_single_user(self):
        body = self.run_body("", self.pipeline, self.version)
        del body["experiment_id"]
        r = self.emu.post(f"{V2}/runs", body)
        self.assertEqual(r.status, 200, r)
        default = self.emu.get(f"{V2}/experiments/{r.json()['experiment_id']}").json()
        self.assertEqual(default["display_name"], "Default")

    def test_list_runs_filters(self):
        for i in range(3):
            self.emu.post(f"{V2}/runs", self.run_body(self.exp["experiment_id"], self.pipeline, self.version,
                                                      display_name=f"run-{i}", description=f"kfp-publish run-key=k{i}"))
        by_name = filter_param([{"key": "display_name", "operation": "EQUALS", "string_value": "run-1"}])
        r = self.emu.get(f"{V2}/runs", query="filter=" + by_name).json()
        self.assertEqual([x["display_name"] for x in r["runs"]], ["run-1"])
        by_key = filter_param([{"key": "description", "operation": "IS_SUBSTRING", "string_value": "run-key=k2"}])
        r = self.emu.get(f"{V2}/runs", query=f"experiment_id={self.exp['experiment_id']}&filter=" + by_key).json()
        self.assertEqual([x["display_name"] for x in r["runs"]], ["run-2"])
        self.assertEqual(self.emu.get(f"{V2}/runs", query="experiment_id=nope").status, 404)

    def test_recurring_runs(self):
        body = {"display_name": "nightly", "experiment_id": self.exp["experiment_id"],
                "pipeline_version_reference": {"pipeline_id": self.pipeline["pipeline_id"],
                                               "pipeline_version_id": self.version["pipeline_version_id"]},
                "runtime_config": {"parameters": {"a": 3}}, "max_concurrency": "1", "mode": "ENABLE",
                "trigger": {"cron_schedule": {"cron": "0 0 2 * * *"}}}
        r = self.emu.post(f"{V2}/recurringruns", body)
        self.assertEqual(r.status, 200, r)
        job = r.json()
        self.assertEqual(job["status"], "ENABLED")
        self.assertEqual(job["max_concurrency"], "1")
        self.assertEqual(self.emu.get(f"{V2}/recurringruns/{job['recurring_run_id']}").json()["display_name"], "nightly")
        listed = self.emu.get(f"{V2}/recurringruns", query={"experiment_id": self.exp["experiment_id"]}).json()
        self.assertEqual(len(listed["recurringRuns"]), 1)
        self.assertEqual(self.emu.post(f"{V2}/recurringruns", {**body, "max_concurrency": "0"}).status, 400)
        self.assertEqual(self.emu.post(f"{V2}/recurringruns", {**body, "trigger": {"cron_schedule": {"cron": "* *"}}}).status, 400)
        disabled = self.emu.post(f"{V2}/recurringruns", {k: v for k, v in body.items() if k != "mode"}).json()
        self.assertEqual(disabled["status"], "DISABLED")
        self.assertEqual(self.emu.delete(f"{V2}/recurringruns/{job['recurring_run_id']}").status, 200)
        self.assertEqual(self.emu.get(f"{V2}/recurringruns/{job['recurring_run_id']}").status, 404)

    def test_state_endpoint_shapes(self):
        self.emu.post(f"{V2}/runs", self.run_body(self.exp["experiment_id"], self.pipeline, self.version))
        state = self.emu.state()
        self.assertEqual(set(state) >= {"pipelines", "pipeline_versions", "experiments", "runs", "recurring_runs"}, True)
        self.assertEqual(state["pipelines"][0]["pipeline_id"], self.pipeline["pipeline_id"])
        self.assertIn("state", state["runs"][0])


class TestAuth(Fixtures):
    def setUp(self):
        super().setUp()
        self.key = self.rsa_key()

    def token(self, sub="system:serviceaccount:team-a:ci", **kw):
        return harness.mint_token(self.key, sub, binary=self.binary, **kw)

    def test_mint_token_claims(self):
        token = self.token(ttl="10m")
        import base64
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        self.assertEqual(claims["aud"], ["pipelines.kubeflow.org"])
        self.assertEqual(claims["sub"], "system:serviceaccount:team-a:ci")
        self.assertEqual(claims["kubernetes.io.namespace"], "team-a")
        self.assertEqual(claims["kubernetes.io"]["serviceaccount"]["name"], "ci")
        self.assertEqual(claims["iss"], "https://kubernetes.default.svc.cluster.local")
        self.assertAlmostEqual(claims["exp"] - claims["iat"], 600, delta=2)

    def test_token_outcomes(self):
        require_v2beta1(self)
        emu = self.start_emulator("--auth", "token", "--token-key", self.key)
        self.assertIs(emu.get(f"{V2}/healthz").json()["multi_user"], True)
        path, query = f"{V2}/experiments", {"namespace": "team-a"}
        ok = emu.get(path, query=query, token=self.token())
        self.assertEqual(ok.status, 200, ok)
        missing = emu.get(path, query=query)
        self.assertEqual(missing.status, 401)
        # grpc-gateway v2 (2.15+) adds WWW-Authenticate to a 401; v1.16 does not.
        self.assertEqual("www-authenticate" in missing.headers, GATEWAY_V2)
        other_key = harness.generate_rsa_key(self.tmp)
        forged = harness.mint_token(other_key, "system:serviceaccount:team-a:ci", binary=self.binary)
        # Every authentication failure has the same external message (resource_manager.go
        # IsAuthorized); only the internal chain carries the TokenReview's reason.
        for token in (None, self.token(ttl="-1h"), self.token(aud="https://kubernetes.default.svc"), forged):
            r = emu.get(path, query=query, token=token)
            self.assertEqual(r.status, 401)
            self.assertEqual(r.json()["details"][0]["message"],
                             "Failed to check authorization. User identity is empty in the request header")
            self.assertIn("Unauthenticated: Failed to check authorization", r.json()["message"])

    def test_multi_user_rules_and_default_rbac(self):
        require_v2beta1(self)
        emu = self.start_emulator("--auth", "token", "--token-key", self.key)
        a = self.token()
        no_ns = emu.post(f"{V2}/experiments", {"display_name": "x"}, token=a)
        self.assertEqual(no_ns.status, 400)
        self.assertIn("Namespace cannot be empty", no_ns.json()["message"])
        exp = self.experiment(emu, "ci", ns="team-a", token=a)
        denied = emu.post(f"{V2}/experiments", {"display_name": "x", "namespace": "team-b"}, token=a)
        self.assertEqual(denied.status, 403)
        self.assertIn("User 'system:serviceaccount:team-a:ci' is not authorized", denied.json()["message"])
        self.assertEqual(emu.get(f"{V2}/experiments", token=a).status, 400)
        p = self.upload(emu, "team-pipe", ns="team-a", token=a)
        self.assertEqual(p["namespace"], "team-a")
        masked = emu.upload(ADD_YAML, "a.yaml", query={"name": "x", "namespace": "team-b"}, token=a)
        self.assertEqual(masked.status, 400)
        if SEPARATE_NAMES:  # 2.15+ generic (pipeline_upload_server.go:102-137)
            self.assertEqual(masked.json()["error_message"], "Failed to create a pipeline")
        else:  # 2.0-2.5 name the cause (2.3.0 pipeline_upload_server.go:114-118)
            self.assertTrue(masked.json()["error_message"].startswith(
                "Failed to create a pipeline due to authorization error"), masked)
        shared = emu.upload(ADD_YAML, "a.yaml", query={"name": "shared"}, token=a)
        self.assertEqual(shared.status, 200)
        v = self.version_of(emu, p["pipeline_id"], token=a)
        body = self.run_body(exp["experiment_id"], p, v)
        no_exp = dict(body)
        del no_exp["experiment_id"]
        r = emu.post(f"{V2}/runs", no_exp, token=a)
        self.assertEqual(r.status, 400)
        self.assertIn("Experiment id can not be empty in multi-user mode", r.json()["message"])
        run = emu.post(f"{V2}/runs", body, token=a)
        self.assertEqual(run.status, 200, run)
        self.assertEqual(run.json()["service_account"], "default-editor")
        b = self.token("system:serviceaccount:team-b:ci")
        self.assertEqual(emu.get(f"{V2}/runs/{run.json()['run_id']}", token=b).status, 403)

    def test_rbac_file(self):
        require_v2beta1(self)
        rules = self.tmp / "rbac.yaml"
        rules.write_text("- subject: system:serviceaccount:team-a:ci\n  namespace: team-a\n"
                         "  allow: [\"experiments/list\"]\n")
        emu = self.start_emulator("--auth", "token", "--token-key", self.key, "--rbac", rules)
        a = self.token()
        self.assertEqual(emu.get(f"{V2}/experiments", query={"namespace": "team-a"}, token=a).status, 200)
        r = emu.post(f"{V2}/experiments", {"display_name": "x", "namespace": "team-a"}, token=a)
        self.assertEqual(r.status, 403)
        self.assertIn("Verb:create", r.json()["message"])
        self.assertIn("Resource:experiments", r.json()["message"])

    def test_istio_principals(self):
        require_v2beta1(self)
        emu = self.start_emulator("--auth", "token", "--token-key", self.key,
                                  "--istio-principals", "cluster.local/ns/team-a/sa/ci")
        allowed = emu.get(f"{V2}/experiments", query={"namespace": "team-a"}, token=self.token())
        self.assertEqual(allowed.status, 200)
        denied = emu.get(f"{V2}/experiments", query={"namespace": "team-a"},
                         token=self.token("system:serviceaccount:team-a:other"))
        self.assertEqual(denied.status, 403)
        self.assertEqual(denied.body, b"RBAC: access denied")
        self.assertEqual(denied.headers["content-type"], "text/plain")
        self.assertEqual(denied.headers["server"], "istio-envoy")
        self.assertEqual(emu.get(f"{V2}/healthz").status, 403)


class TestFaults(Fixtures):
    """The fault controls, on the v1beta1 paths every release serves."""

    def setUp(self):
        super().setUp()
        self.emu = self.start_emulator()

    def test_status_fault_hits_count_requests_then_clears(self):
        self.emu.add_fault(method="GET", path=f"{V1}/healthz", kind="status", status=503, count=2)
        self.assertEqual(self.emu.get(f"{V1}/healthz").status, 503)
        self.assertEqual(self.emu.get(f"{V1}/healthz").status, 503)
        self.assertEqual(self.emu.get(f"{V1}/healthz").status, 200)
        self.emu.add_fault(path="/apis/", kind="status", status=502, count=5)
        self.assertEqual(self.emu.get(f"{V1}/pipelines").status, 502)
        self.emu.clear_faults()
        self.assertEqual(self.emu.get(f"{V1}/pipelines").status, 200)

    def test_status_fault_does_not_act(self):
        self.emu.add_fault(method="POST", path=f"{V1}/experiments", kind="status", status=503)
        self.assertEqual(self.emu.post(f"{V1}/experiments", {"name": "e"}).status, 503)
        self.assertEqual(user_experiments(self.emu), [])

    def test_delay_fault(self):
        self.emu.add_fault(method="GET", path=f"{V1}/healthz", kind="delay", delay="300ms")
        start = time.monotonic()
        self.assertEqual(self.emu.get(f"{V1}/healthz").status, 200)
        self.assertGreaterEqual(time.monotonic() - start, 0.3)

    def test_lost_response_acts_then_closes(self):
        self.emu.add_fault(method="POST", path=f"{V1}/experiments", kind="lost_response")
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            self.emu.post(f"{V1}/experiments", {"name": "lost"})
        self.assertEqual([e["display_name"] for e in user_experiments(self.emu)], ["lost"])
        self.assertEqual(self.emu.post(f"{V1}/experiments", {"name": "lost"}).status, 409)

    def test_reset_closes_before_acting(self):
        self.emu.add_fault(method="POST", path=f"{V1}/experiments", kind="reset")
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            self.emu.post(f"{V1}/experiments", {"name": "never"})
        self.assertEqual(user_experiments(self.emu), [])
        self.assertEqual(self.emu.post(f"{V1}/experiments", {"name": "never"}).status, 200)

    def test_request_log(self):
        self.emu.clear_requests()
        self.emu.get(f"{V1}/pipelines", query="page_size=5")
        self.emu.get(f"{V1}/pipelines/nope")
        log = self.emu.requests_log()
        self.assertEqual([(e["method"], e["path"], e["query"], e["status"]) for e in log],
                         [("GET", f"{V1}/pipelines", "page_size=5", 200), ("GET", f"{V1}/pipelines/nope", "", 404)])
        self.emu.clear_requests()
        self.assertEqual(self.emu.requests_log(), [])

    def test_bad_fault_is_rejected(self):
        r = self.emu.post("/_emulator/faults", {"kind": "explode"})
        self.assertEqual(r.status, 400)


class TestServerVersions(Fixtures):
    def test_1_8_5(self):
        emu = self.start_emulator("--server-version", "1.8.5", "--run-duration", "200ms")
        r = emu.get(f"{V2}/healthz")
        self.assertEqual(r.status, 404)
        self.assertTrue(r.headers["content-type"].startswith("text/plain"))
        h = emu.get(f"{V1}/healthz")
        self.assertEqual(h.status, 200)
        # Written without a Content-Type: net/http sniffs it (1.8 main.go:146-148).
        self.assertEqual(h.headers["content-type"], "text/plain; charset=utf-8")
        self.assertEqual(h.json()["tag_name"], "1.8.5")
        yaml_v2 = emu.upload(ADD_YAML, "add.yaml", api="v1beta1", query={"name": "v2yaml"})
        self.assertEqual(yaml_v2.status, 500)
        p = emu.upload(ADD_JSON, "add.json", api="v1beta1", query={"name": "v2json"})
        self.assertEqual(p.status, 200, p)
        pipeline = p.json()
        self.assertEqual(pipeline["name"], "v2json")
        version_id = pipeline["default_version"]["id"]
        self.assertEqual(pipeline["default_version"]["resource_references"][0]["key"]["type"], "PIPELINE")
        argo = emu.upload(ARGO_YAML, "wf.yaml", api="v1beta1", query={"name": "argo"})
        self.assertEqual(argo.status, 200, argo)
        self.assertEqual(argo.json()["parameters"], [{"name": "message", "value": "hello"}])
        dup = emu.upload(ARGO_YAML, "wf.yaml", api="v1beta1", query={"name": "argo"})
        self.assertEqual(dup.status, 500)
        self.assertIn("error_message", dup.json())
        v = emu.upload(ADD_JSON, "add.json", api="v1beta1", version=True,
                       query={"name": "second", "pipelineid": pipeline["id"]})
        self.assertEqual(v.status, 200, v)
        versions = emu.get(f"{V1}/pipeline_versions",
                           query={"resource_key.type": "PIPELINE", "resource_key.id": pipeline["id"]}).json()
        self.assertEqual(len(versions["versions"]), 2)
        f = filter_param([{"key": "name", "op": "EQUALS", "string_value": "argo"}], dialect="v1beta1")
        listed = emu.get(f"{V1}/pipelines", query="filter=" + f).json()
        self.assertEqual([x["name"] for x in listed["pipelines"]], ["argo"])
        exp = emu.post(f"{V1}/experiments", {"name": "ci"})
        self.assertEqual(exp.status, 200, exp)
        self.assertEqual(exp.json()["storage_state"], "STORAGESTATE_AVAILABLE")
        run_body = {"name": "r1", "pipeline_spec": {"parameters": [{"name": "a", "value": "1"}]},
                    "resource_references": [
                        {"key": {"type": "EXPERIMENT", "id": exp.json()["id"]}, "relationship": "OWNER"},
                        {"key": {"type": "PIPELINE_VERSION", "id": version_id}, "relationship": "CREATOR"}]}
        run = emu.post(f"{V1}/runs", run_body)
        self.assertEqual(run.status, 200, run)
        detail = run.json()
        self.assertIn("pipeline_runtime", detail)
        run_id = detail["run"]["id"]
        self.assertIn(detail["run"]["status"], {"Pending", "Running"})
        deadline = time.monotonic() + WAIT_LIMIT_S
        while emu.get(f"{V1}/runs/{run_id}").json()["run"]["status"] != "Succeeded" and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(emu.get(f"{V1}/runs/{run_id}").json()["run"]["status"], "Succeeded")
        emu.set_outcome("HANG")
        hung = emu.post(f"{V1}/runs", run_body).json()["run"]["id"]
        self.assertEqual(emu.post(f"{V1}/runs/{hung}/terminate").status, 200)
        self.assertIn(emu.get(f"{V1}/runs/{hung}").json()["run"]["status"], {"Terminating", "Failed"})
        # v1 parameters never reach a v2 pipeline (template/v2_template.go RunWorkflow).
        workflow = [w for w in emu.state()["workflows"] if w["run_id"] == run_id][0]
        self.assertEqual(workflow["provided"], {})
        # An undeclared Argo parameter: 1.8 turns RunWorkflow's error into an internal one.
        argo_body = {**run_body, "pipeline_spec": {"parameters": [{"name": "zzz", "value": "1"}]},
                     "resource_references": [run_body["resource_references"][0],
                                             {"key": {"type": "PIPELINE_VERSION",
                                                      "id": argo.json()["default_version"]["id"]},
                                              "relationship": "CREATOR"}]}
        bad = emu.post(f"{V1}/runs", argo_body)
        self.assertEqual(bad.status, 500)
        self.assertIn("Unrecognized input parameter: zzz", bad.json()["error"])  # gateway v1 error body
        self.assertEqual(bad.json()["details"][0]["@type"], "type.googleapis.com/api.Error")

    def test_2_5_0(self):
        emu = self.start_emulator("--server-version", "2.5.0")
        h = emu.get(f"{V2}/healthz").json()
        self.assertEqual(h["tag_name"], "2.5.0")
        self.assertNotIn("pipeline_store", h)
        p = emu.upload(ADD_YAML, "add.yaml", query={"name": "p", "display_name": "ignored",
                                                     "tags": json.dumps({"a": "b"})})
        self.assertEqual(p.status, 200, p)
        self.assertNotIn("name", p.json())
        self.assertNotIn("tags", p.json())
        self.assertEqual(p.json()["display_name"], "p")
        invalid = emu.upload(b"# nothing\n", "empty.yaml", query={"name": "q"})
        self.assertEqual(invalid.status, 500)
        dup = emu.upload(ADD_YAML, "add.yaml", query={"name": "p"})
        self.assertEqual(dup.status, 409)
        lenient = emu.post(f"{V2}/experiments", {"display_name": "e", "unknown_field": 1})
        self.assertEqual(lenient.status, 200, lenient)
        missing = emu.get(f"{V2}/experiments/nope")
        self.assertEqual(missing.status, 404)
        self.assertEqual(missing.json()["error"], missing.json()["message"])
        self.assertEqual(emu.get(f"{V2}/nothing").status, 404)

    def test_v1_api_on_2_17(self):
        emu = self.start_emulator("--server-version", "2.17.0")
        p = emu.upload(ADD_YAML, "add.yaml", api="v1beta1", query={"name": "v1-on-2"})
        self.assertEqual(p.status, 200, p)
        self.assertIn("default_version", p.json())
        self.assertIn("pipeline_store", emu.get(f"{V2}/healthz").json())
        self.assertNotIn("pipeline_store", emu.get(f"{V1}/healthz").json())


class TestTls(Fixtures):
    def test_https(self):
        require_v2beta1(self)
        cert, key, ca = harness.generate_tls(self.tmp)
        emu = self.start_emulator(tls=(cert, key, ca))
        r = emu.get(f"{V2}/healthz")
        self.assertEqual(r.status, 200)
        self.assertEqual(self.upload(emu, "over-tls")["display_name"], "over-tls")


if __name__ == "__main__":
    unittest.main()
