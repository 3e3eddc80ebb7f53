"""publish, run and publish --run against kfp-emulator (v2beta1, multi-user, token auth): the
exit codes and reports CI relies on."""

import json
import os
import unittest

import harness
from publish_harness import NAMESPACE, SUBJECT, PublishTestCase


class PublishTest(PublishTestCase):
    def test_created_then_unchanged_without_upload_then_updated(self):
        pkg = self.package()
        first = self.kfp("publish", pkg, "--pipeline", "hello", "-o", "json")
        self.assertEqual(first.code, 0, first)
        report = first.report()
        self.assertEqual(report["outcome"], "created")
        self.assertEqual(report["namespace"], NAMESPACE)
        self.assertTrue(report["pipeline"]["created"])
        self.assertTrue(report["version"]["created"])
        self.assertTrue(report["version"]["digest"].startswith("sha256:"))
        self.assertEqual(report["server"]["api"], "v2beta1")

        self.emu.clear_requests()
        again = self.kfp("publish", pkg, "--pipeline", "hello", "-o", "json")
        self.assertEqual(again.code, 0, again)
        self.assertEqual(again.report()["outcome"], "unchanged")
        self.assertEqual(again.report()["version"]["id"], report["version"]["id"])
        self.assertEqual(self.uploads_logged(), [], "an unchanged publish must upload nothing")
        writes = [r for r in self.emu.requests_log() if r["method"] != "GET"]
        self.assertEqual(writes, [])

        pkg.write_text(pkg.read_text().replace("sdkVersion:", "# changed\nsdkVersion:", 1))
        changed = self.kfp("publish", pkg, "--pipeline", "hello", "-o", "json")
        self.assertEqual(changed.code, 0, changed)
        self.assertEqual(changed.report()["outcome"], "updated")
        self.assertNotEqual(changed.report()["version"]["id"], report["version"]["id"])
        state = self.state()
        self.assertEqual(len(state["pipelines"]), 1)
        self.assertEqual(len(state["pipeline_versions"]), 2)
        first_version = [v for v in state["pipeline_versions"] if v["pipeline_version_id"] == report["version"]["id"]]
        if harness.server_version() == "2.17.0":  # tags are stored from 2.17 on
            tags = first_version[0].get("tags", {})
            self.assertEqual(tags.get("kfp-publish-digest"), report["version"]["digest"][:63])

    def test_archives_publish_with_the_member_digest(self):
        self.skip_without_v2_yaml()
        plain = self.kfp("validate", self.examples / "hello-world.yaml", "-o", "json", host=False, token_file=False)
        digest = plain.report()["packages"][0]["digest"]
        for name in ("hello-world.zip", "hello-world.tar.gz"):
            result = self.kfp("publish", self.examples / name, "--pipeline", "hello", "-o", "json")
            self.assertEqual(result.code, 0, result)
            self.assertEqual(result.report()["version"]["digest"], digest)
        self.assertEqual(self.count("pipeline_versions"), 1, "same content in an archive is unchanged")

    def test_a_package_larger_than_the_default_response_cap_publishes(self):
        # Uploads and version look-ups answer with the whole pipeline spec: 12 MiB of real content
        # must not trip the 8 MiB cap that guards ordinary answers.
        pkg = self.package()
        text = pkg.read_text()
        padding = "x" * (12 << 20)
        pkg.write_text(text.replace("pipelineInfo:\n  description:", f"pipelineInfo:\n  description: {padding}", 1))
        first = self.kfp("publish", pkg, "--pipeline", "big", "-o", "json")
        self.assertEqual(first.code, 0, first)
        again = self.kfp("publish", pkg, "--pipeline", "big", "-o", "json")
        self.assertEqual(again.code, 0, again)
        self.assertEqual(again.report()["outcome"], "unchanged")

    def test_explicit_version_clash_is_exit_6(self):
        pkg = self.package()
        self.assertEqual(self.kfp("publish", pkg, "--pipeline", "hello", "--version", "v1").code, 0)
        same = self.kfp("publish", pkg, "--pipeline", "hello", "--version", "v1", "-o", "json")
        self.assertEqual(same.code, 0, same)
        self.assertEqual(same.report()["outcome"], "unchanged")
        pkg.write_text(pkg.read_text() + "\n# other content\n")
        clash = self.kfp("publish", pkg, "--pipeline", "hello", "--version", "v1", "-o", "json")
        self.assertEqual(clash.code, 6, clash)
        self.assertEqual(clash.report()["error"]["kind"], "conflict")

    def test_invalid_package_is_exit_3_and_nothing_is_sent(self):
        bad = self.write("bad.yaml", "pipelineInfo:\n  name: Bad_Name\nroot: {dag: {}}\nschemaVersion: 2.1.0\n")
        self.emu.clear_requests()
        result = self.kfp("publish", bad, "--pipeline", "hello", "-o", "json")
        self.assertEqual(result.code, 3, result)
        self.assertEqual(result.report()["error"]["kind"], "invalid_package")
        self.assertEqual([r for r in self.emu.requests_log() if r["path"].startswith("/apis/")], [])

    def test_unknown_pipeline_for_run_is_exit_6(self):
        result = self.kfp("run", "--pipeline", "nope", "--experiment", "ci", "-o", "json")
        self.assertEqual(result.code, 6, result)
        self.assertEqual(result.report()["error"]["kind"], "not_found")

    def test_usage_errors_are_exit_2_with_a_json_report(self):
        result = self.kfp("publish", "-o", "json")
        self.assertEqual(result.code, 2, result)
        self.assertEqual(result.report()["error"]["kind"], "usage")
        result = self.kfp("frobnicate")
        self.assertEqual(result.code, 2, result)
        self.assertIn("unknown command", result.stderr)

    def test_usage_errors_still_write_the_report_file(self):
        for args in (["--report", self.tmp / "r1.json", "publish"],
                     ["--report", self.tmp / "r2.json", "frobnicate"],
                     ["--report", self.tmp / "r3.json", "--api", "v9", "run", "--pipeline", "p", "--experiment", "e"]):
            with self.subTest(args=args):
                result = self.kfp(*args)
                self.assertEqual(result.code, 2, result)
                report = json.loads(args[1].read_text())
                self.assertEqual(report["exit_code"], 2)
                self.assertEqual(report["error"]["kind"], "usage")


