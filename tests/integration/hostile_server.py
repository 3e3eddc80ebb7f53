"""A scriptable hostile HTTP server for the reliability and security tests (Python stdlib only).

It answers `GET .../healthz` like a single-user KFP 2.17 server, so the client gets past server
detection, and every other request with the behaviour it was started with:

  trickle        headers, then one body byte every TRICKLE_INTERVAL_S, forever
  endless        a chunked body that never ends, sent as fast as the client reads
  huge_json      a well-formed JSON object larger than 8 MiB, with its Content-Length
  invalid_json   200, application/json, a body that is not JSON
  html           200 with text/html (the wrong content type): a login page
  redirect       302 to another host (`redirect_to`), which must never be contacted
  unauthorized   401 JSON, as the API server answers a bad token
  normal_error   404 JSON
  echo_json      `status` (default 500) with a JSON error body whose message, error_message and details
                 repeat every request header (the Authorization header first, after padding that puts
                 the cut of a 600-character excerpt inside the token)
  echo_text      `status` (default 500) text/plain: the request head as received, padded the same way
  echo_objects   200 with objects (pipelines, versions, experiments, runs) whose ids, names, states,
                 descriptions and URLs are the Authorization header; healthz echoes it too

Every request is recorded (method, path, headers) so tests can check where the token went.
"""

import json
import socket
import threading
import time

TRICKLE_INTERVAL_S = 0.2
HUGE_JSON_BYTES = 9 * 1024 * 1024
ENDLESS_CHUNK = b"x" * 65536
# Characters before the echoed Authorization header: the client quotes at most 600 characters of an
# error body, so the cut falls inside the token.
ECHO_PADDING = 420

HEALTHZ = json.dumps({"commit_sha": "hostile", "tag_name": "2.17.0", "multi_user": False}).encode()


class RecordedRequest:
    def __init__(self, method, path, headers):
        self.method = method
        self.path = path
        self.headers = headers  # dict, lower-case names

    def __repr__(self):
        return f"{self.method} {self.path}"


class HostileServer:
    """Listens on 127.0.0.1:0; use as a context manager. `behaviour` is one of the names above."""

    def __init__(self, behaviour="normal_error", redirect_to=None, status=500):
        self.behaviour = behaviour
        self.redirect_to = redirect_to
        self.status = status
        self.requests = []
        self.connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _read_request(self, client, buffer):
        while b"\r\n\r\n" not in buffer:
            data = client.recv(65536)
            if not data:
                return None, buffer
            buffer += data
        head, _, rest = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        while len(rest) < length:
            data = client.recv(65536)
            if not data:
                return None, b""
            rest += data
        return RecordedRequest(method, path, headers), rest[length:]

    def _serve(self, client):
        client.settimeout(30)
        buffer = b""
        try:
            while not self._stop.is_set():
                request, buffer = self._read_request(client, buffer)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                if request.path.split("?")[0].endswith("/healthz"):
                    self._send(client, 200, "application/json", self._healthz(request))
                    continue
                if not self._misbehave(client, request):
                    return
        except OSError:
            pass
        finally:
            client.close()

    def _healthz(self, request):
        if self.behaviour != "echo_objects":
            return HEALTHZ
        echo = request.headers.get("authorization", "")
        return json.dumps({"commit_sha": echo, "tag_name": "2.17.0", "multi_user": False}).encode()

    @staticmethod
    def _echo(request):
        """Every request header as text, the Authorization header first after ECHO_PADDING characters."""
        headers = sorted(request.headers.items(), key=lambda item: item[0] != "authorization")
        dump = "; ".join(f"{name}: {value}" for name, value in headers)
        return "x" * ECHO_PADDING + f" {request.method} {request.path} {dump}"

    def _echo_objects(self, request):
        echo = request.headers.get("authorization", "")
        pipeline = {"pipeline_id": echo, "display_name": echo, "description": echo, "created_at": "2024-01-01T00:00:00Z"}
        version = {"pipeline_id": echo, "pipeline_version_id": echo, "display_name": echo, "description": echo,
                   "tags": {"kfp-publish-digest": echo}}
        experiment = {"experiment_id": echo, "display_name": echo, "description": echo}
        run = {"run_id": echo, "display_name": echo, "description": echo, "state": echo, "experiment_id": echo,
               "pipeline_version_reference": {"pipeline_id": echo, "pipeline_version_id": echo},
               "error": {"message": echo}}
        body = {"pipelines": [pipeline], "pipeline_versions": [version], "experiments": [experiment], "runs": [run],
                "total_size": 1, "next_page_token": "", **pipeline, **version, **experiment, **run}
        return json.dumps(body).encode()

    @staticmethod
    def _send(client, status, content_type, body, extra=""):
        reason = {200: "OK", 302: "Found", 401: "Unauthorized", 404: "Not Found"}.get(status, "Status")
        head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\n{extra}\r\n").encode()
        client.sendall(head + body)

    def _misbehave(self, client, request):
        """Answers one request; returns whether the connection may serve another."""
        b = self.behaviour
        if b == "echo_json":
            echo = self._echo(request)
            body = {"code": 13, "message": echo, "error_message": echo, "error_details": echo,
                    "details": [{"@type": "type.googleapis.com/google.rpc.Status", "message": echo}]}
            self._send(client, self.status, "application/json", json.dumps(body).encode())
            return True
        if b == "echo_text":
            self._send(client, self.status, "text/plain", self._echo(request).encode())
            return True
        if b == "echo_objects":
            self._send(client, 200, "application/json", self._echo_objects(request))
            return True
        if b == "trickle":
            client.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
            while not self._stop.is_set():
                client.sendall(b" ")
                time.sleep(TRICKLE_INTERVAL_S)
            return False
        if b == "endless":
            client.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = f"{len(ENDLESS_CHUNK):x}\r\n".encode() + ENDLESS_CHUNK + b"\r\n"
            while not self._stop.is_set():
                client.sendall(chunk)
            return False
        if b == "huge_json":
            filler = "a" * (HUGE_JSON_BYTES)
            self._send(client, 200, "application/json", json.dumps({"pipelines": [], "padding": filler}).encode())
            return True
        if b == "invalid_json":
            self._send(client, 200, "application/json", b'{"pipelines": [{"pipeline_id": ')
            return True
        if b == "html":
            self._send(client, 200, "text/html; charset=utf-8",
                       b"<!DOCTYPE html><html><body><form action=/dex/auth>Log in</form></body></html>")
            return True
        if b == "redirect":
            self._send(client, 302, "text/html", b"<a>moved</a>",
                       extra=f"Location: {self.redirect_to}/apis/v2beta1/pipelines\r\n")
            return True
        if b == "unauthorized":
            self._send(client, 401, "application/json",
                       json.dumps({"code": 16, "message": "Unauthenticated: token is invalid"}).encode())
            return True
        self._send(client, 404, "application/json", json.dumps({"code": 5, "message": "Not Found"}).encode())
        return True
