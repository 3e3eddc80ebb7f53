"""What kfp-publish writes, tested where CI and Kubernetes put it (issues 13 and 15).

- The kubelet bind-mounts an empty host file at the container's terminationMessagePath and reads at
  most its last 4096 bytes (kubernetes pkg/kubelet/kuberuntime/kuberuntime_container.go
  getTerminationMessage: tail.ReadAtMost(path, MaxContainerTerminationMessageLength = 1024 * 4)).
  The tests reproduce the mount for real: a private mount namespace (`unshare -m`, CI runs as root)
  and `mount --bind` of a host file onto the path kfp-publish writes, then read the host file.
- Devices, FIFOs, symlinks and /dev/stdout as destinations are written, never replaced.
- Every destination is checked before the first request: the emulator must see no request at all.
- A closed or full stdout ends non-zero; a non-UTF-8 file name still gives valid JSON.
"""

import fcntl
import json
import os
import pathlib
import shutil
import signal
import stat
import subprocess
import termios
import threading
import time
import unittest

import harness
from publish_harness import PublishTestCase

MAX_TERMINATION_MESSAGE_BYTES = 4096
PIPE_CAPACITY_BYTES = 65536
# Generous bounds for a loaded 2-core machine: they detect a hang, they do not measure speed.
HANG_TIMEOUT_S = 30


