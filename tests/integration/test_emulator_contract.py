"""kfp-emulator's v2beta1 traffic through the contract checker (Stoplight Prism) in proxy,
report-only mode with the real v2beta1 spec: the proxy must report no violation.

Skips when ../shared (KFP_SHARED_DIR) or npm is absent. Prism is installed on first use into
CONTRACT_HOME (default ~/.cache/kfp-contract)."""

import json
import time
import unittest

import harness
from contract_harness import ContractProxy
from harness import EmulatorTestCase, filter_param

V2 = "/apis/v2beta1"
TESTDATA = harness.source_dir() / "tests" / "kfp-emulator" / "testdata"
ADD_YAML = TESTDATA / "add_numbers.yaml"
PROXY_AUTH = {"authorization": "Bearer contract-check"}


class Proxied(harness.Emulator):
    """API calls go through the Prism proxy (with the authorization header the spec requires);
    control calls (/_emulator/, not in the spec) go straight to the emulator."""

    def __init__(self, emulator, proxy_port):
        super().__init__(binary=emulator.binary)
        self.direct = emulator
        self.port = proxy_port

    def request(self, method, path, **kw):
        if path.startswith("/_emulator/"):
            return self.direct.request(method, path, **kw)
        kw["headers"] = {**PROXY_AUTH, **(kw.get("headers") or {})}
        return super().request(method, path, **kw)


class TestContractProxy(EmulatorTestCase):
    def setUp(self):
        super().setUp()
        self.proxy = ContractProxy(self)

    def test_v2beta1_traffic_has_no_response_violation(self):
        # The contract is the v2beta1 spec of KFP after 2.17.0 (../shared/contract/README.md), and the
        # statuses driven below are 2.17's (a bad upload 400: kfp-2.17.0 pipeline_upload_server.go
        # :188-192; unknown fields 400 from grpc-gateway v2; DELETE needs ?cascade from 2.14): the
        # emulator is checked against it in that release, whatever KFP_EMULATOR_SERVER_VERSION says.
        emulator = self.start_emulator("--server-version", "2.17.0", "--run-duration", "100ms")
        port = self.proxy.start(emulator.port)
        api = Proxied(emulator, port)
        self.addCleanup(api.stop)
        statuses = drive_v2_traffic(self, api)
        self.assertGreater(len(statuses), 30)
        self.assertEqual(emulator.requests_log()[0]["path"], f"{V2}/healthz")
        found = self.proxy.violations()
        self.assertEqual(found, "", f"contract violations (log {self.proxy.log}):\n{found}")


