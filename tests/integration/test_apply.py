"""apply -f FILE against kfp-emulator (v2beta1, multi-user, token auth): validation before any
request, --plan, idempotency, recurring-run upserts, partial failure and re-run, --parallel."""

import re
import shutil
import unittest

from publish_harness import PublishTestCase

WRITES = ("POST", "DELETE", "PUT", "PATCH")


class ApplyTestCase(PublishTestCase):
    def setUp(self):
        super().setUp()
        self.example = self.examples / "apply" / "apply.yaml"

    def apply(self, *args, file=None, **kw):
        return self.kfp("apply", "-f", file or self.example, "-o", "json", *args, **kw)

    def copy_example(self):
        """The example file and its packages in the test's directory, so a test may edit them."""
        (self.tmp / "apply").mkdir(exist_ok=True)
        for name in ("hello-world.yaml", "training-pipeline.yaml", "k8s-platform-pipeline.yaml"):
            shutil.copyfile(self.examples / name, self.tmp / name)
        target = self.tmp / "apply" / "apply.yaml"
        shutil.copyfile(self.example, target)
        return target

    def writes(self):
        return [r for r in self.emu.requests_log() if r["method"] in WRITES]

    def objects(self, report):
        return {(o["kind"], o["name"]): o for o in report["objects"]}


class ApplyValidationTest(ApplyTestCase):
    def test_invalid_file_is_exit_3_with_locations_and_sends_nothing(self):
        bad = self.write("bad.yaml", "\n".join([
            "apiVersion: kfp-publish/v1",
            "kind: Apply",
            "pipelines:",
            "  - name: hello",
            f"    package: {self.examples / 'hello-world.yaml'}",
            "    colour: blue",
            "  - name: hello",
            f"    package: {self.examples / 'hello-world.yaml'}",
            "experiments:",
            "  - name: ci",
            "runs:",
            "  - name: smoke",
            "    pipeline: missing",
            "    experiment: ci",
            "recurringRuns:",
            "  - name: nightly",
            "    pipeline: hello",
            "    experiment: ci",
            "    cron: every night",
            "    maxConcurrency: 11",
            "",
        ]))
        self.emu.clear_requests()
        result = self.apply(file=bad)
        self.assertEqual(result.code, 3, result)
        message = result.report()["error"]["message"]
        self.assertIn("bad.yaml:6:5: unknown key 'colour'", message)
        self.assertRegex(message, r"bad.yaml:7:\d+: pipeline 'hello' is declared twice")
        self.assertRegex(message, r"bad.yaml:12:\d+: run 'smoke' names pipeline 'missing'")
        self.assertIn("bad.yaml:19:11: cron 'every night' is not a schedule", message)
        self.assertIn("bad.yaml:20:21: maxConcurrency must be between 1 and 10", message)
        self.assertEqual(self.emu.requests_log(), [], "nothing may be sent before the file is valid")

    def test_wrong_parameter_and_broken_package_are_exit_3_before_any_request(self):
        broken = self.write("broken.yaml", "pipelineInfo: {name: x}\nschemaVersion: 9.9.9\n")
        bad = self.write("params.yaml", "\n".join([
            "apiVersion: kfp-publish/v1",
            "kind: Apply",
            "pipelines:",
            f"  - {{name: hello, package: {self.examples / 'hello-world.yaml'}}}",
            f"  - {{name: broken, package: {broken}}}",
            "experiments: [{name: ci}]",
            "runs:",
            "  - {name: smoke, pipeline: hello, experiment: ci, parameters: {nope: 1}}",
            "",
        ]))
        self.emu.clear_requests()
        result = self.apply(file=bad)
        self.assertEqual(result.code, 3, result)
        self.assertIn("pipeline 'broken'", result.report()["error"]["message"])
        self.assertEqual(self.emu.requests_log(), [])
        # With the broken package gone, the parameter is the problem.
        bad.write_text(bad.read_text().replace(f"  - {{name: broken, package: {broken}}}\n", ""))
        result = self.apply(file=bad)
        self.assertEqual(result.code, 3, result)
        self.assertIn("params.yaml:7:5: run 'smoke'", result.report()["error"]["message"])
        self.assertIn("nope", result.report()["error"]["message"])
        self.assertEqual(self.emu.requests_log(), [])


