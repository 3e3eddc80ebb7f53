"""Running the real kfp-publish against a real kfp-emulator: a test case base with a token minted
for a profile's default-editor, and a helper that runs the binary and returns what CI would see."""

import json
import os
import pathlib
import shutil
import subprocess
import time

import harness

NAMESPACE = "team-a"
SUBJECT = f"system:serviceaccount:{NAMESPACE}:default-editor"


def publish_env(extra=None):
    """The environment kfp-publish runs in: this one without CI, KFP and token variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "KFP_", "KF_PIPELINES"))}
    # The emulator stamps a run and lists it in one step, so the settle window (how long a real
    # server may take between the two) is 0 here; tests of the window set it themselves.
    env["KFP_RUN_SETTLE_WINDOW"] = "0s"
    env.update(extra or {})
    return env


class Result:
    def __init__(self, completed, elapsed):
        self.code = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.elapsed = elapsed

    def report(self):
        """stdout parsed as exactly one JSON object (fails the test otherwise)."""
        return json.loads(self.stdout)

    def __repr__(self):
        return f"exit {self.code}\nstdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-3000:]}"


class PublishTestCase(harness.EmulatorTestCase):
    emulator_flags = ("--auth", "token", "--run-duration", "300ms")

    def setUp(self):
        super().setUp()
        self.publish_binary = harness.require_publish(self)
        self.examples = harness.source_dir() / "pipelines-examples"
        self.emu = self.start_emulator(*self.emulator_flags, "--token-key", str(self.rsa_key()))
        self.token = self.emu.mint_token(self.rsa_key(), SUBJECT)
        self.token_file = self.write("token", self.token)
        self.host = self.emu.url

    def write(self, name, content):
        path = self.tmp / name
        path.write_text(content)
        return path

    def skip_without_v2_yaml(self):
        why = harness.v2_yaml_unreadable()
        if why:
            self.skipTest(why)

    def package(self, name="hello-world.yaml"):
        """A private copy of an example package, so a test may change it. The examples are KFP v2
        pipelines in YAML, which KFP 1.8 cannot read (kfp-publish refuses them there, exit 3): against
        the 1.8 emulator the test is skipped; test_v1_publish covers publishing to 1.8."""
        self.skip_without_v2_yaml()
        target = self.tmp / name
        shutil.copyfile(self.examples / name, target)
        return target

    def kfp(self, *args, token_file=None, host=None, env=None, timeout=120):
        argv = [str(self.publish_binary), *map(str, args)]
        if host is not False:
            argv += ["--host", host or self.host]
        if token_file is not False:
            argv += ["--token-file", str(token_file or self.token_file)]
        start = time.monotonic()
        completed = subprocess.run(argv, capture_output=True, text=True, env=publish_env(env), timeout=timeout)
        result = Result(completed, time.monotonic() - start)
        for stream in (result.stdout, result.stderr):
            self.assertNotIn(self.token, stream, "the token leaked into the output")
        return result

    def state(self):
        return self.emu.state()

    def count(self, kind):
        return len(self.state().get(kind, []))

    def uploads_logged(self):
        return [r for r in self.emu.requests_log() if "/upload" in r["path"]]
