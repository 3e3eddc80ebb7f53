"""Hostile YAML through the real binary: apply files and --params-file files that are alias bombs,
deeply nested, not UTF-8, several documents or yaml-cpp's endless-documents inputs end with exit 3,
a message naming file:line:col, and (for apply) no request at all; cron specs reach the server as
robfig/cron reads them (5 crontab fields with seconds 0 prepended)."""

import pathlib

import harness
from publish_harness import PublishTestCase


def alias_bomb(levels, indent=""):
    lines = [f"{indent}a0: &a0 [" + ", ".join(["x"] * 10) + "]"]
    for level in range(1, levels):
        lines.append(f"{indent}a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    return lines


def seed(name):
    return (harness.source_dir() / "tests" / "fuzz" / "seeds" / "package" / name).read_bytes()


HEADER = ["apiVersion: kfp-publish/v1", "kind: Apply"]


class HostileYamlTest(PublishTestCase):
    def hostile_apply_files(self):
        hello = self.examples / "hello-world.yaml"
        body = HEADER + [f"pipelines: [{{name: a, package: {hello}}}]", "experiments: [{name: e}]"]
        return {
            # the 12-line file of the issue: 7 nested alias levels in a run's parameters
            "bomb.yaml": ("\n".join(body + ["runs:", "  - name: r", "    pipeline: a", "    experiment: e",
                                            "    parameters:"] + alias_bomb(7, "      ")) + "\n").encode(),
            "deep.yaml": ("\n".join(HEADER) + "\nexperiments: " + "[" * 100000 + "]" * 100000 + "\n").encode(),
            "latin1.yaml": ("\n".join(HEADER) + "\n").encode() + b"experiments: [{name: caf\xe9}]\n",
            "two-documents.yaml": ("\n".join(HEADER + ["---"] + HEADER) + "\n").encode(),
            "comma.yaml": seed("regression-comma-after-flow-mapping"),
            "endless.yaml": seed("yaml-cpp-endless-documents-2.yaml"),
        }

    def test_hostile_apply_files_are_exit_3_at_a_location_and_send_nothing(self):
        expected = {
            "bomb.yaml": r"bomb.yaml:\d+:\d+: YAML expands to more than 100000 nodes",
            "deep.yaml": r"deep.yaml:3:\d+: YAML nests deeper than 64 levels",
            "latin1.yaml": r"latin1.yaml:3:25: not UTF-8 text \(byte 0xe9",
            "two-documents.yaml": r"two-documents.yaml:3:1: a second YAML document",
            "comma.yaml": r"comma.yaml:1:3: a ',' after a flow collection",
            "endless.yaml": r"endless.yaml:\d+:\d+: a second YAML document",
        }
        for name, content in self.hostile_apply_files().items():
            with self.subTest(name):
                path = self.tmp / name
                path.write_bytes(content)
                self.emu.clear_requests()
                result = self.kfp("apply", "-f", path, "--plan", "-o", "json", timeout=30)
                self.assertEqual(result.code, 3, result)
                error = result.report()["error"]
                self.assertEqual(error["kind"], "invalid_package")
                self.assertRegex(error["message"], expected[name])
                self.assertEqual(self.emu.requests_log(), [], "nothing may be sent for a hostile file")

    def test_hostile_params_files_are_exit_3_invalid_parameters(self):
        files = {
            "bomb.yaml": ("\n".join(alias_bomb(7)) + "\n").encode(),
            "deep.yaml": ("message: " + "[" * 100000 + "]" * 100000 + "\n").encode(),
            "latin1.yaml": b"message: caf\xe9\n",
            "comma.yaml": b"{},\n",
            "endless.yaml": seed("yaml-cpp-endless-documents-2.yaml"),
        }
        expected = {
            "bomb.yaml": r"bomb.yaml:\d+:\d+: YAML expands to more than 100000 nodes",
            "deep.yaml": r"deep.yaml:1:\d+: YAML nests deeper than 64 levels",
            "latin1.yaml": r"latin1.yaml:1:13: not UTF-8 text \(byte 0xe9",
            "comma.yaml": r"comma.yaml:1:3: a ',' after a flow collection",
            "endless.yaml": r"endless.yaml:\d+:\d+: a second YAML document",
        }
        package = self.package()
        for name, content in files.items():
            with self.subTest(name):
                path = self.tmp / ("params-" + name)
                path.write_bytes(content)
                result = self.kfp("publish", package, "--pipeline", "hello", "--run", "--experiment", "ci",
                                  "--params-file", path, "-o", "json", timeout=30)
                self.assertEqual(result.code, 3, result)
                error = result.report()["error"]
                self.assertEqual(error["kind"], "invalid_parameters")
                self.assertRegex(error["message"], expected[name].replace(name, "params-" + name))
                self.assertEqual(self.count("runs"), 0, "no run may start with a hostile params file")


class CronTest(PublishTestCase):
    def test_crontab_fields_reach_the_server_with_seconds_and_bad_specs_stop_before_any_request(self):
        hello = self.examples / "hello-world.yaml"
        body = HEADER + [f"pipelines: [{{name: hello, package: {hello}}}]", "experiments: [{name: ci}]",
                         "recurringRuns:"]
        good = self.write("cron.yaml", "\n".join(body + [
            "  - {name: every-5, pipeline: hello, experiment: ci, cron: '*/5 * * * *',"
            " parameters: {message: hi}}",
            "  - {name: weekdays, pipeline: hello, experiment: ci, cron: '0 30 2 * * MON-fri',"
            " parameters: {message: hi}}",
            "  - {name: every-90m, pipeline: hello, experiment: ci, cron: '@every 1h30m',"
            " parameters: {message: hi}}",
            "  - {name: monthly, pipeline: hello, experiment: ci, cron: '@monthly', parameters: {message: hi}}",
        ]) + "\n")
        self.emu.clear_requests()
        result = self.kfp("apply", "-f", good, "-o", "json")
        if harness.server_version() == "1.8.5":
            # KFP 1.8 reads a v2 PipelineSpec only as JSON (kfp-1.8.5 template/template.go:106-110):
            # apply refuses the YAML package, at its place in the file, before anything is written.
            self.assertEqual(result.code, 3, result)
            self.assertEqual(result.report()["error"]["kind"], "invalid_package")
            self.assertIn("cron.yaml:3:", result.report()["error"]["message"])
            self.assertEqual([r for r in self.emu.requests_log() if r["method"] != "GET"], [])
        else:
            self.assertEqual(result.code, 0, result)
            crons = {job["display_name"]: job["trigger"]["cron_schedule"]["cron"]
                     for job in self.state()["recurring_runs"]}
            self.assertEqual(crons, {"every-5": "0 */5 * * * *", "weekdays": "0 30 2 * * MON-fri",
                                     "every-90m": "@every 1h30m", "monthly": "@monthly"})

        for cron, reason in [("0 0 * * 7", "End of range (7) above maximum (6): 7"),
                             ("0 0 0 31 feb ? *", "Expected 5 to 6 fields, found 7"),
                             ("@every 1d", "Failed to parse duration @every 1d"),
                             ("0 0 12 * * Monday", "Failed to parse int from Monday")]:
            with self.subTest(cron):
                bad = self.write("bad-cron.yaml", "\n".join(body + [
                    f"  - {{name: bad, pipeline: hello, experiment: ci, cron: '{cron}',"
                    " parameters: {message: hi}}"]) + "\n")
                self.emu.clear_requests()
                result = self.kfp("apply", "-f", bad, "--plan", "-o", "json")
                self.assertEqual(result.code, 3, result)
                message = result.report()["error"]["message"]
                self.assertIn("bad-cron.yaml:6:", message)
                self.assertIn(reason, message)
                self.assertEqual(self.emu.requests_log(), [])