class ApplyTest(ApplyTestCase):
    def setUp(self):
        super().setUp()
        # The example file's packages are KFP v2 YAML: on 1.8 apply refuses them before any write
        # (test_yaml_inputs.CronTest asserts it there).
        self.skip_without_v2_yaml()

    def test_plan_changes_nothing_and_detailed_exitcode(self):
        self.emu.clear_requests()
        plan = self.apply("--plan", "--detailed-exitcode")
        self.assertEqual(plan.code, 10, plan)
        report = plan.report()
        self.assertEqual(report["outcome"], "planned")
        actions = {key: o["action"] for key, o in self.objects(report).items()}
        self.assertEqual(actions[("pipeline", "hello-world")], "create")
        self.assertEqual(actions[("experiment", "nightly")], "create")
        self.assertEqual(actions[("run", "hello-smoke")], "create")
        self.assertEqual(actions[("recurring_run", "training-nightly")], "create")
        self.assertTrue(all(o["outcome"] == "planned" for o in report["objects"]))
        self.assertEqual(self.writes(), [], "--plan must not change anything")
        state = self.state()
        self.assertEqual(state.get("pipelines", []), [])
        without = self.apply("--plan")
        self.assertEqual(without.code, 0, without)
        text = self.kfp("apply", "-f", self.example, "--plan")
        self.assertRegex(text.stdout, r"create\s+pipeline\s+hello-world\s+planned")

    def test_apply_then_second_apply_is_unchanged_with_no_write(self):
        first = self.apply()
        self.assertEqual(first.code, 0, first)
        report = first.report()
        self.assertEqual(report["outcome"], "created")
        self.assertTrue(all(o["outcome"] == "done" for o in report["objects"]), report["objects"])
        state = self.state()
        self.assertEqual(len(state["pipelines"]), 3)
        self.assertEqual(len(state["pipeline_versions"]), 3)
        self.assertEqual(len(state["experiments"]), 2)
        self.assertEqual(len(state["runs"]), 1)
        jobs = {j["display_name"]: j for j in state["recurring_runs"]}
        self.assertEqual(set(jobs), {"training-nightly", "reports-hourly"})
        self.assertEqual(jobs["training-nightly"]["mode"], "ENABLE", "created enabled unless told otherwise")
        self.assertEqual(jobs["training-nightly"]["trigger"]["cron_schedule"]["cron"], "0 0 2 * * *")
        self.assertEqual(jobs["training-nightly"]["max_concurrency"], "1")
        self.assertEqual(jobs["training-nightly"]["runtime_config"]["parameters"]["epochs"], 10)
        self.assertEqual(jobs["reports-hourly"]["mode"], "DISABLE")
        self.assertEqual(jobs["reports-hourly"]["trigger"]["periodic_schedule"]["interval_second"], "3600")
        versions = {v.get("name", v.get("display_name")) for v in state["pipeline_versions"]}
        self.assertIn("v1", versions)

        self.emu.clear_requests()
        second = self.apply()
        self.assertEqual(second.code, 0, second)
        self.assertEqual(second.report()["outcome"], "unchanged")
        self.assertTrue(all(o["action"] == "unchanged" for o in second.report()["objects"]),
                        second.report()["objects"])
        self.assertEqual(self.writes(), [], "a second apply must make no write request")
        plan = self.apply("--plan", "--detailed-exitcode")
        self.assertEqual(plan.code, 0, plan)

    def test_recurring_runs_are_upserted_by_name(self):
        file = self.copy_example()
        self.assertEqual(self.apply(file=file).code, 0)
        before = {j["display_name"]: j for j in self.state()["recurring_runs"]}

        file.write_text(file.read_text().replace('cron: "0 0 2 * * *"', 'cron: "30 3 * * *"'))
        plan = self.apply("--plan", "--detailed-exitcode", file=file)
        self.assertEqual(plan.code, 10, plan)
        objects = self.objects(plan.report())
        self.assertEqual(objects[("recurring_run", "training-nightly")]["action"], "replace")
        self.assertEqual(objects[("recurring_run", "reports-hourly")]["action"], "unchanged")
        changed = self.apply(file=file)
        self.assertEqual(changed.code, 0, changed)
        after = {j["display_name"]: j for j in self.state()["recurring_runs"]}
        self.assertEqual(len(self.state()["recurring_runs"]), 2, "nothing duplicated")
        self.assertEqual(after["training-nightly"]["trigger"]["cron_schedule"]["cron"], "0 30 3 * * *",
                         "5 crontab fields get seconds 0 prepended")
        self.assertEqual(after["reports-hourly"]["recurring_run_id"], before["reports-hourly"]["recurring_run_id"])

        file.write_text(file.read_text().replace("enabled: false", "enabled: true"))
        self.emu.clear_requests()
        enabled = self.apply(file=file)
        self.assertEqual(enabled.code, 0, enabled)
        self.assertEqual(self.objects(enabled.report())[("recurring_run", "reports-hourly")]["action"], "update")
        final = {j["display_name"]: j for j in self.state()["recurring_runs"]}
        self.assertEqual(final["reports-hourly"]["mode"], "ENABLE")
        self.assertEqual(final["reports-hourly"]["recurring_run_id"], before["reports-hourly"]["recurring_run_id"],
                         "only enabled changed: enabled in place, not replaced")
        self.assertEqual([r for r in self.writes() if r["method"] == "DELETE"], [])

        # A new package version moves the schedule to it: replace, still one of each.
        pkg = self.tmp / "training-pipeline.yaml"
        pkg.write_text(pkg.read_text() + "# retrained\n")
        moved = self.apply(file=file)
        self.assertEqual(moved.code, 0, moved)
        objects = self.objects(moved.report())
        self.assertEqual(objects[("pipeline", "training")]["action"], "new_version")
        self.assertEqual(objects[("recurring_run", "training-nightly")]["action"], "replace")
        self.assertEqual(objects[("run", "hello-smoke")]["action"], "unchanged")
        self.assertEqual(len(self.state()["recurring_runs"]), 2)

    def test_partial_failure_reports_each_object_and_a_rerun_finishes_the_rest(self):
        self.emu.add_fault(method="POST", path="/apis/v2beta1/pipelines/upload_version", kind="status",
                           status=500, count=1)
        failed = self.apply("--retries", "0")
        self.assertEqual(failed.code, 7, failed)
        report = failed.report()
        self.assertEqual(report["outcome"], "failed")
        outcomes = {key: o["outcome"] for key, o in self.objects(report).items()}
        self.assertEqual(outcomes[("pipeline", "hello-world")], "failed")
        self.assertEqual(self.objects(report)[("pipeline", "hello-world")]["error"]["kind"], "server")
        self.assertEqual(outcomes[("run", "hello-smoke")], "skipped")
        self.assertEqual(outcomes[("pipeline", "training")], "done")
        self.assertEqual(outcomes[("recurring_run", "training-nightly")], "done")

        again = self.apply()
        self.assertEqual(again.code, 0, again)
        objects = self.objects(again.report())
        self.assertEqual(objects[("pipeline", "hello-world")]["action"], "new_version")
        self.assertEqual(objects[("pipeline", "training")]["action"], "unchanged")
        self.assertEqual(objects[("run", "hello-smoke")]["action"], "create")
        self.assertEqual(objects[("recurring_run", "training-nightly")]["action"], "unchanged")
        state = self.state()
        self.assertEqual(len(state["pipelines"]), 3)
        self.assertEqual(len(state["pipeline_versions"]), 3)
        self.assertEqual(len(state["runs"]), 1)
        self.assertEqual(len(state["recurring_runs"]), 2)

    def test_worst_exit_code_wins(self):
        file = self.copy_example()
        # A version name taken with other content (6) beside a server failure (7): 6 is more severe.
        pkg = self.tmp / "k8s-platform-pipeline.yaml"
        self.assertEqual(self.apply(file=file).code, 0)
        pkg.write_text(pkg.read_text() + "# edited without a new version name\n")
        self.emu.add_fault(method="POST", path="/apis/v2beta1/recurringruns", kind="status", status=500, count=10)
        file.write_text(file.read_text().replace("epochs: 10", "epochs: 11"))
        result = self.apply("--retries", "0", file=file)
        self.assertEqual(result.code, 6, result)
        objects = self.objects(result.report())
        self.assertEqual(objects[("pipeline", "reports")]["error"]["kind"], "conflict")
        self.assertEqual(objects[("recurring_run", "training-nightly")]["error"]["kind"], "server")
        self.assertIn("objects failed", result.report()["error"]["message"])

    def test_parallel_publishes_every_pipeline_once(self):
        source = (self.examples / "hello-world.yaml").read_text()
        lines = ["apiVersion: kfp-publish/v1", "kind: Apply", "pipelines:"]
        for i in range(12):
            (self.tmp / f"p{i}.yaml").write_text(source + f"# variant {i}\n")
            lines.append(f"  - {{name: pipe-{i:02d}, package: p{i}.yaml}}")
        file = self.write("many.yaml", "\n".join(lines) + "\n")
        result = self.apply("--parallel", "4", file=file)
        self.assertEqual(result.code, 0, result)
        self.assertEqual(len(result.report()["objects"]), 12)
        state = self.state()
        # Releases before 2.14 have only display_name.
        self.assertEqual(sorted(p.get("name", p.get("display_name")) for p in state["pipelines"]),
                         [f"pipe-{i:02d}" for i in range(12)])
        self.assertEqual(len(state["pipeline_versions"]), 12)
        self.emu.clear_requests()
        again = self.apply("--parallel", "4", file=file)
        self.assertEqual(again.report()["outcome"], "unchanged", again)
        self.assertEqual(self.writes(), [])

    def test_bad_parallel_is_usage(self):
        self.assertEqual(self.apply("--parallel", "0").code, 2)
        self.assertEqual(self.apply("--detailed-exitcode").code, 2)


if __name__ == "__main__":
    unittest.main()
