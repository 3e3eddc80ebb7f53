"""Faults injected into the emulator (issue 5): lost replies, 503s, resets and delays never make the
agent create anything twice; a rotating token is followed; SIGTERM/SIGINT during a wait exits 130
with the report written.

The randomized test prints its seed; set KFP_RELIABILITY_SEED to replay a failing run."""

import json
import os
import random
import signal
import subprocess
import time
import unittest

import harness
from publish_harness import NAMESPACE, SUBJECT, PublishTestCase

API = "/apis/v2beta1"
CREATES = {
    "pipeline": ("POST", f"{API}/pipelines"),  # a prefix: it also matches upload_version
    "version": ("POST", f"{API}/pipelines/upload_version"),
    "experiment": ("POST", f"{API}/experiments"),
    "run": ("POST", f"{API}/runs"),
}
SCHEDULES = 50
RETRIES = 8
REQUEST_TIMEOUT = "400ms"
DELAY = "700ms"  # longer than REQUEST_TIMEOUT: the client gives up while the action takes effect
# How long the polling helpers below wait for the agent to reach a state; a bound, not a timing.
SETTLE_TIMEOUT_S = 30


def run_marker_runs(state, experiment_id):
    return [r for r in state.get("runs", []) if r.get("experiment_id") == experiment_id]


class ExactlyOnceTest(PublishTestCase):
    emulator_flags = ("--auth", "token", "--run-duration", "100ms")

    def publish_and_run(self, name, *extra, wait=False, retries=RETRIES):
        args = ["publish", self.pkg, "--pipeline", name, "--run", "--experiment", f"exp-{name}",
                "--param", "message=hi", "--run-key", f"key-{name}", "--retries", str(retries),
                "--request-timeout", REQUEST_TIMEOUT, "-o", "json", *extra]
        if wait:
            args.append("--wait")
        return self.kfp(*args)

    def assert_exactly_one_of_each(self, name, context):
        state = self.state()
        pipelines = [p for p in state.get("pipelines", []) if p.get("display_name", p.get("name")) == name]
        self.assertEqual(len(pipelines), 1, f"{context}: pipelines named {name}: {pipelines}")
        pipeline_id = pipelines[0]["pipeline_id"]
        versions = [v for v in state.get("pipeline_versions", []) if v.get("pipeline_id") == pipeline_id]
        self.assertEqual(len(versions), 1, f"{context}: versions of {name}: {versions}")
        experiments = [e for e in state.get("experiments", []) if e.get("display_name") == f"exp-{name}"]
        self.assertEqual(len(experiments), 1, f"{context}: experiments exp-{name}: {experiments}")
        runs = run_marker_runs(state, experiments[0]["experiment_id"])
        self.assertEqual(len(runs), 1, f"{context}: runs in exp-{name}: {runs}")
        return pipelines[0], versions[0], experiments[0], runs[0]

    def setUp(self):
        super().setUp()
        self.pkg = self.package()

    def test_each_create_loses_its_reply_once(self):
        for method, path in CREATES.values():
            self.emu.add_fault(method=method, path=path, kind="lost_response", count=1)
        self.emu.clear_requests()
        result = self.publish_and_run("lost", wait=True)
        self.assertEqual(result.code, 0, result)
        report = result.report()
        # The version and the run carry this invocation's attempt marker, so a look-up after a lost
        # reply knows them as its own. A pipeline or an experiment found after a lost reply may be
        # another process's: created is then left out (unknown), never claimed, and the outcome
        # is the version's (updated).
        self.assertEqual(report["outcome"], "updated")
        for part in ("version", "run"):
            self.assertIs(report[part].get("created"), True, f"{part} should be reported as created: {report}")
        for part in ("pipeline", "experiment"):
            self.assertNotIn("created", report[part], f"{part}: unknown after a lost reply: {report}")
        self.assertEqual(report["run"]["state"], "SUCCEEDED")
        pipeline, version, experiment, run = self.assert_exactly_one_of_each("lost", "all creates lost")
        self.assertEqual(report["version"]["id"], version["pipeline_version_id"])
        self.assertEqual(report["run"]["id"], run["run_id"])
        log = self.emu.requests_log()
        self.assertEqual([f for f in self.emu.get("/_emulator/faults").json().get("faults", [])], [],
                         "every lost-reply fault was used")
        for method, path in CREATES.values():
            sent = [r for r in log if r["method"] == method and r["path"] == path]
            self.assertEqual(len(sent), 1, f"{method} {path} was sent {len(sent)} times: a create is never re-sent "
                                           f"once a look-up finds it")

    def test_randomized_fault_schedules(self):
        seed = int(os.environ.get("KFP_RELIABILITY_SEED", random.SystemRandom().randrange(2**32)))
        print(f"\nKFP_RELIABILITY_SEED={seed}", flush=True)
        rng = random.Random(seed)
        targets = list(CREATES.values()) + [("GET", f"{API}/"), ("GET", f"{API}/pipelines"), ("GET", f"{API}/runs")]
        kinds = ["lost_response", "status", "reset", "delay"]
        for index in range(SCHEDULES):
            name = f"s{index}"
            self.emu.clear_faults()
            faults = []
            # Most schedules lose at least one create's reply; the rest mix everything.
            if rng.random() < 0.8:
                method, path = rng.choice(list(CREATES.values()))
                faults.append({"method": method, "path": path, "kind": "lost_response", "count": 1})
            while len(faults) < rng.randint(1, 4):
                method, path = rng.choice(targets)
                kind = rng.choice(kinds)
                fault = {"method": method, "path": path, "kind": kind, "count": rng.randint(1, 2)}
                if kind == "status":
                    fault["status"] = rng.choice([503, 503, 502, 504])
                if kind == "delay":
                    fault["delay"] = DELAY
                faults.append(fault)
            # Fewer faults than retries: every request can outlast the faults that hit it.
            assert sum(f["count"] for f in faults) <= RETRIES
            rng.shuffle(faults)
            for fault in faults:
                self.emu.add_fault(**fault)
            wait = index % 5 == 0
            context = f"seed {seed} schedule {index} (wait={wait}) faults {json.dumps(faults)}"
            result = self.publish_and_run(name, wait=wait)
            self.assertEqual(result.code, 0, f"{context}\n{result}")
            report = result.report()
            # "updated" when the pipeline's create lost its reply (then its creator is unknown).
            self.assertIn(report["outcome"], ("created", "updated"), context)
            self.assertIs(report["pipeline"].get("created"), True if report["outcome"] == "created" else None,
                          context)
            for part in ("version", "run"):
                self.assertIs(report[part].get("created"), True, f"{context}: {part}")
            if wait:
                self.assertEqual(report["run"]["state"], "SUCCEEDED", context)
            _, version, _, run = self.assert_exactly_one_of_each(name, context)
            self.assertEqual(report["run"]["id"], run["run_id"], context)
            self.assertEqual(report["version"]["id"], version["pipeline_version_id"], context)

            if index % 10 == 9:
                # A Job retried after the server stayed down through all retries: exit 7 first, then
                # the next attempt completes the work and still makes one of each.
                again = f"{name}-down"
                method, path = rng.choice(list(CREATES.values()))
                self.emu.clear_faults()
                self.emu.add_fault(method=method, path=path, kind="status", status=503, count=3)
                down = self.publish_and_run(again, retries=2)
                self.assertEqual(down.code, 7, f"{context}; then 503 x3 on {path}\n{down}")
                self.assertEqual(down.report()["error"]["kind"], "server", down)
                self.emu.clear_faults()
                retried = self.publish_and_run(again)
                self.assertEqual(retried.code, 0, f"{context}; retried Job\n{retried}")
                self.assert_exactly_one_of_each(again, f"{context}; retried Job")


