"""Several kfp-publish processes started at once against one server (issue 15 "Concurrency"): CI
re-runs, two Jobs for one commit, a retried Job racing its first pod. The emulator adds latency to
every request so that each process's look-up and create overlap the others'; the assertions are on
the server's state afterwards:

- one run key ends with exactly one live run, the oldest (created_at, then id), which every
  process reports; every other run with that key was terminated by the process that made it, and
  exactly one process reports the run as created;
- one pipeline, one version per name: the processes whose content the stored version does not hold
  exit 6, the others 0; nobody reports as created what another process made.

The rounds are seeded: the seed is printed; set KFP_CONCURRENCY_SEED to replay a failing run."""

import json
import os
import random
import re
import subprocess
import unittest

import harness
from publish_harness import NAMESPACE, PublishTestCase, publish_env

ROUNDS = 6
LATENCY = "40ms"
PROCESS_TIMEOUT_S = 120
MARKER = re.compile(r"kfp-publish-run-key:[0-9a-f]{32}")


class ConcurrentTestCase(PublishTestCase):
    """Starts several kfp-publish processes together; the rounds are drawn from a printed seed."""

    def setUp(self):
        super().setUp()
        self.seed = int(os.environ.get("KFP_CONCURRENCY_SEED", random.SystemRandom().randrange(2**32)))
        print(f"\nKFP_CONCURRENCY_SEED={self.seed}", flush=True)
        self.rng = random.Random(self.seed)

    def start(self, *args, env=None):
        """Starts kfp-publish without waiting for it (PublishTestCase.kfp waits)."""
        argv = [str(self.publish_binary), *map(str, args), "--host", self.host, "--token-file",
                str(self.token_file), "-o", "json"]
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=publish_env(env))

    def finish(self, processes, context):
        results = []
        for process in processes:
            stdout, stderr = process.communicate(timeout=PROCESS_TIMEOUT_S)
            self.assertNotIn(self.token, stdout + stderr, "the token leaked into the output")
            try:
                report = json.loads(stdout)
            except ValueError:
                self.fail(f"{context}: stdout is not one JSON object: {stdout!r}\n{stderr[-2000:]}")
            results.append((process.returncode, report, stderr))
        return results

    def together(self, count, args_for, context, env=None):
        """Starts `count` processes as close together as possible and returns their results."""
        processes = [self.start(*args_for(i), env=env) for i in range(count)]
        return self.finish(processes, context)


class ConcurrentRunsTest(ConcurrentTestCase):
    # Runs outlast the race, so the losers are still running when their makers end them.
    emulator_flags = ("--auth", "token", "--run-duration", "5s", "--latency", LATENCY)

    def runs_of(self, experiment_name):
        state = self.state()
        experiments = [e for e in state.get("experiments", []) if e.get("display_name") == experiment_name]
        self.assertEqual(len(experiments), 1, f"experiments named {experiment_name}: {experiments}")
        return [r for r in state.get("runs", []) if r.get("experiment_id") == experiments[0]["experiment_id"]]

    def assert_one_run_per_key(self, results, experiment_name, context):
        for code, report, stderr in results:
            self.assertEqual(code, 0, f"{context}: exit {code}\n{json.dumps(report)}\n{stderr[-3000:]}")
        runs = self.runs_of(experiment_name)
        self.assertGreaterEqual(len(runs), 1, context)
        keys = {MARKER.search(r.get("description", "")).group(0) for r in runs}
        self.assertEqual(len(keys), 1, f"{context}: one run key: {keys}")
        oldest = min(runs, key=lambda r: (r["created_at"], r["run_id"]))
        followed = {report["run"]["id"] for _, report, _ in results}
        self.assertEqual(followed, {oldest["run_id"]}, f"{context}: every process follows the oldest run")
        live = [r for r in runs if r["run_id"] != oldest["run_id"] and r.get("state") not in ("CANCELING", "CANCELED")]
        self.assertEqual(live, [], f"{context}: every other run of the key is terminated")
        kept = [r["run_id"] for r in runs if r["run_id"] != oldest["run_id"] and r.get("storage_state") != "ARCHIVED"]
        self.assertEqual(kept, [], f"{context}: every other run of the key is archived")
        self.assertEqual(oldest.get("storage_state"), "AVAILABLE", context)
        creators = [report for _, report, _ in results if report["run"].get("created") is True]
        self.assertEqual(len(creators), 1, f"{context}: exactly one process created the run it reports")
        return runs

    def test_one_run_key_started_by_several_processes_at_once_gives_one_run(self):
        package = self.package()
        self.assertEqual(self.kfp("publish", package, "--pipeline", "hello").code, 0)
        for index in range(ROUNDS):
            count = self.rng.randint(3, 6)
            wait = index % 3 == 2
            experiment = f"ci-{index}"
            context = f"seed {self.seed} round {index}: {count} processes, wait={wait}"

            def args(_):
                extra = ["--wait", "--wait-timeout", "60s"] if wait else []
                return ["run", "--pipeline", "hello", "--experiment", experiment, "--param", "message=hi",
                        "--run-key", f"key-{index}", *extra]

            if index % 2 == 0:
                # The experiment exists already: every process goes straight to the run's look-up.
                made = self.emu.post("/apis/v2beta1/experiments", {"display_name": experiment, "namespace": NAMESPACE},
                                     token=self.token)
                self.assertEqual(made.status, 200, made)
            results = self.together(count, args, context)
            runs = self.assert_one_run_per_key(results, experiment, context)
            if wait:
                for _, report, _ in results:
                    self.assertEqual(report["run"]["state"], "SUCCEEDED", context)
            experiment_creators = [r for _, r, _ in results if r["experiment"].get("created") is True]
            self.assertLessEqual(len(experiment_creators), 1, f"{context}: the experiment was made once")
            # A retried Job after the race: it follows the same run and creates nothing.
            again = self.kfp(*args(0), "-o", "json")
            self.assertEqual(again.code, 0, again)
            self.assertEqual(again.report()["run"]["id"], results[0][1]["run"]["id"], context)
            self.assertEqual(len(self.runs_of(experiment)), len(runs), context)

    def test_publish_run_at_once_with_lost_replies(self):
        # Creates lose their replies: each process looks its own attempt up by its attempt marker,
        # and the oldest-wins rule still leaves one run.
        for index in range(3):
            count = self.rng.randint(3, 5)
            pipeline = f"lost-{index}"
            experiment = f"exp-lost-{index}"
            for path in ("/apis/v2beta1/runs", "/apis/v2beta1/pipelines/upload_version", "/apis/v2beta1/pipelines",
                         "/apis/v2beta1/experiments"):
                self.emu.add_fault(method="POST", path=path, kind="lost_response", count=self.rng.randint(1, 2))
            context = f"seed {self.seed} lost-reply round {index}: {count} processes"
            package = self.package()

            def args(_):
                return ["publish", package, "--pipeline", pipeline, "--run", "--experiment", experiment,
                        "--param", "message=hi", "--run-key", f"lost-{index}", "--retries", "6"]

            results = self.together(count, args, context)
            self.emu.clear_faults()
            self.assert_one_run_per_key(results, experiment, context)
            state = self.state()
            pipelines = [p for p in state["pipelines"] if p.get("display_name", p.get("name")) == pipeline]
            self.assertEqual(len(pipelines), 1, context)
            versions = [v for v in state["pipeline_versions"] if v["pipeline_id"] == pipelines[0]["pipeline_id"]]
            self.assertEqual(len(versions), 1, f"{context}: one version of one content: {versions}")
            version_creators = [r for _, r, _ in results if r["version"].get("created") is True]
            self.assertLessEqual(len(version_creators), 1, f"{context}: {[r['version'] for _, r, _ in results]}")
            pipeline_creators = [r for _, r, _ in results if r["pipeline"].get("created") is True]
            self.assertLessEqual(len(pipeline_creators), 1, context)