class RunTest(PublishTestCase):
    def publish_and_run(self, *extra, outcome=None):
        if outcome:
            self.emu.set_outcome(outcome)
        return self.kfp("publish", self.package(), "--pipeline", "hello", "--run", "--experiment", "ci",
                        "--param", "message=hi", "--wait", *extra, "-o", "json")

    def test_run_outcomes_map_to_exit_codes(self):
        for outcome, code, kind in (("SUCCEEDED", 0, None), ("FAILED", 1, "run_failed"),
                                    ("CANCELED", 9, "run_canceled")):
            with self.subTest(outcome=outcome):
                result = self.publish_and_run("--run-key", f"key-{outcome}", outcome=outcome)
                self.assertEqual(result.code, code, result)
                report = result.report()
                self.assertEqual(report["run"]["state"], outcome)
                self.assertTrue(report["run"]["url"].endswith(report["run"]["id"]))
                if kind:
                    self.assertEqual(report["error"]["kind"], kind)

    def test_hang_with_wait_timeout_is_exit_8_and_cancel_terminates(self):
        result = self.publish_and_run("--run-key", "hang-1", "--wait-timeout", "1500ms", outcome="HANG")
        self.assertEqual(result.code, 8, result)
        self.assertEqual(result.report()["error"]["kind"], "timeout")
        run_id = result.report()["run"]["id"]
        self.assertNotIn(":terminate", json.dumps(self.emu.requests_log()))

        result = self.publish_and_run("--run-key", "hang-2", "--wait-timeout", "1500ms", "--cancel-on-timeout",
                                      outcome="HANG")
        self.assertEqual(result.code, 8, result)
        terminated = [r for r in self.emu.requests_log() if r["path"].endswith(":terminate")]
        self.assertEqual(len(terminated), 1)
        self.assertIn(result.report()["run"]["id"], terminated[0]["path"])
        self.assertNotEqual(run_id, result.report()["run"]["id"])

    def test_same_run_key_never_duplicates_a_run(self):
        first = self.publish_and_run("--run-key", "ci-123")
        self.assertEqual(first.code, 0, first)
        second = self.publish_and_run("--run-key", "ci-123")
        self.assertEqual(second.code, 0, second)
        self.assertEqual(second.report()["run"]["id"], first.report()["run"]["id"])
        self.assertFalse(second.report()["run"]["created"])
        self.assertEqual(self.count("runs"), 1)

    def test_github_identity_is_the_default_run_key(self):
        env = {"GITHUB_RUN_ID": "77", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_REPOSITORY": "acme/ml",
               "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567", "GITHUB_JOB": "publish"}
        for _ in range(2):
            result = self.kfp("publish", self.package(), "--pipeline", "hello", "--run", "--experiment", "ci",
                              "--param", "message=hi", "-o", "json", env=env)
            self.assertEqual(result.code, 0, result)
        self.assertEqual(self.count("runs"), 1)
        version = self.state()["pipeline_versions"][0]
        if harness.server_version() == "2.17.0":  # tags are stored from 2.17 on
            self.assertEqual(version.get("tags", {}).get("commit"), env["GITHUB_SHA"])
        # The source is recorded in the description: no release's upload endpoint reads a
        # code_source_url (server/pipeline_upload_server.go, 1.8.5 to 2.17.0), so none is sent.
        self.assertIn(f"\nsource: https://github.com/acme/ml/tree/{env['GITHUB_SHA']}\ndigest: sha256:",
                      version["description"])
        self.assertTrue(self.uploads_logged())
        for upload in self.uploads_logged():
            self.assertNotIn("code_source_url", upload["query"])

    def test_bad_parameters_are_exit_3_and_create_nothing(self):
        self.assertEqual(self.kfp("publish", self.package("training-pipeline.yaml"), "--pipeline", "train").code, 0)
        before = self.state()
        for params in (["--param", "epochs=three", "--param", "dataset_uri=s3://x", "--param", "validation_split=0.1"],
                       ["--param", "colour=red"],
                       ["--param", "dataset_uri=s3://x"]):
            with self.subTest(params=params):
                result = self.kfp("run", "--pipeline", "train", "--experiment", "ci", *params, "-o", "json")
                self.assertEqual(result.code, 3, result)
                self.assertEqual(result.report()["error"]["kind"], "invalid_parameters")
        after = self.state()
        self.assertEqual(after.get("experiments", []), before.get("experiments", []))
        self.assertEqual(after.get("runs", []), before.get("runs", []))

    def test_typed_parameters_reach_the_run(self):
        self.assertEqual(self.kfp("publish", self.package("training-pipeline.yaml"), "--pipeline", "train").code, 0)
        params = self.write("params.yaml", "dataset_uri: s3://bucket/data\nhidden_layers: [32, 16]\n")
        result = self.kfp("run", "--pipeline", "train", "--experiment", "ci", "--params-file", params,
                          "--param", "epochs=3", "--param", "validation_split=0.2", "--param", "shuffle=false",
                          "--param", 'optimizer={"name":"sgd"}', "-o", "json")
        self.assertEqual(result.code, 0, result)
        run = self.state()["runs"][0]
        parameters = run["runtime_config"]["parameters"]
        self.assertEqual(parameters["epochs"], 3)
        self.assertEqual(parameters["validation_split"], 0.2)
        self.assertIs(parameters["shuffle"], False)
        self.assertEqual(parameters["hidden_layers"], [32, 16])
        self.assertEqual(parameters["optimizer"], {"name": "sgd"})


