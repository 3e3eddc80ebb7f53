"""kfp-publish doctor against kfp-emulator: every broken link of the access chain is found, reported
as a failed check with the fix that repairs it, and gives the exit code of its error kind."""

import http.server
import json
import os
import pathlib
import shutil
import socket
import subprocess
import threading
import unittest

import harness
from publish_harness import NAMESPACE, SUBJECT, PublishTestCase, publish_env

PRINCIPAL = f"cluster.local/ns/{NAMESPACE}/sa/default-editor"
# The release this run imitates (KFP_EMULATOR_SERVER_VERSION; CMakeLists.txt runs this suite per release).
RELEASE = harness.server_version()
# KFP 1.8's upload endpoints take the identity from kubeflow-userid only (pipeline_upload_server.go
# :224-241 @1.8.5): the pipelines/create probe fails there with a bearer token, whatever the RBAC.
UPLOADS_IGNORE_THE_TOKEN = RELEASE == "1.8.5"
# Suites that walk the releases themselves run once, in the default (2.17.0) run.
DEFAULT_RUN = RELEASE == "2.17.0"


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manifest_body(relative):
    """A manifest without its leading comment block, as doctor prints it for the placeholder account."""
    lines = (harness.source_dir() / relative).read_text().splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "".join(lines)


