"""Shared helpers for the integration tests: start kfp-emulator on a free port, call the KFP API
and the emulator's control endpoints, mint service-account tokens, locate the binaries.

Python 3 standard library only. Binaries come from KFP_EMULATOR_BIN and KFP_PUBLISH_BIN (CTest
sets them); KFP_SHARED_DIR points at ../shared (corpus, specs, contract checker).
"""

import http.client
import json
import os
import pathlib
import shutil
import ssl
import subprocess
import tempfile
import threading
import unittest
import urllib.parse
import uuid

STARTUP_TIMEOUT_S = 15
REQUEST_TIMEOUT_S = 30


def source_dir():
    return pathlib.Path(os.environ.get("KFP_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))


def shared_dir():
    """The ../shared directory, or None when it is absent."""
    path = pathlib.Path(os.environ.get("KFP_SHARED_DIR", source_dir().parent / "shared"))
    return path if path.is_dir() else None


def _binary(env_name, build_relative):
    value = os.environ.get(env_name)
    if value:
        return pathlib.Path(value)
    for build in ("build", "build-emu"):
        candidate = source_dir() / build / build_relative
        if candidate.exists():
            return candidate
    return None


# The KFP server release the emulator imitates when a test does not name one: CTest registers the
# release-sensitive suites once per release with KFP_EMULATOR_SERVER_VERSION set (CMakeLists.txt).
SERVER_VERSIONS = ("1.8.5", "2.0.5", "2.3.0", "2.5.0", "2.15.0", "2.17.0")


def server_version():
    """The release under test: KFP_EMULATOR_SERVER_VERSION, else the emulator's default 2.17.0."""
    version = os.environ.get("KFP_EMULATOR_SERVER_VERSION") or "2.17.0"
    if version not in SERVER_VERSIONS:
        raise RuntimeError(f"KFP_EMULATOR_SERVER_VERSION={version} is not one of {', '.join(SERVER_VERSIONS)}")
    return version


def v2_yaml_unreadable():
    """Why the release under test cannot take the KFP v2 YAML examples, or None: KFP 1.8 reads a v2
    PipelineSpec only as JSON, and kfp-publish refuses the YAML there (exit 3)."""
    if server_version() == "1.8.5":
        return ("skipped on KFP 1.8.5: it reads a KFP v2 PipelineSpec only as JSON (kfp-1.8.5 "
                "backend/src/apiserver/template/template.go:106-110), so kfp-publish refuses the v2 YAML "
                "examples there (exit 3); test_v1_publish covers 1.8")
    return None


def emulator_bin():
    return _binary("KFP_EMULATOR_BIN", "tests/kfp-emulator/kfp-emulator")


def publish_bin():
    return _binary("KFP_PUBLISH_BIN", "agent/kfp-publish")


def require_publish(test):
    """Skips `test` (a TestCase) with a reason when the kfp-publish binary is missing."""
    binary = publish_bin()
    if binary is None or not binary.exists():
        test.skipTest("kfp-publish binary not found: set KFP_PUBLISH_BIN")
    return binary


def require_emulator(test):
    """Skips `test` (a TestCase) with a reason when the emulator binary is missing."""
    binary = emulator_bin()
    if binary is None or not binary.exists():
        test.skipTest("kfp-emulator binary not found: set KFP_EMULATOR_BIN")
    return binary


def filter_param(predicates, dialect="v2beta1"):
    """A filter query value as the server expects it: the JSON escaped once more, because the
    server unescapes the already-decoded value a second time (NOTES.md B.4)."""
    op_key = "operation" if dialect == "v2beta1" else "op"
    items = []
    for p in predicates:
        p = dict(p)
        if "op" in p and op_key != "op":
            p[op_key] = p.pop("op")
        if "operation" in p and op_key != "operation":
            p[op_key] = p.pop("operation")
        items.append(p)
    return urllib.parse.quote(urllib.parse.quote_plus(json.dumps({"predicates": items})), safe="")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict with lowercase names
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body) if self.body else {}

    def __repr__(self):
        return f"Response({self.status}, {self.text[:300]!r})"


class Emulator:
    """A running kfp-emulator. Use as a context manager or call start()/stop()."""

    def __init__(self, *flags, binary=None, tls=None):
        self.binary = pathlib.Path(binary or emulator_bin())
        self.flags = [str(f) for f in flags]
        self.tls = tls  # (cert, key, ca) paths when serving HTTPS
        self.process = None
        self.port = None
        self.output = []
        self._connection = None

    def start(self):
        flags = list(self.flags)
        if "--server-version" not in flags and "--ui-proxy" not in flags:
            flags += ["--server-version", server_version()]
        self.server_version = flags[flags.index("--server-version") + 1] if "--server-version" in flags else None
        argv = [str(self.binary), "--listen", "127.0.0.1:0", *flags]
        if self.tls:
            argv += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = threading.Event()

        def read_stdout():
            for line in self.process.stdout:
                self.output.append(line)
                if line.startswith("listening on 127.0.0.1:") and self.port is None:
                    self.port = int(line.strip().rsplit(":", 1)[1])
                    ready.set()
            ready.set()

        threading.Thread(target=read_stdout, daemon=True).start()
        if not ready.wait(STARTUP_TIMEOUT_S) or self.port is None:
            self.stop()
            raise RuntimeError(f"kfp-emulator did not start: {''.join(self.output)}")
        return self

    def stop(self):
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None:
            for stream in (self.process.stdout, self.process.stderr):
                if stream:
                    stream.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def scheme(self):
        return "https" if self.tls else "http"

    @property
    def url(self):
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def _new_connection(self):
        if self.tls:
            context = ssl.create_default_context(cafile=str(self.tls[2]))
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_S,
                                               context=context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_S)

    def request(self, method, path, body=None, query=None, token=None, headers=None, fresh=False):
        """One request on a kept-alive connection (fresh=True: a new one). `body` may be a dict
        (sent as JSON), bytes or str. `query` is a dict or a ready string. Returns Response;
        connection errors (lost responses, resets) propagate."""
        if query:
            path += "?" + (query if isinstance(query, str) else urllib.parse.urlencode(query))
        all_headers = {"accept": "application/json"}
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            all_headers["content-type"] = "application/json"
        elif isinstance(body, str):
            body = body.encode()
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        if fresh or self._connection is None:
            if self._connection is not None:
                self._connection.close()
            self._connection = self._new_connection()
        connection = self._connection
        try:
            connection.request(method, path, body=body, headers=all_headers)
            reply = connection.getresponse()
            data = reply.read()
        except Exception:
            connection.close()
            self._connection = None
            raise
        if reply.getheader("connection", "").lower() == "close":
            connection.close()
            self._connection = None
        return Response(reply.status, {k.lower(): v for k, v in reply.getheaders()}, data)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body if body is not None else b"", **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def upload(self, content, filename, query=None, api="v2beta1", version=False, token=None,
               field="uploadfile"):
        """Multipart upload of `content` (bytes or a path) as `filename`."""
        if isinstance(content, (str, pathlib.Path)) and pathlib.Path(content).exists():
            content = pathlib.Path(content).read_bytes()
        boundary = uuid.uuid4().hex
        disposition = f'form-data; name="{field}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body = (f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + \
            f"\r\n--{boundary}--\r\n".encode()
        path = f"/apis/{api}/pipelines/" + ("upload_version" if version else "upload")
        return self.request("POST", path, body=body, query=query, token=token,
                            headers={"content-type": f"multipart/form-data; boundary={boundary}"})

    # Control endpoints -------------------------------------------------------------------------

    def add_fault(self, **fault):
        r = self.post("/_emulator/faults", fault, fresh=True)
        assert r.status == 200, r
        return r.json()

    def clear_faults(self):
        return self.delete("/_emulator/faults")

    def set_outcome(self, outcome, count=1):
        r = self.post("/_emulator/outcomes", {"outcome": outcome, "count": count})
        assert r.status == 200, r
        return r.json()

    def requests_log(self):
        return self.get("/_emulator/requests").json()["requests"]

    def clear_requests(self):
        return self.delete("/_emulator/requests")

    def state(self):
        return self.get("/_emulator/state").json()

    def mint_token(self, key_file, sub, aud=None, ttl=None):
        return mint_token(key_file, sub, aud=aud, ttl=ttl, binary=self.binary)