class NothingSentTest(PublishTestCase):
    """Names, values and parameters the server would refuse stop the command before any request
    (issue 15 "Nothing sent when nothing should be", issue 14 point 5)."""

    def assert_refused_before_any_request(self, code, *args, env=None):
        self.emu.clear_requests()
        result = self.kfp(*args, "-o", "json", env=env)
        self.assertEqual(result.code, code, result)
        self.assertEqual(self.emu.requests_log(), [], f"{args}: nothing may be sent")
        return result

    def test_names_and_values_the_server_refuses_are_exit_2_before_any_request(self):
        pkg = self.package()
        cases = [
            ("publish", pkg, "--pipeline", "p" * 256),
            ("publish", pkg, "--pipeline", ""),
            ("publish", pkg, "--pipeline", "hello", "--version", "v" * 256),
            ("publish", pkg, "--pipeline", "hello", "--code-source-url", "https://x/" + "u" * 1015),
            ("publish", pkg, "--pipeline", "hello", "--tag", "k" * 64 + "=v"),
            ("publish", pkg, "--pipeline", "hello", *[a for i in range(20) for a in ("--tag", f"k{i}=v")]),
            ("publish", pkg, "--pipeline", "hello", "--run", "--experiment", "e" * 256, "--param", "message=hi"),
            ("publish", pkg, "--pipeline", "hello", "--run", "--experiment", "ci", "--param", "message=hi",
             "--run-name", "r" * 256),
            ("run", "--pipeline", "hello", "--experiment", "ci", "--run-name", "r" * 256),
            ("run", "--pipeline", "hello", "--experiment", "ci", "--service-account", "s" * 256),
            ("run", "--pipeline", "hello", "--experiment", "ci", "--namespace", "n" * 64),
        ]
        for args in cases:
            with self.subTest(args=[a if len(str(a)) < 40 else f"{str(a)[:20]}…({len(str(a))})" for a in args]):
                result = self.assert_refused_before_any_request(2, *args)
                self.assertEqual(result.report()["error"]["kind"], "usage")

    def test_bad_parameters_of_publish_run_are_exit_3_before_anything_is_sent(self):
        pkg = self.package("training-pipeline.yaml")
        required = ["--param", "dataset_uri=s3://x"]
        for params in (["--param", "colour=red"], ["--param", "epochs=three"],
                       ["--param", "validation_split=1e999"], ["--param", "epochs=1", "--param", "epochs=2"]):
            with self.subTest(params=params):
                result = self.assert_refused_before_any_request(
                    3, "publish", pkg, "--pipeline", "train", "--run", "--experiment", "ci", *required, *params)
                self.assertEqual(result.report()["error"]["kind"], "invalid_parameters")
        self.assertEqual(self.state().get("pipelines", []), [])

    def test_a_version_name_over_the_releases_limit_is_refused_before_any_write(self):
        # 2.15+ stores version names of at most 127 bytes (validation/length.go:47): 200 passes the
        # limit every release shares, so healthz is asked, and nothing is written. Older releases
        # store up to 255 characters, so there it is published.
        self.emu.clear_requests()
        result = self.kfp("publish", self.package(), "--pipeline", "hello", "--version", "v" * 200, "-o", "json")
        if harness.server_version() in ("2.15.0", "2.17.0"):
            self.assertEqual(result.code, 2, result)
            self.assertIn("127", result.report()["error"]["message"])
            self.assertEqual([r for r in self.emu.requests_log() if r["method"] != "GET"], [])
        else:
            self.assertEqual(result.code, 0, result)
            self.assertEqual(result.report()["version"]["name"], "v" * 200)

    def test_a_long_repository_name_still_gives_a_run_description_the_server_stores(self):
        repository = "an-organisation-with-a-long-name/" + "a-repository-name-that-goes-on-" * 3
        env = {"GITHUB_REPOSITORY": repository, "GITHUB_SHA": "c" * 40, "GITHUB_RUN_ID": "98765432101",
               "GITHUB_RUN_ATTEMPT": "2", "GITHUB_JOB": "publish", "GITHUB_SERVER_URL": "https://github.example.com"}
        result = self.kfp("publish", self.package(), "--pipeline", "hello", "--run", "--experiment", "ci",
                          "--param", "message=hi", "-o", "json", env=env)
        self.assertEqual(result.code, 0, result)
        runs = self.state()["runs"]
        self.assertEqual(len(runs), 1)
        description = runs[0]["description"]
        self.assertLessEqual(len(description), 255, description)
        self.assertRegex(description, r"kfp-publish-run-key:[0-9a-f]{32}")
        again = self.kfp("publish", self.package(), "--pipeline", "hello", "--run", "--experiment", "ci",
                         "--param", "message=hi", "-o", "json", env=env)
        self.assertEqual(again.code, 0, again)
        self.assertEqual(again.report()["run"]["id"], result.report()["run"]["id"], "the run key still finds it")
        self.assertEqual(len(self.state()["runs"]), 1)