class TokenRotationTest(PublishTestCase):
    # Runs last long enough for the first token to expire during the wait.
    emulator_flags = ("--auth", "token", "--run-duration", "10s")
    FIRST_TTL = "6s"  # room for a slow (sanitizer) build to create the run before it expires

    def projected_volume(self, token):
        """A directory laid out as kubelet writes a projected volume: token -> ..data/token,
        ..data -> a timestamped directory; returns the token path."""
        self.volume = self.tmp / "volume"
        self.volume.mkdir()
        self.generation = 0
        self.rotate(token)
        (self.volume / "token").symlink_to("..data/token")
        return self.volume / "token"

    def rotate(self, token):
        # kubelet writes a new timestamped directory, then swaps the ..data symlink with a rename.
        self.generation += 1
        data = self.volume / f"..2024_01_01_00_00_0{self.generation}.000"
        data.mkdir()
        (data / "token").write_text(token)
        link = self.volume / "..data_tmp"
        link.symlink_to(data.name)
        os.replace(link, self.volume / "..data")

    def start_wait(self, token_file):
        self.pkg = self.package()
        argv = [str(self.publish_binary), "publish", str(self.pkg), "--pipeline", "hello", "--run", "--experiment",
                "ci", "--param", "message=hi", "--wait", "-o", "json", "--host", self.host,
                "--token-file", str(token_file)]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "KFP_", "KF_PIPELINES"))}
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    def wait_for_run(self):
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.state().get("runs"):
                return
            time.sleep(0.05)
        self.fail("the run was never created")

    def test_rotated_token_is_followed_to_the_end(self):
        first = self.emu.mint_token(self.rsa_key(), SUBJECT, ttl=self.FIRST_TTL)
        token_file = self.projected_volume(first)
        process = self.start_wait(token_file)
        self.wait_for_run()
        second = self.emu.mint_token(self.rsa_key(), SUBJECT, ttl="1h")
        self.rotate(second)
        stdout, stderr = process.communicate(timeout=120)
        for token in (first, second):
            self.assertNotIn(token, stdout + stderr)
        self.assertEqual(process.returncode, 0, stderr)
        report = json.loads(stdout)
        self.assertEqual(report["run"]["state"], "SUCCEEDED")

    def test_without_rotation_the_expired_token_ends_the_wait_with_exit_4(self):
        # The control case: the same wait fails when nobody rotates the token, so the test above
        # proves the rotation was followed.
        first = self.emu.mint_token(self.rsa_key(), SUBJECT, ttl=self.FIRST_TTL)
        token_file = self.projected_volume(first)
        process = self.start_wait(token_file)
        stdout, stderr = process.communicate(timeout=120)
        self.assertNotIn(first, stdout + stderr)
        self.assertEqual(process.returncode, 4, stderr)
        self.assertEqual(json.loads(stdout)["error"]["kind"], "token_expired")