class UiHealthz(http.server.BaseHTTPRequestHandler):
    """ml-pipeline-ui answering healthz itself, in its own shape (NOTES G); nothing else."""

    def do_GET(self):
        if self.path.startswith("/apis/v2beta1/healthz"):
            body = json.dumps({"apiServerReady": True, "apiServerTagName": "2.5.0", "apiServerMultiUser": True,
                               "frontendTagName": "2.5.0"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        else:
            body = b"Not Found"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


# The in-cluster names of the two Services a Job can call (README "3. Choose how the Job reaches KFP").
UI_HOST = "ml-pipeline-ui.kubeflow.svc.cluster.local"
API_HOST = "ml-pipeline.kubeflow.svc.cluster.local"


def private_mounts_refused():
    """Why names cannot be given to 127.0.0.1 in a private /etc/hosts here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root for a private mount namespace (CI runs as root)"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is missing"
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True,
                           check=False)
    if probe.returncode != 0:
        return "unshare --mount is refused here: " + probe.stderr.decode(errors="replace").strip()
    return None


class DoctorTestCase(PublishTestCase):
    def doctor(self, *args, **kw):
        result = self.kfp("doctor", "-o", "json", "--request-timeout", "5s", "--retries", "0", *args, **kw)
        report = result.report()
        self.assertEqual(report["command"], "doctor")
        self.assertEqual(report["exit_code"], result.code)
        for check in report["checks"]:
            self.assertEqual(set(check), {"name", "status", "detail", "fix"}, check)
            self.assertIn(check["status"], ("ok", "warn", "fail", "skip"))
        return result, report

    def checks(self, report):
        return {c["name"]: c for c in report["checks"]}

    def first_failure(self, report):
        failed = [c for c in report["checks"] if c["status"] == "fail"]
        self.assertTrue(failed, report)
        return failed[0]

    def assert_fine(self, result, report):
        """Nothing is broken: exit 0, or on 1.8 exit 5 from the probe alone, for the 1.8 reason."""
        if not UPLOADS_IGNORE_THE_TOKEN:
            self.assertEqual(result.code, 0, result)
            return
        self.assertEqual(result.code, 5, result)
        failed = [c for c in report["checks"] if c["status"] == "fail"]
        self.assertEqual([c["name"] for c in failed], ["permission pipelines/create"], result)
        self.assertIn("only from the kubeflow-userid header", failed[0]["detail"])

    def dropping_port(self):
        """A loopback port whose listener's accept queue is full, so a connection to it gets no answer,
        as when a NetworkPolicy drops the SYN; open until the test ends."""
        full = socket.socket()
        self.addCleanup(full.close)
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        filler = socket.create_connection(full.getsockname(), timeout=5)
        self.addCleanup(filler.close)
        return full.getsockname()[1]

    def doctor_in_cluster(self, host, *args):
        """doctor run as a pod would run it: the Services' in-cluster names resolve (to 127.0.0.1, in a
        private mount namespace whose /etc/hosts says so, as the kubelet mounts one into a pod)."""
        why = private_mounts_refused()
        if why:
            self.skipTest(why)
        hosts = self.write("hosts", f"127.0.0.1\tlocalhost\n127.0.0.1\t{UI_HOST}\n127.0.0.1\t{API_HOST}\n")
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount --bind "$0" /etc/hosts && exec "$@"', str(hosts), str(self.publish_binary), "doctor",
                "-o", "json", "--retries", "0", "--host", host, "--token-file", str(self.token_file), *args]
        completed = subprocess.run(argv, capture_output=True, text=True, env=publish_env(), timeout=120)
        for stream in (completed.stdout, completed.stderr):
            self.assertNotIn(self.token, stream, "the token leaked into the output")
        report = json.loads(completed.stdout)
        self.assertEqual(report["exit_code"], completed.returncode, completed.stderr)
        return completed.returncode, report

    def restart_emulator(self, *extra, tls=None):
        self.emu.stop()
        self.emu = self.start_emulator(*self.emulator_flags, "--token-key", str(self.rsa_key()), *extra, tls=tls)
        self.host = self.emu.url


class DoctorTest(DoctorTestCase):
    def test_everything_fine(self):
        result, report = self.doctor()
        self.assert_fine(result, report)
        checks = self.checks(report)
        for name in ("token file", "token audience", "token expiry", "token subject", "dns", "tcp",
                     "namespace", "authenticated read", "permission experiments/list", "permission runs/list"):
            self.assertEqual(checks[name]["status"], "ok", checks[name])
        # 1.8 serves v1beta1 only (a warning); its probe fails for the 1.8 reason (assert_fine).
        self.assertEqual(checks["healthz"]["status"], "warn" if RELEASE == "1.8.5" else "ok", checks["healthz"])
        if not UPLOADS_IGNORE_THE_TOKEN:
            self.assertEqual(checks["permission pipelines/create"]["status"], "ok")
            self.assertNotIn("error", report)
        self.assertEqual(checks["tls"]["status"], "skip")
        self.assertEqual(checks["permission experiments,runs/create"]["status"], "warn")
        self.assertIn("not probed", checks["permission experiments,runs/create"]["detail"])
        self.assertIn(RELEASE, checks["healthz"]["detail"])
        self.assertIn("multi-user", checks["healthz"]["detail"])
        self.assertIn("API server", checks["healthz"]["detail"])
        self.assertIn(SUBJECT, checks["token subject"]["detail"])
        self.assertEqual(report["namespace"], NAMESPACE)
        self.assertEqual(report["server"]["version"], RELEASE)
        state = self.state()
        self.assertEqual(state.get("pipelines", []), [], "the permission probe must create nothing")
        self.assertEqual(state.get("pipeline_versions", []), [])
        probes = [r for r in self.uploads_logged()]
        # Past the authorization check the template is refused: 400 from 2.17, 500 before; 1.8's
        # authorization check itself answers 400, and doctor then probes a shared upload (no
        # namespace, which 1.8 does not authorize: pipeline_upload_server.go 1.8.5 :224), refused
        # past that check with a 500, to show that --shared-pipeline works there.
        if RELEASE == "1.8.5":
            self.assertEqual([(p["query"], p["status"]) for p in probes],
                             [(f"name=kfp-publish-doctor-probe&namespace={NAMESPACE}", 400),
                              ("name=kfp-publish-doctor-probe", 500)], probes)
        else:
            self.assertEqual(len(probes), 1, probes)
            self.assertEqual(probes[0]["status"], 400 if RELEASE == "2.17.0" else 500, probes)

    def test_text_output_lists_every_check(self):
        result = self.kfp("doctor", "--retries", "0", token_file=self.tmp / "absent")
        self.assertEqual(result.code, 4, result)
        self.assertIn("[FAIL] token file", result.stdout)
        self.assertIn("fix: mount a projected service-account token", result.stdout)
        self.assertIn("[warn] healthz" if RELEASE == "1.8.5" else "[ok]   healthz", result.stdout)

    def test_missing_token_file(self):
        result, report = self.doctor(token_file=self.tmp / "absent")
        self.assertEqual(result.code, 4, result)
        failed = self.first_failure(report)
        self.assertEqual(failed["name"], "token file")
        self.assertIn("does not exist", failed["detail"])
        self.assertIn("audience pipelines.kubeflow.org", failed["fix"])
        self.assertEqual(self.checks(report)["token audience"]["status"], "skip")
        self.assertEqual(report["error"]["kind"], "unauthenticated")

    def test_absent_default_token_fails_only_on_a_multi_user_server(self):
        default = pathlib.Path("/var/run/secrets/kubeflow/pipelines/token")
        if default.exists():
            self.skipTest(f"skipped: {default} exists on this machine")
        result, report = self.doctor(token_file=False)
        self.assertEqual(result.code, 4, result)
        failed = self.first_failure(report)
        self.assertEqual(failed["name"], "token file")
        self.assertIn("multi-user", failed["detail"])

        single = self.start_emulator("--auth", "none")
        result, report = self.doctor(token_file=False, host=single.url)
        self.assertEqual(result.code, 0, result)
        checks = self.checks(report)
        self.assertEqual(checks["token file"]["status"], "warn")
        self.assertIn("single-user", checks["healthz"]["detail"])
        self.assertEqual(checks["authenticated read"]["status"], "ok")

    def test_token_file_is_a_directory(self):
        result, report = self.doctor(token_file=self.tmp)
        self.assertEqual(result.code, 4, result)
        self.assertEqual(self.first_failure(report)["name"], "token file")

    def test_not_a_jwt(self):
        result, report = self.doctor(token_file=self.write("plain", "not-a-jwt-at-all"))
        self.assertEqual(result.code, 4, result)
        failed = self.first_failure(report)
        self.assertEqual(failed["name"], "token claims")
        self.assertIn("not a JWT", failed["detail"])
        self.assertIn("service-account token", failed["fix"])

    def test_wrong_audience(self):
        token = self.emu.mint_token(self.rsa_key(), SUBJECT, aud="https://kubernetes.default.svc")
        result, report = self.doctor(token_file=self.write("aud", token))
        self.assertEqual(result.code, 4, result)
        failed = self.first_failure(report)
        self.assertEqual(failed["name"], "token audience")
        self.assertIn("kubernetes.default.svc", failed["detail"])
        self.assertIn("audience: pipelines.kubeflow.org", failed["fix"])
        self.assertEqual(report["error"]["kind"], "wrong_audience")
        # The server agrees: the authenticated read fails with 401.
        self.assertEqual(self.checks(report)["authenticated read"]["status"], "fail")

    def test_expired(self):
        token = self.emu.mint_token(self.rsa_key(), SUBJECT, ttl="-10m")
        result, report = self.doctor(token_file=self.write("expired", token))
        self.assertEqual(result.code, 4, result)
        failed = self.first_failure(report)
        self.assertEqual(failed["name"], "token expiry")
        self.assertIn("expired", failed["detail"])
        self.assertIn("kubectl create token", failed["fix"])
        self.assertEqual(report["error"]["kind"], "token_expired")

    def test_expiring_soon_is_a_warning(self):
        token = self.emu.mint_token(self.rsa_key(), SUBJECT, ttl="5m")
        result, report = self.doctor(token_file=self.write("soon", token))
        self.assert_fine(result, report)
        self.assertEqual(self.checks(report)["token expiry"]["status"], "warn")

    def test_dns_failure(self):
        result, report = self.doctor(host="http://nonexistent.invalid:8888")
        self.assertEqual(result.code, 7, result)
        failed = self.first_failure(report)
        self.assertEqual(failed["name"], "dns")
        self.assertIn("nonexistent.invalid", failed["detail"])
        self.assertIn("--host", failed["fix"])
        checks = self.checks(report)
        self.assertEqual(checks["tcp"]["status"], "skip")
        self.assertEqual(checks["healthz"]["status"], "skip")
        self.assertEqual(checks["authenticated read"]["status"], "skip")
        self.assertEqual(report["error"]["kind"], "network")

    def test_connection_refused(self):
        result, report = self.doctor(host=f"http://127.0.0.1:{closed_port()}")
        self.assertEqual(result.code, 7, result)
        failed = self.first_failure(report)
        self.assertEqual(failed["name"], "tcp")
        self.assertIn("refused", failed["detail"])
        self.assertIn("8888", failed["fix"])
        self.assertEqual(self.checks(report)["dns"]["status"], "ok")

    def test_tls_failure_names_the_ca_file(self):
        cert, key, ca = harness.generate_tls(self.tmp)
        self.restart_emulator(tls=(cert, key, ca))
        result, report = self.doctor()
        self.assertEqual(result.code, 7, result)
        failed = self.first_failure(report)
        self.assertEqual(failed["name"], "tls")
        self.assertIn("certificate", failed["detail"])
        self.assertIn("--ca-file", failed["fix"])
        self.assertEqual(report["error"]["kind"], "tls")
        self.assertEqual(self.checks(report)["tcp"]["status"], "ok")

        good, report = self.doctor("--ca-file", ca)
        self.assert_fine(good, report)
        tls = self.checks(report)["tls"]
        self.assertEqual(tls["status"], "ok", tls)
        self.assertIn("CN=localhost", tls["detail"])
        self.assertIn("verified", tls["detail"])

    def test_istio_denial_names_the_principal_and_the_policy(self):
        self.restart_emulator("--istio-principals", "cluster.local/ns/kubeflow/sa/ml-pipeline-ui")
        result, report = self.doctor()
        self.assertEqual(result.code, 5, result)
        failed = self.first_failure(report)
        # The mesh refuses every /apis/ request, healthz included.
        self.assertEqual(failed["name"], "healthz")
        self.assertIn("Istio", failed["detail"])
        self.assertIn(PRINCIPAL, failed["fix"])
        self.assertIn("kind: AuthorizationPolicy", failed["fix"])
        self.assertIn("name: ml-pipeline-ui-kfp-publish", failed["fix"])
        self.assertEqual(report["error"]["kind"], "istio_denied")
        self.assertEqual(self.checks(report)["authenticated read"]["status"], "skip")
        self.assertEqual(self.checks(report)["permission runs/list"]["status"], "skip")

    def test_fixes_are_the_manifests_yaml(self):
        rules = self.write("rbac.yaml", "- subject: system:serviceaccount:other:ci\n  namespace: other\n"
                                        "  allow: ['*']\n")
        self.restart_emulator("--rbac", rules)
        _, report = self.doctor()
        fix = self.first_failure(report)["fix"]
        # The test account is the manifests' placeholder account, so the YAML is theirs plus the
        # binding's namespace, which the base leaves to kustomize.
        printed = fix.split("<<'EOF'\n", 1)[1].rsplit("EOF", 1)[0]
        self.assertEqual(printed.replace(f"  namespace: {NAMESPACE}\n", "", 1),
                         manifest_body("manifests/base/rbac/rolebinding.yaml"))

        self.restart_emulator("--istio-principals", "cluster.local/ns/kubeflow/sa/ml-pipeline-ui")
        _, report = self.doctor()
        fix = self.first_failure(report)["fix"]
        printed = fix.split("<<'EOF'\n", 1)[1].rsplit("EOF", 1)[0]
        self.assertEqual(printed, manifest_body("manifests/base/istio/authorizationpolicy.yaml"))

    @unittest.skipUnless(DEFAULT_RUN, "names no release")
    def test_the_ui_unreachable_gives_the_network_policy_of_setup_through_ui(self):
        # Kubeflow's ml-pipeline-ui NetworkPolicy admits only istio-system on every release
        # (kubeflow/manifests v1.9.0 to v1.11.0 common/networkpolicies/base/ml-pipeline-ui.yaml): a
        # CNI drops a profile pod's SYN (a timeout) or rejects it (refused). Dropped here by a listener
        # whose accept queue is full; refused by a closed port.
        for how, port in (("dropped", self.dropping_port()), ("refused", closed_port())):
            with self.subTest(how=how):
                code, report = self.doctor_in_cluster(f"http://{UI_HOST}:{port}", "--request-timeout", "1s")
                self.assertEqual(code, 7, report)
                failed = self.first_failure(report)
                self.assertEqual(failed["name"], "tcp", report)
                self.assertIn("within 1s" if how == "dropped" else "refused", failed["detail"])
                self.assertIn("admits only istio-system", failed["fix"])
                self.assertIn("manifests/setup/through-ui", failed["fix"])
                printed = failed["fix"].split("<<'EOF'\n", 1)[1].rsplit("EOF", 1)[0]
                # The test account's namespace is the manifests' placeholder: the YAML is theirs.
                self.assertEqual(printed, manifest_body("manifests/base/networkpolicy/networkpolicy.yaml"))
                self.assertNotIn("AuthorizationPolicy", failed["fix"])

    @unittest.skipUnless(DEFAULT_RUN, "names no release")
    def test_the_api_server_dropping_names_the_profile_label(self):
        code, report = self.doctor_in_cluster(f"http://{API_HOST}:{self.dropping_port()}", "--request-timeout", "1s")
        self.assertEqual(code, 7, report)
        failed = self.first_failure(report)
        self.assertEqual(failed["name"], "tcp", report)
        self.assertIn("app.kubernetes.io/part-of=kubeflow-profile", failed["fix"])
        self.assertIn(f"kubectl get namespace {NAMESPACE}", failed["fix"])

    @unittest.skipUnless(DEFAULT_RUN, "names no release")
    def test_an_istio_denial_is_read_by_route_with_the_release_caveat(self):
        # The installer's AuthorizationPolicies (istio-authorization-config.yaml): ml-pipeline admits
        # any request without kubeflow-userid on every release; ml-pipeline-ui admits only
        # istio-system on 1.9.0 and, from 1.9.1, any request with an authorization header and no
        # kubeflow-userid. So the extra policy is the fix on 1.9.0 only, and never for ml-pipeline.
        self.restart_emulator("--istio-principals", "cluster.local/ns/kubeflow/sa/ml-pipeline-ui")
        port = self.emu.port
        code, report = self.doctor_in_cluster(f"http://{UI_HOST}:{port}")
        self.assertEqual(code, 5, report)
        failed = self.first_failure(report)
        self.assertEqual(failed["name"], "healthz", report)
        self.assertEqual(report["error"]["kind"], "istio_denied")
        fix = failed["fix"]
        self.assertIn("from Kubeflow 1.9.1", fix)
        self.assertIn("no extra policy is needed", fix)
        self.assertIn("for Kubeflow 1.9.0 only", fix)
        self.assertIn("through-ui-mesh", fix)
        self.assertIn(PRINCIPAL, fix)
        self.assertNotIn("port 8888): the installer's", fix)
        printed = fix.split("<<'EOF'\n", 1)[1].rsplit("EOF", 1)[0]
        self.assertEqual(printed, manifest_body("manifests/base/istio/authorizationpolicy.yaml"))

        code, report = self.doctor_in_cluster(f"http://{API_HOST}:{port}")
        self.assertEqual(code, 5, report)
        fix = self.first_failure(report)["fix"]
        self.assertIn("admits any request without a kubeflow-userid header on every Kubeflow release", fix)
        self.assertNotIn("kind: AuthorizationPolicy", fix)

    def test_ui_proxy_healthz_is_told_apart(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), UiHealthz)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        _, report = self.doctor(host=f"http://127.0.0.1:{server.server_address[1]}")
        healthz = self.checks(report)["healthz"]
        self.assertEqual(healthz["status"], "ok", healthz)
        self.assertIn("ml-pipeline-ui", healthz["detail"])
        self.assertIn("2.5.0", healthz["detail"])
        self.assertNotIn("API server itself", healthz["detail"])
        # This stand-in proxies nothing: the read's 404 says --host is not the API.
        self.assertIn("--host", self.checks(report)["authenticated read"]["fix"])
        direct = self.checks(self.doctor()[1])["healthz"]
        self.assertIn("API server itself", direct["detail"])

    def test_rbac_denial_gives_the_rolebinding(self):
        rules = self.write("rbac.yaml", "- subject: system:serviceaccount:other:ci\n  namespace: other\n"
                                        "  allow: ['*']\n")
        self.restart_emulator("--rbac", rules)
        result, report = self.doctor()
        self.assertEqual(result.code, 5, result)
        failed = self.first_failure(report)
        self.assertEqual(failed["name"], "authenticated read")
        self.assertIn("403", failed["detail"])
        fix = failed["fix"]
        self.assertIn("kind: RoleBinding", fix)
        self.assertIn("name: kubeflow-edit", fix)
        self.assertIn(f"  namespace: {NAMESPACE}\n", fix)
        self.assertIn("name: default-editor", fix)
        self.assertEqual(report["error"]["kind"], "forbidden")

    def test_missing_run_permission_is_found_by_the_probes(self):
        rules = self.write("rbac.yaml", f"- subject: {SUBJECT}\n  namespace: {NAMESPACE}\n"
                                        "  allow: ['pipelines/list', 'experiments/list']\n")
        self.restart_emulator("--rbac", rules)
        result, report = self.doctor()
        self.assertEqual(result.code, 5, result)
        checks = self.checks(report)
        self.assertEqual(checks["authenticated read"]["status"], "ok")
        self.assertEqual(checks["permission experiments/list"]["status"], "ok")
        self.assertEqual(checks["permission runs/list"]["status"], "fail")
        self.assertEqual(checks["permission pipelines/create"]["status"], "fail")
        if not UPLOADS_IGNORE_THE_TOKEN:
            self.assertIn("kind: RoleBinding", checks["permission pipelines/create"]["fix"])
        self.assertEqual(self.first_failure(report)["name"], "permission runs/list")
        self.assertEqual(self.state().get("pipelines", []), [])

    @unittest.skipUnless(DEFAULT_RUN, "walks its own release")
    def test_v1_only_server_is_a_warning_and_its_uploads_refuse_the_token(self):
        # KFP 1.8's upload endpoints review only the kubeflow-userid header's identity, never the
        # bearer token (pipeline_upload_server.go:224-241 @1.8.5): the probe is refused whatever the
        # RBAC, and doctor says why.
        self.restart_emulator("--server-version", "1.8.5")
        result, report = self.doctor()
        self.assertEqual(result.code, 5, result)
        healthz = self.checks(report)["healthz"]
        self.assertEqual(healthz["status"], "warn", healthz)
        self.assertIn("1.8.5", healthz["detail"])
        self.assertIn("v1beta1", healthz["detail"])
        self.assertIn("upgrade to KFP 2.x", healthz["fix"])
        self.assertEqual(report["server"]["api"], "v1beta1")
        self.assertEqual(self.checks(report)["authenticated read"]["status"], "ok")
        probe = self.checks(report)["permission pipelines/create"]
        self.assertEqual(probe["status"], "fail", probe)
        self.assertIn("only from the kubeflow-userid header", probe["detail"])
        # The way through: a shared pipeline's upload is not authorized (:225-227); doctor tried it.
        self.assertIn("--shared-pipeline works here", probe["detail"])
        self.assertIn("--shared-pipeline", probe["fix"])
        self.assertEqual(self.state().get("pipelines", []), [])

        # Asked about shared pipelines, the probe passes: a Job with --shared-pipeline can publish.
        for option, env in ((["--shared-pipeline"], None), ([], {"KFP_SHARED_PIPELINE": "1"})):
            with self.subTest(option=option, env=env):
                result, report = self.doctor(*option, env=env)
                self.assertEqual(result.code, 0, result)
                probe = self.checks(report)["permission pipelines/create"]
                self.assertEqual(probe["status"], "ok", probe)
                self.assertIn("shared pipelines", probe["detail"])
                self.assertEqual(self.state().get("pipelines", []), [])

    @unittest.skipUnless(DEFAULT_RUN, "walks its own release")
    def test_shared_pipeline_probe_on_2_17_warns_that_a_new_one_needs_rights_in_kubeflow(self):
        # 2.17 authorizes the create of a shared pipeline as pipelines/create in KFP's own namespace
        # (pipeline_server.go:1290-1305 @2.17.0), the upload endpoint does not (:401-403).
        result, report = self.doctor("--shared-pipeline")
        self.assertEqual(result.code, 0, result)
        probe = self.checks(report)["permission pipelines/create"]
        self.assertEqual(probe["status"], "warn", probe)
        self.assertIn("kubeflow", probe["detail"])
        self.assertEqual(self.state().get("pipelines", []), [])

    @unittest.skipUnless(DEFAULT_RUN, "walks its own release")
    def test_pipeline_create_probe_on_a_2_5_server(self):
        self.restart_emulator("--server-version", "2.5.0")
        result, report = self.doctor()
        self.assertEqual(result.code, 0, result)
        self.assertEqual(self.checks(report)["permission pipelines/create"]["status"], "ok")
        self.assertEqual(self.state().get("pipelines", []), [])

    @unittest.skipUnless(DEFAULT_RUN, "walks the releases itself")
    def test_pipeline_create_probe_is_conclusive_on_every_2x_release(self):
        # Allowed: past the authorization check, the non-pipeline is refused (500 up to 2.16, a
        # 400 in the template's words on 2.17). Denied: 2.0-2.5 name the authorization error, 2.15+
        # answer the bare "Failed to create a pipeline" (pipeline_upload_server.go at each tag).
        denied = self.write("rbac.yaml", f"- subject: {SUBJECT}\n  namespace: {NAMESPACE}\n"
                                         "  allow: ['pipelines/list', 'pipelines/get', 'experiments/list', "
                                         "'runs/list']\n")
        for version in ("2.0.5", "2.3.0", "2.5.0", "2.15.0", "2.17.0"):
            with self.subTest(version=version, rbac="allowed"):
                self.restart_emulator("--server-version", version)
                result, report = self.doctor()
                probe = self.checks(report)["permission pipelines/create"]
                self.assertEqual(probe["status"], "ok", probe)
                self.assertEqual(result.code, 0, result)
                self.assertEqual(self.state().get("pipelines", []), [])
            with self.subTest(version=version, rbac="denied"):
                self.restart_emulator("--server-version", version, "--rbac", denied)
                result, report = self.doctor()
                probe = self.checks(report)["permission pipelines/create"]
                self.assertEqual(probe["status"], "fail", probe)
                self.assertEqual(result.code, 5, result)
                self.assertIn("kind: RoleBinding", probe["fix"])
                self.assertEqual(self.state().get("pipelines", []), [])


if __name__ == "__main__":
    unittest.main()