def drive_v2_traffic(test, api):
    """Every v2beta1 endpoint the emulator serves, successes and errors; returns the statuses."""
    statuses = []

    def call(method, path, expected, **kw):
        r = api.request(method, path, **kw)
        test.assertEqual(r.status, expected, f"{method} {path}: {r}")
        statuses.append(r.status)
        return r.json() if r.body and r.headers.get("content-type", "").startswith("application/json") else {}

    call("GET", f"{V2}/healthz", 200)
    up = api.upload(ADD_YAML, "add.yaml", query={"name": "contract", "description": "d",
                                                  "tags": json.dumps({"team": "ml"})})
    test.assertEqual(up.status, 200, up)
    pid = up.json()["pipeline_id"]
    statuses.append(up.status)
    dup = api.upload(ADD_YAML, "add.yaml", query={"name": "contract"})
    test.assertEqual(dup.status, 409)
    bad = api.upload(b"# nothing\n", "empty.yaml", query={"name": "empty"})
    test.assertEqual(bad.status, 400)
    v = api.upload(ADD_YAML, "add.yaml", version=True,
                   query={"pipelineid": pid, "name": "v2"})
    test.assertEqual(v.status, 200, v)
    vid = v.json()["pipeline_version_id"]
    call("POST", f"{V2}/pipelines", 200, body={"name": "json-made", "description": "x"})
    call("POST", f"{V2}/pipelines", 409, body={"name": "json-made"})
    call("POST", f"{V2}/pipelines", 400, body={"name": "x", "bogus": 1})
    call("POST", f"{V2}/pipelines/create", 400,
         body={"pipeline": {"name": "by-url"}, "pipeline_version": {"package_url": {"pipeline_url": "http://127.0.0.1/p.yaml"}}})
    call("POST", f"{V2}/pipelines/{pid}/versions", 400, body={"name": "v9"})
    call("GET", f"{V2}/pipelines/{pid}", 200)
    call("GET", f"{V2}/pipelines/nope", 404)
    call("GET", f"{V2}/pipelines/names/contract", 200)
    call("GET", f"{V2}/pipelines/names/missing", 404)
    call("GET", f"{V2}/pipelines", 200, query="page_size=1&sort_by=name%20desc")
    call("GET", f"{V2}/pipelines", 200, query="filter=" + filter_param(
        [{"key": "name", "operation": "IN", "string_values": {"values": ["contract", "x"]}}]))
    call("GET", f"{V2}/pipelines", 400, query="sort_by=unknownfield")
    call("GET", f"{V2}/pipelines/{pid}/versions", 200, query="page_size=1")
    call("GET", f"{V2}/pipelines/{pid}/versions/{vid}", 200)
    call("DELETE", f"{V2}/pipelines/{pid}", 400)
    exp = call("POST", f"{V2}/experiments", 200, body={"display_name": "ci", "description": "d"})
    call("POST", f"{V2}/experiments", 409, body={"display_name": "ci"})
    call("GET", f"{V2}/experiments/{exp['experiment_id']}", 200)
    call("GET", f"{V2}/experiments", 200, query="filter=" + filter_param(
        [{"key": "name", "operation": "EQUALS", "string_value": "ci"}]))
    run_body = {"display_name": "r", "description": "run-key=k1", "experiment_id": exp["experiment_id"],
                "pipeline_version_reference": {"pipeline_id": pid, "pipeline_version_id": vid},
                "runtime_config": {"parameters": {"a": 1}, "pipeline_root": "minio://bucket/root"}}
    run = call("POST", f"{V2}/runs", 200, body=run_body)
    call("POST", f"{V2}/runs", 400, body={**run_body, "runtime_config": {"parameters": {"zz": 1}}})
    call("POST", f"{V2}/runs", 500, body={**run_body, "display_name": ""})
    api.direct.set_outcome("HANG")
    hung = call("POST", f"{V2}/runs", 200, body=run_body)
    deadline = time.monotonic() + 10
    while call("GET", f"{V2}/runs/{run['run_id']}", 200).get("state") != "SUCCEEDED" and time.monotonic() < deadline:
        time.sleep(0.05)
    call("POST", f"{V2}/runs/{hung['run_id']}:terminate", 200)
    call("POST", f"{V2}/runs/{run['run_id']}:terminate", 400)
    call("GET", f"{V2}/runs/{hung['run_id']}", 200)
    call("GET", f"{V2}/runs", 200, query=f"experiment_id={exp['experiment_id']}&filter=" + filter_param(
        [{"key": "description", "operation": "IS_SUBSTRING", "string_value": "run-key=k1"}]))
    call("GET", f"{V2}/runs/nope", 404)
    job_body = {"display_name": "nightly", "experiment_id": exp["experiment_id"],
                "pipeline_version_reference": {"pipeline_id": pid, "pipeline_version_id": vid},
                "runtime_config": {"parameters": {"a": 1}}, "max_concurrency": "1", "mode": "ENABLE",
                "no_catchup": True, "trigger": {"cron_schedule": {"cron": "0 0 2 * * *"}}}
    job = call("POST", f"{V2}/recurringruns", 200, body=job_body)
    call("POST", f"{V2}/recurringruns", 400, body={**job_body, "max_concurrency": "0"})
    call("GET", f"{V2}/recurringruns/{job['recurring_run_id']}", 200)
    call("GET", f"{V2}/recurringruns", 200, query=f"experiment_id={exp['experiment_id']}")
    call("DELETE", f"{V2}/recurringruns/{job['recurring_run_id']}", 200)
    call("DELETE", f"{V2}/pipelines/{pid}/versions/{vid}", 200)
    call("DELETE", f"{V2}/pipelines/{pid}", 200, query="cascade=true")
    return statuses


if __name__ == "__main__":
    unittest.main()