class InterruptTest(PublishTestCase):
    def start(self, *extra):
        self.report_file = self.tmp / "report.json"
        argv = [str(self.publish_binary), "publish", str(self.package()), "--pipeline", "hello", "--run",
                "--experiment", "ci", "--param", "message=hi", "--wait", "--run-key", "interrupt",
                "--report", str(self.report_file), "-o", "json", "--host", self.host,
                "--token-file", str(self.token_file), *extra]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "KFP_", "KF_PIPELINES"))}
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    def wait_until(self, predicate, what):
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        self.fail(f"timed out waiting for {what}")

    def interrupt(self, process, signum):
        process.send_signal(signum)
        try:
            stdout, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            self.fail(f"still running 60 s after signal {signum}")
        self.assertNotIn(self.token, stdout + stderr)
        self.assertEqual(process.returncode, 130, stderr)
        self.assertTrue(self.report_file.exists(), "the report file was not written")
        report = json.loads(self.report_file.read_text())
        self.assertEqual(report, json.loads(stdout))
        self.assertEqual(report["exit_code"], 130)
        self.assertEqual(report["error"]["kind"], "interrupted")
        self.assertTrue(report["run"]["id"])
        return report

    def terminations(self):
        return [r for r in self.emu.requests_log() if r["path"].endswith(":terminate")]

    def test_sigterm_during_wait_exits_130_and_leaves_the_run(self):
        self.emu.set_outcome("HANG")
        process = self.start()
        self.wait_until(lambda: self.state().get("runs"), "the run")
        report = self.interrupt(process, signal.SIGTERM)
        self.assertEqual(self.terminations(), [])
        self.assertNotIn(self.state()["runs"][0]["state"], ("CANCELING", "CANCELED"))
        self.assertIn(report["run"]["state"], ("PENDING", "RUNNING"))

    def test_sigint_with_cancel_on_interrupt_terminates_the_run_first(self):
        self.emu.set_outcome("HANG")
        process = self.start("--cancel-on-interrupt")
        self.wait_until(lambda: self.state().get("runs"), "the run")
        report = self.interrupt(process, signal.SIGINT)
        terminated = self.terminations()
        self.assertEqual(len(terminated), 1)
        self.assertIn(report["run"]["id"], terminated[0]["path"])
        self.assertIn(self.state()["runs"][0]["state"], ("CANCELING", "CANCELED"))

    def test_sigterm_during_a_blocked_request_is_not_held_by_the_request_timeout(self):
        # The first status poll hangs on the server for far longer than a Kubernetes grace period;
        # SIGTERM must end it now, and --cancel-on-interrupt must still reach the server.
        self.emu.set_outcome("HANG")
        self.emu.add_fault(method="GET", path=f"{API}/runs/", kind="delay", delay="120s", count=1)
        process = self.start("--cancel-on-interrupt", "--request-timeout", "120s")
        self.wait_until(lambda: any(r["method"] == "GET" and r["path"].startswith(f"{API}/runs/")
                                    for r in self.emu.requests_log()) or process.poll() is not None,
                        "the status poll")
        time.sleep(0.2)  # let the client settle into its read
        sent = time.monotonic()
        report = self.interrupt(process, signal.SIGTERM)
        # Far below the 120 s request timeout; a generous bound, not a timing assertion.
        self.assertLess(time.monotonic() - sent, 30, "the blocked read held the signal")
        self.assertEqual(len(self.terminations()), 1)
        self.assertIn(report["run"]["id"], self.terminations()[0]["path"])


if __name__ == "__main__":
    unittest.main()
