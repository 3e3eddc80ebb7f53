"""Hostile servers, TLS and secret hygiene (issue 5): every hostile reply ends within the timeouts,
in bounded memory, with the documented exit code; the token goes to no other host and appears in no
output at any verbosity."""

import json
import os
import pathlib
import subprocess
import threading
import time
import unittest

import harness
from hostile_server import HostileServer
from publish_harness import NAMESPACE, SUBJECT, PublishTestCase

# A response body is capped at 8 MiB; the whole process must stay far below what reading an
# endless body for the whole deadline would take (gigabytes over loopback). Sanitizer builds
# carry shadow memory, so the bound is generous rather than tight.
MAX_RSS_BYTES = 256 * 1024 * 1024
# Generous: the slowest hostile case is two request deadlines per attempt.
HOSTILE_SUBPROCESS_TIMEOUT_S = 60


def run_measured(argv, env, timeout):
    """Runs argv; returns (exit code, stdout, stderr, peak RSS in bytes) of that process alone."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = [], []
    readers = [threading.Thread(target=lambda s=s, sink=sink: sink.append(s.read()), daemon=True)
               for s, sink in ((process.stdout, out), (process.stderr, err))]
    for reader in readers:
        reader.start()
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    for reader in readers:
        reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stdout.close()
    process.stderr.close()
    return process.returncode, out[0].decode(errors="replace"), err[0].decode(errors="replace"), usage.ru_maxrss * 1024


class HostileServerTest(harness.EmulatorTestCase):
    def setUp(self):
        super().setUp()
        self.publish_binary = harness.require_publish(self)
        self.token = harness.mint_token(self.rsa_key(), SUBJECT, binary=self.binary)
        self.token_file = self.tmp / "token"
        self.token_file.write_text(self.token)
        self.package = harness.source_dir() / "pipelines-examples" / "hello-world.yaml"

    def publish_against(self, server, *extra):
        argv = [str(self.publish_binary), "publish", str(self.package), "--pipeline", "hello", "-o", "json",
                "--host", server.url, "--token-file", str(self.token_file), "--namespace", NAMESPACE,
                "--request-timeout", "1s", "--retries", "1", *extra]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "KFP_", "KF_PIPELINES"))}
        code, stdout, stderr, rss = run_measured(argv, env, HOSTILE_SUBPROCESS_TIMEOUT_S)
        for stream in (stdout, stderr):
            self.assertNotIn(self.token, stream, "the token leaked into the output")
        self.assertNotEqual(code, -9, f"killed after {HOSTILE_SUBPROCESS_TIMEOUT_S}s: it hung\n{stderr}")
        self.assertLess(rss, MAX_RSS_BYTES, f"peak RSS {rss} bytes")
        report = json.loads(stdout)
        return code, report, stderr

    def check(self, behaviour, code, kind, message_part):
        with HostileServer(behaviour) as server:
            exit_code, report, stderr = self.publish_against(server)
        self.assertEqual(exit_code, code, stderr)
        self.assertEqual(report["exit_code"], code)
        self.assertEqual(report["error"]["kind"], kind, report)
        self.assertIn(message_part, report["error"]["message"])
        return report

    def test_trickling_reply_ends_at_the_response_deadline(self):
        self.check("trickle", 7, "network", "did not complete within")

    def test_endless_body_is_cut_at_the_response_cap(self):
        self.check("endless", 7, "network", "over 8388608 bytes")

    def test_json_over_8_mib_is_refused(self):
        self.check("huge_json", 7, "network", "over 8388608 bytes")

    def test_invalid_json_is_a_server_error(self):
        self.check("invalid_json", 7, "server", "not JSON")

    def test_wrong_content_type_is_a_server_error(self):
        self.check("html", 7, "server", "text/html")

    def test_redirect_is_not_followed_and_the_token_goes_nowhere_else(self):
        with HostileServer("normal_error") as elsewhere:
            with HostileServer("redirect", redirect_to=elsewhere.url) as server:
                exit_code, report, stderr = self.publish_against(server)
                self.assertTrue(server.requests, "the client never reached the server")
                self.assertTrue(all(r.headers.get("authorization") == f"Bearer {self.token}" for r in server.requests))
            self.assertEqual(exit_code, 7, stderr)
            self.assertEqual(report["error"]["kind"], "server")
            self.assertIn("redirect", report["error"]["message"])
            self.assertEqual(elsewhere.connections, 0, "the client followed the redirect to another host")
            self.assertEqual(elsewhere.requests, [])

    def test_unauthorized_rereads_the_token_once_then_exit_4(self):
        with HostileServer("unauthorized") as server:
            exit_code, report, stderr = self.publish_against(server)
            api_requests = [r for r in server.requests if not r.path.endswith("/healthz")]
        self.assertEqual(exit_code, 4, stderr)
        self.assertEqual(report["error"]["kind"], "unauthenticated")
        self.assertEqual(len(api_requests), 2, api_requests)


def secret_windows(secret, width=24, stride=12):
    """Every `width`-character window of `secret` (and its end): none may appear in any output, so a
    token cut short by a truncated server message is caught as surely as a whole one."""
    windows = {secret[i:i + width] for i in range(0, max(1, len(secret) - width + 1), stride)}
    windows.add(secret[-width:])
    return windows


class EchoingServerTest(harness.EmulatorTestCase):
    """A server that echoes the request's headers (the bearer token with them) into its bodies: in
    error messages, in a text body that the client quotes cut short, and as the ids, names, states and
    URLs of the objects it returns. Every output channel of every reachable path is searched."""

    SCENARIOS = [("echo_json", status) for status in (400, 401, 403, 404, 409, 500, 503)] + \
        [("echo_text", 500), ("echo_text", 403), ("echo_objects", 200)]

    def setUp(self):
        super().setUp()
        self.publish_binary = harness.require_publish(self)
        self.token = harness.mint_token(self.rsa_key(), SUBJECT, binary=self.binary)
        self.token_file = self.tmp / "token"
        self.token_file.write_text(self.token)
        self.package = harness.source_dir() / "pipelines-examples" / "hello-world.yaml"
        self.apply_file = self.tmp / "apply.yaml"
        self.apply_file.write_text(
            "apiVersion: kfp-publish/v1\nkind: Apply\n"
            f"pipelines:\n  - {{name: hello, package: {self.package}}}\n"
            "experiments:\n  - {name: ci}\n"
            "runs:\n  - {name: smoke, pipeline: hello, experiment: ci, parameters: {message: hi}}\n")
        self.secrets = secret_windows(self.token)

    def commands(self):
        return {
            "publish-run-wait": ["publish", self.package, "--pipeline", "hello", "--run", "--experiment", "ci",
                                 "--param", "message=hi", "--wait", "--wait-timeout", "5s"],
            "run": ["run", "--pipeline", "hello", "--experiment", "ci", "--param", "message=hi", "--wait",
                    "--wait-timeout", "5s"],
            "apply": ["apply", "-f", self.apply_file],
            "doctor": ["doctor"],
        }

    def run_everywhere(self, name, argv, host, output="json"):
        """argv with every output channel on; returns (exit code, {channel: text})."""
        out = self.tmp / name
        out.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "KFP_", "KF_PIPELINES"))}
        env.update({"GITHUB_OUTPUT": str(out / "github_output"), "GITHUB_STEP_SUMMARY": str(out / "summary.md"),
                    "GITHUB_ACTIONS": "true"})
        full = [str(self.publish_binary), "-v", "-v", *map(str, argv), "-o", output, "--host", host,
                "--token-file", str(self.token_file), "--namespace", NAMESPACE, "--request-timeout", "2s",
                "--retries", "0", "--report", str(out / "report.json"), "--results-dir", str(out / "results"),
                "--termination-log", str(out / "termination-log")]
        code, stdout, stderr, _ = run_measured(full, env, HOSTILE_SUBPROCESS_TIMEOUT_S)
        self.assertNotEqual(code, -9, f"{name}: killed after {HOSTILE_SUBPROCESS_TIMEOUT_S}s\n{stderr}")
        channels = {"stdout": stdout, "stderr": stderr}
        for path in out.rglob("*"):
            if path.is_file():
                channels[str(path.relative_to(self.tmp))] = path.read_text(errors="replace")
        return code, channels

    def assert_clean(self, name, channels):
        for label, text in channels.items():
            for window in self.secrets:
                self.assertNotIn(window, text, f"{name}: part of the token reached {label}:\n{text[:3000]}")

    def test_no_channel_shows_an_echoed_token(self):
        for behaviour, status in self.SCENARIOS:
            with HostileServer(behaviour, status=status) as server:
                for command, argv in self.commands().items():
                    for output in ("json", "text"):
                        name = f"{behaviour}-{status}-{command}-{output}"
                        with self.subTest(name):
                            code, channels = self.run_everywhere(name, argv, server.url, output)
                            self.assert_clean(name, channels)
                            report = json.loads(channels[f"{name}/report.json"])
                            self.assertEqual(report["exit_code"], code)
                            self.assertIn(f"{name}/termination-log", channels)
                            if code != 0:
                                self.assertIn("::error title=kfp-publish::", channels["stderr"])
                self.assertTrue(any(r.headers.get("authorization") == f"Bearer {self.token}"
                                    for r in server.requests), "the token was never sent: the test proves nothing")

    def test_the_echo_reaches_the_report_redacted(self):
        # The channels above are clean because of redaction, not because the echo never arrived.
        with HostileServer("echo_json", status=500) as server:
            code, channels = self.run_everywhere("proof", self.commands()["publish-run-wait"], server.url)
        self.assertEqual(code, 7)
        message = json.loads(channels["proof/report.json"])["error"]["message"]
        self.assertIn("authorization: Bearer [REDACTED]", message)


class CodeSourceUrlCredentialsTest(PublishTestCase):
    """The code source URL is recorded in the version description (no release's upload endpoint reads
    a code_source_url), which every user of the KFP server can read: credentials in it (a clone URL
    with a token, a signed link, a CI server URL with user info) are removed before it is sent, and
    the log says so without repeating them."""

    SECRET = "ghs_Zq9SecretValue4711"

    def assert_nowhere(self, result):
        for label, text in (("state", json.dumps(self.state())), ("requests", json.dumps(self.emu.requests_log())),
                            ("stdout", result.stdout), ("stderr", result.stderr)):
            self.assertNotIn(self.SECRET, text, f"the credential reached {label}")
            self.assertNotIn(self.token, text, f"the bearer token reached {label}")

    def test_a_given_url_is_stored_without_its_credentials(self):
        self.skip_without_v2_yaml()
        url = (f"https://x-access-token:{self.SECRET}@github.com/acme/ml/tree/abc?ref=main"
               f"&private_token={self.SECRET}")
        for option in ("--code-source-url", "--source-url"):
            with self.subTest(option=option):
                result = self.kfp("publish", self.package(), "--pipeline", f"hello{option[2:6]}", option, url,
                                  "-o", "json")
                self.assertEqual(result.code, 0, result)
                self.assertIn("credentials (user info, query parameter private_token)", result.stderr)
                self.assert_nowhere(result)
        versions = self.state()["pipeline_versions"]
        self.assertEqual(len(versions), 2, versions)
        for version in versions:
            self.assertIn("\nsource: https://github.com/acme/ml/tree/abc?ref=main\ndigest: sha256:",
                          version["description"])
            self.assertNotIn("code_source_url", version)

    def test_a_url_derived_from_ci_variables_is_stored_without_credentials(self):
        env = {"GITHUB_SERVER_URL": f"https://ci-bot:{self.SECRET}@ghe.example.com", "GITHUB_REPOSITORY": "acme/ml",
               "GITHUB_SHA": "abc123", "GITHUB_RUN_ID": "7", "GITHUB_JOB": "publish"}
        result = self.kfp("publish", self.package(), "--pipeline", "hello", "--run", "--experiment", "ci",
                          "--param", "message=hi", "-o", "json", env=env)
        self.assertEqual(result.code, 0, result)
        self.assert_nowhere(result)
        version = self.state()["pipeline_versions"][0]
        self.assertIn("\nsource: https://ghe.example.com/acme/ml/tree/abc123\n", version["description"])
        self.assertIn("https://ghe.example.com/acme/ml/actions/runs/7", version["description"])


class UrlCredentialsTest(harness.EmulatorTestCase):
    """Credentials in the host URL are refused before any request and reach no output."""

    PASSWORD = "pa55-w0rd-Zq9"

    def setUp(self):
        super().setUp()
        self.publish_binary = harness.require_publish(self)
        self.package = harness.source_dir() / "pipelines-examples" / "hello-world.yaml"

    def test_credentials_in_the_host_are_refused_and_never_printed(self):
        with HostileServer("echo_json") as server:
            hosts = [f"http://ci-bot:{self.PASSWORD}@127.0.0.1:{server.port}",
                     f"HTTP://ci-bot:{self.PASSWORD}@127.0.0.1:{server.port}/pipeline",
                     f"http://{self.PASSWORD}@127.0.0.1:{server.port}/?q=1",
                     f"http://ci-bot:{self.PASSWORD}@127.0.0.1:{server.port}/ ",
                     f"http://ci-bot:{self.PASSWORD}@127.0.0.1:99999"]
            for index, host in enumerate(hosts):
                for via in ("flag", "KFP_HOST"):
                    with self.subTest(host=host, via=via):
                        out = self.tmp / f"{index}-{via}"
                        out.mkdir()
                        env = {k: v for k, v in os.environ.items()
                               if not k.startswith(("GITHUB_", "KFP_", "KF_PIPELINES"))}
                        (out / "termination-log").write_text("")
                        env.update({"GITHUB_OUTPUT": str(out / "github_output"),
                                    "GITHUB_STEP_SUMMARY": str(out / "summary.md"), "GITHUB_ACTIONS": "true",
                                    "KFP_TERMINATION_LOG": str(out / "termination-log")})
                        argv = [str(self.publish_binary), "-v", "-v", "publish", str(self.package), "--pipeline",
                                "hello", "--run", "--experiment", "ci", "--param", "message=hi", "--wait",
                                "-o", "json", "--report", str(out / "report.json"), "--results-dir",
                                str(out / "results")]
                        if via == "flag":
                            argv += ["--host", host]
                        else:
                            env["KFP_HOST"] = host
                        code, stdout, stderr, _ = run_measured(argv, env, HOSTILE_SUBPROCESS_TIMEOUT_S)
                        self.assertEqual(code, 2, stderr)
                        error = json.loads(stdout)["error"]
                        self.assertEqual(error["kind"], "usage")
                        self.assertIn("--host" if via == "flag" else "KFP_HOST", error["message"])
                        self.assertTrue("user info" in error["message"] or "whitespace" in error["message"], error)
                        texts = [stdout, stderr] + [p.read_text() for p in out.rglob("*") if p.is_file()]
                        self.assertGreaterEqual(len(texts), 5, "not every channel was written")
                        for text in texts:
                            self.assertNotIn(self.PASSWORD, text)
            self.assertEqual(server.requests, [], "a request went out with credentials in the host")


def write_certificate(directory, ca, name, san):
    """A server key and certificate for `san` signed by the test CA `ca` = (ca.pem, ca.key)."""
    d = pathlib.Path(directory)
    run = lambda *a: subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / f"{name}.key"),
        "-out", str(d / f"{name}.csr"), "-subj", f"/CN={name}")
    (d / f"{name}.cnf").write_text(f"subjectAltName={san}\n")
    run("openssl", "x509", "-req", "-in", str(d / f"{name}.csr"), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
        "-CAcreateserial", "-out", str(d / f"{name}.pem"), "-days", "2", "-extfile", str(d / f"{name}.cnf"))
    return d / f"{name}.pem", d / f"{name}.key"


class TlsTest(PublishTestCase):
    def setUp(self):
        super().setUp()
        self.tls_dir = self.tmp / "tls"
        self.tls_dir.mkdir()
        cert, key, self.ca = harness.generate_tls(self.tls_dir)
        self.tls_emu = self.start_emulator(*self.emulator_flags, "--token-key", str(self.rsa_key()),
                                           tls=(cert, key, self.ca))

    def publish(self, *extra, host=None):
        return self.kfp("publish", self.package(), "--pipeline", "hello", "-o", "json", "--retries", "1",
                        *extra, host=host or self.tls_emu.url)

    def test_works_with_the_test_ca(self):
        result = self.publish("--ca-file", self.ca)
        self.assertEqual(result.code, 0, result)
        self.assertEqual(result.report()["outcome"], "created")
        self.assertEqual(len(self.tls_emu.state()["pipelines"]), 1)

    def test_ca_from_the_environment(self):
        result = self.kfp("publish", self.package(), "--pipeline", "hello", "-o", "json", host=self.tls_emu.url,
                          env={"KFP_CA_FILE": str(self.ca)})
        self.assertEqual(result.code, 0, result)

    def test_unknown_ca_is_exit_7_tls(self):
        result = self.publish()
        self.assertEqual(result.code, 7, result)
        self.assertEqual(result.report()["error"]["kind"], "tls")
        self.assertEqual(self.tls_emu.state().get("pipelines", []), [])

    def test_host_name_mismatch_is_exit_7_tls(self):
        # A certificate from the trusted CA, but for another name than the one in --host.
        ca_key = self.tls_dir / "ca.key"
        cert, key = write_certificate(self.tls_dir, (self.ca, ca_key), "other", "DNS:kfp.other.example")
        other = self.start_emulator(*self.emulator_flags, "--token-key", str(self.rsa_key()), tls=(cert, key, self.ca))
        for host in (f"https://127.0.0.1:{other.port}", f"https://localhost:{other.port}"):
            with self.subTest(host=host):
                result = self.publish("--ca-file", self.ca, host=host)
                self.assertEqual(result.code, 7, result)
                error = result.report()["error"]
                self.assertEqual(error["kind"], "tls")
                self.assertIn("subjectAltName", error.get("hint", ""))

    def test_plain_http_to_a_tls_port_is_not_a_hang(self):
        result = self.publish(host=f"http://127.0.0.1:{self.tls_emu.port}")
        self.assertEqual(result.code, 7, result)


class SecretHygieneTest(PublishTestCase):
    """The main scenarios at -v -v with every output channel on; the token (and its signature on its
    own) must appear in none of them."""

    emulator_flags = ("--auth", "token", "--run-duration", "100ms")

    extra_secrets = ()

    def secrets(self):
        tokens = [self.token, *self.extra_secrets]
        return tokens + [t.rsplit(".", 1)[1] for t in tokens]

    def run_scenario(self, name, *args, token_file=None, env=None, expect=None):
        out = self.tmp / name
        out.mkdir()
        files_env = {"GITHUB_OUTPUT": str(out / "github_output"), "GITHUB_STEP_SUMMARY": str(out / "summary.md"),
                     "GITHUB_ACTIONS": "true", "KFP_TERMINATION_LOG": str(out / "termination-log")}
        files_env.update(env or {})
        result = self.kfp("-v", "-v", *args, "--report", out / "report.json", "--results-dir", out / "results",
                          token_file=token_file, env=files_env)
        if expect is not None:
            self.assertEqual(result.code, expect, result)
        written = [p for p in out.rglob("*") if p.is_file()]
        self.assertIn(out / "report.json", written, f"{name}: no report written")
        for secret in self.secrets():
            for label, text in [("stdout", result.stdout), ("stderr", result.stderr)] + \
                    [(str(p), p.read_text(errors="replace")) for p in written]:
                self.assertNotIn(secret, text, f"{name}: a token part leaked into {label}")
        return result

    def test_no_scenario_leaks_the_token(self):
        pkg = self.package()
        run = ("--run", "--experiment", "ci", "--param", "message=hi", "--wait")
        self.run_scenario("created", "publish", pkg, "--pipeline", "hello", expect=0)
        self.run_scenario("unchanged-json", "publish", pkg, "--pipeline", "hello", "-o", "json", expect=0)
        self.run_scenario("run-wait", "publish", pkg, "--pipeline", "hello", *run, "--run-key", "a", expect=0)
        self.emu.set_outcome("FAILED")
        self.run_scenario("run-failed", "run", "--pipeline", "hello", "--experiment", "ci", "--param", "message=hi",
                          "--wait", "--run-key", "b", "-o", "json", expect=1)
        for kind in ("lost_response", "reset"):
            self.emu.add_fault(method="POST", path="/apis/v2beta1/runs", kind=kind, count=1)
        self.emu.add_fault(method="GET", path="/apis/v2beta1/", kind="status", status=503, count=2)
        self.run_scenario("faults", "run", "--pipeline", "hello", "--experiment", "ci", "--param", "message=hi",
                          "--run-key", "c", "--retries", "6", expect=0)
        self.run_scenario("not-found", "run", "--pipeline", "nope", "--experiment", "ci", expect=6)
        self.run_scenario("bad-params", "run", "--pipeline", "hello", "--experiment", "ci", "--param", "x=1",
                          "-o", "json", expect=3)
        forged_key = harness.generate_rsa_key(self.tmp)
        forged = self.write("forged", self.emu.mint_token(forged_key, SUBJECT))
        self.extra_secrets = (forged.read_text(),)
        self.run_scenario("unauthenticated", "publish", pkg, "--pipeline", "hello", token_file=forged, expect=4)
        self.extra_secrets = ()
        self.emu.stop()
        self.run_scenario("server-down", "publish", pkg, "--pipeline", "hello", "--retries", "1", expect=7)

    def test_doctor_does_not_leak_the_token(self):
        probe = self.kfp("--help", token_file=False, host=False)
        if "doctor" not in probe.stdout:
            self.skipTest("skipped: this build has no doctor command")
        self.run_scenario("doctor", "doctor")


if __name__ == "__main__":
    unittest.main()
