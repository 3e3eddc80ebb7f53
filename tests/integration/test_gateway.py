"""From outside the cluster, through the Kubeflow gateway (issue 18): `kfp-emulator --gateway` answers
as the ingress gateway of Kubeflow 1.9.1-1.11.0 (Istio's jwt_authn with RequestAuthentication rules,
oauth2-proxy, the require-jwt policy, the /pipeline route; FIDELITY.md section 14), and the tokens
come from real OpenID providers (the npm package oidc-provider) behind stand-ins for GitHub's token
request endpoint and Microsoft Entra ID's token endpoint (tests/oidc/server.mjs).

GatewayTest checks the emulator's gateway itself with tokens from the providers; the Publish*
classes run the real kfp-publish with each token source (--token-source file|github-oidc|entra, the
interface of issue 18). Skipped, with the reason, where node/npm cannot install tests/oidc.
"""

import json
import os
import pathlib
import re
import subprocess
import threading
import time
import unittest
import urllib.parse
import urllib.request

import harness
import publish_harness

OIDC_DIR = harness.source_dir() / "tests" / "oidc"
NAMESPACE = "team-a"
KFP_AUDIENCE = "pipelines.kubeflow.org"
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.")

_installed = None


def oidc_install_dir():
    """tests/oidc installed by its install.sh (cached), or the reason it cannot be."""
    global _installed
    if _installed is None:
        done = subprocess.run([str(OIDC_DIR / "install.sh")], capture_output=True, text=True, timeout=300)
        _installed = (pathlib.Path(done.stdout.strip()), None) if done.returncode == 0 else (
            None, done.stderr.strip() or f"tests/oidc/install.sh exited {done.returncode}")
    return _installed