def mount_namespaces_work():
    """Whether this process may make a private mount namespace and bind-mount a file in it."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount --bind /proc/self/exe /proc/self/exe"],
                           capture_output=True)
    return probe.returncode == 0


def json_line(text):
    """The one line of `text` that is a JSON object."""
    lines = [line for line in text.splitlines() if line.startswith("{")]
    assert len(lines) == 1, text
    return json.loads(lines[0])


def under_kubelet_mount(host_file, mount_point, argv):
    """argv run in a private mount namespace where host_file is bind-mounted at mount_point, as the
    kubelet mounts the termination-message file into a container."""
    script = 'set -e; mount --bind "$1" "$2"; shift 2; exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, "sh", str(host_file), str(mount_point), *map(str, argv)]


class OutputsTestCase(PublishTestCase):
    """Runs kfp-publish directly (a PublishTestCase for the emulator and the token)."""

    def run_binary(self, argv, env=None, timeout=120, **popen):
        run_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "KFP_", "KF_PIPELINES"))}
        run_env.update(env or {})
        return subprocess.run(argv, capture_output="stdout" not in popen, env=run_env, timeout=timeout, **popen)

    def publish_argv(self, *extra):
        return [self.publish_binary, "publish", self.package(), "--pipeline", "hello", "--host", self.host,
                "--token-file", self.token_file, *extra]


@unittest.skipUnless(mount_namespaces_work(), "skipped: needs root and unshare -m with mount --bind (CI runs as root)")
class KubeletMountTest(OutputsTestCase):
    def setUp(self):
        super().setUp()
        (self.tmp / "host").mkdir()
        (self.tmp / "pod").mkdir()
        self.host_file = self.tmp / "host" / "termination-log"
        self.host_file.write_bytes(b"")  # the kubelet creates it empty
        self.mount_point = self.tmp / "pod" / "report.json"
        self.mount_point.write_bytes(b"")

    def termination_message(self):
        data = self.host_file.read_bytes()
        self.assertLessEqual(len(data), MAX_TERMINATION_MESSAGE_BYTES)
        # The kubelet keeps the last 4096 bytes: they alone must be the JSON.
        return json.loads(data[-MAX_TERMINATION_MESSAGE_BYTES:].decode("utf-8"))

    def test_report_onto_the_mounted_file_succeeds(self):
        # The Job's former shape: --report at terminationMessagePath. A rename onto the mount
        # failed with EBUSY and turned a successful publish into exit 2.
        argv = under_kubelet_mount(self.host_file, self.mount_point,
                                   self.publish_argv("-o", "json", "--report", self.mount_point))
        result = self.run_binary(argv, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        message = self.termination_message()
        self.assertEqual(message["outcome"], "created")
        self.assertEqual(message, json.loads(result.stdout))
        self.assertEqual(self.count("pipelines"), 1)

    def test_termination_log_flag_and_variable_write_the_mounted_file(self):
        for name, extra, env in (("flag", ("--termination-log", self.mount_point), {}),
                                 ("variable", (), {"KFP_TERMINATION_LOG": str(self.mount_point)})):
            with self.subTest(name):
                self.host_file.write_bytes(b"")
                argv = under_kubelet_mount(self.host_file, self.mount_point, self.publish_argv(*extra))
                result = self.run_binary(argv, env=env, text=True)
                self.assertEqual(result.returncode, 0, result.stderr)
                message = self.termination_message()
                self.assertEqual(message["exit_code"], 0)
                self.assertEqual(message["pipeline"]["name"], "hello")

    def test_a_failure_is_in_the_termination_message_too(self):
        argv = under_kubelet_mount(self.host_file, self.mount_point,
                                   self.publish_argv("--termination-log", self.mount_point, "--version", "v1",
                                                     "--namespace", "other-team"))
        result = self.run_binary(argv, text=True)
        self.assertNotEqual(result.returncode, 0)
        message = self.termination_message()
        self.assertEqual(message["exit_code"], result.returncode)
        self.assertIn("kind", message["error"])

    def test_a_large_report_is_trimmed_to_4096_bytes_of_valid_json(self):
        # validate of many packages: a report of tens of KiB, whose head the kubelet would cut off.
        packages = [self.package()] * 150
        argv = under_kubelet_mount(self.host_file, self.mount_point,
                                   [self.publish_binary, "validate", *packages, "--termination-log", self.mount_point,
                                    "--report", self.tmp / "full.json"])
        result = self.run_binary(argv, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertGreater(len((self.tmp / "full.json").read_bytes()), 8 * MAX_TERMINATION_MESSAGE_BYTES)
        message = self.termination_message()
        self.assertTrue(message["truncated"])
        self.assertEqual(message["command"], "validate")
        self.assertEqual(message["exit_code"], 0)

    def test_report_and_termination_log_on_one_mounted_file_get_the_termination_message(self):
        packages = [self.package()] * 150
        argv = under_kubelet_mount(self.host_file, self.mount_point,
                                   [self.publish_binary, "validate", *packages, "--report", self.mount_point])
        result = self.run_binary(argv, env={"KFP_TERMINATION_LOG": str(self.mount_point)}, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(self.termination_message()["truncated"])


class SpecialDestinationTest(OutputsTestCase):
    """Destinations that are not ordinary files are written, never replaced."""

    def validate_argv(self, *extra):
        return [self.publish_binary, "validate", self.package(), *extra]

    def dev_stdout(self):
        """A private link made as /dev/stdout is (-> /proc/self/fd/1): a binary that replaces what it is
        given breaks this one, never the machine's /dev/stdout."""
        link = self.tmp / "stdout"
        link.symlink_to("/proc/self/fd/1")
        return link

    def test_report_to_dev_stdout_goes_to_stdout(self):
        result = self.run_binary(self.validate_argv("--report", self.dev_stdout()), text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(": ok", result.stdout)
        self.assertEqual(json_line(result.stdout)["command"], "validate")

    def test_report_to_a_stdout_file_goes_beside_what_is_printed(self):
        out = self.tmp / "stdout.txt"
        with out.open("w") as stdout:
            result = self.run_binary(self.validate_argv("--report", self.dev_stdout()), stdout=stdout,
                                     stderr=subprocess.PIPE, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        # Written through the descriptor: neither replaces nor truncates what stdout holds.
        text = out.read_text()
        self.assertIn(": ok", text)
        self.assertEqual(json_line(text)["command"], "validate")

    def test_report_through_a_symlink_replaces_the_target_and_keeps_the_link(self):
        target = self.tmp / "real.json"
        target.write_text("old")
        link = self.tmp / "link.json"
        link.symlink_to(target)
        result = self.run_binary(self.validate_argv("--report", link), text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(link.is_symlink())
        self.assertEqual(json.loads(target.read_text())["command"], "validate")

    def test_report_to_a_fifo_is_written_into_it(self):
        fifo = self.tmp / "report.fifo"
        os.mkfifo(fifo)
        received = []
        reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
        reader.start()
        # The reader opens its end first; kfp-publish never blocks waiting for one.
        deadline = time.monotonic() + HANG_TIMEOUT_S
        while time.monotonic() < deadline:
            result = self.run_binary(self.validate_argv("--report", fifo), text=True)
            if result.returncode == 0 or "no process reads" not in result.stderr:
                break
            time.sleep(0.05)
        self.assertEqual(result.returncode, 0, result.stderr)
        reader.join(HANG_TIMEOUT_S)
        self.assertEqual(json.loads(received[0])["command"], "validate")
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a file")

    @unittest.skipUnless(os.geteuid() == 0, "skipped: creating a device node needs root (CI runs as root)")
    def test_report_to_a_device_leaves_the_device(self):
        device = self.tmp / "null"
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        result = self.run_binary(self.validate_argv("--report", device, "--termination-log", device), text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(stat.S_ISCHR(os.lstat(device).st_mode), "the device was replaced by a file")

    def test_a_signal_while_a_write_blocks_ends_in_130(self):
        # A FIFO whose reader never reads: the report (over a pipe's capacity) blocks the write.
        fifo = self.tmp / "stuck.fifo"
        os.mkfifo(fifo)
        reader_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            package = self.package()
            process = subprocess.Popen(
                [self.publish_binary, "validate", *([package] * 400), "--report", fifo],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.monotonic() + HANG_TIMEOUT_S
            pending = bytearray(4)
            while time.monotonic() < deadline and process.poll() is None:
                fcntl.ioctl(reader_fd, termios.FIONREAD, pending)
                if int.from_bytes(pending, "little") >= PIPE_CAPACITY_BYTES:
                    break
                time.sleep(0.02)
            self.assertIsNone(process.poll(), "kfp-publish ended without blocking on the FIFO")
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(HANG_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                self.fail("kfp-publish did not end after SIGTERM while blocked writing the report")
            stderr = process.stderr.read().decode(errors="replace")
            process.stderr.close()
        finally:
            os.close(reader_fd)
        self.assertEqual(code, 130, stderr)
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))


class DestinationsCheckedFirstTest(OutputsTestCase):
    """A destination that cannot be written stops the command before its first request (exit 2)."""

    def assert_nothing_sent(self, result):
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(self.emu.requests_log(), [], "a request was sent before the outputs were checked")
        self.assertEqual(self.count("pipelines"), 0)

    def test_each_unwritable_destination_is_refused_before_any_request(self):
        a_file = self.write("a-file", "")
        cases = {
            "--report": (("--report", self.tmp / "missing" / "report.json"), {}),
            "--results-dir": (("--results-dir", a_file / "results"), {}),
            "GITHUB_OUTPUT": ((), {"GITHUB_OUTPUT": str(self.tmp / "missing" / "out")}),
            "GITHUB_STEP_SUMMARY": ((), {"GITHUB_STEP_SUMMARY": str(self.tmp)}),
            "the termination log": (("--termination-log", self.tmp / "missing" / "log"), {}),
        }
        for name, (extra, env) in cases.items():
            with self.subTest(name):
                self.emu.clear_requests()
                result = self.run_binary(
                    self.publish_argv("--run", "--experiment", "ci", "--wait", "-o", "json", *extra), env=env,
                    text=True)
                self.assert_nothing_sent(result)
                report = json.loads(result.stdout)
                self.assertEqual(report["error"]["kind"], "usage")
                self.assertIn(name, report["error"]["message"])

    def test_a_closed_stdout_is_refused_before_any_request(self):
        report_file = self.tmp / "report.json"
        result = self.run_binary(self.publish_argv("-o", "json", "--report", report_file),
                                 stdout=None, stderr=subprocess.PIPE, text=True,
                                 preexec_fn=lambda: os.close(1))
        self.assert_nothing_sent(result)
        self.assertIn("stdout is closed", result.stderr)
        # The report went where it was asked to, not onto the descriptor stdout left free.
        self.assertIn("stdout is closed", json.loads(report_file.read_text())["error"]["message"])

    def test_a_full_stdout_ends_non_zero(self):
        with open("/dev/full", "w") as full:
            result = self.run_binary([self.publish_binary, "validate", self.package(), "-o", "json"], stdout=full,
                                     stderr=subprocess.PIPE, text=True)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("cannot write to stdout", result.stderr)


class InputsAndNamesTest(OutputsTestCase):
    def test_a_fifo_as_package_token_params_or_apply_file_is_refused_at_once(self):
        fifo = self.tmp / "pipeline.yaml"
        os.mkfifo(fifo)
        validate = self.run_binary([self.publish_binary, "validate", fifo, "-o", "json"], timeout=HANG_TIMEOUT_S,
                                   text=True)
        self.assertEqual(validate.returncode, 3, validate.stderr)
        self.assertIn("is a FIFO", json.loads(validate.stdout)["error"]["message"])
        token = self.tmp / "token.fifo"
        os.mkfifo(token)
        publish = self.run_binary([self.publish_binary, "publish", self.package(), "--pipeline", "hello", "--host",
                                   self.host, "--token-file", token, "-o", "json"], timeout=HANG_TIMEOUT_S, text=True)
        self.assertEqual(publish.returncode, 4, publish.stderr)
        self.assertIn("is a FIFO", json.loads(publish.stdout)["error"]["message"])
        params = self.tmp / "params.fifo"
        os.mkfifo(params)
        with_params = self.run_binary(self.publish_argv("--run", "--experiment", "ci", "--params-file", params,
                                                        "-o", "json"), timeout=HANG_TIMEOUT_S, text=True)
        self.assertEqual(with_params.returncode, 3, with_params.stderr)
        self.assertIn("is a FIFO", json.loads(with_params.stdout)["error"]["message"])
        apply_file = self.tmp / "apply.fifo"
        os.mkfifo(apply_file)
        apply = self.run_binary([self.publish_binary, "apply", "-f", apply_file, "--host", self.host, "--token-file",
                                 self.token_file, "-o", "json"], timeout=HANG_TIMEOUT_S, text=True)
        self.assertEqual(apply.returncode, 2, apply.stderr)
        self.assertIn("is a FIFO", json.loads(apply.stdout)["error"]["message"])
        self.assertEqual(self.count("pipelines"), 0)

    def test_a_file_name_that_is_not_utf8_gives_valid_json_everywhere(self):
        name = os.fsencode(str(self.tmp)) + b"/caf\xe9-\xff.yaml"
        shutil.copyfile(self.examples / "hello-world.yaml", name)
        log = self.write("termination-log", "")
        argv = [os.fsencode(str(self.publish_binary)), b"validate", name, b"-o", b"json", b"--report",
                os.fsencode(str(self.tmp / "report.json")), b"--termination-log", os.fsencode(str(log))]
        result = self.run_binary(argv)
        self.assertEqual(result.returncode, 0, result.stderr)
        for label, data in (("stdout", result.stdout), ("report", (self.tmp / "report.json").read_bytes()),
                            ("termination log", log.read_bytes())):
            with self.subTest(label):
                report = json.loads(data.decode("utf-8"))  # strict: invalid UTF-8 raises
                self.assertIn("caf\ufffd-\ufffd.yaml", report["packages"][0]["path"])


if __name__ == "__main__":
    unittest.main()