class ConcurrentVersionsTest(ConcurrentTestCase):
    emulator_flags = ("--auth", "token", "--latency", LATENCY)

    @staticmethod
    def holds(version, digest):
        """Does the stored version hold the content with this digest? kfp-publish records it as a
        tag where upload_version stores tags (2.17: kfp-2.17.0 server/pipeline_upload_server.go
        :314-324), and always in the version's description, which is all older releases keep."""
        if harness.server_version() == "2.17.0":
            return version["tags"]["kfp-publish-digest"] == digest[:63]
        return digest in version["description"]

    def test_two_contents_under_one_version_at_once_never_both_succeed(self):
        first = self.package()
        second = self.tmp / "other.yaml"
        second.write_text(first.read_text() + "\n# other content\n")
        digests = {}
        for path in (first, second):
            validated = self.kfp("validate", path, "-o", "json", host=False, token_file=False)
            digests[path] = validated.report()["packages"][0]["digest"]
        for index in range(ROUNDS):
            count = self.rng.randint(2, 6)
            pipeline = f"versions-{index}"
            packages = [self.rng.choice((first, second)) for _ in range(count)]
            packages[0], packages[-1] = first, second  # both contents in every round
            context = f"seed {self.seed} round {index}: {[p.name for p in packages]}"
            results = self.together(
                count, lambda i: ["publish", packages[i], "--pipeline", pipeline, "--version", "v1"], context)
            state = self.state()
            pipelines = [p for p in state["pipelines"] if p.get("display_name", p.get("name")) == pipeline]
            self.assertEqual(len(pipelines), 1, context)
            versions = [v for v in state["pipeline_versions"] if v["pipeline_id"] == pipelines[0]["pipeline_id"]]
            self.assertEqual(len(versions), 1, f"{context}: {versions}")
            for package, (code, report, stderr) in zip(packages, results):
                mine = self.holds(versions[0], digests[package])
                self.assertEqual(code, 0 if mine else 6, f"{context}: {package.name}\n{json.dumps(report)}\n{stderr}")
                if not mine:
                    self.assertEqual(report["error"]["kind"], "conflict", context)
                else:
                    self.assertEqual(report["version"]["id"], versions[0]["pipeline_version_id"], context)
            creators = [r for c, r, _ in results if c == 0 and r["version"].get("created") is True]
            self.assertLessEqual(len(creators), 1, f"{context}: only the uploader reports the version as created")


if __name__ == "__main__":
    unittest.main()