class OidcWorld:
    """tests/oidc/server.mjs running: the issuers, the GitHub and Entra stand-ins, their counters."""

    def __init__(self, *flags):
        directory, why = oidc_install_dir()
        if directory is None:
            raise unittest.SkipTest(f"skipped: {why}")
        self.process = subprocess.Popen(["node", str(directory / "server.mjs"), *map(str, flags)],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.info = None
        ready = threading.Event()

        def read():
            for line in self.process.stdout:
                if self.info is None and line.startswith("{"):
                    self.info = json.loads(line)
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=lambda: self.process.stderr.read(), daemon=True).start()
        if not ready.wait(30) or self.info is None:
            self.stop()
            raise RuntimeError("tests/oidc/server.mjs did not start")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def issuer(self, name):
        return self.info["issuers"][name]

    def _call(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.info["stand_in"] + path, data=data,
                                         method="POST" if data is not None else "GET",
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def stats(self):
        return self._call("/_control/stats")

    def secrets(self):
        """Every token the world handed out, and the GitHub request token."""
        issued = self._call("/_control/issued")
        return issued["tokens"] + issued["request_tokens"]

    def token(self, issuer, client, audience):
        """An access token from `issuer`'s own token endpoint (client credentials)."""
        return self._call("/_control/token", {"issuer": issuer, "client": client, "audience": audience})["access_token"]

    def github_token(self, audience):
        """What a workflow step gets from ACTIONS_ID_TOKEN_REQUEST_URL&audience=..."""
        request = urllib.request.Request(
            self.info["github_request_url"] + "&audience=" + urllib.parse.quote(audience, safe=""),
            headers={"authorization": "Bearer " + self.info["github_request_token"]})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["value"]

    def sign(self, issuer, claims, **extra):
        """`claims` signed with `issuer`'s key (or, foreign_key=True, another key under its kid)."""
        return self._call("/_control/sign", {"issuer": issuer, "claims": claims, **extra})["token"]

    def github_env(self):
        return {"ACTIONS_ID_TOKEN_REQUEST_URL": self.info["github_request_url"],
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.info["github_request_token"]}

    def entra_env(self):
        return {"AZURE_CLIENT_ID": self.info["client_id"], "AZURE_TENANT_ID": self.info["tenant"],
                "AZURE_AUTHORITY_HOST": self.info["authority_host"]}


def request_authentication(name, rules):
    """A RequestAuthentication as Kubeflow's istio-m2m component writes it (JSON is YAML)."""
    return json.dumps({
        "apiVersion": "security.istio.io/v1beta1", "kind": "RequestAuthentication",
        "metadata": {"name": name, "namespace": "istio-system"},
        "spec": {"selector": {"matchLabels": {"app": "istio-ingressgateway"}}, "jwtRules": rules}})


def jwt_rule(issuer, jwks_uri=None, audiences=None, claim="sub"):
    rule = {"issuer": issuer, "forwardOriginalToken": True,
            "outputClaimToHeaders": [{"header": "kubeflow-userid", "claim": claim},
                                     {"header": "kubeflow-groups", "claim": "groups"}],
            "fromHeaders": [{"name": "Authorization", "prefix": "Bearer "}]}
    if jwks_uri:
        rule["jwksUri"] = jwks_uri
    if audiences:
        rule["audiences"] = audiences
    return rule


class WorldTestCase(harness.EmulatorTestCase):
    """One identity world per class; an emulator gateway per test."""

    world_flags = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.world = OidcWorld(*cls.world_flags)

    @classmethod
    def tearDownClass(cls):
        cls.world.stop()
        super().tearDownClass()

    def rules(self, *names, audiences=None):
        """jwtRules for the named issuers, in that order: github (jwksUri: its issuer is GitHub's
        real URL, served here locally), k8s and entra (discovery), untrusted (never by default)."""
        audiences = audiences or {}
        out = []
        for name in names:
            issuer = self.world.issuer(name)
            jwks = issuer["jwks_uri"] if name == "github" else None
            out.append(jwt_rule(issuer["issuer"], jwks, audiences.get(name)))
        return out

    def shipped_github_manifest(self, audience):
        """manifests/gateway/requestauthentication-github.yaml as README step 2 has it applied, patched
        as a kustomize patch would: the test's audience, and jwksUri, since the issuer is GitHub's
        real URL while its keys are served here."""
        text = (harness.source_dir() / "manifests" / "gateway" / "requestauthentication-github.yaml").read_text()
        issuer_line = "    - issuer: https://token.actions.githubusercontent.com\n"
        self.assertIn(issuer_line, text)
        self.assertIn("        - https://kubeflow.example.com\n", text)
        return text.replace(issuer_line, issuer_line + f"      jwksUri: {self.world.issuer('github')['jwks_uri']}\n").replace(
            "        - https://kubeflow.example.com\n", f"        - {audience}\n")

    def start_gateway(self, rules, rbac=None, extra=()):
        """A gateway trusting `rules` (a list of jwtRules, or the text of RequestAuthentication
        manifests), KFP granting the subjects in `rbac` everything in team-a."""
        config = self.tmp / f"requestauthentication-{len(list(self.tmp.iterdir()))}.yaml"
        config.write_text(rules if isinstance(rules, str) else request_authentication("m2m-token-issuer", rules) + "\n")
        flags = ["--auth", "token", "--token-key", self.rsa_key(), "--gateway", config, *extra]
        if rbac is not None:
            path = self.tmp / "rbac.yaml"
            path.write_text("".join(f"- subject: {json.dumps(s)}\n  namespace: {NAMESPACE}\n  allow: [\"*\"]\n"
                                    for s in rbac))
            flags += ["--rbac", path]
        return self.start_emulator(*flags)

    def kfp_requests(self, emu):
        """Requests that reached the API server (the gateway took /pipeline off their path)."""
        return [r for r in emu.requests_log() if r["path"].startswith("/apis/") and r.get("fault") != "gateway"]


class GatewayTest(WorldTestCase):
    """The emulator's gateway against tokens from real providers, by raw HTTP."""

    def setUp(self):
        super().setUp()
        self.github = self.world.github_token(KFP_AUDIENCE)
        self.subject = self.world.info["github_subject"]

    def call(self, emu, path=None, token=None, headers=None, namespace=NAMESPACE):
        """A read of `namespace`'s experiments through the gateway: v2beta1's, or on KFP 1.8 (which
        serves no v2beta1: kfp-1.8.5 backend/src/apiserver/main.go) v1beta1's, by resource reference."""
        if harness.server_version() == "1.8.5":
            default = "/pipeline/apis/v1beta1/experiments"
            query = {"resource_reference_key.type": "NAMESPACE", "resource_reference_key.id": namespace}
        else:
            default, query = "/pipeline/apis/v2beta1/experiments", {"namespace": namespace}
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["authorization"] = "Bearer " + token
        return emu.request("GET", path or default, query=query, headers=all_headers, fresh=True)

    def test_verified_token_names_the_kfp_user(self):
        emu = self.start_gateway(self.rules("github", "k8s"), rbac=[self.subject])
        allowed = self.call(emu, token=self.github)
        self.assertEqual(allowed.status, 200, allowed)
        # The gateway took /pipeline off (the UI server's proxy) and KFP saw the sub as kubeflow-userid.
        api = "v1beta1" if harness.server_version() == "1.8.5" else "v2beta1"
        self.assertEqual([r["path"] for r in self.kfp_requests(emu)], [f"/apis/{api}/experiments"])
        denied = self.call(emu, token=self.github, namespace="team-b")
        self.assertEqual(denied.status, 403, denied)
        self.assertIn(f"User '{self.subject}' is not authorized", denied.json()["message"])

    def test_a_kubeflow_userid_sent_by_the_client_is_replaced(self):
        emu = self.start_gateway(self.rules("github"), rbac=["admin@example.com"])
        impersonating = self.call(emu, token=self.github, headers={"kubeflow-userid": "admin@example.com"})
        self.assertEqual(impersonating.status, 403, impersonating)
        self.assertIn(f"User '{self.subject}'", impersonating.json()["message"])

    def test_discovery_finds_the_keys_of_an_issuer_without_jwks_uri(self):
        editor = self.world.info["k8s_editor"]
        token = self.world.token("k8s", editor, KFP_AUDIENCE)
        emu = self.start_gateway(self.rules("k8s"), rbac=[editor])
        response = self.call(emu, token=token)
        self.assertEqual(response.status, 200, response)

    def test_gateway_refuses_to_start_when_an_issuer_has_no_keys(self):
        config = self.tmp / "ra.yaml"
        config.write_text(request_authentication("x", [jwt_rule("http://127.0.0.1:9/nowhere")]))
        done = subprocess.run([str(self.binary), "--auth", "token", "--token-key", str(self.rsa_key()),
                               "--gateway", str(config), "--listen", "127.0.0.1:0"],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("http://127.0.0.1:9/nowhere/.well-known/openid-configuration", done.stderr)

    def assert_jwt_refusal(self, response, status, text):
        self.assertEqual((response.status, response.text), (status, text), response)
        self.assertEqual(response.headers.get("content-type"), "text/plain")
        self.assertTrue(response.headers.get("www-authenticate", "").startswith('Bearer realm="http://'))
        self.assertTrue(response.headers["www-authenticate"].endswith(', error="invalid_token"'))

    def test_expired_token_is_refused_after_the_clock_skew(self):
        now = int(time.time())
        claims = {"sub": self.subject, "aud": KFP_AUDIENCE, "iat": now - 400}
        expired = self.world.sign("github", {**claims, "exp": now - 120})
        within_skew = self.world.sign("github", {**claims, "exp": now - 20})
        emu = self.start_gateway(self.rules("github"), rbac=[self.subject])
        self.assert_jwt_refusal(self.call(emu, token=expired), 401, "Jwt is expired")
        self.assertEqual(self.call(emu, token=within_skew).status, 200)
        strict = self.start_gateway(self.rules("github"), rbac=[self.subject], extra=["--gateway-clock-skew", "0"])
        self.assert_jwt_refusal(self.call(strict, token=within_skew), 401, "Jwt is expired")
        not_yet = self.world.sign("github", {**claims, "nbf": now + 600, "exp": now + 900})
        self.assert_jwt_refusal(self.call(emu, token=not_yet), 401, "Jwt not yet valid")
        self.assertEqual(self.kfp_requests(emu), [r for r in self.kfp_requests(emu) if r["status"] == 200])

    def test_wrong_audience(self):
        other = self.world.github_token("https://somewhere.else")
        first = self.start_gateway(self.rules("github", "k8s", audiences={"github": [KFP_AUDIENCE]}))
        self.assert_jwt_refusal(self.call(first, token=other), 403, "Audiences in Jwt are not allowed")
        # Several rules: Istio's requirement is any of {P1, ..., Pn, all of {any of {Pk, allow_missing}}}
        # and Envoy answers with the status of the last group to complete, which is P1's: a token of a
        # later rule that fails for any reason reads "Jwt issuer is not configured".
        later = self.start_gateway(self.rules("k8s", "github", audiences={"github": [KFP_AUDIENCE]}))
        self.assert_jwt_refusal(self.call(later, token=other), 401, "Jwt issuer is not configured")
        # jwt_verify_lib compares audiences without an http(s):// prefix or a trailing slash.
        lenient = self.start_gateway(self.rules("github", audiences={"github": ["http://somewhere.else/"]}),
                                     rbac=[self.subject])
        self.assertEqual(self.call(lenient, token=other).status, 200)

    def test_untrusted_issuer(self):
        untrusted = self.world.token("untrusted", self.subject, KFP_AUDIENCE)
        emu = self.start_gateway(self.rules("github", "k8s"))
        self.assert_jwt_refusal(self.call(emu, token=untrusted), 401, "Jwt issuer is not configured")
        self.assertEqual(self.kfp_requests(emu), [])

    def test_signature_and_key_checks(self):
        claims = {"sub": self.subject, "aud": KFP_AUDIENCE, "exp": int(time.time()) + 300}
        forged = self.world.sign("github", claims, foreign_key=True)
        unknown_kid = self.world.sign("github", claims, kid="rotated-away")
        emu = self.start_gateway(self.rules("github"))
        self.assert_jwt_refusal(self.call(emu, token=forged), 401, "Jwt verification fails")
        self.assert_jwt_refusal(self.call(emu, token=unknown_kid), 401,
                                "Jwks doesn't have key to match kid or alg from Jwt")
        self.assert_jwt_refusal(self.call(emu, token="not-a-jwt"), 401,
                                "Jwt is not in the form of Header.Payload.Signature")

    def test_no_authorization_header_goes_to_oauth2_proxy(self):
        emu = self.start_gateway(self.rules("github"))
        api = self.call(emu)  # the harness sends Accept: application/json
        self.assertEqual((api.status, api.text, api.headers.get("content-type")), (401, "{}", "application/json"))
        page = emu.request("GET", "/pipeline/", headers={"accept": "text/html"}, fresh=True)
        self.assertEqual(page.status, 403, page)
        self.assertIn("Sign in", page.text)
        redirecting = self.start_gateway(self.rules("github"), extra=["--gateway-login", "redirect"])
        found = self.call(redirecting)
        self.assertEqual(found.status, 302, found)
        self.assertTrue(found.headers["location"].startswith("/dex/auth?"), found.headers)
        self.assertEqual(self.kfp_requests(emu) + self.kfp_requests(redirecting), [])

    def test_authorization_that_is_not_a_bearer_token_meets_rbac_denied(self):
        emu = self.start_gateway(self.rules("github"))
        denied = self.call(emu, headers={"authorization": "Basic dXNlcjpwYXNz"})
        self.assertEqual((denied.status, denied.text), (403, "RBAC: access denied"), denied)
        # Envoy looks for the prefix "Bearer " case-sensitively: a lower-case scheme is no token at all.
        lower = self.call(emu, headers={"authorization": "bearer " + self.github})
        self.assertEqual((lower.status, lower.text), (403, "RBAC: access denied"), lower)

    def test_only_the_pipeline_route(self):
        emu = self.start_gateway(self.rules("github"), rbac=[self.subject])
        other = self.call(emu, path="/apis/v2beta1/experiments", token=self.github)
        self.assertEqual(other.status, 404, other)
        self.assertEqual(self.kfp_requests(emu), [])


class PublishCase(WorldTestCase):
    """The real kfp-publish through the gateway."""

    def setUp(self):
        super().setUp()
        self.publish_binary = harness.require_publish(self)
        self.examples = harness.source_dir() / "pipelines-examples"
        self.subject = self.world.info["github_subject"]
        if harness.v2_yaml_unreadable():
            self.skipTest(harness.v2_yaml_unreadable())

    def kfp(self, emu, *args, env=None, timeout=120):
        """kfp-publish against the gateway at {emu}/pipeline, as a GitHub workflow step; asserts no
        token the world handed out is in stdout, stderr, the --report file, the step summary or the
        step outputs."""
        report = self.tmp / f"report-{time.monotonic_ns()}.json"
        summary = self.tmp / f"summary-{time.monotonic_ns()}.md"
        summary.write_text("")
        github_output = self.tmp / f"output-{time.monotonic_ns()}.txt"
        github_output.write_text("")
        argv = [str(self.publish_binary), "--host", f"{emu.url}/pipeline", "--report", report, *map(str, args)]
        # As a workflow step: annotations on stderr, the step summary and outputs written.
        environment = publish_harness.publish_env({"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary),
                                                   "GITHUB_OUTPUT": str(github_output), **(env or {})})
        start = time.monotonic()
        completed = subprocess.run(list(map(str, argv)), capture_output=True, text=True, env=environment,
                                   timeout=timeout)
        result = publish_harness.Result(completed, time.monotonic() - start)
        outputs = {"stdout": result.stdout, "stderr": result.stderr,
                   "report": report.read_text() if report.exists() else "",
                   "step summary": summary.read_text(), "step outputs": github_output.read_text()}
        for secret in self.world.secrets():
            for name, text in outputs.items():
                self.assertNotIn(secret, text, f"a token leaked into {name}")
        for name, text in outputs.items():
            self.assertIsNone(JWT_PATTERN.search(text), f"something like a JWT is in {name}")
        return result

    def publish(self, emu, *extra, env=None):
        return self.kfp(emu, "--namespace", NAMESPACE, *extra, "publish", self.examples / "hello-world.yaml",
                        "--pipeline", "hello", "-o", "json", env=env)

    def assert_published(self, result, emu):
        self.assertEqual(result.code, 0, result)
        self.assertEqual([p["display_name"] for p in emu.state()["pipelines"]], ["hello"])


class PublishWithEachSourceTest(PublishCase):

    def test_github_oidc(self):
        # The RequestAuthentication README step 2 applies, as shipped.
        emu = self.start_gateway(self.shipped_github_manifest(KFP_AUDIENCE), rbac=[self.subject])
        before = self.world.stats()["github"]
        result = self.publish(emu, "--token-source", "github-oidc", "--token-audience", KFP_AUDIENCE,
                              env=self.world.github_env())
        self.assert_published(result, emu)
        self.assertGreaterEqual(self.world.stats()["github"], before + 1)

    def test_entra_with_a_federated_token_file(self):
        # Azure workload identity: the projected service-account token is the client assertion.
        federated = self.world.token("k8s", self.world.info["k8s_publisher"], "api://AzureADTokenExchange")
        token_file = self.tmp / "azure-identity-token"
        token_file.write_text(federated)
        api = self.world.info["entra_api"]["client_id"]
        emu = self.start_gateway(self.rules("entra", audiences={"entra": [api]}),
                                 rbac=[self.world.info["entra_subject"]])
        before = self.world.stats()
        result = self.publish(emu, "--token-source", "entra", "--token-audience", api,
                              env={**self.world.entra_env(), "AZURE_FEDERATED_TOKEN_FILE": str(token_file)})
        self.assert_published(result, emu)
        after = self.world.stats()
        self.assertGreaterEqual(after["entra"], before["entra"] + 1)
        self.assertEqual(after["github"], before["github"], "no GitHub token was needed")

    def test_entra_with_the_github_token_as_assertion(self):
        api = self.world.info["entra_api"]["client_id"]
        emu = self.start_gateway(self.rules("entra", audiences={"entra": [api]}),
                                 rbac=[self.world.info["entra_subject"]])
        before = self.world.stats()
        result = self.publish(emu, "--token-source", "entra", "--token-audience", api,
                              env={**self.world.entra_env(), **self.world.github_env()})
        self.assert_published(result, emu)
        after = self.world.stats()
        self.assertGreaterEqual(after["github"], before["github"] + 1)
        self.assertGreaterEqual(after["entra"], before["entra"] + 1)

    def test_file_with_a_kubernetes_token_through_the_m2m_issuer(self):
        editor = self.world.info["k8s_editor"]
        token_file = self.tmp / "token"
        token_file.write_text(self.world.token("k8s", editor, KFP_AUDIENCE))
        emu = self.start_gateway(self.rules("k8s"), rbac=[editor])
        result = self.publish(emu, "--token-file", token_file)
        self.assert_published(result, emu)


class PublishRefusedTest(PublishCase):

    def test_missing_id_token_write_permission(self):
        emu = self.start_gateway(self.rules("github"), rbac=[self.subject])
        for missing in ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
            with self.subTest(missing=missing):
                env = {k: v for k, v in self.world.github_env().items() if k != missing}
                result = self.publish(emu, "--token-source", "github-oidc", "--token-audience", KFP_AUDIENCE, env=env)
                self.assertEqual(result.code, 4, result)
                self.assertIn("id-token: write", result.stderr)
        self.assertEqual(self.kfp_requests(emu), [])

    def test_wrong_audience_at_the_gateway(self):
        emu = self.start_gateway(self.rules("github", audiences={"github": [KFP_AUDIENCE]}), rbac=[self.subject])
        result = self.publish(emu, "--token-source", "github-oidc", "--token-audience", "https://not.kubeflow",
                              env=self.world.github_env())
        self.assertEqual(result.code, 4, result)
        self.assertIn("Audiences in Jwt are not allowed", result.stderr)
        self.assertEqual(self.kfp_requests(emu), [])

    def test_token_file_for_another_audience_is_refused_before_sending(self):
        editor = self.world.info["k8s_editor"]
        token_file = self.tmp / "token"
        token_file.write_text(self.world.token("k8s", editor, "https://somewhere.else"))
        emu = self.start_gateway(self.rules("k8s"), rbac=[editor])
        result = self.publish(emu, "--token-file", token_file)
        self.assertEqual(result.code, 4, result)
        self.assertIn("audience", result.stderr.lower())
        self.assertEqual(emu.requests_log(), [])

    def test_untrusted_issuer(self):
        token_file = self.tmp / "token"
        token_file.write_text(self.world.token("untrusted", self.subject, KFP_AUDIENCE))
        emu = self.start_gateway(self.rules("github", "k8s"), rbac=[self.subject])
        result = self.publish(emu, "--token-file", token_file)
        self.assertEqual(result.code, 4, result)
        self.assertIn("Jwt issuer is not configured", result.stderr)
        # With --token-issuer the client sees the mismatch itself, before any request.
        checked = self.publish(emu, "--token-file", token_file, "--token-issuer", "https://token.actions.githubusercontent.com")
        self.assertEqual(checked.code, 4, checked)
        self.assertIn("issuer", checked.stderr.lower())
        self.assertEqual(len(self.kfp_requests(emu)), 0)

    def test_entra_refusals_name_the_aadsts_error(self):
        api = self.world.info["entra_api"]
        emu = self.start_gateway(self.rules("entra", audiences={"entra": [api["client_id"]]}),
                                 rbac=[self.world.info["entra_subject"]])
        token_file = self.tmp / "azure-identity-token"
        # A service account the app has no federated credential for.
        token_file.write_text(self.world.token("k8s", self.world.info["k8s_editor"], "api://AzureADTokenExchange"))
        env = {**self.world.entra_env(), "AZURE_FEDERATED_TOKEN_FILE": str(token_file)}
        unfederated = self.publish(emu, "--token-source", "entra", "--token-audience", api["client_id"], env=env)
        self.assertEqual(unfederated.code, 4, unfederated)
        self.assertIn("AADSTS70021", unfederated.stderr)
        unknown_app = self.publish(emu, "--token-source", "entra", "--token-audience", api["client_id"],
                                   env={**env, "AZURE_CLIENT_ID": "99999999-0000-0000-0000-000000000000"})
        self.assertEqual(unknown_app.code, 4, unknown_app)
        self.assertIn("AADSTS700016", unknown_app.stderr)
        self.assertEqual(self.kfp_requests(emu), [])

    def test_entra_v2_token_carries_the_api_client_id_not_its_uri(self):
        # Asked for scope api://kubeflow-pipelines/.default, Entra ID issues a v2.0 token whose aud is
        # the API app's client ID: --token-audience must be that ID for the audience check to pass.
        api = self.world.info["entra_api"]
        emu = self.start_gateway(self.rules("entra", audiences={"entra": [api["client_id"]]}),
                                 rbac=[self.world.info["entra_subject"]])
        token_file = self.tmp / "azure-identity-token"
        token_file.write_text(self.world.token("k8s", self.world.info["k8s_publisher"], "api://AzureADTokenExchange"))
        result = self.publish(emu, "--token-source", "entra", "--token-audience", api["uri"],
                              env={**self.world.entra_env(), "AZURE_FEDERATED_TOKEN_FILE": str(token_file)})
        self.assertEqual(result.code, 4, result)
        self.assertIn("audience", result.stderr.lower())
        self.assertEqual(self.kfp_requests(emu), [])

    def test_oauth2_proxy_redirect_is_never_followed(self):
        emu = self.start_gateway(self.rules("github"), extra=["--gateway-login", "redirect"])
        # No token at all (the default token file is absent here): the request reaches oauth2-proxy.
        result = self.publish(emu)
        self.assertEqual(result.code, 4, result)
        paths = [r["path"] for r in emu.requests_log()]
        self.assertTrue(paths, "the client sent nothing")
        self.assertFalse([p for p in paths if p.startswith(("/dex", "/oauth2"))], paths)

    def test_rbac_denial_names_the_rolebinding_for_the_subject(self):
        emu = self.start_gateway(self.rules("github"), rbac=["someone-else"])
        result = self.publish(emu, "--token-source", "github-oidc", "--token-audience", KFP_AUDIENCE,
                              env=self.world.github_env())
        self.assertEqual(result.code, 5, result)
        # The hint binds exactly this subject, as a User (however it spells the binding).
        self.assertIn(self.subject, result.stderr)
        self.assertRegex(result.stderr, r"\bUser\b")
        self.assertNotIn(f"serviceaccount:{self.subject}", result.stderr)

    def test_doctor_on_the_gateway_path(self):
        # A Kubernetes token through the m2m issuer: its issuer's discovery is reachable here (GitHub's
        # real one is not, from a test).
        editor = self.world.info["k8s_editor"]
        token_file = self.tmp / "token"
        token_file.write_text(self.world.token("k8s", editor, KFP_AUDIENCE))
        emu = self.start_gateway(self.rules("k8s"), rbac=[editor])
        good = self.kfp(emu, "--namespace", NAMESPACE, "--token-file", token_file, "doctor", "-o", "json")
        self.assertEqual(good.code, 0, good)
        self.assertFalse([c for c in good.report()["checks"] if c["status"] == "fail"], good.report())
        untrusted_file = self.tmp / "untrusted"
        untrusted_file.write_text(self.world.token("untrusted", self.subject, KFP_AUDIENCE))
        bad = self.kfp(emu, "--namespace", NAMESPACE, "--token-file", untrusted_file, "doctor", "-o", "json")
        self.assertEqual(bad.code, 4, bad)
        failed = [c for c in bad.report()["checks"] if c["status"] == "fail"]
        self.assertTrue(failed, bad.report())
        self.assertTrue(all(c["fix"] for c in failed), failed)
        self.assertIn("Jwt issuer is not configured", json.dumps(failed))
        # Issue 18: doctor looks the token's issuer up and checks the claims against it.
        self.assertIn(self.world.issuer("k8s")["issuer"], json.dumps(good.report()["checks"]))


class RefreshDuringLongWaitTest(PublishCase):
    """Tokens of 6 s; a run of 15 s waited for through a gateway that allows no clock skew: every
    request after the first token's expiry needs a new token."""

    world_flags = ("--ttl", "6")

    def test_github_token_is_requested_again(self):
        emu = self.start_gateway(self.rules("github", audiences={"github": [KFP_AUDIENCE]}), rbac=[self.subject],
                                 extra=["--gateway-clock-skew", "0", "--run-duration", "15s"])
        before = self.world.stats()["github"]
        result = self.kfp(emu, "--namespace", NAMESPACE, "--token-source", "github-oidc", "--token-audience",
                          KFP_AUDIENCE, "publish", self.examples / "hello-world.yaml", "--pipeline", "hello",
                          "--run", "--experiment", "ci", "--param", "message=hi", "--wait", "-o", "json",
                          env=self.world.github_env())
        self.assertEqual(result.code, 0, result)
        self.assertEqual(result.report()["run"]["state"], "SUCCEEDED")
        self.assertGreaterEqual(self.world.stats()["github"] - before, 2, "the token was not requested again")
        refused = [r for r in emu.requests_log() if r["status"] == 401]
        self.assertEqual(refused, [], "a request went out with an expired token")


if __name__ == "__main__":
    unittest.main()