class AuthTest(PublishTestCase):
    def publish(self, **kw):
        return self.kfp("publish", self.package(), "--pipeline", "hello", "-o", "json", **kw)

    def test_missing_token_file_is_exit_4(self):
        result = self.publish(token_file=self.tmp / "absent")
        self.assertEqual(result.code, 4, result)
        self.assertEqual(result.report()["error"]["kind"], "unauthenticated")

    def test_no_token_against_a_multi_user_server_is_exit_4(self):
        result = self.kfp("publish", self.package(), "--pipeline", "hello", "--namespace", NAMESPACE, "-o", "json",
                          token_file=False, env={"KF_PIPELINES_SA_TOKEN_PATH": str(self.tmp / "absent")})
        self.assertEqual(result.code, 4, result)

    def test_bad_signature_is_exit_4(self):
        other_key = harness.generate_rsa_key(self.tmp)
        forged = self.write("forged", self.emu.mint_token(other_key, SUBJECT))
        result = self.publish(token_file=forged)
        self.assertEqual(result.code, 4, result)
        self.assertIn(result.report()["error"]["kind"], ("unauthenticated",))

    def test_expired_token_is_exit_4_before_any_request(self):
        expired = self.write("expired", self.emu.mint_token(self.rsa_key(), SUBJECT, ttl="-10m"))
        self.emu.clear_requests()
        result = self.publish(token_file=expired)
        self.assertEqual(result.code, 4, result)
        self.assertEqual(result.report()["error"]["kind"], "token_expired")
        self.assertIn("expired", result.report()["error"]["message"])
        self.assertEqual(self.emu.requests_log(), [])

    def test_wrong_audience_is_exit_4(self):
        wrong = self.write("wrong-aud", self.emu.mint_token(self.rsa_key(), SUBJECT, aud="https://kubernetes.default.svc"))
        result = self.publish(token_file=wrong)
        self.assertEqual(result.code, 4, result)
        self.assertEqual(result.report()["error"]["kind"], "wrong_audience")

    def test_server_down_is_exit_7_quickly(self):
        self.emu.stop()
        result = self.kfp("publish", self.package(), "--pipeline", "hello", "--retries", "2", "-o", "json")
        self.assertEqual(result.code, 7, result)
        self.assertEqual(result.report()["error"]["kind"], "network")


