"""`kfp-emulator --ui-proxy` against the REAL KFP UI server (frontend/server of 2.3.0 and 2.17.0,
built from ../shared/upstream with its lockfile by tests/ui-server/build.sh): both stand in front of
the same emulated API server and must answer every request the same way, while the API server is
up and after it is gone. Skips with the reason when node/npm or ../shared are missing or the
build fails."""

import http.client
import os
import pathlib
import re
import socket
import subprocess
import time
import unittest

import harness
from harness import EmulatorTestCase

UI_RELEASES = ("2.3.0", "2.17.0")
BUILD = harness.source_dir() / "tests" / "ui-server" / "build.sh"
# Headers whose values differ between two correct answers.
VOLATILE = {"date"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raw_request(port, method, path, body=None, headers=None):
    """One request on a new connection: (status, reason, [(name, value)] as sent, body, closed)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=harness.REQUEST_TIMEOUT_S)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, response.reason, response.getheaders(), data, response.will_close
    finally:
        connection.close()


class RealUiServer:
    def __init__(self, test, release, api_port):
        self.release = release
        shared = harness.shared_dir()
        if shared is None:
            test.skipTest("skipped: ../shared (KFP_SHARED_DIR) is absent, no UI server source")
        cache = os.environ.get("KFP_UI_SERVER_CACHE")
        argv = [str(BUILD), release] + ([cache] if cache else [])
        built = subprocess.run(argv, capture_output=True, text=True, timeout=1500,
                               env={**os.environ, "KFP_SHARED_DIR": str(shared)})
        if built.returncode != 0:
            test.skipTest(f"skipped: {built.stderr.strip()[-500:]}")
        self.directory = pathlib.Path(built.stdout.strip().splitlines()[-1])
        self.port = free_port()
        env = {**os.environ, "ML_PIPELINE_SERVICE_HOST": "127.0.0.1", "ML_PIPELINE_SERVICE_PORT": str(api_port),
               "NODE_ENV": "production"}
        self.log = open(test.tmp / f"ui-{release}.log", "w")
        self.process = subprocess.Popen(["node", "dist/server.js", "static", str(self.port)], cwd=self.directory,
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT)
        test.addCleanup(self.stop)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        test.fail(f"the real UI server did not start: {(test.tmp / f'ui-{release}.log').read_text()[-2000:]}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.log.close()


class TestUiServerFidelity(EmulatorTestCase):
    """Every request goes to the real UI server and to the emulator's UI mode; the answers must be
    the same: status, reason, header names and order, values (but Date), body, and whether the
    connection closes. Ports and ids are normalised."""

    def normalise(self, text, ports):
        for port in ports:
            text = text.replace(str(port), "<port>")
        return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", text)

    def answer(self, port, ports, method, path, body=None, headers=None):
        status, reason, header_list, data, closed = raw_request(port, method, path, body, headers)
        names = [(name, "<volatile>" if name.lower() in VOLATILE else self.normalise(value, ports))
                 for name, value in header_list]
        text = self.normalise(data.decode("utf-8", "replace"), ports)
        # An ETag is a hash of the body, which holds ids; compare it only when the body has none.
        if "<uuid>" in text:
            names = [(n, "<etag>" if n.lower() == "etag" else v) for n, v in names]
        return {"status": status, "reason": reason, "headers": names, "body": text, "closed": closed}

    def compare(self, release):
        # One API server behind each UI, so both see the same sequence of requests.
        api_real = self.start_emulator("--server-version", release)
        api_ours = self.start_emulator("--server-version", release)
        real = RealUiServer(self, release, api_real.port)
        ours = self.start_emulator("--server-version", release, "--ui-proxy", api_ours.url)
        ports = (real.port, ours.port)
        upload_boundary = "BOUNDARY"
        upload = (f"--{upload_boundary}\r\nContent-Disposition: form-data; name=\"uploadfile\"; "
                  f"filename=\"a.txt\"\r\n\r\nnot a pipeline\r\n--{upload_boundary}--\r\n").encode()
        requests = [
            ("GET", "/apis/v2beta1/healthz", None, None),
            ("GET", "/apis/v1beta1/healthz", None, None),
            ("GET", "/pipeline/apis/v2beta1/healthz/", None, None),
            ("GET", "/APIS/V2BETA1/HEALTHZ?x=1", None, None),
            ("GET", "/apis/v2beta1/healthz", None, {"Connection": "close"}),
            ("GET", "/apis/v2beta1/pipelines", None, None),
            ("GET", "/pipeline/apis/v2beta1/pipelines?page_size=5", None, None),
            ("GET", "/apis/v2beta1/pipelines/nope", None, None),
            ("POST", "/apis/v2beta1/experiments", b'{"display_name":"ci"}', {"Content-Type": "application/json"}),
            ("POST", "/apis/v2beta1/experiments", b'{"display_name":"ci"}', {"Content-Type": "application/json"}),
            ("POST", "/apis/v2beta1/pipelines/upload", upload,
             {"Content-Type": f"multipart/form-data; boundary={upload_boundary}"}),
            ("PUT", "/apis/v2beta1/pipelines", b"{}", None),
            ("GET", "/apis/v1beta1/workflows?a=b", None, None),
            ("POST", "/apis/v1beta1/runs/abc:reportMetrics", b"{}", None),
            ("GET", "/pipeline/apis/v1beta1/scheduledworkflows", None, None),
            ("GET", "/apis/v2beta1/_proxy/x", None, None),
            ("GET", "/nothing", None, None),
        ]
        for method, path, body, headers in requests:
            with self.subTest(release=release, api="up", request=f"{method} {path}"):
                expected = self.answer(real.port, ports, method, path, body, headers)
                actual = self.answer(ours.port, ports, method, path, body, headers)
                self.assertEqual(actual, expected)
        api_real.stop()
        api_ours.stop()
        for method, path in (("GET", "/apis/v2beta1/pipelines?a=1"), ("POST", "/apis/v1beta1/experiments"),
                             ("GET", "/apis/v2beta1/healthz"), ("GET", "/apis/v1beta1/healthz")):
            with self.subTest(release=release, api="down", request=f"{method} {path}"):
                expected = self.answer(real.port, ports, method, path)
                actual = self.answer(ours.port, ports, method, path)
                self.assertEqual(actual, expected)

    def test_2_17_0(self):
        self.compare("2.17.0")

    def test_2_3_0(self):
        self.compare("2.3.0")


class TestUiProxyMode(EmulatorTestCase):
    """The emulator's UI mode alone (runs without node): what a client meets through ml-pipeline-ui."""

    def test_healthz_is_its_own_and_stale_when_the_api_is_down(self):
        api = self.start_emulator("--server-version", "2.17.0")
        ui = self.start_emulator("--server-version", "2.17.0", "--ui-proxy", api.url)
        up = ui.get("/apis/v2beta1/healthz").json()
        self.assertIs(up["apiServerReady"], True)
        self.assertEqual(up["apiServerTagName"], "2.17.0")
        self.assertEqual(up["pipelineStore"], "database")
        self.assertNotIn("tag_name", up)
        api.stop()
        down = ui.get("/apis/v2beta1/healthz", fresh=True)
        self.assertEqual(down.status, 200)
        self.assertIs(down.json()["apiServerReady"], False)
        self.assertEqual(down.json()["apiServerTagName"], "2.17.0")  # stale
        proxied = ui.get("/apis/v2beta1/pipelines", fresh=True)
        self.assertEqual(proxied.status, 504)
        self.assertTrue(proxied.text.startswith("Error occurred while trying to proxy: "))

    def test_slow_api_healthz_is_not_ready_after_one_second(self):
        api = self.start_emulator("--server-version", "2.3.0")
        ui = self.start_emulator("--server-version", "2.3.0", "--ui-proxy", api.url)
        api.add_fault(method="GET", path="/apis/v2beta1/healthz", kind="delay", delay="2s")
        slow = ui.get("/apis/v2beta1/healthz", fresh=True).json()
        self.assertIs(slow["apiServerReady"], False)
        self.assertNotIn("pipelineStore", slow)
        self.assertIs(ui.get("/apis/v2beta1/healthz", fresh=True).json()["apiServerReady"], True)

    def test_proxied_answers_close_the_connection(self):
        api = self.start_emulator()
        ui = self.start_emulator("--ui-proxy", api.url)
        # The API server under test serves v2beta1 from 2.0 on; 1.8.5 only v1beta1 (main.go:127-135).
        path = "/apis/v1beta1/pipelines" if harness.server_version() == "1.8.5" else "/apis/v2beta1/pipelines"
        r = ui.get("/pipeline" + path)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["connection"], "close")
        self.assertEqual(r.headers["x-powered-by"], "Express")
        self.assertEqual([e["path"] for e in api.requests_log()], [path])


if __name__ == "__main__":
    unittest.main()