def generate_rsa_key(directory):
    """An RSA private key PEM written by `openssl genrsa` into `directory`."""
    path = pathlib.Path(directory) / f"key-{uuid.uuid4().hex[:8]}.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(path), "2048"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def mint_token(key_file, sub, aud=None, ttl=None, binary=None):
    argv = [str(binary or emulator_bin()), "mint-token", "--key", str(key_file), "--sub", sub]
    if aud is not None:
        argv += ["--aud", aud]
    if ttl is not None:
        argv += ["--ttl", ttl]
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()


def generate_tls(directory):
    """A CA and a server certificate for 127.0.0.1/localhost; returns (cert, key, ca)."""
    d = pathlib.Path(directory)
    run = lambda *a: subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"), "-subj", "/CN=kfp-emulator test CA")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "server.key"),
        "-out", str(d / "server.csr"), "-subj", "/CN=localhost")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("openssl", "x509", "-req", "-in", str(d / "server.csr"), "-CA", str(d / "ca.pem"),
        "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-out", str(d / "server.pem"), "-days", "2",
        "-extfile", str(d / "ext.cnf"))
    return d / "server.pem", d / "server.key", d / "ca.pem"


class EmulatorTestCase(unittest.TestCase):
    """Gives each test a temp dir and `self.start_emulator(*flags)`, stopped on teardown."""

    def setUp(self):
        self.binary = require_emulator(self)
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="kfp-emu-test-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def start_emulator(self, *flags, tls=None):
        emulator = Emulator(*flags, binary=self.binary, tls=tls).start()
        self.addCleanup(emulator.stop)
        return emulator

    def rsa_key(self):
        if not hasattr(self, "_rsa_key"):
            self._rsa_key = generate_rsa_key(self.tmp)
        return self._rsa_key

    def corpus(self, *parts):
        shared = shared_dir()
        if shared is None:
            self.skipTest("skipped: ../shared (KFP_SHARED_DIR) is absent, no pipeline corpus")
        return shared.joinpath("pipelines-corpus", *parts)


def parse_github_output(text):
    """GITHUB_OUTPUT as the GitHub runner reads it (actions/runner, Runner.Worker/FileCommandManager.cs:
    each non-empty line is NAME=VALUE, or NAME<<DELIMITER opening a block that ends at a line equal to
    DELIMITER; whichever of '=' and '<<' comes first decides). Returns {name: value}; a later value
    of the same name wins, as in the runner. Raises ValueError where the runner fails the step."""
    lines = text.replace("\r\n", "\n").split("\n")
    outputs = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line == "":
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            name, value = line.split("=", 1)
            outputs[name] = value
        elif heredoc >= 0:
            name, delimiter = line.split("<<", 1)
            if not name or not delimiter:
                raise ValueError(f"Invalid format '{line}'. Name must not be empty and delimiter must not be empty")
            body = []
            while index < len(lines) and lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            if index >= len(lines):
                raise ValueError(f"Invalid value. Matching delimiter not found '{delimiter}'")
            index += 1
            outputs[name] = "\n".join(body)
        else:
            raise ValueError(f"Invalid format '{line}'")
    return outputs