class DenialTest(PublishTestCase):
    def test_istio_denial_is_exit_5_istio_denied(self):
        self.emu.stop()
        emu = self.start_emulator("--auth", "token", "--token-key", str(self.rsa_key()),
                                  "--istio-principals", "cluster.local/ns/other/sa/default-editor")
        result = self.kfp("publish", self.package(), "--pipeline", "hello", "-o", "json", host=emu.url)
        self.assertEqual(result.code, 5, result)
        error = result.report()["error"]
        self.assertEqual(error["kind"], "istio_denied")
        self.assertIn("cluster.local/ns/team-a/sa/default-editor", error["hint"])

    def test_rbac_denial_is_exit_5_forbidden(self):
        self.emu.stop()
        rbac = self.write("rbac.yaml", "- subject: system:serviceaccount:team-a:default-editor\n"
                                       "  namespace: team-a\n  allow: [\"pipelines/get\", \"pipelines/list\"]\n")
        emu = self.start_emulator("--auth", "token", "--token-key", str(self.rsa_key()), "--rbac", str(rbac))
        result = self.kfp("publish", self.package(), "--pipeline", "hello", "-o", "json", host=emu.url)
        self.assertEqual(result.code, 5, result)
        error = result.report()["error"]
        self.assertEqual(error["kind"], "forbidden")
        self.assertIn("kubeflow-edit", error["hint"])


class OutputsTest(PublishTestCase):
    def test_report_file_results_dir_and_github_outputs(self):
        gh_output = self.tmp / "gh_output"
        gh_summary = self.tmp / "gh_summary"
        results = self.tmp / "results"
        report_file = self.tmp / "report.json"
        env = {"GITHUB_OUTPUT": str(gh_output), "GITHUB_STEP_SUMMARY": str(gh_summary), "GITHUB_ACTIONS": "true"}
        result = self.kfp("-v", "publish", self.package(), "--pipeline", "hello", "--run", "--experiment", "ci",
                          "--param", "message=hi", "--wait", "--report", report_file, "--results-dir", results,
                          env=env)
        self.assertEqual(result.code, 0, result)
        report = json.loads(report_file.read_text())
        self.assertEqual(report["run"]["state"], "SUCCEEDED")
        self.assertEqual((results / "run_id").read_text(), report["run"]["id"])
        self.assertEqual((results / "exit_code").read_text(), "0")
        self.assertEqual(harness.parse_github_output(gh_output.read_text())["version_id"], report["version"]["id"])
        self.assertIn("SUCCEEDED", gh_summary.read_text())
        for path in (report_file, gh_output, gh_summary, *results.iterdir()):
            self.assertNotIn(self.token, path.read_text())

    def test_failure_writes_a_github_annotation(self):
        result = self.kfp("run", "--pipeline", "nope", "--experiment", "ci", env={"GITHUB_ACTIONS": "true"})
        self.assertEqual(result.code, 6, result)
        self.assertIn("::error title=kfp-publish::", result.stderr)


if __name__ == "__main__":
    unittest.main()
